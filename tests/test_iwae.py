"""Training a VAE on the importance-weighted bound (objective="iwae")."""

import math

import numpy as np
import pytest
import torch

from skae import VAETransformer
from skae.nn import Bernoulli, ELBOObjective, GaussianMLPVAE, IWAEObjective, build

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = {"hidden_layer_sizes": (16,), "batch_size": 50, "random_state": 0,
        "likelihood": "bernoulli"}


@pytest.fixture
def X(digits):
    return digits[0][:300]


def _module(k, seed=0):
    return build(lambda: GaussianMLPVAE(64, 3, (16,), "tanh", n_mc_samples=k),
                 torch.Generator().manual_seed(seed)).train()


def test_the_training_loss_is_minus_the_importance_weighted_bound(X):
    k = 5
    module, objective = _module(k), IWAEObjective(Bernoulli(64)).train()
    x = torch.tensor(X[:40], dtype=torch.float32)
    loss = objective(module(x, generator=torch.Generator().manual_seed(3)), x)
    # The same draws, by the bound's formula in float64.
    eps = torch.randn(40, k, 3, generator=torch.Generator().manual_seed(3)).double()
    with torch.no_grad():
        mu, logvar = (t.double() for t in module.encode_stats(x))
        z = mu[:, None] + torch.exp(0.5 * logvar)[:, None] * eps
        logits = module.decode(z.float()).double()
        log_px_z = -torch.nn.functional.binary_cross_entropy_with_logits(
            logits, x.double()[:, None].expand_as(logits), reduction="none").sum(-1)
        log_pz = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
        log_qz = torch.distributions.Normal(mu[:, None], torch.exp(0.5 * logvar)[:, None]
                                            ).log_prob(z).sum(-1)
        bound = torch.logsumexp(log_px_z + log_pz - log_qz, dim=1) - math.log(k)
    torch.testing.assert_close(loss.double(), -bound.mean(), rtol=1e-5, atol=1e-4)


def test_with_one_draw_the_bound_is_the_elbo_in_expectation(X):
    module = _module(1)
    iwae, elbo = IWAEObjective(Bernoulli(64)).train(), ELBOObjective(Bernoulli(64)).train()
    x = torch.tensor(X[:20], dtype=torch.float32)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        pairs = [(iwae(out, x), elbo(out, x))
                 for out in (module(x, generator=gen) for _ in range(3000))]
    iwae_mean, elbo_mean = (float(torch.stack(v).mean()) for v in zip(*pairs, strict=True))
    # They differ draw by draw (a sampled against an exact KL term) only.
    assert iwae_mean == pytest.approx(elbo_mean, abs=0.05)
    assert not all(torch.isclose(a, b) for a, b in pairs[:5])


def test_the_estimator_trains_the_bound_it_is_asked_for(X):
    k = 5
    vae = VAETransformer(3, objective="iwae", n_mc_samples=k, max_iter=15, **FAST).fit(X)
    objective = vae.net_.criterion_
    assert isinstance(objective, IWAEObjective)
    # The training loss estimates minus the bound that the estimator evaluates
    # with the same K: compare the means over many fresh draws.
    module = vae.net_.module_.train()
    x = torch.tensor(X, dtype=torch.float32)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        trained = np.mean([float(objective.train()(module(x, generator=gen), x))
                           for _ in range(200)])
    evaluated = vae.importance_weighted_bound(X, k, random_state=0).mean()
    assert trained == pytest.approx(-evaluated, abs=0.1)
    # The score stays the ELBO, below the bound.
    assert vae.score(X) < evaluated


def test_more_importance_samples_train_a_tighter_bound(X):
    loss = {k: VAETransformer(3, objective="iwae", n_mc_samples=k, max_iter=10,
                              **FAST).fit(X).loss_curve_[-1] for k in (1, 10)}
    assert loss[10] < loss[1]


@pytest.mark.parametrize("params", [{"beta": 0.5}, {"kl_warmup": 5}])
def test_iwae_refuses_a_weighted_kl(params, X):
    with pytest.raises(ValueError, match="objective='iwae'"):
        VAETransformer(3, objective="iwae", **params, **FAST).fit(X)
