"""Behaviour of DenoisingAE and its corruption layer."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from skae import DenoisingAE
from skae._data import ArrayDataset
from skae.nn import Corruption

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = {"hidden_layer_sizes": (64,), "max_iter": 20, "random_state": 0}


def test_denoising_beats_the_identity_on_noisy_inputs(digits):
    X, _ = digits
    train, test = X[:1400], X[1400:]
    dae = DenoisingAE(24, noise="gaussian", noise_level=0.25, **FAST).fit(train)
    noisy = test + np.random.default_rng(1).normal(scale=0.25, size=test.shape)
    denoised = dae.inverse_transform(dae.transform(noisy))
    assert np.mean((denoised - test) ** 2) < 0.5 * np.mean((noisy - test) ** 2)


@pytest.mark.parametrize("noise", ["gaussian", "masking", "salt_pepper"])
def test_inference_sees_clean_data(digits, noise):
    X, _ = digits
    dae = DenoisingAE(8, noise=noise, noise_level=0.3, **{**FAST, "max_iter": 3}).fit(X[:300])
    codes = dae.transform(X[:300])
    np.testing.assert_array_equal(codes, dae.transform(X[:300]))
    recon = dae.inverse_transform(codes)
    np.testing.assert_allclose(dae.score_samples(X[:300]),
                               -np.sum((X[:300] - recon) ** 2, axis=1), rtol=1e-4, atol=1e-6)
    # Training batches pair a corrupted input with the clean rows as target.
    batches = dae.net_.get_iterator(ArrayDataset(X[:300]), training=True)
    inputs, targets = zip(*batches, strict=True)
    clean = torch.cat(targets)
    assert not torch.equal(torch.cat(inputs), clean)
    np.testing.assert_array_equal(np.sort(clean.numpy(), axis=0),
                                  np.sort(X[:300].astype(np.float32), axis=0))


def test_noise_comes_from_the_estimators_generator(digits):
    X, _ = digits
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()  # noqa: NPY002 (the global state is the subject)
    a = DenoisingAE(8, noise="masking", noise_level=0.5, **FAST).fit(X[:300])
    b = DenoisingAE(8, noise="masking", noise_level=0.5, **FAST).fit(X[:300])
    assert torch.equal(torch.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002
    assert a.loss_curve_ == b.loss_curve_
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    c = DenoisingAE(8, noise="masking", noise_level=0.5, **{**FAST, "random_state": 1})
    assert c.fit(X[:300]).loss_curve_ != a.loss_curve_


def test_corruption_kinds():
    x = torch.full((400, 50), 0.5)
    gen = torch.Generator().manual_seed(0)

    gaussian = Corruption("gaussian", 0.3, 50)(x, gen) - x
    assert gaussian.std().item() == pytest.approx(0.3, rel=0.05)

    masked = Corruption("masking", 0.25, 50)(x, gen)
    assert set(masked.unique().tolist()) == {0.0, 0.5}
    assert (masked == 0).float().mean().item() == pytest.approx(0.25, abs=0.02)

    layer = Corruption("salt_pepper", 0.4, 50)
    layer.set_range(torch.full((50,), -1.0), torch.full((50,), 2.0))
    salted = layer(x, gen)
    assert set(salted.unique().tolist()) == {-1.0, 0.5, 2.0}
    assert (salted != 0.5).float().mean().item() == pytest.approx(0.4, abs=0.02)
    assert (salted == 2.0).float().mean().item() == pytest.approx(0.2, abs=0.02)

    # Fresh noise on every call.
    first, second = layer(x, gen), layer(x, gen)
    assert not torch.equal(first, second)


def test_salt_pepper_uses_the_training_range(digits):
    X, _ = digits
    dae = DenoisingAE(4, noise="salt_pepper", noise_level=0.2, **{**FAST, "max_iter": 1})
    dae.fit(X * 3 - 1)
    corruption = dae._input_noise()
    np.testing.assert_allclose(corruption.low.numpy(), (X * 3 - 1).min(axis=0))
    np.testing.assert_allclose(corruption.high.numpy(), (X * 3 - 1).max(axis=0))


@pytest.mark.parametrize(
    "params, error, message",
    [
        ({"noise": "masking", "noise_level": 1.0}, ValueError, r"noise_level in \[0, 1\)"),
        ({"noise": "salt_pepper", "noise_level": 1.5}, ValueError, r"noise_level in \[0, 1\]"),
        ({"noise": "gaussian", "noise_level": -0.1}, InvalidParameterError,
         "'noise_level' parameter"),
        ({"noise": "dropout"}, InvalidParameterError, "'noise' parameter"),
    ],
)
def test_invalid_noise_fails_at_fit(digits, params, error, message):
    dae = DenoisingAE(**{**FAST, **params})
    with pytest.raises(error, match=message):
        dae.fit(digits[0][:50])


def test_sparse_input_matches_dense(digits):
    X = digits[0][:300]
    dense = DenoisingAE(4, noise="masking", noise_level=0.2, **FAST).fit(X)
    csr = DenoisingAE(4, noise="masking", noise_level=0.2, **FAST).fit(sp.csr_matrix(X))
    np.testing.assert_allclose(dense.transform(X), csr.transform(sp.csr_matrix(X)),
                               rtol=1e-5, atol=1e-5)


def test_pipeline_with_classifier(digits):
    X, y = digits
    pipe = make_pipeline(DenoisingAE(16, noise="masking", noise_level=0.2, **FAST),
                         LogisticRegression(max_iter=2000))
    pipe.fit(X[:1200], y[:1200])
    assert pipe.score(X[1200:], y[1200:]) > 0.85


def test_pickled_model_keeps_its_noise_generator(digits):
    import pickle

    X = digits[0][:300]
    dae = DenoisingAE(4, noise="masking", noise_level=0.3, **{**FAST, "max_iter": 2}).fit(X)
    copy = pickle.loads(pickle.dumps(dae))
    np.testing.assert_array_equal(copy.transform(X), dae.transform(X))
    # Training on continues with the same noise in both.
    assert copy.partial_fit(X).loss_curve_ == dae.partial_fit(X).loss_curve_
