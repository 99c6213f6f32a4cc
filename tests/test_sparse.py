"""Behaviour of SparseCoder a scikit-learn user relies on."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from skae import SparseCoder

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = {"max_iter": 15, "random_state": 0}


@pytest.fixture(scope="module")
def X(digits):
    return digits[0][:600]


def zero_fraction(codes):
    return float(np.mean(codes == 0))


def test_topk_keeps_exactly_k_codes_per_sample(X):
    coder = SparseCoder(40, sparsity="topk", n_nonzero_coefs=3, **FAST).fit(X)
    codes = coder.transform(X)
    np.testing.assert_array_equal((codes != 0).sum(axis=1), 3)
    # The dropped codes are exact zeros, not merely small.
    assert np.count_nonzero(codes) == 3 * len(X)


def test_topk_default_keeps_a_tenth_of_the_codes(X):
    codes = SparseCoder(50, sparsity="topk", **FAST).fit_transform(X)
    np.testing.assert_array_equal((codes != 0).sum(axis=1), 5)


def test_measured_sparsity_rises_with_alpha(X):
    fractions = [
        zero_fraction(SparseCoder(32, alpha=alpha, **FAST).fit_transform(X))
        for alpha in (0.0, 1.0, 5.0)
    ]
    assert fractions[0] < fractions[1] < fractions[2]


def test_components_reconstruct_as_documented(X):
    # Overcomplete: more atoms than the 64 pixels.
    coder = SparseCoder(100, alpha=1.0, **FAST).fit(X)
    codes = coder.transform(X)
    assert coder.components_.shape == (100, 64)
    assert coder.intercept_.shape == (64,)
    np.testing.assert_allclose(
        codes @ coder.components_ + coder.intercept_,
        coder.inverse_transform(codes),
        rtol=1e-5, atol=1e-5,
    )
    # Under the L1 penalty the atoms have unit norm, as in DictionaryLearning.
    np.testing.assert_allclose(np.linalg.norm(coder.components_, axis=1), 1.0, rtol=1e-5)
    # score_samples measures reconstruction alone.
    recon = coder.inverse_transform(codes)
    np.testing.assert_allclose(
        coder.score_samples(X), -np.sum((X - recon) ** 2, axis=1), rtol=1e-4, atol=1e-6
    )


def test_components_with_binary_crossentropy_pass_through_sigmoid(X):
    coder = SparseCoder(20, sparsity="topk", loss="binary_crossentropy", **FAST).fit(X)
    codes = coder.transform(X)
    logits = codes @ coder.components_ + coder.intercept_
    np.testing.assert_allclose(
        1 / (1 + np.exp(-logits)), coder.inverse_transform(codes), rtol=1e-5, atol=1e-6
    )


def test_positive_code_gives_non_negative_codes(X):
    for sparsity in ("l1", "topk"):
        codes = SparseCoder(30, sparsity=sparsity, positive_code=True, **FAST).fit_transform(X)
        assert codes.min() == 0.0
        assert (codes > 0).any()
    signed = SparseCoder(30, sparsity="l1", **FAST).fit_transform(X)
    assert signed.min() < 0


def test_kl_penalty_pulls_mean_activation_to_rho(X):
    def mean_activation(beta):
        coder = SparseCoder(20, sparsity="kl", rho=0.05, beta=beta, **FAST).fit(X)
        codes = coder.transform(X)
        assert codes.min() > 0 and codes.max() < 1
        return codes.mean()

    assert abs(mean_activation(3.0) - 0.05) < abs(mean_activation(0.0) - 0.05)


def test_mirror_decoder_has_no_dictionary(X):
    coder = SparseCoder(10, decoder="mirror", hidden_layer_sizes=(16,), **FAST).fit(X)
    assert coder.transform(X).shape == (len(X), 10)
    with pytest.raises(AttributeError, match="decoder='linear'"):
        _ = coder.components_
    assert not hasattr(SparseCoder(), "components_")


@pytest.mark.parametrize(
    "params, error, message",
    [
        ({"sparsity": "topk", "n_components": 4, "n_nonzero_coefs": 5}, ValueError,
         "n_nonzero_coefs=5 exceeds n_components=4"),
        ({"sparsity": "kl", "rho": 0.0}, InvalidParameterError, "'rho' parameter"),
        ({"sparsity": "kl", "rho": 1.0}, InvalidParameterError, "'rho' parameter"),
        ({"alpha": -1.0}, InvalidParameterError, "'alpha' parameter"),
        ({"sparsity": "lasso"}, InvalidParameterError, "'sparsity' parameter"),
    ],
)
def test_invalid_parameters_fail_at_fit(X, params, error, message):
    coder = SparseCoder(**{**FAST, **params})  # constructing never fails
    with pytest.raises(error, match=message):
        coder.fit(X)


def test_sparse_input_matches_dense(X):
    dense = SparseCoder(20, sparsity="topk", **FAST).fit(X)
    csr = SparseCoder(20, sparsity="topk", **FAST).fit(sp.csr_matrix(X))
    np.testing.assert_allclose(dense.transform(X), csr.transform(sp.csr_matrix(X)),
                               rtol=1e-5, atol=1e-5)


def test_random_state_gives_identical_fits(X):
    a = SparseCoder(20, **FAST).fit_transform(X)
    b = SparseCoder(20, **FAST).fit_transform(X)
    np.testing.assert_array_equal(a, b)


def test_pipeline_with_classifier(digits):
    X, y = digits
    pipe = make_pipeline(
        SparseCoder(64, sparsity="topk", n_nonzero_coefs=8, max_iter=30, random_state=0),
        LogisticRegression(max_iter=2000),
    )
    pipe.fit(X[:1200], y[:1200])
    assert pipe.score(X[1200:], y[1200:]) > 0.85
