"""Principal code axes: codes centred, in the data's units, uncorrelated and ordered."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer, DenoisingAE
from skae.nn.code_axes import decoder_metric, principal_axes

FAST = dict(max_iter=30, random_state=0)


@pytest.fixture(scope="module")
def standardized(digits):
    return StandardScaler().fit_transform(digits[0])


def test_linear_autoencoder_codes_are_pca_scores(standardized):
    # Four components: their variances are well apart on digits, so a
    # linear autoencoder trained for a few dozen epochs finds each one.
    X = standardized
    ae = AutoencoderTransformer(4, hidden_layer_sizes=(), activation="identity",
                                learning_rate="constant", learning_rate_init=1e-2, tol=1e-5,
                                max_iter=500, random_state=0).fit(X)
    codes, scores = ae.transform(X), PCA(4).fit_transform(X)
    for j in range(4):
        assert abs(np.corrcoef(codes[:, j], scores[:, j])[0, 1]) > 0.99
    np.testing.assert_allclose(codes.var(axis=0), scores.var(axis=0), rtol=0.03)


@pytest.mark.parametrize("Estimator", [AutoencoderTransformer, DenoisingAE])
def test_codes_are_centred_uncorrelated_and_ordered(Estimator, digits):
    X = digits[0]
    codes = Estimator(5, **FAST).fit(X).transform(X)
    covariance = np.cov(codes.T)
    variances = np.diag(covariance)
    np.testing.assert_allclose(codes.mean(axis=0), 0, atol=1e-3 * variances.max() ** 0.5)
    off_diagonal = covariance - np.diag(variances)
    assert np.abs(off_diagonal).max() < 1e-3 * variances.max()
    assert np.all(np.diff(variances) <= 0)


def test_a_unit_step_along_a_code_moves_the_reconstruction_by_one(digits):
    X = digits[0]
    ae = AutoencoderTransformer(4, **FAST).fit(X)
    module = ae.net_.module_.eval()
    link = ae.net_.criterion_.likelihood.link
    codes = torch.as_tensor(ae.transform(X[:500]), dtype=torch.float32)
    metric = decoder_metric(lambda z: link(module.decode(z)), codes)
    # Estimated on evenly spaced training rows, hence close to, not exactly, I.
    np.testing.assert_allclose(metric.numpy(), np.eye(4), atol=0.1)


def test_reconstructions_and_scores_do_not_depend_on_the_axes(digits):
    X = digits[0]
    on = AutoencoderTransformer(4, **FAST).fit(X)
    off = AutoencoderTransformer(4, principal_codes=False, **FAST).fit(X)
    np.testing.assert_allclose(on.inverse_transform(on.transform(X)),
                               off.inverse_transform(off.transform(X)), atol=1e-5)
    np.testing.assert_allclose(on.score_samples(X), off.score_samples(X), rtol=1e-6)
    np.testing.assert_allclose(on.loss_curve_, off.loss_curve_)
    assert not np.allclose(np.abs(on.transform(X)), np.abs(off.transform(X)), atol=1e-2)


def test_partial_fit_sets_the_axes_of_the_network_it_leaves(digits):
    X = digits[0]
    ae = AutoencoderTransformer(3, random_state=0).partial_fit(X)
    first = ae.transform(X)
    ae.partial_fit(X)
    codes = ae.transform(X)
    assert not np.allclose(first, codes)
    np.testing.assert_allclose(codes.mean(axis=0), 0, atol=1e-3 * codes.std(axis=0).max())


def test_axes_survive_pickling(digits):
    X = digits[0]
    ae = AutoencoderTransformer(3, **FAST).fit(X)
    copy = pickle.loads(pickle.dumps(ae))
    np.testing.assert_array_equal(copy.transform(X), ae.transform(X))


def test_a_pickle_from_before_principal_codes_keeps_its_own_codes(digits):
    X = digits[0]
    model = AutoencoderTransformer(3, principal_codes=False, **FAST).fit(X)
    state = model.__getstate__()
    # As pickled by a version without the parameter: its network has no axes.
    del state["principal_codes"]
    copy = AutoencoderTransformer.__new__(AutoencoderTransformer)
    copy.__setstate__(state)
    assert copy.principal_codes is False
    np.testing.assert_array_equal(copy.transform(X), model.transform(X))


def test_a_code_the_decoder_ignores_keeps_an_invertible_map():
    codes = torch.randn(100, 3, dtype=torch.float64)
    metric = torch.diag(torch.tensor([1.0, 4.0, 0.0], dtype=torch.float64))
    mean, forward, inverse = principal_axes(codes, metric)
    assert torch.isfinite(forward).all() and torch.isfinite(inverse).all()
    torch.testing.assert_close(forward @ inverse, torch.eye(3, dtype=torch.float64))
