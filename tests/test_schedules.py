"""Learning-rate schedules: the rates they give, and state that survives calls and faults."""

import math
import pickle

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from skae import AutoencoderClassifier, AutoencoderTransformer, VAETransformer
from skae._net import LearningRateSchedule
from skae.io import dump, load

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# 300 rows in batches of 50: 6 steps an epoch.
LR = 1e-3
FAST = {"hidden_layer_sizes": (16,), "batch_size": 50, "learning_rate_init": LR,
        "random_state": 0}


@pytest.fixture
def X(digits):
    return digits[0][:300]


def rates(model):
    """The learning rate each epoch trained with."""
    return [row["learning_rate"] for row in model.net_.history]


def current_rate(model):
    return model.net_.optimizer_.param_groups[0]["lr"]


def expected(schedule, epoch, *, decay=0.5, every=3, max_iter=12):
    """The rate of epoch ``epoch`` (from 0) by the schedule's formula."""
    if schedule == "step":
        return LR * decay ** (epoch // every)
    if schedule == "exponential":
        return LR * decay ** (epoch / every)
    return LR * (1 + math.cos(math.pi * (epoch % max_iter) / max_iter)) / 2


@pytest.mark.parametrize("schedule", ["step", "exponential", "cosine"])
def test_the_rate_follows_the_schedule(schedule, X):
    model = AutoencoderTransformer(4, learning_rate=schedule, learning_rate_decay=0.5,
                                   decay_epochs=3, max_iter=12, **FAST).fit(X)
    np.testing.assert_allclose(rates(model), [expected(schedule, e) for e in range(12)],
                               rtol=1e-9)
    # The rate the next epoch would train with.
    assert current_rate(model) == pytest.approx(expected(schedule, 12), rel=1e-9, abs=1e-15)


def test_autoencoders_lower_their_rate_on_plateaus_by_default_and_classifiers_do_not(digits):
    X, y = digits[0][:300], digits[1][:300]
    ae = AutoencoderTransformer(4, max_iter=3, random_state=0).fit(X)
    assert (ae.learning_rate, ae.learning_rate_init) == ("adaptive", 1e-2)
    assert isinstance(dict(ae.net_.callbacks_)["learning_rate"], LearningRateSchedule)
    clf = AutoencoderClassifier(max_iter=3, random_state=0).fit(X, y)
    assert clf.learning_rate == "constant"
    assert not any(isinstance(cb, LearningRateSchedule) for _, cb in clf.net_.callbacks_)
    assert current_rate(clf) == LR


def test_adaptive_lowers_the_rate_on_a_plateau_and_stops_at_the_floor(X):
    # With a huge tol no epoch improves: the rate falls after every two
    # epochs, from 1e-3 by 0.2 down to the floor of 1e-6, where
    # n_iter_no_change + 1 = 3 more epochs end training.
    model = AutoencoderTransformer(4, learning_rate="adaptive", tol=1e9, n_iter_no_change=2,
                                   max_iter=100, **FAST).fit(X)
    # The first epoch improves on an infinite best loss.
    levels = [1e-3, 2e-4, 4e-5, 8e-6, 1.6e-6, 1e-6]
    want = [levels[0]] * 3 + [lr for lr in levels[1:-1] for _ in range(2)] + [levels[-1]] * 3
    np.testing.assert_allclose(rates(model), want, rtol=1e-9)
    assert model.n_iter_ == len(want) < model.max_iter


def test_adaptive_without_a_plateau_keeps_the_rate(X):
    model = AutoencoderTransformer(4, learning_rate="adaptive", tol=0.0, n_iter_no_change=50,
                                   max_iter=8, **FAST).fit(X)
    assert rates(model) == [LR] * 8


@pytest.mark.parametrize("early_stopping, column", [(True, "valid_loss"),
                                                    (False, "train_loss")])
def test_adaptive_watches_the_validation_loss_with_early_stopping(early_stopping, column, X):
    model = AutoencoderTransformer(4, learning_rate="adaptive", tol=0.0, max_iter=6,
                                   early_stopping=early_stopping, **FAST).fit(X)
    schedule = dict(model.net_.callbacks_)["learning_rate"]
    # With tol=0 the plateau's best is the lowest loss it was shown.
    assert schedule.scheduler_.best == min(model.net_.history[:, column])


@pytest.mark.parametrize("schedule", ["step", "cosine"])
def test_partial_fit_continues_the_schedule(schedule, X):
    model = AutoencoderTransformer(4, learning_rate=schedule, learning_rate_decay=0.5,
                                   decay_epochs=3, max_iter=12, **FAST)
    for _ in range(14):
        model.partial_fit(X)
    # Cosine starts a new cycle after max_iter epochs.
    np.testing.assert_allclose(rates(model), [expected(schedule, e) for e in range(14)],
                               rtol=1e-9, atol=1e-15)


def test_partial_fit_continues_a_plateau_count(X):
    model = AutoencoderTransformer(4, learning_rate="adaptive", tol=1e9, n_iter_no_change=1,
                                   **FAST)
    for _ in range(6):
        model.partial_fit(X)
    np.testing.assert_allclose(rates(model), [1e-3, 1e-3, 1e-3, 2e-4, 2e-4, 4e-5])


def _round_trip(how, model, tmp_path):
    if how == "pickle":
        return pickle.loads(pickle.dumps(model))
    dump(model, tmp_path / "model.safetensors", optimizer=how == "io")
    return load(tmp_path / "model.safetensors")


@pytest.mark.parametrize("how", ["pickle", "io", "io without optimiser"])
@pytest.mark.parametrize("schedule", ["exponential", "adaptive"])
def test_a_saved_model_continues_its_schedule(how, schedule, X, tmp_path):
    params = {"learning_rate": schedule, "decay_epochs": 2, "tol": 1e9, "n_iter_no_change": 1,
              "max_iter": 4, **FAST}
    model = AutoencoderTransformer(4, **params).fit(X)
    copy = _round_trip(how, model, tmp_path)
    assert current_rate(copy) == current_rate(model) < LR
    for _ in range(4):
        model.partial_fit(X)
        copy.partial_fit(X)
    assert rates(copy) == rates(model)
    if how != "io without optimiser":
        assert copy.loss_curve_ == model.loss_curve_


def _interrupt_after_schedule_steps(monkeypatch, epoch):
    """KeyboardInterrupt at the end of the ``epoch``-th epoch (from 1), once the rate moved."""
    original = LearningRateSchedule.on_epoch_end
    calls = {"n": 0}

    def on_epoch_end(self, net, **kwargs):
        original(self, net, **kwargs)
        calls["n"] += 1
        if calls["n"] == epoch:
            raise KeyboardInterrupt

    monkeypatch.setattr(LearningRateSchedule, "on_epoch_end", on_epoch_end)


# Each schedule lowers the rate at the end of the epoch that is interrupted.
@pytest.mark.parametrize("schedule, params, epoch", [
    ("step", {"decay_epochs": 2}, 4),
    ("adaptive", {"tol": 1e9, "n_iter_no_change": 1}, 3),
])
def test_an_interrupted_epoch_rolls_back_the_schedule(schedule, params, epoch, X, monkeypatch):
    params = {"learning_rate": schedule, **params, **FAST}
    reference = AutoencoderTransformer(4, max_iter=epoch - 1, **params).fit(X)
    _interrupt_after_schedule_steps(monkeypatch, epoch)
    model = AutoencoderTransformer(4, max_iter=8, **params)
    with (pytest.warns(UserWarning, match=f"interrupted after {epoch - 1}"),
          pytest.raises(KeyboardInterrupt)):
        model.fit(X)
    monkeypatch.undo()
    assert current_rate(model) == current_rate(reference)
    schedule_state = dict(model.net_.callbacks_)["learning_rate"].state_dict(model.net_)
    assert schedule_state == dict(reference.net_.callbacks_)["learning_rate"].state_dict(
        reference.net_)
    # Training goes on as if the interrupted epoch had not begun.
    for _ in range(3):
        model.partial_fit(X)
        reference.partial_fit(X)
    assert rates(model) == rates(reference)
    assert model.loss_curve_ == reference.loss_curve_


def test_an_interrupted_partial_fit_keeps_the_rate(X, monkeypatch):
    model = AutoencoderTransformer(4, learning_rate="step", decay_epochs=1, max_iter=2,
                                   **FAST).fit(X)
    before = current_rate(model)
    _interrupt_after_schedule_steps(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):
        model.partial_fit(X)
    monkeypatch.undo()
    assert current_rate(model) == before
    model.partial_fit(X)
    assert rates(model) == pytest.approx([LR, LR * 0.2, LR * 0.04])


def test_classifiers_and_vaes_take_a_schedule(digits):
    X, y = digits[0][:300], digits[1][:300]
    clf = AutoencoderClassifier(learning_rate="cosine", max_iter=4, **FAST).fit(X, y)
    vae = VAETransformer(4, learning_rate="step", decay_epochs=1, max_iter=3, **FAST).fit(X)
    assert rates(clf) == pytest.approx([expected("cosine", e, max_iter=4) for e in range(4)])
    assert rates(vae) == pytest.approx([LR, LR * 0.2, LR * 0.04])


@pytest.mark.parametrize("param, value", [("learning_rate", "invscaling"),
                                          ("learning_rate_decay", 1.0),
                                          ("learning_rate_decay", 0.0),
                                          ("decay_epochs", 0)])
def test_bad_schedule_parameters_are_refused(param, value, X):
    with pytest.raises(InvalidParameterError, match=param):
        AutoencoderTransformer(4, **{param: value}, **FAST).fit(X)
