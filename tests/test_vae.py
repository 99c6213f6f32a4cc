"""Behaviour of VAETransformer a scikit-learn user relies on."""

import math
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from scipy.stats import multivariate_normal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skae import PosteriorCollapseWarning, TrainingDivergedError, VAETransformer
from skae.nn import Bernoulli, ELBOObjective, GaussianMLPVAE
from skae.nn.functional import gaussian_kl

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = {"hidden_layer_sizes": (32,), "max_iter": 10, "random_state": 0}


@pytest.fixture(scope="module")
def X_small(digits):
    return digits[0][:400]


@pytest.fixture(scope="module")
def bernoulli_vae(X_small):
    return VAETransformer(4, likelihood="bernoulli", **SMALL).fit(X_small)


@pytest.fixture(scope="module")
def gaussian_vae(X_small):
    return VAETransformer(4, **SMALL).fit(X_small)


# ------------------------------------------------------------------ KL term
def test_closed_form_kl_matches_monte_carlo():
    gen = torch.Generator().manual_seed(0)
    mu = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    logvar = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    std = torch.exp(0.5 * logvar)
    eps = torch.randn(200_000, 5, 3, generator=gen, dtype=torch.float64)
    z = mu + std * eps
    log_q = (-0.5 * (eps**2 + logvar + math.log(2 * math.pi))).sum(-1)
    log_p = (-0.5 * (z**2 + math.log(2 * math.pi))).sum(-1)
    mc = (log_q - log_p).mean(0)
    stderr = (log_q - log_p).std(0) / math.sqrt(eps.shape[0])
    closed = gaussian_kl(mu, logvar)
    assert torch.all((closed - mc).abs() < 4 * stderr)


def test_kl_of_the_prior_is_zero():
    zeros = torch.zeros(4, 7, dtype=torch.float64)
    assert torch.equal(gaussian_kl(zeros, zeros), torch.zeros(4, dtype=torch.float64))
    assert torch.all(gaussian_kl(zeros + 0.1, zeros) > 0)


# -------------------------------------------------------------- the bounds
def test_score_samples_is_the_elbo(bernoulli_vae, X_small):
    """score_samples = mean over the fixed draws of log p(x|z) minus the closed-form KL."""
    vae, X = bernoulli_vae, X_small[:50]
    module = vae.net_.module_
    with torch.no_grad():
        x = torch.tensor(X, dtype=torch.float32)
        mu, logvar = module.encode_stats(x)
        eps = module.eval_noise(x)
        z = mu[:, None] + torch.exp(0.5 * logvar)[:, None] * eps
        p = torch.sigmoid(module.decode(z)).double().numpy()
    p = np.clip(p, 1e-12, 1 - 1e-12)
    loglik = (X[:, None] * np.log(p) + (1 - X[:, None]) * np.log1p(-p)).sum(-1).mean(1)
    mu, logvar = mu.double().numpy(), logvar.double().numpy()
    kl = 0.5 * (mu**2 + np.exp(logvar) - 1 - logvar).sum(1)
    np.testing.assert_allclose(vae.score_samples(X), loglik - kl, rtol=1e-4)
    assert vae.score(X) == pytest.approx(np.mean(loglik - kl), rel=1e-4)


def test_scores_are_finite_for_every_row(bernoulli_vae, gaussian_vae, X_small):
    for vae in (bernoulli_vae, gaussian_vae):
        assert np.isfinite(vae.score_samples(X_small)).all()
        assert np.isfinite(vae.importance_weighted_bound(X_small, 5)).all()


def test_elbo_below_importance_weighted_bounds(X_small):
    # Trained until its posterior is no longer the prior: where it is, all
    # the bounds are equal up to the noise of their draws.
    vae = VAETransformer(4, likelihood="bernoulli", hidden_layer_sizes=(32,), max_iter=150,
                         random_state=0).fit(X_small)
    assert (vae.latent_activity_ > vae.activity_threshold).all()
    elbo = vae.score(X_small)
    iw10 = vae.importance_weighted_bound(X_small, 10, random_state=0).mean()
    iw100 = vae.importance_weighted_bound(X_small, 100, random_state=0).mean()
    assert elbo < iw10 < iw100


