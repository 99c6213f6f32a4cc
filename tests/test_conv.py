"""Convolutional autoencoders: images given as flat rows, with image_shape."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV
from torch import nn

from skae import AutoencoderTransformer, DenoisingAE, VAETransformer
from skae.nn import ConvAutoencoder, build

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

CONV = {"image_shape": (8, 8), "hidden_layer_sizes": (8, 16), "random_state": 0}


@pytest.mark.parametrize("shape, channels", [
    ((8, 8), (4, 8)),  # even sizes
    ((7, 9), (4, 8, 8)),  # odd sizes, three layers down to 1x2
    ((3, 6, 5), (4,)),  # several input channels
    ((5, 5), ()),  # no convolution: a linear autoencoder
])
def test_decoder_output_has_the_input_shape(shape, channels):
    module = build(lambda: ConvAutoencoder(shape, 6, channels), torch.Generator().manual_seed(0))
    n_features = int(np.prod(shape))
    out = module(torch.randn(3, n_features))
    assert out["code"].shape == (3, 6)
    assert out["recon"].shape == (3, n_features)
    n_conv = sum(isinstance(m, nn.Conv2d) for m in module.encoder)
    n_deconv = sum(isinstance(m, nn.ConvTranspose2d) for m in module.decoder)
    assert n_conv == n_deconv == len(channels)


def test_convolutions_see_rows_as_images():
    # Moving a pixel to a neighbouring position changes a convolution's
    # response only locally; here we check the flattening order instead: a
    # row that is an image reshaped in (channels, height, width) order is
    # what the first convolution receives.
    module = build(lambda: ConvAutoencoder((2, 4, 3), 5, (3,)), torch.Generator().manual_seed(0))
    images = torch.randn(2, 2, 4, 3)
    conv = module.encoder[1]
    expected = torch.relu(conv(images))
    got = module.encoder[:3](images.reshape(2, -1))
    torch.testing.assert_close(got, expected)


def test_conv_autoencoder_reconstructs_digits_better_than_pca(digits):
    X, _ = digits
    train, test = X[:1300], X[1300:]
    ae = AutoencoderTransformer(16, image_shape=(8, 8), hidden_layer_sizes=(32, 64),
                                batch_size=64, max_iter=40, learning_rate_init=2e-3,
                                random_state=0).fit(train)
    pca = PCA(16).fit(train)

    def error(model):
        return np.mean(np.sum((test - model.inverse_transform(model.transform(test))) ** 2, 1))

    assert any(isinstance(m, nn.Conv2d) for m in ae.net_.module_.encoder)
    assert error(ae) < 0.8 * error(pca)


def test_conv_fit_is_reproducible_and_pickles(digits):
    X = digits[0][:300]
    a = AutoencoderTransformer(4, max_iter=3, **CONV).fit(X)
    b = AutoencoderTransformer(4, max_iter=3, **CONV).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    restored = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(restored.transform(X), a.transform(X))


def test_grid_search_over_the_code_size(digits):
    X = digits[0][:400]
    search = GridSearchCV(AutoencoderTransformer(max_iter=5, **CONV),
                          {"n_components": [2, 12]}, cv=2).fit(X)
    assert search.best_params_ == {"n_components": 12}


def test_conv_denoising_beats_the_identity(digits):
    X, _ = digits
    train, test = X[:1400], X[1400:]
    dae = DenoisingAE(16, noise="gaussian", noise_level=0.25, max_iter=40,
                      learning_rate_init=2e-3, **CONV).fit(train)
    noisy = test + np.random.default_rng(1).normal(scale=0.25, size=test.shape)
    denoised = dae.inverse_transform(dae.transform(noisy))
    assert np.mean((denoised - test) ** 2) < 0.5 * np.mean((noisy - test) ** 2)


def test_contractive_penalty_reaches_the_conv_encoder(digits):
    X = digits[0][:200]
    plain = AutoencoderTransformer(4, max_iter=2, **CONV).fit(X)
    contracted = AutoencoderTransformer(4, max_iter=2, contractive=1.0, **CONV).fit(X)
    # Same start and batches: the first epoch differs only by the penalty.
    assert contracted.loss_curve_[0] > plain.loss_curve_[0]


@pytest.mark.parametrize("params, message", [
    ({"image_shape": (8, 9)}, r"image_shape=\(8, 9\) describes 72 values .* X has 64"),
    ({"image_shape": (64,)}, "image_shape must be"),
    ({"image_shape": (0, 8, 8)}, "image_shape must be"),
    ({"image_shape": (8.0, 8.0)}, "image_shape must be"),
    ({"image_shape": (8, 8), "pretrain": "greedy"}, "pretrain='greedy'"),
])
def test_bad_image_shapes_fail_at_fit(digits, params, message):
    model = AutoencoderTransformer(4, max_iter=1, **{**CONV, **params})
    with pytest.raises(ValueError, match=message):
        model.fit(digits[0][:50])


@pytest.mark.parametrize("params", [{"likelihood": "bernoulli"},
                                    {"likelihood": "gaussian", "decoder_variance": "learned"}])
def test_conv_vae_scores_samples_and_bounds(digits, params):
    X = digits[0]
    vae = VAETransformer(4, max_iter=5, **CONV, **params).fit(X[:500])
    module = vae.net_.module_
    assert any(isinstance(m, nn.Conv2d) for m in module.trunk)
    assert any(isinstance(m, nn.ConvTranspose2d) for m in module.decoder)
    scores = vae.score_samples(X[500:600])
    assert scores.shape == (100,) and np.all(np.isfinite(scores))
    # The importance-weighted bound with many draws is at least the ELBO.
    assert vae.importance_weighted_bound(X[500:600], n_samples=64).mean() >= scores.mean()
    assert vae.sample(5, random_state=0).shape == (5, 64)
    assert vae.inverse_transform(vae.transform(X[:10])).shape == (10, 64)


def test_conv_vae_rejects_a_wrong_image_shape(digits):
    with pytest.raises(ValueError, match=r"image_shape=\(7, 7\) describes 49 values"):
        VAETransformer(2, image_shape=(7, 7), max_iter=1).fit(digits[0][:50])
