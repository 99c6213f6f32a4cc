"""``mixed_precision=True``: training's forward pass in bfloat16, everything else as before."""

import pickle
import warnings
from collections import Counter

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

import skae
import skae._pretraining
import skae.io
from skae import (
    AutoencoderClassifier,
    AutoencoderTransformer,
    DenoisingAE,
    SparseCoder,
    TrainingDivergedError,
    VAEClassifier,
    VAETransformer,
)
from skae._net import as_float32, check_mixed_precision

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = dict(hidden_layer_sizes=(32,), max_iter=5, batch_size=50, random_state=0)


@pytest.fixture
def X(digits):
    return digits[0][:300].astype(np.float32)


def in_training(seen):
    """The output dtypes of the calls that trained (``seen`` from :func:`linear_dtypes`)."""
    return {dtype for dtype, training in seen if training}


def elsewhere(seen):
    """The output dtypes of the calls that did not train: validation, inference."""
    return {dtype for dtype, training in seen if not training}


@pytest.fixture
def linear_dtypes(monkeypatch):
    """Counts ``(output dtype, training)`` of every call of a :class:`torch.nn.Linear`."""
    seen = Counter()
    forward = torch.nn.Linear.forward

    def spy(self, x):
        out = forward(self, x)
        seen[out.dtype, self.training and torch.is_grad_enabled()] += 1
        return out

    monkeypatch.setattr(torch.nn.Linear, "forward", spy)
    return seen


def test_every_estimator_takes_the_parameter_off_by_default():
    for name in skae.__all__:
        cls = getattr(skae, name)
        if isinstance(cls, type) and hasattr(cls, "fit"):
            assert cls().get_params()["mixed_precision"] is False, name
            assert cls._parameter_constraints["mixed_precision"] == ["boolean"]


def test_training_runs_in_bfloat16_and_inference_in_the_input_precision(X, linear_dtypes):
    model = AutoencoderTransformer(4, mixed_precision=True, **FAST).fit(X)
    assert in_training(linear_dtypes) == {torch.bfloat16}
    # After training, fit computes the principal axes of the codes in float32.
    assert elsewhere(linear_dtypes) == {torch.float32}
    linear_dtypes.clear()
    assert model.transform(X).dtype == np.float32
    model.score_samples(X)
    assert set(linear_dtypes) == {(torch.float32, False)}
    linear_dtypes.clear()
    assert model.transform(X.astype(np.float64)).dtype == np.float64
    assert set(linear_dtypes) == {(torch.float64, False)}


def test_off_trains_in_float32(X, linear_dtypes):
    AutoencoderTransformer(4, **FAST).fit(X)
    assert in_training(linear_dtypes) == {torch.float32}


def test_early_stopping_validates_in_float32(X, linear_dtypes):
    AutoencoderTransformer(4, mixed_precision=True, early_stopping=True,
                           principal_codes=False, **FAST).fit(X)
    assert in_training(linear_dtypes) == {torch.bfloat16}
    assert elsewhere(linear_dtypes) == {torch.float32}


def test_loss_and_weights_stay_float32(X, monkeypatch):
    losses = []
    objective = skae.nn.ReconstructionObjective.forward

    def spy(self, output, target):
        assert output["recon"].dtype == torch.float32
        losses.append(objective(self, output, target))
        return losses[-1]

    monkeypatch.setattr(skae.nn.ReconstructionObjective, "forward", spy)
    model = AutoencoderTransformer(4, mixed_precision=True, **FAST).fit(X)
    assert {loss.dtype for loss in losses} == {torch.float32}
    assert {p.dtype for p in model.net_.module_.parameters()} == {torch.float32}
    state = model.net_.optimizer_.state.values()
    assert {t.dtype for s in state for t in s.values() if t.is_floating_point()} == {
        torch.float32}