def test_importance_weighted_bound_approaches_log_likelihood_from_below():
    """A linear Gaussian decoder with fixed variance has a closed-form p(x)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2)) @ rng.normal(size=(2, 5)) + 0.3 * rng.normal(size=(300, 5))
    vae = VAETransformer(2, hidden_layer_sizes=(), activation="identity", decoder_variance=0.1,
                         max_iter=100, batch_size=32, learning_rate_init=3e-3,
                         random_state=0).fit(X)
    decoder = vae.net_.module_.decoder[0]
    W = decoder.weight.detach().double().numpy()
    b = decoder.bias.detach().double().numpy()
    exact = multivariate_normal(b, W @ W.T + 0.1 * np.eye(5)).logpdf(X).mean()
    bounds = [vae.importance_weighted_bound(X, k, random_state=0).mean()
              for k in (1, 10, 100, 3000)]
    assert vae.score(X) < bounds[1] < bounds[2] < bounds[3] <= exact + 1e-3
    assert bounds[3] == pytest.approx(exact, abs=0.01)
    assert exact - bounds[3] < 0.01 * (exact - vae.score(X))


def test_evaluation_noise_is_per_row():
    """Rows get independent draws that depend on nothing but the row and the seed."""
    module = GaussianMLPVAE(4, 3, n_eval_samples=5).eval()
    module.eval_seed.fill_(7)
    x = torch.rand(6, 4, generator=torch.Generator().manual_seed(0))
    x[3] = x[0]
    eps = module.eval_noise(x)
    assert eps.shape == (6, 5, 3)
    torch.testing.assert_close(eps[3], eps[0], rtol=0, atol=0)
    assert not torch.equal(eps[1], eps[0])
    torch.testing.assert_close(module.eval_noise(x[[2, 0]]), eps[[2, 0]], rtol=0, atol=0)
    module.eval_seed.fill_(8)
    assert not torch.equal(module.eval_noise(x), eps)


def test_importance_weighted_bound_does_not_depend_on_batch(bernoulli_vae, X_small):
    full = bernoulli_vae.importance_weighted_bound(X_small, 20)
    part = bernoulli_vae.importance_weighted_bound(X_small[::-7], 20)
    np.testing.assert_allclose(full[::-7], part, rtol=1e-10)
    np.testing.assert_array_equal(full, bernoulli_vae.importance_weighted_bound(X_small, 20))


def test_score_ignores_beta_but_training_does_not():
    torch_gen = torch.Generator().manual_seed(0)
    out = {"mu": torch.randn(6, 3, generator=torch_gen),
           "logvar": torch.randn(6, 3, generator=torch_gen),
           "recon": torch.randn(6, 2, 4, generator=torch_gen)}
    x = torch.rand(6, 4, generator=torch_gen)
    one, five = ELBOObjective(Bernoulli(4), 1.0), ELBOObjective(Bernoulli(4), 5.0)
    torch.testing.assert_close(one.per_sample(out, x), five.per_sample(out, x))
    kl = gaussian_kl(out["mu"], out["logvar"]).mean()
    torch.testing.assert_close(five(out, x) - one(out, x), 4 * kl)
    five.eval()
    torch.testing.assert_close(five(out, x), one.per_sample(out, x).mean().float())


def test_kl_warmup_follows_the_epochs(X_small):
    vae = VAETransformer(2, beta=2.0, kl_warmup=4, **{**SMALL, "max_iter": 2}).fit(X_small)
    assert vae.net_.criterion_.kl_weight == pytest.approx(2.0 * 2 / 4)
    vae.partial_fit(X_small)
    assert vae.net_.criterion_.kl_weight == pytest.approx(2.0 * 3 / 4)
    for _ in range(3):
        vae.partial_fit(X_small)
    assert vae.net_.criterion_.kl_weight == pytest.approx(2.0)
    assert VAETransformer(2, beta=2.0, **SMALL).fit(X_small).net_.criterion_.kl_weight == 2.0


def test_mc_samples_per_training_step():
    module = GaussianMLPVAE(5, 2, (4,), n_mc_samples=3, n_eval_samples=7)
    x = torch.rand(8, 5)
    assert module.train()(x)["recon"].shape == (8, 3, 5)
    assert module.eval()(x)["recon"].shape == (8, 7, 5)


def test_training_improves_the_elbo(X_small):
    params = {**SMALL, "likelihood": "bernoulli", "batch_size": 32, "learning_rate_init": 3e-3}
    short = VAETransformer(4, **{**params, "max_iter": 1}).fit(X_small)
    longer = VAETransformer(4, **{**params, "max_iter": 30}).fit(X_small)
    assert longer.score(X_small) > short.score(X_small) + 1


def test_early_stopping_tracks_validation_elbo(X_small):
    vae = VAETransformer(2, early_stopping=True, **SMALL).fit(X_small)
    assert len(vae.validation_scores_) == vae.n_iter_
    assert vae.best_validation_score_ == max(vae.validation_scores_)
    assert np.isfinite(vae.validation_scores_).all()


# ------------------------------------------------------ posterior collapse
COLLAPSE = {"likelihood": "bernoulli", "hidden_layer_sizes": (32,), "max_iter": 300,
            "random_state": 0}


def test_latent_activity_is_the_variance_of_the_codes(X_small):
    vae = VAETransformer(4, **COLLAPSE).fit(X_small)
    np.testing.assert_allclose(vae.latent_activity_, vae.transform(X_small).var(axis=0),
                               rtol=1e-4)


def test_a_trained_vae_has_active_dimensions_and_does_not_warn(X_small):
    with warnings.catch_warnings():
        warnings.simplefilter("error", PosteriorCollapseWarning)
        vae = VAETransformer(4, **COLLAPSE).fit(X_small)
    assert vae.n_iter_ < COLLAPSE["max_iter"]  # the stopping rule ended training
    assert (vae.latent_activity_ > 0.01).all()


@pytest.mark.parametrize("kl_warmup, advice", [(0, "a KL warm-up \\(e.g. kl_warmup=10\\)"),
                                               (2, "a longer KL warm-up than kl_warmup=2")])
def test_collapsed_posterior_warns_and_names_the_cure(X_small, kl_warmup, advice):
    # A KL weight of 20 makes any use of the code cost more than it gains.
    with pytest.warns(PosteriorCollapseWarning, match=advice):
        vae = VAETransformer(4, beta=20.0, kl_warmup=kl_warmup, **COLLAPSE).fit(X_small)
    assert (vae.latent_activity_ < 0.01).all()


def test_collapse_of_most_dimensions_warns_and_counts_the_active_ones():
    # Rows on a line (plus a little noise): one latent dimension explains
    # them, and the posterior of the other five collapses.
    rng = np.random.default_rng(0)
    t = rng.standard_normal((600, 1))
    X = t @ rng.standard_normal((1, 10)) + 0.3 * rng.standard_normal((600, 10))
    with pytest.warns(PosteriorCollapseWarning, match=r"Only 1 of the 6 latent dimensions"):
        vae = VAETransformer(6, hidden_layer_sizes=(16,), max_iter=400,
                             random_state=0).fit(X)
    assert (vae.latent_activity_ > vae.activity_threshold).sum() == 1


def test_unfinished_training_warns_about_convergence_not_collapse(X_small):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        vae = VAETransformer(4, beta=20.0, **{**COLLAPSE, "max_iter": 3}).fit(X_small)
        vae.partial_fit(X_small)
    categories = {w.category for w in caught}
    assert ConvergenceWarning in categories
    assert PosteriorCollapseWarning not in categories
    assert vae.latent_activity_.shape == (4,)


# ---------------------------------------------------- transform and sample
def test_transform_is_posterior_mean_and_inverse_is_decoder_mean(bernoulli_vae, X_small):
    codes = bernoulli_vae.transform(X_small.astype(np.float32))
    with torch.no_grad():
        mu, _ = bernoulli_vae.net_.module_.encode_stats(torch.tensor(X_small).float())
    np.testing.assert_allclose(codes, mu.numpy(), rtol=1e-6)
    # float64 input is computed in float64.
    np.testing.assert_allclose(bernoulli_vae.transform(X_small), codes, rtol=1e-4, atol=1e-6)
    recon = bernoulli_vae.inverse_transform(codes)
    assert recon.shape == X_small.shape
    assert recon.min() >= 0 and recon.max() <= 1
    np.testing.assert_array_equal(bernoulli_vae.transform(X_small),
                                  bernoulli_vae.transform(X_small))


def test_sample_shapes_and_values(bernoulli_vae, gaussian_vae):
    draws = bernoulli_vae.sample(25, random_state=1)
    assert draws.shape == (25, 64) and draws.dtype == np.float64
    assert set(np.unique(draws)) <= {0.0, 1.0}
    means = bernoulli_vae.sample(25, random_state=1, return_mean=True)
    assert means.min() >= 0 and means.max() <= 1
    assert not set(np.unique(means)) <= {0.0, 1.0}
    assert gaussian_vae.sample(3).shape == (3, 64)
    assert np.isfinite(gaussian_vae.sample(1000)).all()


def test_sample_reproducibility(bernoulli_vae, X_small):
    a = bernoulli_vae.sample(10, random_state=3)
    np.testing.assert_array_equal(a, bernoulli_vae.sample(10, random_state=3))
    assert not np.array_equal(a, bernoulli_vae.sample(10, random_state=4))
    # None falls back on the estimator's int random_state, as GaussianMixture.
    np.testing.assert_array_equal(bernoulli_vae.sample(10), bernoulli_vae.sample(10))
    unseeded = VAETransformer(4, likelihood="bernoulli",
                              **{**SMALL, "random_state": None}).fit(X_small)
    assert not np.array_equal(unseeded.sample(10), unseeded.sample(10))


def test_gaussian_samples_follow_decoder_variance(X_small):
    vae = VAETransformer(2, decoder_variance=0.25, **SMALL).fit(X_small)
    noisy = vae.sample(4000, random_state=0)
    mean = vae.sample(4000, random_state=0, return_mean=True)
    assert np.var(noisy - mean) == pytest.approx(0.25, rel=0.02)


@pytest.mark.parametrize("variance", ["shared", "learned"])
def test_learned_decoder_variance_starts_at_data_variance(X_small, variance):
    vae = VAETransformer(2, decoder_variance=variance, learning_rate_init=1e-12,
                         **{**SMALL, "max_iter": 1}).fit(X_small)
    likelihood = vae.net_.criterion_.likelihood
    logvar = likelihood.log_variance(torch.zeros(1)).detach().numpy()
    per_feature = X_small.var(0)
    start = per_feature if variance == "learned" else np.full_like(per_feature,
                                                                   per_feature.mean())
    np.testing.assert_allclose(logvar, np.log(np.clip(start, 1e-6, None)), rtol=1e-4, atol=1e-4)
    # One parameter for all features when shared, one each when learned.
    assert likelihood.logvar.numel() == (1 if variance == "shared" else X_small.shape[1])


def test_default_codes_do_not_fixate_on_features_that_hardly_vary(digits_split):
    # Digits' border pixels hardly vary: a variance learned per pixel shrinks
    # onto them and the bound rewards coding them; one shared variance does not.
    X_train, y_train, X_test, y_test = digits_split
    params = {"hidden_layer_sizes": (32,), "max_iter": 40, "random_state": 0}

    def accuracy(vae):
        vae.fit(X_train)
        classifier = LogisticRegression(max_iter=2000).fit(vae.transform(X_train), y_train)
        return classifier.score(vae.transform(X_test), y_test)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        default = accuracy(VAETransformer(8, **params))
        per_feature = accuracy(VAETransformer(8, decoder_variance="learned", **params))
    assert default > 0.75
    assert default > per_feature + 0.2


# ------------------------------------------------------- reproducibility
def test_fit_is_reproducible_and_leaves_global_rng_alone(X_small):
    # The global state is the subject here.
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()  # noqa: NPY002
    a = VAETransformer(3, likelihood="bernoulli", **SMALL).fit(X_small)
    b = clone(a).fit(X_small)
    scores = a.score_samples(X_small)
    np.testing.assert_array_equal(scores, b.score_samples(X_small))
    np.testing.assert_array_equal(a.sample(5), b.sample(5))
    np.testing.assert_array_equal(a.importance_weighted_bound(X_small, 5),
                                  b.importance_weighted_bound(X_small, 5))
    assert torch.equal(torch_state, torch.get_rng_state())
    after = np.random.get_state()  # noqa: NPY002
    assert np_state[0] == after[0] and np.array_equal(np_state[1], after[1])
    assert np_state[2:] == after[2:]


def test_pickle_round_trip(bernoulli_vae, X_small):
    clone_ = pickle.loads(pickle.dumps(bernoulli_vae))
    np.testing.assert_array_equal(clone_.score_samples(X_small),
                                  bernoulli_vae.score_samples(X_small))
    np.testing.assert_array_equal(clone_.sample(4), bernoulli_vae.sample(4))


def test_sparse_input_gives_dense_results(bernoulli_vae, X_small):
    np.testing.assert_allclose(bernoulli_vae.score_samples(sp.csr_matrix(X_small)),
                               bernoulli_vae.score_samples(X_small), rtol=1e-6)


# ---------------------------------------------------------- model selection
def test_grid_search_needs_no_scorer(X_small):
    # Over one likelihood: scores of different likelihoods do not compare
    # (tests/test_score_units.py).
    grid = GridSearchCV(VAETransformer(likelihood="bernoulli", **SMALL),
                        {"n_components": [1, 4]}, cv=2).fit(X_small)
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all()
    assert grid.best_params_["n_components"] in (1, 4)


def test_pipeline_with_scaler_and_classifier(digits):
    X, y = digits[0][:400] * 16 - 3, digits[1][:400]
    pipe = make_pipeline(MinMaxScaler(),
                         VAETransformer(8, likelihood="bernoulli", batch_size=32,
                                        learning_rate_init=3e-3, **SMALL),
                         LogisticRegression(max_iter=500)).fit(X, y)
    assert pipe.score(X, y) > 0.5


# --------------------------------------------------------------- bad input
def test_bernoulli_rejects_values_outside_unit_interval(X_small):
    with pytest.raises(ValueError, match=r"\[0, 1\].*MinMaxScaler.*likelihood='gaussian'"):
        VAETransformer(likelihood="bernoulli", **SMALL).fit(X_small * 16)
    fitted = VAETransformer(2, likelihood="bernoulli", **SMALL).fit(X_small)
    for method in ("transform", "score_samples", "score", "importance_weighted_bound"):
        with pytest.raises(ValueError, match="MinMaxScaler"):
            getattr(fitted, method)(X_small - 0.5)
    VAETransformer(2, **SMALL).fit(X_small * 16 - 5)


@pytest.mark.parametrize("params, message", [
    ({"likelihood": "poisson"}, "likelihood"),
    ({"beta": -1.0}, "beta"),
    ({"kl_warmup": -1}, "kl_warmup"),
    ({"n_mc_samples": 0}, "n_mc_samples"),
    ({"n_eval_samples": 0}, "n_eval_samples"),
    ({"decoder_variance": 0.0}, "decoder_variance"),
    ({"decoder_variance": "fixed"}, "decoder_variance"),
])
def test_invalid_parameters(X_small, params, message):
    with pytest.raises(ValueError, match=message):
        VAETransformer(**params).fit(X_small)


def test_unfitted_methods_raise(X_small):
    vae = VAETransformer()
    for call in (lambda: vae.sample(2), lambda: vae.importance_weighted_bound(X_small),
                 lambda: vae.score(X_small)):
        with pytest.raises(NotFittedError):
            call()


@pytest.mark.parametrize("n", [0, -1, 2.5, True])
def test_invalid_sample_sizes(bernoulli_vae, X_small, n):
    with pytest.raises(ValueError, match="n_samples"):
        bernoulli_vae.sample(n)
    with pytest.raises(ValueError, match="n_samples"):
        bernoulli_vae.importance_weighted_bound(X_small, n)


def test_nan_input_is_rejected(bernoulli_vae, X_small):
    X = X_small.copy()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        bernoulli_vae.importance_weighted_bound(X)


@pytest.mark.parametrize("scale", [1e-3, 1e4, 1e15, 1e30])
def test_extreme_scales_never_give_nan(X_small, scale):
    """Any input validation accepts gives finite output or a clear error."""
    X = (X_small - 0.5) * scale
    models = [VAETransformer(2, **SMALL).fit(X_small)]
    try:
        models.append(VAETransformer(2, **SMALL).fit(X))
    except TrainingDivergedError:
        pass
    for vae in models:
        for method in ("score_samples", "transform", "importance_weighted_bound"):
            try:
                out = getattr(vae, method)(X)
            except ValueError as exc:
                assert "non-finite" in str(exc)
            else:
                assert np.isfinite(out).all()
        assert np.isfinite(vae.sample(5)).all()


def test_moderate_scales_train(X_small):
    for scale in (1e-3, 1e3):
        vae = VAETransformer(2, **SMALL).fit((X_small - 0.5) * scale)
        assert np.isfinite(vae.score_samples((X_small - 0.5) * scale)).all()
