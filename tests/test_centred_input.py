"""Centred encoder input keeps a default autoencoder alive on wide non-negative data,
and codes that die anyway are reported."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

from skae import AutoencoderTransformer, CollapsedCodesWarning, DenoisingAE
from skae.nn import CenterScale, build, make_mlp
from skae.nn.contractive import jacobian_norm_autograd, jacobian_norm_closed_form


@pytest.fixture(scope="module")
def wide_pixels():
    """400 rows of 784 values in [0, 1], mostly non-zero, of rank about 5: the
    shape of image data on which Adam's first steps kill every ReLU unit of an
    encoder that reads the rows as they are."""
    rng = np.random.default_rng(0)
    low_rank = rng.random((400, 5)) @ rng.random((5, 784)) / 5
    return np.clip(low_rank + 0.1 * rng.random((400, 784)) - 0.2, 0, 1).astype(np.float32)


def fit_recording(model, X):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        codes = model.fit_transform(X)
    return codes, [w for w in caught if issubclass(w.category, CollapsedCodesWarning)]


@pytest.mark.parametrize("Estimator", [AutoencoderTransformer, DenoisingAE])
def test_default_keeps_every_code_alive_on_wide_nonnegative_data(Estimator, wide_pixels):
    codes, collapsed = fit_recording(Estimator(4, random_state=0), wide_pixels)
    # Principal codes are in the data's units: each varies about as much as
    # one of PCA's (a dead code varies by rounding errors).
    pca_spread = PCA(4).fit_transform(wide_pixels).std(axis=0)
    assert codes.std(axis=0).min() > 0.1 * pca_spread.min()
    assert not collapsed


@pytest.mark.parametrize("rates_by_fan_in", [True, False])
def test_raw_input_collapses_and_says_so(wide_pixels, monkeypatch, rates_by_fan_in):
    # The cause the centring removes: without it the same fit dies, and
    # warns, with or without lower rates for wide layers.
    from skae import _net

    if not rates_by_fan_in:
        monkeypatch.setattr(_net, "fan_in_param_groups", lambda module, lr: [])
    # Batches of 200 rows, as MNIST's defaults cut, rather than 50.
    model = AutoencoderTransformer(4, random_state=0, standardize_input=False, batch_size=200)
    codes, collapsed = fit_recording(model, wide_pixels)
    pca_spread = PCA(4).fit_transform(wide_pixels).std(axis=0)
    # At most the first code lives.
    assert codes.std(axis=0)[1:].max() < 0.05 * pca_spread.min()
    assert len(collapsed) == 1
    message = str(collapsed[0].message)
    assert "standardize_input=True" in message and "learning_rate_init" in message
    # It points at the caller's line.
    assert collapsed[0].filename == __file__


def test_all_dead_codes_are_named_as_such(wide_pixels, monkeypatch):
    # An encoder whose every unit is switched off gives one constant code.
    model = AutoencoderTransformer(3, random_state=0, learning_rate="constant",
                                   max_iter=50, n_iter_no_change=2)
    original = AutoencoderTransformer._start

    def start_dead(self, X):
        original(self, X)
        with torch.no_grad():
            self.net_.module_.encoder[1].bias.fill_(-1e6)

    monkeypatch.setattr(AutoencoderTransformer, "_start", start_dead)
    _, collapsed = fit_recording(model, wide_pixels)
    assert len(collapsed) == 1
    assert "every code is constant" in str(collapsed[0].message)


def test_encoder_input_is_centred_on_the_training_mean(wide_pixels):
    model = AutoencoderTransformer(4, max_iter=2, random_state=0).fit(wide_pixels)
    centering = model.net_.module_.encoder[0]
    assert isinstance(centering, CenterScale)
    np.testing.assert_allclose(centering.mean.numpy(), wide_pixels.mean(axis=0), rtol=1e-5,
                               atol=1e-6)
    rms = np.sqrt(wide_pixels.astype(np.float64).var(axis=0).mean())
    np.testing.assert_allclose(centering.scale.item(), rms, rtol=1e-5)
    seen = centering(torch.from_numpy(wide_pixels)).numpy()
    np.testing.assert_allclose(seen.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(np.sqrt(np.mean(seen.var(axis=0))), 1, rtol=1e-4)


def test_without_standardize_input_the_encoder_reads_the_rows_as_they_are(wide_pixels):
    model = AutoencoderTransformer(4, max_iter=2, random_state=0, standardize_input=False)
    model.fit(wide_pixels)
    assert not any(isinstance(m, CenterScale) for m in model.net_.module_.modules())


def test_input_norm_takes_the_place_of_centring(wide_pixels):
    model = AutoencoderTransformer(4, max_iter=2, random_state=0, input_norm="l2")
    model.fit(wide_pixels)
    assert not any(isinstance(m, CenterScale) for m in model.net_.module_.modules())


def test_a_model_pickled_before_centring_loads_as_it_was(wide_pixels):
    model = AutoencoderTransformer(4, max_iter=2, random_state=0, standardize_input=False)
    model.fit(wide_pixels)
    state = model.__getstate__()
    del state["standardize_input"]
    old = AutoencoderTransformer.__new__(AutoencoderTransformer)
    old.__setstate__(pickle.loads(pickle.dumps(state)))
    assert old.standardize_input is False
    np.testing.assert_array_equal(old.transform(wide_pixels[:5]), model.transform(wide_pixels[:5]))


def test_contractive_closed_form_includes_the_centring():
    generator = torch.Generator().manual_seed(0)
    centering = CenterScale(7).double()
    centering.start(np.arange(7.0), np.full(7, 4.0))

    def factory():
        return make_mlp([7, 5], "tanh", activate_last=True)

    mlp = build(factory, generator).double()
    encoder = torch.nn.Sequential(centering, *mlp)
    x = torch.randn(6, 7, generator=generator, dtype=torch.float64)
    closed = jacobian_norm_closed_form(mlp[0], [mlp[1]], x, centering)
    torch.testing.assert_close(closed, jacobian_norm_autograd(encoder, x))


def test_a_layer_reading_many_inputs_trains_at_a_rate_lowered_by_its_fan_in(wide_pixels):
    from skae._learning_rates import REFERENCE_FAN_IN

    model = AutoencoderTransformer(4, max_iter=2, random_state=0).fit(wide_pixels)
    first = model.net_.module_.encoder[1].weight
    rates = {id(p): group["lr"] for group in model.net_.optimizer_.param_groups
             for p in group["params"]}
    lr = model.learning_rate_init
    assert rates[id(first)] == pytest.approx(lr * REFERENCE_FAN_IN / 784)
    # Its bias, and the layers of at most REFERENCE_FAN_IN inputs, keep the rate.
    assert rates[id(model.net_.module_.encoder[1].bias)] == lr
    assert rates[id(model.net_.module_.decoder[-1].weight)] == lr


def test_adaptive_floors_follow_each_group(wide_pixels):
    model = AutoencoderTransformer(4, max_iter=400, random_state=0, tol=0.5,
                                   n_iter_no_change=1).fit(wide_pixels)
    from skae._net import learning_rate_schedule

    scheduler = learning_rate_schedule(model.net_).scheduler(model.net_)
    floors = sorted(scheduler.min_lrs)
    lr = model.learning_rate_init
    assert floors == pytest.approx(sorted([1e-3 * lr * 256 / 784, 1e-3 * lr]))
    # The stopping rule waited until every group reached its own floor.
    for group, floor in zip(model.net_.optimizer_.param_groups, scheduler.min_lrs, strict=True):
        assert group["lr"] == pytest.approx(floor)


def test_a_model_saved_with_one_rate_for_all_loads_and_trains_on(wide_pixels, monkeypatch):
    from skae import _net

    monkeypatch.setattr(_net, "fan_in_param_groups", lambda module, lr: [])
    model = AutoencoderTransformer(4, max_iter=2, random_state=0).fit(wide_pixels)
    blob = pickle.dumps(model)
    monkeypatch.undo()
    loaded = pickle.loads(blob)
    assert len(loaded.net_.optimizer_.param_groups) == 1
    np.testing.assert_array_equal(loaded.transform(wide_pixels[:5]),
                                  model.transform(wide_pixels[:5]))
    loaded.partial_fit(wide_pixels)
    assert loaded.n_iter_ == 3


def test_the_variational_models_keep_one_rate(wide_pixels):
    from skae import VAETransformer

    model = VAETransformer(4, max_iter=1, random_state=0).fit(wide_pixels)
    assert len(model.net_.optimizer_.param_groups) == 1
