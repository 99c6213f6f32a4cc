"""Stateless loss functions on torch tensors (no state, no scikit-learn).

Every reconstruction loss here returns one value per sample, summed over
features, in the units of a negative log-likelihood where one exists, so
that per-sample scores from different models can be compared.
"""

import math

import torch
from torch.nn import functional as F


def squared_error(recon, x):
    """Sum of squared differences over features, one value per sample."""
    return (recon - x).pow(2).flatten(1).sum(dim=1)


def mean_squared_error(recon, x):
    """Batch mean of :func:`squared_error`, in one fused kernel."""
    return F.mse_loss(recon, x, reduction="sum") / x.shape[0]


def bernoulli_nll(logits, x):
    """Negative Bernoulli log-likelihood in nats, one value per sample.

    Computed from logits, which is exact and stable for any logit value;
    ``x`` must lie in [0, 1].
    """
    nll = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    return nll.flatten(1).sum(dim=1)


def mean_bernoulli_nll(logits, x):
    """Batch mean of :func:`bernoulli_nll`, in one fused kernel."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]


def gaussian_kl(mu, logvar):
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) in nats, one value per sample."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)


def logit(p, eps=1e-4):
    """Inverse of the sigmoid link, clipped away from 0 and 1."""
    p = torch.clamp(torch.as_tensor(p), eps, 1 - eps)
    return torch.log(p) - torch.log1p(-p)


def bernoulli_log_likelihood(logits, x):
    """Bernoulli log-likelihood in nats, summed over the last dimension.

    Unlike :func:`bernoulli_nll` it keeps every leading dimension, so that
    one call scores several draws per sample.
    """
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=-1)


def gaussian_log_likelihood(mean, logvar, x):
    """Diagonal Gaussian log-density in nats, summed over the last dimension.

    ``logvar`` broadcasts against ``mean``: one log-variance per feature,
    or one per value.
    """
    sq = (x - mean).pow(2) * torch.exp(-logvar)
    return -0.5 * (sq + logvar + math.log(2.0 * math.pi)).sum(dim=-1)


def l1_sparsity(code):
    """Mean absolute activation over samples and code units."""
    return code.abs().mean()


def kl_sparsity(code, rho, eps=1e-6):
    """Sum over units of KL(Bernoulli(rho) || Bernoulli(rho_hat_j)).

    ``rho_hat_j`` is unit j's mean activation over the batch; codes must lie
    in (0, 1). The divergence is 0 exactly when every unit's mean activation
    equals the target rate ``rho``.
    """
    rho_hat = code.mean(dim=0).clamp(eps, 1 - eps)
    return (
        rho * torch.log(rho / rho_hat)
        + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))
    ).sum()
