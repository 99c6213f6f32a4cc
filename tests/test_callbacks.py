"""scikit-learn's callbacks (sklearn.callback, scikit-learn >= 1.9) on skae's fits."""

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn.callback")

from sklearn.callback import CallbackContext, ProgressBar  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import skae  # noqa: E402

SMALL = {"hidden_layer_sizes": (8,), "max_iter": 4, "random_state": 0}
ESTIMATORS = {
    "AutoencoderTransformer": lambda: skae.AutoencoderTransformer(2, **SMALL),
    "DenoisingAE": lambda: skae.DenoisingAE(2, **SMALL),
    "SparseCoder": lambda: skae.SparseCoder(4, **SMALL),
    "VAETransformer": lambda: skae.VAETransformer(2, **SMALL),
    "AutoencoderClassifier": lambda: skae.AutoencoderClassifier(**SMALL),
    "VAEClassifier": lambda: skae.VAEClassifier(**SMALL),
}


def test_every_public_estimator_is_covered():
    public = {name for name in skae.__all__
              if isinstance(getattr(skae, name), type) and hasattr(getattr(skae, name), "fit")}
    assert set(ESTIMATORS) == public


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return rng.random((80, 6)), np.arange(80) % 2


class Recorder:
    """Records each ended task; asks to stop after epoch ``stop_after`` (from 1) of training."""

    def __init__(self, stop_after=None):
        self.stop_after = stop_after
        self.ended, self.begun, self.fitted = [], [], []

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context, *, X=None, y=None):
        self.begun.append(context)

    def on_fit_task_end(self, estimator, context, *, X=None, y=None, fitted_estimator=None):
        self.ended.append(context)
        if not _is_training_epoch(context):
            return False
        self.fitted.append(fitted_estimator)
        return self.stop_after is not None and context.task_id + 1 == self.stop_after


class PropagatedRecorder(Recorder):
    """A recorder that meta-estimators hand to the estimators inside them."""

    max_propagation_depth = None


def _is_training_epoch(context):
    return context.task_name == "epoch" and context.parent.task_name in ("fit", "training")


