"""Stateless loss functions on torch tensors.

They live in :mod:`skae.nn.functional`, beside the modules that use them;
this module keeps the names importable from ``skae.losses``.
"""

from .nn.functional import (
    bernoulli_log_likelihood,
    bernoulli_nll,
    gaussian_kl,
    gaussian_log_likelihood,
    kl_sparsity,
    l1_sparsity,
    logit,
    mean_bernoulli_nll,
    mean_squared_error,
    squared_error,
)

__all__ = [
    "bernoulli_log_likelihood",
    "bernoulli_nll",
    "gaussian_kl",
    "gaussian_log_likelihood",
    "kl_sparsity",
    "l1_sparsity",
    "logit",
    "mean_bernoulli_nll",
    "mean_squared_error",
    "squared_error",
]
