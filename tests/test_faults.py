"""Faults break nothing: interrupts, failed refits and divergence leave a consistent model."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.utils.validation import check_is_fitted

from skae import (
    AutoencoderTransformer,
    DenoisingAE,
    SparseCoder,
    TrainingDivergedError,
    VAETransformer,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = {"hidden_layer_sizes": (16,), "max_iter": 6, "batch_size": 50, "random_state": 0}
MAKERS = [AutoencoderTransformer, DenoisingAE, SparseCoder, VAETransformer]


@pytest.fixture
def X(digits):
    return digits[0][:300]


def _consistent(model, X):
    check_is_fitted(model)
    assert model.n_iter_ == len(model.loss_curve_) == len(model.net_.history)
    assert all(np.isfinite(model.loss_curve_))
    assert np.isfinite(model.transform(X)).all()


@pytest.mark.parametrize("make", MAKERS)
@pytest.mark.parametrize("step", [3, 14, 23])
def test_interrupted_fit_keeps_the_last_complete_epoch(make, step, X, interrupt_at_step,
                                                        monkeypatch):
    # 300 rows in batches of 50: 6 steps an epoch.
    reference = make(4, **{**FAST, "max_iter": (step - 1) // 6}).fit(X) if step > 6 else None
    interrupt_at_step(step)
    model = make(4, **FAST)
    if step <= 6:
        # Before a first complete epoch the estimator stays unfitted.
        with pytest.raises(KeyboardInterrupt):
            model.fit(X)
        assert not hasattr(model, "net_") and not hasattr(model, "n_features_in_")
        return
    with pytest.warns(UserWarning, match="interrupted after"), pytest.raises(KeyboardInterrupt):
        model.fit(X)
    _consistent(model, X)
    assert model.n_iter_ == reference.n_iter_
    # The same weights as a run that stopped there by itself.
    np.testing.assert_allclose(model.transform(X), reference.transform(X), rtol=1e-5, atol=1e-6)
    monkeypatch.undo()
    model.partial_fit(X)
    assert model.n_iter_ == reference.n_iter_ + 1


@pytest.mark.parametrize("make", MAKERS)
def test_interrupted_partial_fit_leaves_the_model_as_it_was(make, X, interrupt_at_step,
                                                            monkeypatch):
    model = make(4, **FAST).fit(X)
    before = model.transform(X)
    curve = list(model.loss_curve_)
    interrupt_at_step(3)
    with pytest.raises(KeyboardInterrupt):
        model.partial_fit(X)
    monkeypatch.undo()
    _consistent(model, X)
    assert model.loss_curve_ == curve
    np.testing.assert_array_equal(model.transform(X), before)
    # Training resumes exactly as if the interrupted call had not happened.
    twin = make(4, **FAST).fit(X)
    assert model.partial_fit(X).loss_curve_ == twin.partial_fit(X).loss_curve_


def test_interrupted_pretraining_leaves_the_estimator_unfitted(X, interrupt_at_step):
    interrupt_at_step(8)
    model = AutoencoderTransformer(4, pretrain="greedy", **{**FAST, "hidden_layer_sizes": (16, 8)})
    with pytest.raises(KeyboardInterrupt):
        model.fit(X)
    assert not hasattr(model, "net_")


def test_interrupt_stops_a_grid_search(X, interrupt_at_step):
    interrupt_at_step(9)
    search = GridSearchCV(AutoencoderTransformer(**FAST), {"n_components": [2, 4]}, cv=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(KeyboardInterrupt):
            search.fit(X)
    assert not hasattr(search, "cv_results_")


@pytest.mark.parametrize("make", MAKERS)
def test_refit_that_fails_keeps_the_previous_model(make, X):
    model = make(4, **FAST).fit(X)
    before, n_iter = model.transform(X), model.n_iter_
    # The early-stopping split needs more than one row.
    with pytest.raises(ValueError, match="validation sample"):
        model.set_params(early_stopping=True).fit(X[:1])
    # A wider input with a setting that a check after validation refuses.
    bad, message = (({"sparsity": "topk", "n_nonzero_coefs": 99}, "n_nonzero_coefs")
                    if make is SparseCoder else ({"image_shape": (3, 3)}, "image_shape"))
    with pytest.raises(ValueError, match=message):
        model.set_params(early_stopping=False, **bad).fit(np.hstack([X, X]))
    assert model.n_features_in_ == 64 and model.n_iter_ == n_iter
    np.testing.assert_array_equal(model.transform(X), before)


@pytest.mark.parametrize("make", MAKERS)
def test_divergence_keeps_the_previous_model(make, X):
    model = make(4, **FAST).fit(X)
    before = model.transform(X)
    with pytest.raises(TrainingDivergedError):
        model.set_params(learning_rate_init=1e6, solver="sgd").fit(X * 1e3)
    np.testing.assert_array_equal(model.set_params(learning_rate_init=1e-3).transform(X),
                                  before)


def test_a_loss_that_explodes_is_a_divergence(X):
    with pytest.raises(TrainingDivergedError, match="loss reached"):
        VAETransformer(4, learning_rate_init=10.0, **FAST).fit(X)


@pytest.mark.parametrize("make", MAKERS)
def test_pickle_holds_the_network_once(make, X):
    model = make(4, **FAST).fit(X)
    blob = pickle.dumps(model)
    weights = sum(p.numel() * 4 for p in model.net_.module_.parameters())
    # Weights, Adam's two moments and little else.
    assert len(blob) < 3 * weights + 40_000
    copy = pickle.loads(blob)
    assert copy.net_.module is copy.net_.module_
    np.testing.assert_array_equal(copy.transform(X), model.transform(X))


@pytest.mark.parametrize("make", MAKERS)
def test_loading_takes_the_stored_arrays_without_copying_them(make, X):
    from skae._persistence import NetState

    model = make(4, **FAST).fit(X)
    state = NetState.of(model.net_)
    net = state.restore(model)
    for name, param in net.module_.named_parameters():
        assert param.data_ptr() == state.module[name].ctypes.data, name
    # The optimiser steps the loaded parameters, not the ones they replaced.
    stepped = {id(p) for group in net.optimizer_.param_groups for p in group["params"]}
    assert {id(p) for p in net.module_.parameters()} <= stepped


def test_a_model_trained_on_cuda_loads_on_a_cpu_only_machine(X, monkeypatch):
    import torch

    model = AutoencoderTransformer(4, **FAST).fit(X)
    codes = model.transform(X)
    # What a GPU-trained model records; this machine's torch has no CUDA.
    model.device = "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="loaded on the CPU"):
        copy = pickle.loads(pickle.dumps(model))
    assert copy.net_.device == "cpu"
    np.testing.assert_array_equal(copy.transform(X), codes)


@pytest.mark.parametrize("sizes", [((8, 4), (2,)), [[3]]])
def test_nested_hidden_layer_sizes_are_refused(sizes, X):
    with pytest.raises(ValueError, match="flat sequence"):
        AutoencoderTransformer(hidden_layer_sizes=sizes).fit(X)


def test_cuda_with_an_index_is_a_valid_setting(X):
    import torch

    model = AutoencoderTransformer(4, device="cuda:0", **FAST)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            model.fit(X)
    with pytest.raises(ValueError, match="'cuda:N'"):
        AutoencoderTransformer(device="gpu", **FAST).fit(X)


def test_tiny_decoder_variance_is_named_when_training_diverges(X):
    vae = VAETransformer(4, decoder_variance=1e-6, learning_rate_init=1e3, solver="sgd",
                         **FAST)
    with pytest.raises(TrainingDivergedError, match="decoder_variance=1e-06 is very small"):
        vae.fit(X)


@pytest.mark.parametrize("make", MAKERS)
def test_inference_batches_follow_the_width(make, monkeypatch):
    import skae._inference as inference

    model = make(2, hidden_layer_sizes=(4,))
    wide = model._rows_per_batch(200_000)
    assert 1 <= wide < 100
    assert wide * model._row_bytes(200_000) <= inference.INFERENCE_BUDGET
    assert model._rows_per_batch(10) == model._inference_batch_size


def test_inference_keeps_no_batch_result_alive():
    # Each batch's result is copied into one output array and dropped: small
    # results kept alive between the batches' large freed temporaries made
    # the C heap grow by a batch's size at every batch of a wide VAE's score.
    import weakref

    import torch

    from skae._data import map_batches

    X = np.arange(40.0).reshape(20, 2)
    results = []

    def fn(xb):
        assert all(ref() is None for ref in results), "an earlier batch's result is alive"
        out = xb.sum(dim=1)
        results.append(weakref.ref(out))
        return out

    out = map_batches(fn, X, batch_size=3, device="cpu", dtype=torch.float64)
    np.testing.assert_array_equal(out, X.sum(axis=1))
    assert len(results) == 7


def test_vae_scoring_decodes_within_the_budget(monkeypatch):
    # Wide rows, many draws: no decoder call of score_samples or
    # importance_weighted_bound may produce more values than the budget holds.
    from skae._inference import INFERENCE_BUDGET
    from skae.nn import GaussianMLPVAE

    rng = np.random.default_rng(0)
    X = (rng.random((30, 20_000)) < 0.01).astype(np.float32)
    vae = VAETransformer(2, likelihood="bernoulli", n_eval_samples=64, **FAST).fit(X)
    largest = []
    decode = GaussianMLPVAE.decode
    monkeypatch.setattr(GaussianMLPVAE, "decode",
                        lambda self, z: largest.append(z.shape[:-1].numel()) or decode(self, z))
    vae.score_samples(X)
    vae.importance_weighted_bound(X, 64)
    assert len(largest) > 2
    # Each decoded value is held in about six float64 copies.
    assert max(largest) * X.shape[1] * 6 * 8 <= INFERENCE_BUDGET


def test_vae_scores_chunk_their_draws(digits):
    import torch

    from skae.nn.vae_bounds import elbo

    vae = VAETransformer(3, n_eval_samples=40, **FAST).fit(digits[0][:200])
    module, criterion = vae._inference_parts(torch.float64)
    x = torch.tensor(digits[0][:7])
    with torch.no_grad():
        whole = criterion.per_sample(module(x), x)
        chunked = elbo(module, criterion.likelihood, x, chunk_values=64 * 7 * 3)
    torch.testing.assert_close(-chunked, whole)
    np.testing.assert_allclose(vae.score_samples(digits[0][:7]), chunked.numpy())


def test_a_pickle_without_a_newer_parameter_loads_with_its_default(X):
    model = VAETransformer(4, **FAST).fit(X)
    state = model.__getstate__()
    # As pickled by a version that did not have the parameter yet.
    del state["input_norm"]
    copy = VAETransformer.__new__(VAETransformer)
    copy.__setstate__(state)
    assert copy.input_norm is None
    np.testing.assert_array_equal(copy.transform(X), model.transform(X))
