"""Behaviour of SparseCoder a scikit-learn user relies on."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from skae import SparseCoder
from skae.nn import TopK, UnrolledThresholding, build, least_squares_codes

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


def test_default_codes_are_mostly_zero(X):
    # 10 non-zero codes of the default 100 in every row.
    codes = SparseCoder(**FAST).fit_transform(X)
    np.testing.assert_array_equal((codes != 0).sum(axis=1), 10)


def test_measured_sparsity_rises_with_alpha(X):
    fractions = [
        zero_fraction(SparseCoder(32, sparsity="l1", alpha=alpha, **FAST).fit_transform(X))
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
    coder = SparseCoder(20, sparsity="topk", likelihood="bernoulli", **FAST).fit(X)
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
        ({"refit_codes": True, "sparsity": "kl"}, ValueError, "sparsity='kl'"),
        ({"refit_codes": True, "decoder": "mirror"}, ValueError, "decoder='mirror'"),
        ({"refit_codes": True, "likelihood": "bernoulli"}, ValueError,
         "likelihood='bernoulli'"),
        ({"refit_codes": True, "positive_code": True}, ValueError, "positive_code=True"),
        ({"encoder_steps": 2, "sparsity": "kl"}, ValueError, "sparsity='kl'"),
        ({"encoder_steps": 2, "hidden_layer_sizes": (8,)}, ValueError,
         r"hidden_layer_sizes=\(8,\)"),
        ({"encoder_steps": 0}, InvalidParameterError, "'encoder_steps' parameter"),
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


@pytest.mark.parametrize("supports", [
    [[0, 3, 7], [1], [2, 4, 5, 6], [], [11, 0]],  # sizes differ, one is empty
    [[0, 3], [1, 2], [2, 11], [5, 6], [11, 0]],  # the same size, as top-k gives
    # Two per row on average, but not in every row.
    [[0, 3, 7], [1], [2, 4], [5, 6], [11, 0]],
])
def test_least_squares_codes_solve_each_row_on_its_support(supports):
    rng = np.random.default_rng(0)
    atoms = rng.standard_normal((12, 8))
    bias = rng.standard_normal(8)
    x = rng.standard_normal((5, 8))
    code = np.zeros((5, 12))
    for row, support in enumerate(supports):
        code[row, support] = rng.standard_normal(len(support))
    as_tensor = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
    refit = least_squares_codes(
        as_tensor(x), as_tensor(code), as_tensor(atoms), as_tensor(bias)
    ).numpy()
    for row in range(5):
        support = np.flatnonzero(code[row])
        np.testing.assert_array_equal(np.flatnonzero(refit[row]), support)
        if support.size:
            expected, *_ = np.linalg.lstsq(atoms[support].T, x[row] - bias, rcond=None)
            np.testing.assert_allclose(refit[row, support], expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("params", [{"sparsity": "topk", "n_nonzero_coefs": 4},
                                    {"sparsity": "l1", "alpha": 1.0}])
def test_refit_codes_keep_the_support_and_lower_the_error(X, params):
    plain = SparseCoder(40, **params, **FAST).fit(X)
    refit = SparseCoder(40, refit_codes=True, **params, **FAST).fit(X)
    # Training does not depend on refit_codes: same dictionary, same support.
    np.testing.assert_array_equal(plain.components_, refit.components_)
    codes, refit_codes = plain.transform(X), refit.transform(X)
    np.testing.assert_array_equal(codes != 0, refit_codes != 0)
    assert not np.allclose(codes, refit_codes)

    def errors(model, Z):
        return np.sum((X - model.inverse_transform(Z)) ** 2, axis=1)

    # Least squares on a fixed support can only lower each sample's error.
    assert np.all(errors(refit, refit_codes) <= errors(plain, codes) + 1e-4)
    assert errors(refit, refit_codes).mean() < 0.95 * errors(plain, codes).mean()
    # score_samples scores the refit reconstruction that transform gives.
    np.testing.assert_allclose(
        refit.score_samples(X), -errors(refit, refit_codes), rtol=1e-4, atol=1e-5
    )


def test_topk_atoms_start_at_the_data_and_all_get_used(X):
    # One epoch at a small rate: the atoms have barely left their start.
    coder = SparseCoder(100, sparsity="topk", n_nonzero_coefs=5, max_iter=1,
                        learning_rate_init=1e-3, random_state=0).fit(X)
    codes = coder.transform(X)
    np.testing.assert_allclose(np.linalg.norm(coder.components_, axis=1), 1.0, rtol=1e-5)
    # Each atom is still close to (the centred) training sample it started
    # from, so the data chooses every one of them.
    centred = X - X.mean(axis=0)
    centred /= np.linalg.norm(centred, axis=1, keepdims=True)
    assert np.median((coder.components_ @ centred.T).max(axis=1)) > 0.9
    assert np.all((codes != 0).sum(axis=0) > 0)


@parametrize_with_checks([
    SparseCoder(sparsity="topk", refit_codes=True, max_iter=3, random_state=0),
    SparseCoder(sparsity="l1", encoder_steps=2, max_iter=3, random_state=0),
])
def test_refit_codes_and_unrolled_encoder_pass_estimator_checks(estimator, check):
    check(estimator)


def test_unrolled_thresholding_feeds_the_code_back():
    encoder = build(lambda: UnrolledThresholding(torch.nn.Linear(6, 10), TopK(3), 3),
                    torch.Generator().manual_seed(0))
    x = torch.randn(4, 6, generator=torch.Generator().manual_seed(1))
    one_pass = TopK(3)(encoder.linear(x))
    # The feedback starts at zero: training starts from the one-pass encoder.
    assert torch.count_nonzero(encoder.feedback.weight) == 0
    torch.testing.assert_close(encoder(x), one_pass)
    with torch.no_grad():
        encoder.feedback.weight.normal_(generator=torch.Generator().manual_seed(2))
    code = one_pass
    for _ in range(2):
        code = TopK(3)(encoder.linear(x) + code @ encoder.feedback.weight.T)
    torch.testing.assert_close(encoder(x), code)
    assert not torch.equal(code != 0, one_pass != 0)


def test_unrolled_encoder_codes_better_than_one_pass(X):
    def error(steps):
        coder = SparseCoder(100, sparsity="topk", n_nonzero_coefs=5, encoder_steps=steps,
                            learning_rate_init=3e-3, max_iter=100, random_state=0).fit(X)
        codes = coder.transform(X)
        np.testing.assert_array_equal((codes != 0).sum(axis=1), 5)
        return np.mean(np.sum((X - coder.inverse_transform(codes)) ** 2, axis=1))

    assert error(3) < 0.95 * error(1)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_topk_selects_the_same_codes_in_inference_and_training(dtype):
    # Inference on the CPU finds the threshold with numpy, training (and
    # torch.func transforms) with torch.topk: both must keep the same codes.
    h = torch.randn(50, 30, generator=torch.Generator().manual_seed(0), dtype=dtype)
    layer = TopK(4)
    with torch.inference_mode():
        inferred = layer(h)
    trained = layer(h.clone().requires_grad_(True)).detach()
    torch.testing.assert_close(inferred, trained, rtol=0, atol=0)
    assert torch.all((inferred != 0).sum(dim=1) == 4)


def random_dictionary_problem(n_rows, n_atoms, n_features, width, seed=0):
    generator = torch.Generator().manual_seed(seed)
    atoms = torch.nn.functional.normalize(torch.randn(n_atoms, n_features, generator=generator),
                                          dim=1)
    x = torch.randn(n_rows, n_features, generator=generator)
    bias = torch.randn(n_features, generator=generator)
    support = torch.rand(n_rows, n_atoms, generator=generator).argsort(dim=1)[:, :width]
    code = torch.zeros(n_rows, n_atoms).scatter(1, support, 1.0)
    return x, code, atoms, bias


@pytest.mark.parametrize("width", [1, 5, 10, 40])
def test_least_squares_codes_agree_on_every_solver(width):
    # Without gradients, CPU supports up to 32 wide are solved by a Cholesky
    # vectorised over rows; with gradients (or wider) by torch's batched solve.
    x, code, atoms, bias = random_dictionary_problem(300, 60, 64, width)
    with torch.no_grad():
        fast = least_squares_codes(x, code, atoms, bias)
    atoms = atoms.clone().requires_grad_(True)
    differentiable = least_squares_codes(x, code, atoms, bias)
    differentiable.square().sum().backward()
    assert atoms.grad is not None and torch.isfinite(atoms.grad).all()
    torch.testing.assert_close(fast, differentiable.detach(), rtol=1e-4, atol=1e-4)
    expected = torch.linalg.lstsq(
        atoms.detach()[code[0] != 0].T.double(), (x[0] - bias).double()
    ).solution
    torch.testing.assert_close(fast[0][code[0] != 0].double(), expected, rtol=1e-4, atol=1e-4)


def test_least_squares_codes_stay_finite_on_parallel_atoms():
    # Two chosen atoms equal: the normal equations are singular. The codes
    # must stay finite and still give the least-squares reconstruction.
    x, code, atoms, bias = random_dictionary_problem(200, 30, 16, 6)
    atoms[1] = atoms[0]
    code[:, :2] = 1.0
    with torch.no_grad():
        refit = least_squares_codes(x, code, atoms, bias)
    assert torch.isfinite(refit).all()
    residual = (x - bias - refit @ atoms).square().sum(dim=1)
    for row in range(0, 200, 40):
        chosen = atoms[code[row] != 0].T.double()
        best = torch.linalg.lstsq(chosen, (x[row] - bias).double()).solution
        best_residual = (x[row] - bias - chosen @ best).square().sum()
        assert residual[row] <= best_residual + 1e-4


def test_cholesky_over_rows_stays_finite_when_rounding_breaks_definiteness():
    # A Gram matrix rounded in float32 can come out slightly indefinite;
    # pivots are then raised to the ridge instead of giving NaN codes.
    from skae.nn.least_squares import _cholesky_solve

    gram = np.array([[1.0, 1.001], [1.001, 1.0]], dtype=np.float32)
    gram = np.repeat(gram[:, :, None], 3, axis=2)  # three systems, batch last

    def gram_column(j, out):
        out[...] = gram[j:, j]

    solution = _cholesky_solve(gram_column, np.ones((2, 3), np.float32), 1e-6)
    assert np.isfinite(solution).all()


def test_topk_runs_in_inference_on_dtypes_numpy_lacks():
    # numpy has no bfloat16: inference must take the torch path, not fail.
    h = torch.randn(20, 30, generator=torch.Generator().manual_seed(0)).to(torch.bfloat16)
    with torch.inference_mode():
        inferred = TopK(4)(h)
    trained = TopK(4)(h.clone().requires_grad_(True)).detach()
    torch.testing.assert_close(inferred, trained, rtol=0, atol=0)
