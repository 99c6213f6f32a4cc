"""Per-row evaluation noise and the importance-weighted bound of a VAE."""

import hashlib
import math

import numpy as np
import torch

from .functional import gaussian_kl

_LOG_2PI = math.log(2.0 * math.pi)


def row_generators(x, seed):
    """One :class:`torch.Generator` per row, seeded by the row's values and ``seed``.

    The noise a row receives is then a function of the row alone: it does
    not change with the other rows of its batch, their order, or how often
    the row is scored, yet different rows get independent draws.

    The row is reduced to two 64-bit keys by integer dot products of its
    float32 bit patterns with weights drawn from ``seed``; integer sums wrap
    exactly whatever their order, so a row's keys do not depend on the rest
    of the batch, and the cost is one pass over the batch rather than a hash
    of every row's bytes.
    """
    bits = x.detach().to("cpu", torch.float32).contiguous().numpy().view(np.int32)
    weights = np.random.default_rng(int(seed)).integers(
        1, 2**62, size=(bits.shape[1], 2), dtype=np.int64) | 1
    keys = bits.astype(np.int64) @ weights
    key = int(seed).to_bytes(8, "little")
    return [
        torch.Generator().manual_seed(int.from_bytes(
            hashlib.blake2b(row.tobytes(), digest_size=8, key=key).digest(), "little"))
        for row in keys
    ]


def row_noise(generators, n_draws, n_components):
    """Standard-normal draws of shape ``(len(generators), n_draws, n_components)``."""
    return torch.stack([torch.randn(n_draws, n_components, generator=g) for g in generators])


def log_importance_weights(log_px_z, z, eps, logvar):
    """``log p(x, z_k) - log q(z_k | x)`` of every draw: shape ``(n, n_draws)``.

    Parameters
    ----------
    log_px_z : torch.Tensor of shape (n, n_draws)
        ``log p(x | z_k)``.
    z : torch.Tensor of shape (n, n_draws, n_components)
        The draws, ``z = mu + sigma * eps``.
    eps : torch.Tensor of shape (n, n_draws, n_components)
        Their standard-normal noise: ``log q(z | x)`` needs only it and the
        log-variance.
    logvar : torch.Tensor of shape (n, n_components)
        The posterior's log-variance.
    """
    log_pz = -0.5 * (z.pow(2) + _LOG_2PI).sum(dim=-1)
    log_qz = -0.5 * (eps.pow(2) + logvar.unsqueeze(1) + _LOG_2PI).sum(dim=-1)
    return log_px_z + log_pz - log_qz


def importance_weighted_bound(module, likelihood, x, n_draws, seed, *, chunk_size=None):
    """Importance-weighted bound on log p(x) (Burda et al., 2015), in float64.

    Parameters
    ----------
    module : GaussianMLPVAE
    likelihood : Likelihood
        The decoder's distribution p(x | z).
    x : torch.Tensor of shape (n, n_features)
    n_draws : int
        Number of importance samples K.
    seed : int
        With each row's values, seeds that row's draws (see
        :func:`row_generators`).
    chunk_size : int, default=None
        Draws decoded at once; None picks a size that keeps the decoder
        output near 2**22 values.

    Returns
    -------
    torch.Tensor of shape (n,)
        ``log(mean_k w_k)`` with ``w_k = p(x_i, z_k) / q(z_k | x_i)``.
    """
    mu, logvar = module.encode_stats(x)
    mu64, logvar64 = mu.double(), logvar.double()
    x64 = x.double()
    generators = row_generators(x, seed)
    if chunk_size is None:
        chunk_size = max(1, (1 << 22) // max(1, x.shape[0] * x.shape[1]))
    parts = []
    for start in range(0, n_draws, chunk_size):
        eps = row_noise(generators, min(chunk_size, n_draws - start), module.n_components)
        eps64 = eps.double().to(mu.device)
        z = mu.unsqueeze(1) + torch.exp(0.5 * logvar).unsqueeze(1) * eps.to(mu.device, mu.dtype)
        raw = module.decode(z).double()
        log_px_z = likelihood.log_prob(raw, x64.unsqueeze(1).expand_as(raw))
        z64 = mu64.unsqueeze(1) + torch.exp(0.5 * logvar64).unsqueeze(1) * eps64
        parts.append(torch.logsumexp(log_importance_weights(log_px_z, z64, eps64, logvar64),
                                     dim=1))
    return torch.logsumexp(torch.stack(parts, dim=1), dim=1) - math.log(n_draws)


def _summed_log_likelihood(module, likelihood, x, mu, logvar, eps):
    """Sum over the draws ``eps`` of each row's log p(x | z), in float64."""
    z = mu.unsqueeze(1) + torch.exp(0.5 * logvar).unsqueeze(1) * eps
    raw = module.decode(z).double()
    return likelihood.log_prob(raw, x.double().unsqueeze(1).expand_as(raw)).sum(dim=1)


def elbo(module, likelihood, x, *, chunk_values=1 << 22):
    """ELBO of each row in nats, from the module's evaluation-mode draws, in float64.

    The same value as the objective's ``per_sample`` on the module's
    evaluation output, but decoding a chunk of draws at a time, so that
    memory stays near ``chunk_values`` decoded values whatever the number
    of draws.
    """
    mu, logvar = module.encode_stats(x)
    eps = module.eval_noise(x).to(mu.device, mu.dtype)
    n_draws = eps.shape[1]
    chunk = max(1, chunk_values // max(1, x.shape[0] * x.shape[1]))
    total = torch.zeros(x.shape[0], dtype=torch.float64, device=x.device)
    for start in range(0, n_draws, chunk):
        total += _summed_log_likelihood(module, likelihood, x, mu, logvar,
                                        eps[:, start:start + chunk])
    return total / n_draws - gaussian_kl(mu.double(), logvar.double())


def elbo_given_noise(module, likelihood, x, eps):
    """ELBO of each row in nats, estimated with the given draws, in float64.

    Parameters
    ----------
    module : GaussianMLPVAE
    likelihood : Likelihood
    x : torch.Tensor of shape (n, n_features)
    eps : torch.Tensor of shape (n, n_draws, n_components)
        Standard-normal draws; z = mu + sigma * eps.

    Returns
    -------
    torch.Tensor of shape (n,)
    """
    mu, logvar = module.encode_stats(x)
    summed = _summed_log_likelihood(module, likelihood, x, mu, logvar, eps.to(mu.dtype))
    return summed / eps.shape[1] - gaussian_kl(mu.double(), logvar.double())
