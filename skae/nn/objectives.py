"""Training objectives: map a module's output and a batch's target to a loss.

The target is whatever the batch carries beside its input: the input itself
for a plain autoencoder, the clean rows for a denoiser.
"""

import math

import torch
from torch import nn

from .functional import gaussian_kl
from .vae_bounds import log_importance_weights


class ReconstructionObjective(nn.Module):
    """Point-estimate loss of a likelihood, plus any penalty the module reports.

    Parameters
    ----------
    likelihood : Likelihood
        Scores the decoder output ``output["recon"]`` against the target
        with :meth:`Likelihood.loss`.
    """

    def __init__(self, likelihood):
        super().__init__()
        self.likelihood = likelihood

    def per_sample(self, output, target):
        """Loss of each sample: what ``score_samples`` reports, negated.

        Summed in float64, so that a row's score does not depend on which
        other rows share its batch.
        """
        return self.likelihood.loss(output["recon"].double(), target.double())

    def forward(self, output, target):
        loss = self.likelihood.mean_loss(output["recon"], target)
        penalty = output.get("penalty")
        return loss if penalty is None else loss + penalty


class ELBOObjective(nn.Module):
    """Negative evidence lower bound of a variational autoencoder, in nats.

    Parameters
    ----------
    likelihood : Likelihood
        The decoder's distribution p(x | z).
    beta : float, default=1.0
        Weight of the KL term in training (beta-VAE).

    Notes
    -----
    The module's output holds the posterior's ``"mu"`` and ``"logvar"`` and
    the decoder output ``"recon"`` for each draw of z, of shape
    ``(n, draws, n_features)``. In training mode the loss is the batch mean
    of ``-E[log p(x|z)] + kl_weight * KL(q(z|x) || N(0, I))``, where
    ``kl_weight`` starts at ``beta`` and may be changed during training
    (KL warm-up). In evaluation mode, and in :meth:`per_sample`, the KL
    weight is 1: the value is the negative ELBO, a bound on ``-log p(x)``,
    whatever ``beta`` was used for training.
    """

    def __init__(self, likelihood, beta=1.0):
        super().__init__()
        self.likelihood = likelihood
        self.beta = beta
        self.kl_weight = beta

    def log_likelihood(self, output, x):
        """log p(x | z) for every draw of z: shape ``(n, n_draws)``."""
        raw = output["recon"]
        return self.likelihood.log_prob(raw, x.unsqueeze(1).to(raw.dtype).expand_as(raw))

    def per_sample(self, output, x):
        """Negative ELBO of each sample, computed in float64.

        float64 sums make a row's value independent of its batch.
        """
        out64 = {k: v.double() for k, v in output.items() if torch.is_tensor(v)}
        expected = self.log_likelihood(out64, x.double()).mean(dim=1)
        return gaussian_kl(out64["mu"], out64["logvar"]) - expected

    def forward(self, output, x):
        weight = self.kl_weight if self.training else 1.0
        expected = self.log_likelihood(output, x).mean()
        kl = gaussian_kl(output["mu"], output["logvar"]).mean()
        return weight * kl - expected


class IWAEObjective(ELBOObjective):
    """Negative importance-weighted bound (Burda et al., 2015) in training.

    In training mode the loss is the batch mean of
    ``-log (1/K) sum_k p(x, z_k) / q(z_k | x)`` over the module's K draws
    of z per row (its ``n_mc_samples``); the bound rises towards
    ``log p(x)`` as K grows, and for K=1 it is the ELBO with the KL term
    estimated from the draw. In evaluation mode, and in :meth:`per_sample`,
    it is :class:`ELBOObjective`'s negative ELBO, so that validation losses
    and scores mean the same whichever bound trained the model.

    The bound has no KL term of its own to weight: ``beta`` is 1.

    Parameters
    ----------
    likelihood : Likelihood
        The decoder's distribution p(x | z).
    """

    def __init__(self, likelihood):
        super().__init__(likelihood, beta=1.0)

    def bound(self, output, x):
        """The importance-weighted bound of each row: shape ``(n,)``."""
        log_w = log_importance_weights(self.log_likelihood(output, x), output["z"],
                                       output["eps"], output["logvar"])
        return torch.logsumexp(log_w, dim=1) - math.log(log_w.shape[1])

    def forward(self, output, x):
        if not self.training:
            return super().forward(output, x)
        return -self.bound(output, x).mean()