def _output(estimator, X):
    if hasattr(estimator, "predict_proba"):
        return estimator.predict_proba(X)
    return estimator.transform(X)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_a_callback_sees_one_task_per_epoch(name, data):
    X, y = data
    recorder = Recorder()
    estimator = ESTIMATORS[name]().set_callbacks(recorder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y)
    epochs = [c for c in recorder.ended if _is_training_epoch(c)]
    assert [c.task_id for c in epochs] == list(range(estimator.n_iter_))
    assert recorder.ended[-1].task_name == "fit" and recorder.ended[-1].parent is None
    assert len(recorder.begun) == len(recorder.ended)
    # The last epoch's fitted estimator is the fitted model.
    np.testing.assert_allclose(_output(recorder.fitted[-1], X), _output(estimator, X),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_a_callback_stops_training_after_an_epoch(name, data):
    X, y = data
    recorder = Recorder(stop_after=2)
    estimator = ESTIMATORS[name]().set_callbacks(recorder)
    with warnings.catch_warnings():
        # A requested stop is no failure to converge.
        warnings.simplefilter("error", ConvergenceWarning)
        assert estimator.fit(X, y) is estimator
    assert estimator.n_iter_ == 2 and len(estimator.loss_curve_) == 2
    assert [c.task_id for c in recorder.ended if _is_training_epoch(c)] == [0, 1]
    # The model is the one of the stopping epoch, and usable.
    np.testing.assert_allclose(_output(recorder.fitted[-1], X), _output(estimator, X),
                               rtol=1e-5, atol=1e-6)
    estimator.partial_fit(X, y)
    assert estimator.n_iter_ == 3


@pytest.mark.parametrize("stop_after", [1, 3])
def test_training_stops_after_any_epoch(stop_after, data):
    X, _ = data
    estimator = skae.AutoencoderTransformer(2, **SMALL).set_callbacks(Recorder(stop_after))
    estimator.fit(X)
    assert estimator.n_iter_ == stop_after
    reference = skae.AutoencoderTransformer(2, **{**SMALL, "max_iter": stop_after})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference.fit(X)
    np.testing.assert_allclose(estimator.transform(X), reference.transform(X), rtol=1e-6)


def test_pretraining_stages_are_tasks_of_their_own(data):
    X, _ = data
    recorder = Recorder()
    estimator = skae.AutoencoderTransformer(
        2, hidden_layer_sizes=(4,), pretrain="greedy", max_iter=3, random_state=0,
    ).set_callbacks(recorder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X)
    ended, root = recorder.ended, recorder.ended[-1]

    def children(parent):
        return [c for c in ended if c.parent is parent]

    pretraining, training = children(root)
    assert (pretraining.task_name, training.task_name) == ("pretraining", "training")
    stages = children(pretraining)
    assert [len(children(s)) for s in stages] == [len(c) for c in
                                                   estimator.pretrain_loss_curves_]
    assert len(children(training)) == estimator.n_iter_


def test_partial_fit_is_a_task_of_one_epoch(data):
    X, _ = data
    recorder = Recorder()
    estimator = skae.AutoencoderTransformer(2, **SMALL).set_callbacks(recorder)
    estimator.partial_fit(X).partial_fit(X)
    roots = [c for c in recorder.ended if c.parent is None]
    assert [c.task_name for c in roots] == ["partial_fit", "partial_fit"]
    assert [sum(c.parent is root for c in recorder.ended) for root in roots] == [1, 1]


def test_without_callbacks_no_task_is_made(data, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a callback context was made")

    monkeypatch.setattr(CallbackContext, "_from_estimator", refuse)
    monkeypatch.setattr(CallbackContext, "_from_parent", refuse)
    X, _ = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        skae.AutoencoderTransformer(2, **SMALL).fit(X)


def _search(X):
    pipe = make_pipeline(StandardScaler(), skae.AutoencoderTransformer(2, **SMALL))
    return GridSearchCV(pipe, {"autoencodertransformer__n_components": [1, 2]}, cv=2)


def test_callbacks_reach_the_epochs_through_a_search_and_a_pipeline(data):
    X, _ = data
    recorder = PropagatedRecorder()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _search(X).set_callbacks(recorder).fit(X)
    epochs = [c for c in recorder.ended if c.task_name == "epoch"]
    # 2 candidates x 2 splits, and the refit.
    assert len(epochs) == 5 * SMALL["max_iter"]
    path, context = [], epochs[0]
    while context is not None:
        path.append(context.estimator_name)
        context = context.parent
    assert path[0] == "AutoencoderTransformer" and path[-1] == "GridSearchCV"
    assert "Pipeline" in path


def test_a_progress_bar_on_a_search_reaches_the_epochs(data):
    pytest.importorskip("rich")

    class SeenProgressBar(ProgressBar):
        seen = []

        def on_fit_task_end(self, estimator, context):
            self.seen.append((context.estimator_name, context.task_name))
            super().on_fit_task_end(estimator, context)

    X, _ = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _search(X).set_callbacks(SeenProgressBar(max_propagation_depth=None)).fit(X)
    assert SeenProgressBar.seen.count(("AutoencoderTransformer", "epoch")) == 20


def test_a_failed_fit_tears_its_callbacks_down(data):
    class Counted(Recorder):
        setups = teardowns = 0

        def setup(self, estimator, context):
            self.setups += 1

        def teardown(self, estimator, context):
            self.teardowns += 1

    X, _ = data
    X = X.copy()
    X[0, 0] = np.nan
    counted = Counted()
    estimator = skae.AutoencoderTransformer(2, **SMALL).set_callbacks(counted)
    with pytest.raises(ValueError, match="NaN"):
        estimator.fit(X)
    assert counted.setups == counted.teardowns == 1
    assert not hasattr(estimator, "net_")


def test_a_scoring_monitor_scores_every_epoch(data):
    from sklearn.callback import ScoringMonitor

    X, _ = data
    monitor = ScoringMonitor(scoring={"score": lambda estimator, X, y: estimator.score(X)})
    estimator = skae.AutoencoderTransformer(2, **SMALL).set_callbacks(monitor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X)
    scores = {row["task_name"]: [] for row in monitor.get_logs().data}
    for row in monitor.get_logs().data:
        scores[row["task_name"]].append(row["score"])
    assert len(scores["epoch"]) == estimator.n_iter_
    assert scores["epoch"][-1] == pytest.approx(estimator.score(X), rel=1e-5)


def test_epochs_on_chunked_data_give_a_fitted_estimator(data):
    X, _ = data
    recorder = Recorder()
    estimator = skae.AutoencoderTransformer(2, **SMALL).set_callbacks(recorder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(skae.ChunkedData(X, chunk_rows=30))
    assert len(recorder.fitted) == estimator.n_iter_
    np.testing.assert_allclose(recorder.fitted[-1].transform(X), estimator.transform(X),
                               rtol=1e-5, atol=1e-6)
