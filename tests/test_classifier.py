"""AutoencoderClassifier: pretraining, fine-tuning, unlabelled rows, and the classifier API."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skae import AutoencoderClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = {"hidden_layer_sizes": (32,), "max_iter": 100, "random_state": 0}


@pytest.fixture
def split(digits_split):
    return digits_split


@pytest.fixture
def few_labels(split):
    """The training rows with all but 60 labels replaced by -1."""
    X, y, X_test, y_test = split
    y_few = np.where(np.arange(len(y)) < 60, y, -1)
    return X, y_few, X_test, y_test


def test_it_classifies_digits_as_well_as_logistic_regression(split):
    X, y, X_test, y_test = split
    clf = AutoencoderClassifier(random_state=0).fit(X, y)
    baseline = LogisticRegression(max_iter=2000).fit(X, y).score(X_test, y_test)
    assert clf.score(X_test, y_test) >= baseline - 0.01
    assert clf.score(X_test, y_test) > 0.93


def test_probabilities_and_predictions_agree(split):
    X, y, X_test, _ = split
    clf = AutoencoderClassifier(**FAST).fit(X, y)
    proba = clf.predict_proba(X_test)
    assert proba.shape == (len(X_test), 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X_test)), proba, rtol=1e-4,
                               atol=1e-7)
    np.testing.assert_array_equal(clf.predict(X_test), clf.classes_[proba.argmax(axis=1)])


def test_unlabelled_rows_are_not_a_class(few_labels):
    X, y_few, X_test, _ = few_labels
    clf = AutoencoderClassifier(**FAST).fit(X, y_few)
    np.testing.assert_array_equal(clf.classes_, np.arange(10))
    assert -1 not in clf.predict(X_test)
    # Object labels mark unlabelled rows with the number -1 too.
    names = np.array([f"digit {v}" if v >= 0 else -1 for v in y_few], dtype=object)
    assert len(AutoencoderClassifier(**FAST).fit(X, names).classes_) == 10


def test_unlabelled_rows_feed_pretraining_only(few_labels):
    X, y_few, X_test, _ = few_labels
    labelled = y_few != -1
    # Without pretraining or a reconstruction term, unlabelled rows change nothing.
    alone = AutoencoderClassifier(pretrain=None, **FAST).fit(X[labelled], y_few[labelled])
    mixed = AutoencoderClassifier(pretrain=None, **FAST).fit(X, y_few)
    np.testing.assert_array_equal(alone.predict_proba(X_test), mixed.predict_proba(X_test))
    # Pretraining learns from them.
    alone = AutoencoderClassifier(**FAST).fit(X[labelled], y_few[labelled])
    mixed = AutoencoderClassifier(**FAST).fit(X, y_few)
    assert not np.allclose(alone.transform(X_test), mixed.transform(X_test))


def test_the_reconstruction_term_learns_from_unlabelled_rows(few_labels):
    X, y_few, X_test, _ = few_labels
    labelled = y_few != -1
    params = {"pretrain": None, "reconstruction_weight": 1.0, **FAST}
    alone = AutoencoderClassifier(**params).fit(X[labelled], y_few[labelled])
    mixed = AutoencoderClassifier(**params).fit(X, y_few)
    assert not np.allclose(alone.predict_proba(X_test), mixed.predict_proba(X_test))
    # The decoder keeps reconstructing: better than the pretraining-free,
    # reconstruction-free network's untrained decoder.
    plain = AutoencoderClassifier(pretrain=None, **FAST).fit(X, y_few)

    def error(model):
        return np.mean((model.inverse_transform(model.transform(X_test)) - X_test) ** 2)

    assert error(mixed) < 0.5 * error(plain)


@pytest.mark.parametrize(("pretrain", "stages"), [(None, 0), ("autoencoder", 1), ("greedy", 2)])
def test_pretraining_options(pretrain, stages, split):
    X, y, X_test, y_test = split
    clf = AutoencoderClassifier(pretrain=pretrain, **{**FAST, "hidden_layer_sizes": (32, 16)})
    clf.fit(X, y)
    assert len(clf.pretrain_loss_curves_) == stages
    for curve in clf.pretrain_loss_curves_:
        assert curve[-1] < curve[0]
    assert clf.transform(X_test).shape == (len(X_test), 16)
    assert clf.score(X_test, y_test) > 0.9


@pytest.mark.parametrize(("noise", "penalty"), [("gaussian", {}), ("masking", {}),
                                                 (None, {"contractive": 0.1}),
                                                 (None, {"sparsity": 1.0})])
def test_regularisers_change_pretraining(noise, penalty, split):
    X, y, _, _ = split
    plain = AutoencoderClassifier(**{**FAST, "max_iter": 5}).fit(X, y)
    regularised = AutoencoderClassifier(noise=noise, noise_level=0.3, **penalty,
                                        **{**FAST, "max_iter": 5}).fit(X, y)
    assert regularised.pretrain_loss_curves_[0] != plain.pretrain_loss_curves_[0]


def test_early_stopping_watches_validation_accuracy(split):
    X, y, X_test, y_test = split
    clf = AutoencoderClassifier(early_stopping=True, **{**FAST, "max_iter": 200}).fit(X, y)
    assert clf.n_iter_ < 200
    assert len(clf.validation_scores_) == clf.n_iter_
    assert all(0 <= s <= 1 for s in clf.validation_scores_)
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.best_loss_ is None
    # The kept weights are the best epoch's: their accuracy on the held-out
    # rows is the best score (120 rows: 10% of 1,200).
    assert clf.best_validation_score_ > 0.9
    assert clf.score(X_test, y_test) > 0.9


def test_partial_fit_learns_in_chunks(split):
    X, y, X_test, y_test = split
    clf = AutoencoderClassifier((32,), learning_rate_init=0.01, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X[:100], y[:100])
    clf.partial_fit(X[:600], y[:600], classes=np.arange(10))
    first = clf.score(X_test, y_test)
    for _ in range(10):
        clf.partial_fit(X[600:], y[600:])
        clf.partial_fit(X[:600], y[:600])
    assert clf.n_iter_ == 21
    assert clf.score(X_test, y_test) > max(first, 0.9)
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X[:10], np.full(10, 11))
    with pytest.raises(ValueError, match="differs from the classes"):
        clf.partial_fit(X[:10], y[:10], classes=[0, 1])


def test_grid_search_and_cross_validation_score_accuracy(split):
    X, y, _, _ = split
    clf = AutoencoderClassifier(**FAST)
    scores = cross_val_score(clf, X[:600], y[:600], cv=3)
    assert scores.mean() > 0.8
    search = GridSearchCV(make_pipeline(MinMaxScaler(), clf),
                          {"autoencoderclassifier__hidden_layer_sizes": [(16,), (32,)]},
                          cv=2).fit(X[:600], y[:600])
    best = search.best_estimator_
    assert search.best_score_ == pytest.approx(
        np.mean([search.cv_results_[f"split{i}_test_score"][search.best_index_]
                 for i in range(2)]))
    assert 0.8 < best.score(X[600:], y[600:]) <= 1


def test_sparse_pandas_and_float32_input(split):
    pd = pytest.importorskip("pandas")
    X, y, X_test, _ = split
    dense = AutoencoderClassifier(**FAST).fit(X, y)
    sparse = AutoencoderClassifier(**FAST).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse.predict_proba(X_test), dense.predict_proba(X_test),
                               rtol=1e-4, atol=1e-6)
    frame = pd.DataFrame(X, columns=[f"px{i}" for i in range(64)])
    named = AutoencoderClassifier(**FAST).fit(frame, pd.Series(y))
    assert list(named.feature_names_in_) == list(frame.columns)
    out = named.set_output(transform="pandas").transform(frame.iloc[:5])
    assert list(out.columns) == [f"autoencoderclassifier{i}" for i in range(32)]
    assert dense.transform(X_test.astype(np.float32)).dtype == np.float32


def test_bad_labels_are_refused_clearly(split):
    X, y, _, _ = split
    with pytest.raises(ValueError, match="Every row of y is -1 .unlabelled.; "
                                         "AutoencoderClassifier needs"):
        AutoencoderClassifier(**FAST).fit(X, np.full(len(X), -1))
    with pytest.raises(ValueError, match="at least 2 classes"):
        AutoencoderClassifier(**FAST).fit(X, np.where(y == 3, 3, -1))
    with pytest.raises(ValueError, match="Unknown label type"):
        AutoencoderClassifier(**FAST).fit(X, X[:, 10] + 0.5)
    with pytest.raises(ValueError, match="at least one hidden layer"):
        AutoencoderClassifier(hidden_layer_sizes=()).fit(X, y)
    with pytest.raises(ValueError, match="noise_level in"):
        AutoencoderClassifier(noise="masking", noise_level=1.0).fit(X, y)
    few = np.where(np.arange(len(y)) < 5, y, -1)
    with pytest.raises(ValueError, match="labelled rows; both need at least one"):
        AutoencoderClassifier(early_stopping=True, validation_fraction=0.99,
                              **FAST).fit(X, few)


def test_a_failed_refit_keeps_the_previous_model(split):
    X, y, X_test, _ = split
    clf = AutoencoderClassifier(**FAST).fit(X, y)
    before = clf.predict_proba(X_test)
    with pytest.raises(ValueError):
        clf.fit(X, np.full(len(X), -1))
    np.testing.assert_array_equal(clf.predict_proba(X_test), before)


def test_interrupted_fine_tuning_keeps_a_usable_model(split, interrupt_at_step, monkeypatch):
    X, y, X_test, _ = split
    # 1,200 rows in batches of 200: the 15th step is in the third epoch.
    reference = AutoencoderClassifier(pretrain=None, **{**FAST, "max_iter": 2}).fit(X, y)
    interrupt_at_step(15)
    clf = AutoencoderClassifier(pretrain=None, **FAST)
    with pytest.warns(UserWarning, match="interrupted after 2"), pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    monkeypatch.undo()
    assert clf.n_iter_ == len(clf.loss_curve_) == 2
    np.testing.assert_allclose(clf.predict_proba(X_test), reference.predict_proba(X_test),
                               rtol=1e-5, atol=1e-6)
    clf.partial_fit(X, y)
    assert clf.n_iter_ == 3


def test_interrupted_pretraining_leaves_it_unfitted(split, interrupt_at_step):
    X, y, _, _ = split
    interrupt_at_step(8)  # in pretraining's second epoch
    clf = AutoencoderClassifier(**FAST)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert not hasattr(clf, "net_") and not hasattr(clf, "classes_")


def test_pickle_and_seeds(split):
    X, y, X_test, _ = split
    clf = AutoencoderClassifier(**FAST).fit(X, y)
    again = AutoencoderClassifier(**FAST).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X_test), again.predict_proba(X_test))
    copy = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(copy.predict_proba(X_test), clf.predict_proba(X_test))
    np.testing.assert_array_equal(copy.classes_, clf.classes_)
