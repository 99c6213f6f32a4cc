"""Counts and clicks: the multinomial and Poisson likelihoods, and the encoder's input."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.utils._param_validation import InvalidParameterError

from skae import AutoencoderTransformer, DenoisingAE, VAETransformer
from skae.nn import (
    LIKELIHOODS,
    InputDropout,
    Multinomial,
    Poisson,
    RowNormalize,
    normalize_encoder_input,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = {"hidden_layer_sizes": (16,), "max_iter": 5, "random_state": 0}
ESTIMATORS = [AutoencoderTransformer, DenoisingAE, VAETransformer]


@pytest.fixture(scope="module")
def counts():
    """A CSR matrix of counts: 300 rows mixing two profiles over 40 columns."""
    rng = np.random.default_rng(0)
    profiles = rng.dirichlet(np.full(40, 0.3), size=2)
    mix = rng.random(300)[:, None]
    rates = (mix * profiles[0] + (1 - mix) * profiles[1]) * rng.integers(5, 30, (300, 1))
    X = sp.csr_matrix(rng.poisson(rates).astype(np.float64))
    X.eliminate_zeros()
    return X


def test_registered_by_name():
    assert LIKELIHOODS["multinomial"] is Multinomial
    assert LIKELIHOODS["poisson"] is Poisson


# The distributions ---------------------------------------------------------

def test_multinomial_log_prob_is_torchs():
    gen = torch.Generator().manual_seed(0)
    raw = torch.randn(6, 5, generator=gen, dtype=torch.float64)
    x = torch.randint(0, 7, (6, 5), generator=gen).double()
    expected = torch.stack([
        torch.distributions.Multinomial(int(row.sum()), logits=r).log_prob(row)
        for r, row in zip(raw, x, strict=True)
    ])
    torch.testing.assert_close(Multinomial(5).log_prob(raw, x), expected)


def test_multinomial_probabilities_of_all_outcomes_sum_to_one():
    # Every way of placing 3 counts in 3 categories: a true distribution.
    outcomes = torch.tensor([[a, b, 3 - a - b] for a in range(4) for b in range(4 - a)],
                            dtype=torch.float64)
    raw = torch.tensor([0.3, -1.0, 2.0], dtype=torch.float64).expand_as(outcomes)
    total = Multinomial(3).log_prob(raw, outcomes).exp().sum()
    torch.testing.assert_close(total, torch.tensor(1.0, dtype=torch.float64))


def test_poisson_log_prob_is_torchs():
    gen = torch.Generator().manual_seed(0)
    raw = torch.randn(6, 5, generator=gen, dtype=torch.float64)
    x = torch.randint(0, 7, (6, 5), generator=gen).double()
    expected = torch.distributions.Poisson(raw.exp()).log_prob(x).sum(-1)
    torch.testing.assert_close(Poisson(5).log_prob(raw, x), expected)


@pytest.mark.parametrize("cls", [Multinomial, Poisson])
def test_log_probs_keep_leading_dimensions(cls):
    gen = torch.Generator().manual_seed(0)
    raw = torch.randn(5, 3, 4, generator=gen)
    x = torch.randint(0, 4, (5, 3, 4), generator=gen).float()
    likelihood = cls(4)
    flat = likelihood.log_prob(raw.reshape(15, 4), x.reshape(15, 4)).reshape(5, 3)
    torch.testing.assert_close(likelihood.log_prob(raw, x), flat)
    assert likelihood.sample(raw, gen).shape == raw.shape


def test_multinomial_link_gives_shares_and_inverse_link_starts_at_popularity():
    likelihood = Multinomial(4)
    mean = torch.tensor([2.0, 1.0, 1.0, 0.0])
    shares = likelihood.link(likelihood.inverse_link(mean))
    torch.testing.assert_close(shares, torch.tensor([0.5, 0.25, 0.25, 0.0]), atol=1e-7, rtol=0)
    # A feature never seen starts far down, but finite.
    assert torch.isfinite(likelihood.inverse_link(mean)).all()


def test_poisson_link_is_exp_and_inverse_link_its_log():
    likelihood = Poisson(3)
    mean = torch.tensor([0.5, 2.0, 7.0])
    torch.testing.assert_close(likelihood.link(likelihood.inverse_link(mean)), mean)


def test_multinomial_samples_the_mean_training_total():
    likelihood = Multinomial(3)
    likelihood.start(np.array([4.2, 3.0, 1.0]), None)
    assert int(likelihood.total_count) == 8
    gen = torch.Generator().manual_seed(0)
    raw = torch.log(torch.tensor([[0.7, 0.2, 0.1]])).expand(2000, 3)
    draws = likelihood.sample(raw, gen)
    assert (draws.sum(dim=1) == 8).all()
    assert (draws == draws.round()).all()
    np.testing.assert_allclose(draws.mean(dim=0), [5.6, 1.6, 0.8], atol=0.1)


def test_poisson_samples_counts_with_the_rate_as_mean():
    gen = torch.Generator().manual_seed(0)
    raw = torch.log(torch.tensor([[0.5, 3.0]])).expand(4000, 2)
    draws = Poisson(2).sample(raw, gen)
    assert (draws >= 0).all() and (draws == draws.round()).all()
    np.testing.assert_allclose(draws.mean(dim=0), [0.5, 3.0], atol=0.1)


# Data they cannot model -----------------------------------------------------

@pytest.mark.parametrize("name", ["multinomial", "poisson"])
@pytest.mark.parametrize("sparse", [False, True])
def test_negative_values_are_refused(counts, name, sparse):
    X = counts.copy()
    X.data[3] = -2.0
    X = X if sparse else X.toarray()
    with pytest.raises(ValueError, match=rf"likelihood='{name}' models non-negative counts, "
                                         r"but X holds negative values \(the smallest is -2\.0"):
        AutoencoderTransformer(likelihood=name, **FAST).fit(X)


def test_poisson_refuses_fractional_counts(counts):
    X = counts.copy()
    X.data[:2] = [0.5, 1.25]
    with pytest.raises(ValueError, match=r"likelihood='poisson' models counts, which are whole "
                                         r"numbers, but X holds 2 fractional value\(s\), such "
                                         r"as 0\.5"):
        VAETransformer(likelihood="poisson", **FAST).fit(X)


def test_multinomial_accepts_weights(counts):
    X = counts.copy()
    X.data = X.data * 0.5
    model = AutoencoderTransformer(likelihood="multinomial", **FAST).fit(X)
    assert np.isfinite(model.score_samples(X)).all()


def test_new_data_are_checked_too(counts):
    model = AutoencoderTransformer(likelihood="poisson", **FAST).fit(counts)
    X = counts[:5].copy()
    X.data[0] = 0.5
    with pytest.raises(ValueError, match="likelihood='poisson' models counts"):
        model.transform(X)


# Estimators -----------------------------------------------------------------

@pytest.mark.parametrize("make", ESTIMATORS)
@pytest.mark.parametrize("name", ["multinomial", "poisson"])
def test_every_estimator_trains_on_sparse_counts(counts, make, name):
    model = make(3, likelihood=name, **{**FAST, "max_iter": 30}).fit(counts)
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    assert np.isfinite(model.score_samples(counts)).all()
    recon = model.inverse_transform(model.transform(counts))
    assert recon.shape == counts.shape and (recon >= 0).all()
    if name == "multinomial":
        np.testing.assert_allclose(recon.sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("name", ["multinomial", "poisson"])
def test_a_deterministic_score_is_the_log_probability_of_the_counts(counts, name):
    X = counts.toarray()
    model = AutoencoderTransformer(3, likelihood=name, **FAST).fit(X)
    mean = torch.as_tensor(model.inverse_transform(model.transform(X)))
    x = torch.as_tensor(X)
    if name == "multinomial":
        expected = [torch.distributions.Multinomial(int(row.sum()), probs=p).log_prob(row)
                    for p, row in zip(mean, x, strict=True)]
    else:
        expected = torch.distributions.Poisson(mean).log_prob(x).sum(-1)
    np.testing.assert_allclose(model.score_samples(X), np.asarray(expected), rtol=1e-6)


def test_the_decoder_starts_at_item_popularity(counts):
    model = AutoencoderTransformer(3, likelihood="multinomial", **{**FAST, "max_iter": 1})
    model._validate_input(counts, reset=True)
    model._setup(counts)
    popularity = np.asarray(counts.sum(axis=0)).ravel()
    bias = model.net_.module_.decoder[-1].bias.detach().double()
    np.testing.assert_allclose(torch.softmax(bias, 0), popularity / popularity.sum(),
                               atol=1e-6)


def test_sparse_input_is_densified_one_batch_at_a_time(counts, monkeypatch):
    densified = []
    original = sp.csr_matrix.toarray

    def toarray(self, *args, **kwargs):
        densified.append(self.shape[0])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sp.csr_matrix, "toarray", toarray)
    VAETransformer(2, likelihood="multinomial", input_norm="l2", input_dropout=0.5,
                   batch_size=50, **{**FAST, "max_iter": 2}).fit(counts)
    # Training batches, and the first rows for the latent activity (inference batch).
    assert densified and max(densified[:-1]) <= 50


def test_vae_samples_counts(counts):
    vae = VAETransformer(2, likelihood="multinomial", input_norm="l2", **FAST).fit(counts)
    mean_total = counts.sum() / counts.shape[0]
    draws = vae.sample(20, random_state=0)
    assert (draws == draws.round()).all()
    np.testing.assert_array_equal(draws.sum(axis=1), round(mean_total))
    # The total to sample and the normalising encoder survive pickling.
    again = pickle.loads(pickle.dumps(vae))
    np.testing.assert_array_equal(again.sample(20, random_state=0), draws)
    np.testing.assert_array_equal(again.transform(counts), vae.transform(counts))
    poisson = VAETransformer(2, likelihood="poisson", **FAST).fit(counts)
    draws = poisson.sample(20, random_state=0)
    assert (draws >= 0).all() and (draws == draws.round()).all()


def test_vae_score_is_a_bound_on_the_log_probability(counts):
    vae = VAETransformer(2, likelihood="multinomial", **{**FAST, "max_iter": 30}).fit(counts)
    X = counts[:20]
    bound = vae.importance_weighted_bound(X, n_samples=200)
    elbo = vae.score_samples(X)
    assert (bound < 0).all()
    # The importance-weighted bound is tighter than the ELBO (up to noise).
    assert bound.mean() > elbo.mean()


# The encoder's input --------------------------------------------------------

@pytest.mark.parametrize("norm", ["l1", "l2"])
@pytest.mark.parametrize("make", ESTIMATORS)
def test_input_norm_makes_codes_independent_of_a_rows_total(counts, make, norm):
    X = counts[:30]
    model = make(3, likelihood="multinomial", input_norm=norm, **FAST).fit(counts)
    np.testing.assert_allclose(model.transform(X), model.transform(X * 4.0), rtol=1e-5,
                               atol=1e-6)
    plain = make(3, likelihood="multinomial", input_norm=None, **FAST).fit(counts)
    assert not np.allclose(plain.transform(X), plain.transform(X * 4.0), atol=1e-3)


def test_input_norm_leaves_the_target_as_counts(counts):
    # The score is the multinomial log-probability of the raw counts, whatever
    # the encoder saw.
    X = counts.toarray()
    model = AutoencoderTransformer(3, likelihood="multinomial", input_norm="l2", **FAST).fit(X)
    probs = torch.as_tensor(model.inverse_transform(model.transform(X)))
    expected = (torch.as_tensor(X) * probs.log()).sum(-1) + (
        torch.lgamma(torch.as_tensor(X.sum(1) + 1)) - torch.lgamma(torch.as_tensor(X) + 1).sum(1))
    np.testing.assert_allclose(model.score_samples(X), expected.numpy(), rtol=1e-6)


def test_row_normalize():
    x = torch.tensor([[3.0, 4.0, 0.0], [0.0, 0.0, 0.0], [1.0, 1.0, 2.0]])
    torch.testing.assert_close(RowNormalize("l2")(x).norm(dim=1), torch.tensor([1.0, 0.0, 1.0]))
    torch.testing.assert_close(RowNormalize("l1")(x).sum(dim=1), torch.tensor([1.0, 0.0, 1.0]))
    with pytest.raises(ValueError, match="norm must be one of"):
        RowNormalize("max")


def test_normalize_encoder_input_refuses_a_module_without_an_encoder():
    with pytest.raises(TypeError, match="neither an 'encoder' nor a 'trunk'"):
        normalize_encoder_input(torch.nn.Linear(2, 2), "l2")


def test_input_dropout_is_inverted_dropout_from_the_generator():
    x = torch.ones(400, 50)
    out = InputDropout(0.3)(x, torch.Generator().manual_seed(0))
    np.testing.assert_allclose(out.unique(), [0.0, 1 / 0.7])
    assert abs((out == 0).float().mean().item() - 0.3) < 0.01
    assert abs(out.mean().item() - 1.0) < 0.02
    again = InputDropout(0.3)(x, torch.Generator().manual_seed(0))
    torch.testing.assert_close(out, again)
    assert InputDropout(0.0)(x, None) is x
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\)"):
        InputDropout(1.0)


def test_input_dropout_corrupts_training_batches_only(counts):
    X = counts.toarray()
    kept = VAETransformer(2, likelihood="multinomial", input_norm="l2", input_dropout=0.0,
                          **FAST).fit(X)
    dropped = VAETransformer(2, likelihood="multinomial", input_norm="l2", input_dropout=0.5,
                             **FAST).fit(X)
    # Training differs ...
    assert dropped.loss_curve_ != kept.loss_curve_
    # ... but scoring does not drop anything: scores are reproducible.
    np.testing.assert_array_equal(dropped.score_samples(X), dropped.score_samples(X))
    np.testing.assert_array_equal(dropped.transform(X), dropped.transform(X))


def test_new_parameters_are_validated(counts):
    with pytest.raises(InvalidParameterError, match="input_dropout"):
        VAETransformer(input_dropout=1.0, **FAST).fit(counts)
    with pytest.raises(InvalidParameterError, match="input_norm"):
        DenoisingAE(input_norm="max", **FAST).fit(counts)
    with pytest.raises(ValueError, match=r"pretrain='greedy' .* \(input_norm='l2'\)"):
        AutoencoderTransformer(input_norm="l2", pretrain="greedy", **FAST).fit(counts)


def test_kl_annealing_to_a_cap(counts):
    # Liang et al.'s annealing: the KL weight rises linearly to beta, then stays.
    vae = VAETransformer(2, likelihood="multinomial", beta=0.2, kl_warmup=4, **FAST)
    weights = []
    for _ in range(6):
        vae.partial_fit(counts)
        weights.append(vae.net_.criterion_.kl_weight)
    np.testing.assert_allclose(weights, [0.05, 0.1, 0.15, 0.2, 0.2, 0.2])