def test_bfloat16_training_learns_about_as_well_as_float32(digits):
    X = digits[0].astype(np.float32)
    params = dict(n_components=8, hidden_layer_sizes=(64,), max_iter=20, random_state=0)
    full = AutoencoderTransformer(**params).fit(X)
    mixed = AutoencoderTransformer(mixed_precision=True, **params).fit(X)
    curve = np.array(mixed.loss_curve_)
    assert np.isfinite(curve).all()
    assert curve[-1] < 0.5 * curve[0]
    assert np.mean(np.diff(curve) < 0) > 0.8
    # The curves part only by rounding: bfloat16 keeps 8 bits of mantissa.
    np.testing.assert_allclose(curve, full.loss_curve_, rtol=0.05)

    def error(model):
        return np.mean((model.inverse_transform(model.transform(X)) - X) ** 2)

    assert error(mixed) < 1.2 * error(full)


def test_results_are_reproducible(X):
    first = AutoencoderTransformer(4, mixed_precision=True, **FAST).fit(X)
    second = AutoencoderTransformer(4, mixed_precision=True, **FAST).fit(X)
    assert first.loss_curve_ == second.loss_curve_
    np.testing.assert_array_equal(first.transform(X), second.transform(X))
    plain = AutoencoderTransformer(4, **FAST).fit(X)
    assert plain.loss_curve_ != first.loss_curve_


@pytest.mark.parametrize("value", ["bfloat16", 1, None, "True"])
def test_values_other_than_booleans_are_refused(X, value):
    with pytest.raises(InvalidParameterError, match="mixed_precision"):
        AutoencoderTransformer(4, mixed_precision=value, **FAST).fit(X)


@pytest.mark.parametrize("make", [
    lambda: VAETransformer(4, likelihood="bernoulli", **FAST),
    lambda: VAETransformer(4, n_mc_samples=3, objective="iwae", **FAST),
    lambda: DenoisingAE(4, contractive=0.1, **FAST),
    lambda: SparseCoder(20, **FAST),
    lambda: AutoencoderTransformer(4, image_shape=(8, 8), **{**FAST, "hidden_layer_sizes": (4,)}),
], ids=["vae", "iwae", "contractive", "sparse", "conv"])
def test_every_autoencoder_trains_with_it(make, X):
    plain = make().fit(X)
    model = make().set_params(mixed_precision=True).fit(X)
    assert np.isfinite(model.loss_curve_).all()
    np.testing.assert_allclose(model.loss_curve_[-1], plain.loss_curve_[-1], rtol=0.05)
    assert np.isfinite(model.score_samples(X)).all()


@pytest.mark.parametrize("cls", [AutoencoderClassifier, VAEClassifier])
def test_the_classifiers_train_with_it(cls, digits, linear_dtypes):
    X, y = digits
    model = cls(mixed_precision=True, **{**FAST, "max_iter": 10}).fit(X, y)
    assert in_training(linear_dtypes) == {torch.bfloat16}
    assert model.score(X, y) > 0.7


def test_greedy_pretraining_trains_its_stages_in_bfloat16(X, monkeypatch):
    built = []
    build_net = skae._pretraining.build_net

    def spy(*args, **kwargs):
        built.append(build_net(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(skae._pretraining, "build_net", spy)
    model = AutoencoderTransformer(4, pretrain="greedy", mixed_precision=True,
                                   **{**FAST, "hidden_layer_sizes": (32, 16)}).fit(X)
    assert len(built) == 3
    assert {net.autocast_dtype for net in built} == {torch.bfloat16}
    assert all(np.isfinite(curve).all() for curve in model.pretrain_loss_curves_)


def test_divergence_keeps_the_previous_model(X):
    model = AutoencoderTransformer(4, mixed_precision=True, **FAST).fit(X)
    before = model.transform(X)
    with pytest.raises(TrainingDivergedError, match="Training diverged"):
        model.set_params(learning_rate_init=1e6, solver="sgd").fit(X * 1e3)
    np.testing.assert_array_equal(model.transform(X), before)


def test_an_interrupt_keeps_the_last_complete_epoch(X, interrupt_at_step):
    # 300 rows in batches of 50: 6 steps an epoch; step 9 falls in the second.
    reference = AutoencoderTransformer(4, mixed_precision=True, **{**FAST, "max_iter": 1}).fit(X)
    interrupt_at_step(9)
    model = AutoencoderTransformer(4, mixed_precision=True, **FAST)
    with pytest.warns(UserWarning, match="interrupted after 1"), pytest.raises(KeyboardInterrupt):
        model.fit(X)
    np.testing.assert_array_equal(model.transform(X), reference.transform(X))


def test_pickles_and_files_keep_it(X, tmp_path):
    model = AutoencoderTransformer(4, mixed_precision=True, **FAST).fit(X)
    twin = AutoencoderTransformer(4, mixed_precision=True, **FAST).fit(X)
    copy = pickle.loads(pickle.dumps(model))
    assert copy.mixed_precision is True
    assert copy.net_.autocast_dtype == torch.bfloat16
    skae.io.dump(model, tmp_path / "model")
    loaded = skae.io.load(tmp_path / "model")
    assert loaded.mixed_precision is True
    np.testing.assert_array_equal(loaded.transform(X), model.transform(X))
    # Training continues in bfloat16, as it would have without the round trip.
    expected = twin.partial_fit(X).loss_curve_
    assert copy.partial_fit(X).loss_curve_ == expected
    assert loaded.partial_fit(X).loss_curve_ == expected


def test_a_pickle_from_before_the_parameter_trains_in_float32(X):
    model = AutoencoderTransformer(4, **FAST).fit(X)
    # A copy of the state, so that the two models do not share a generator.
    state = pickle.loads(pickle.dumps(model)).__getstate__()
    del state["mixed_precision"]
    copy = AutoencoderTransformer.__new__(AutoencoderTransformer)
    copy.__setstate__(state)
    assert copy.mixed_precision is False and copy.net_.autocast_dtype is None
    assert copy.partial_fit(X).loss_curve_ == model.partial_fit(X).loss_curve_


def test_n_processes_trains_in_bfloat16_too(X):
    params = dict(n_components=4, **{**FAST, "max_iter": 2})
    alone = np.array(AutoencoderTransformer(mixed_precision=True, **params).fit(X).loss_curve_)
    full = np.array(AutoencoderTransformer(**params).fit(X).loss_curve_)
    together = AutoencoderTransformer(mixed_precision=True, n_processes=2, **params).fit(X)
    assert together.net_.autocast_dtype == torch.bfloat16

    def apart(curve):
        return np.max(np.abs(np.asarray(curve) / alone - 1))

    # Two processes round their shares of each batch as one process rounds
    # the whole batch, up to float32 sums in another order: measured 3e-5
    # apart, against 8e-4 for training in float32.
    assert apart(together.loss_curve_) < 0.2 * apart(full)


def test_a_gpu_without_bfloat16_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "device", lambda device: warnings.catch_warnings())
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device: "an old GPU")
    with pytest.raises(ValueError, match=r"cuda:0 \(an old GPU\) does not support.*"
                                         "mixed_precision=False"):
        check_mixed_precision("cuda:0")
    check_mixed_precision("cpu")


def test_as_float32_casts_only_lower_precisions():
    half = torch.ones(2, dtype=torch.bfloat16)
    out = as_float32({"a": half, "b": [torch.ones(2, dtype=torch.float64)],
                      "c": (torch.arange(3),), "d": None})
    assert out["a"].dtype == torch.float32
    assert out["b"][0].dtype == torch.float64
    assert out["c"][0].dtype == torch.int64 and isinstance(out["c"], tuple)
    assert out["d"] is None


@parametrize_with_checks([AutoencoderTransformer(
    mixed_precision=True, max_iter=5, hidden_layer_sizes=(8,), random_state=0)])
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)
