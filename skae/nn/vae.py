"""Variational autoencoder with a diagonal Gaussian encoder, and its ELBO."""

import hashlib
import math
import warnings

import torch
from torch import nn

from ..losses import (
    bernoulli_log_likelihood,
    gaussian_kl,
    gaussian_log_likelihood,
    logit,
)
from .conv import conv_decoder, conv_encoder
from .mlp import make_mlp

#: Soft bound on the encoder's log-variance: exp(+-15) spans any scale a
#: code needs, and the bound keeps exp() finite for every finite input.
LOGVAR_BOUND = 15.0

#: Hard bounds on a learned decoder log-variance, so that a constant feature
#: cannot drive the Gaussian likelihood to infinity.
DECODER_LOGVAR_MIN = math.log(1e-6)
DECODER_LOGVAR_MAX = math.log(1e6)

_LOG_2PI = math.log(2.0 * math.pi)


def row_generators(x, seed):
    """One :class:`torch.Generator` per row, seeded by the row's values and ``seed``.

    The noise a row receives is then a function of the row alone: it does
    not change with the other rows of its batch, their order, or how often
    the row is scored, yet different rows get independent draws.
    """
    rows = x.detach().to("cpu", torch.float32).contiguous().numpy()
    key = int(seed).to_bytes(8, "little")
    return [
        torch.Generator().manual_seed(int.from_bytes(
            hashlib.blake2b(row.tobytes(), digest_size=8, key=key).digest(), "little"))
        for row in rows
    ]


def row_noise(generators, n_draws, n_components):
    """Standard-normal draws of shape ``(len(generators), n_draws, n_components)``."""
    return torch.stack([torch.randn(n_draws, n_components, generator=g) for g in generators])


class GaussianMLPVAE(nn.Module):
    """MLP encoder q(z|x) = N(mu(x), diag sigma^2(x)) and an MLP decoder.

    Parameters
    ----------
    n_features : int
        Width of the input.
    n_components : int
        Dimension of the latent code z.
    hidden_layer_sizes : sequence of int, default=()
        Widths of the encoder's hidden layers; the decoder uses them in
        reverse order.
    activation : str, default="relu"
        Hidden activation (see :data:`skae.nn.ACTIVATIONS`).
    n_mc_samples : int, default=1
        Draws of z per sample in training mode.
    n_eval_samples : int, default=16
        Draws of z per sample in evaluation mode.
    decoder_variance : None, "learned" or float, default=None
        None for a decoder that only outputs a mean (or logits);
        ``"learned"`` adds one log-variance per feature, independent of z;
        a float fixes the variance of every feature.
    image_shape : tuple of int or None, default=None
        ``(height, width)`` or ``(channels, height, width)``: read rows as
        images and use a convolutional encoder and decoder
        (:func:`skae.nn.conv_encoder`, :func:`skae.nn.conv_decoder`), with
        ``hidden_layer_sizes`` as their numbers of feature maps.

    Notes
    -----
    In training mode the noise comes from ``self.rng.generator`` (a CPU
    :class:`torch.Generator`, or torch's global generator when ``rng`` is
    None), fresh for every sample and step. In evaluation mode each row
    gets ``n_eval_samples`` draws from a generator seeded by its own values
    and ``eval_seed`` (see :func:`row_generators`): the estimate for a row
    is unbiased, independent of the other rows' and the same on every call.

    ``forward`` returns a dict with ``"code"`` (the posterior mean),
    ``"mu"``, ``"logvar"`` (both of shape ``(n, n_components)``),
    ``"recon"`` (the decoder's raw output for every draw, of shape
    ``(n, n_draws, n_features)``) and, with a Gaussian decoder,
    ``"recon_logvar"`` (shape ``(n_features,)``).
    """

    def __init__(self, n_features, n_components, hidden_layer_sizes=(), activation="relu",
                 n_mc_samples=1, n_eval_samples=16, decoder_variance=None, image_shape=None):
        super().__init__()
        hidden = list(hidden_layer_sizes)
        self.n_features = n_features
        self.n_components = n_components
        self.n_mc_samples = n_mc_samples
        self.n_eval_samples = n_eval_samples
        # Parameters are registered (and so initialised) in the order trunk,
        # heads, decoder, which fixes what a given random_state draws.
        if image_shape is not None:
            self.trunk, width = conv_encoder(image_shape, hidden, activation)
        else:
            self.trunk = (make_mlp([n_features, *hidden], activation, activate_last=True)
                          if hidden else nn.Identity())
            width = hidden[-1] if hidden else n_features
        self.mu_head = nn.Linear(width, n_components)
        self.logvar_head = nn.Linear(width, n_components)
        if image_shape is not None:
            self.decoder = conv_decoder(image_shape, n_components, hidden, activation)
        else:
            self.decoder = make_mlp([n_components, *hidden[::-1], n_features], activation)
        self.decoder_variance = decoder_variance
        if decoder_variance == "learned":
            # A layer without inputs is just its bias: one free log-variance
            # per feature, initialised by the same rule as every linear layer.
            with warnings.catch_warnings():
                # Its empty weight would warn on construction.
                warnings.simplefilter("ignore", UserWarning)
                self.decoder_logvar = nn.Linear(0, n_features)
        self.rng = None
        self.eval_seed = 0

    def set_output_bias(self, bias):
        """Start the decoder at a given raw output, e.g. the data mean."""
        out = self.decoder[-1].bias
        with torch.no_grad():
            out.copy_(torch.as_tensor(bias, device=out.device))

    def set_decoder_logvar(self, logvar):
        """Set a learned decoder log-variance, e.g. to the data's, before training."""
        with torch.no_grad():
            p = self.decoder_logvar.bias
            p.copy_(torch.as_tensor(logvar, device=p.device).clamp(
                DECODER_LOGVAR_MIN, DECODER_LOGVAR_MAX))

    def encode_stats(self, x):
        """Posterior mean and (bounded) log-variance of each sample."""
        h = self.trunk(x)
        raw = self.logvar_head(h)
        # A smooth bound keeps gradients alive, unlike a hard clamp.
        logvar = LOGVAR_BOUND * torch.tanh(raw / LOGVAR_BOUND)
        return self.mu_head(h), logvar

    def encode(self, x):
        """Map inputs to the posterior mean."""
        return self.encode_stats(x)[0]

    def decode(self, z):
        """Map codes to the decoder's raw output (mean or logits).

        ``z`` may carry extra leading dimensions (draws per sample); the
        decoder sees them flattened into one batch dimension.
        """
        flat = self.decoder(z.reshape(-1, z.shape[-1]))
        return flat.reshape(*z.shape[:-1], flat.shape[-1])

    def recon_logvar(self, like):
        """The decoder's log-variance per feature, or None without one."""
        if self.decoder_variance is None:
            return None
        if self.decoder_variance == "learned":
            return self.decoder_logvar.bias.clamp(DECODER_LOGVAR_MIN, DECODER_LOGVAR_MAX)
        return torch.full((self.n_features,),
                          math.log(self.decoder_variance), dtype=like.dtype, device=like.device)

    def eval_noise(self, x, n_draws=None):
        """The evaluation-mode draws for the rows of ``x``: ``(n, n_draws, n_components)``."""
        n_draws = self.n_eval_samples if n_draws is None else n_draws
        return row_noise(row_generators(x, self.eval_seed), n_draws, self.n_components)

    def forward(self, x):
        mu, logvar = self.encode_stats(x)
        if self.training:
            shape = (x.shape[0], self.n_mc_samples, self.n_components)
            gen = None if self.rng is None else self.rng.generator
            eps = torch.randn(shape, generator=gen).to(mu.device, mu.dtype)
        else:
            eps = self.eval_noise(x).to(mu.device, mu.dtype)
        z = mu.unsqueeze(1) + torch.exp(0.5 * logvar).unsqueeze(1) * eps
        out = {"code": mu, "mu": mu, "logvar": logvar, "recon": self.decode(z)}
        logvar_x = self.recon_logvar(mu)
        if logvar_x is not None:
            out["recon_logvar"] = logvar_x
        return out


class ELBOObjective(nn.Module):
    """Negative evidence lower bound of a :class:`GaussianMLPVAE`, in nats.

    Parameters
    ----------
    likelihood : {"bernoulli", "gaussian"}
        ``"bernoulli"`` reads the decoder output as logits;
        ``"gaussian"`` as the mean, with the module's ``"recon_logvar"``.
    beta : float, default=1.0
        Weight of the KL term in training (beta-VAE).

    Notes
    -----
    In training mode the loss is the batch mean of
    ``-E[log p(x|z)] + kl_weight * KL(q(z|x) || N(0, I))``, where
    ``kl_weight`` starts at ``beta`` and may be changed during training
    (KL warm-up). In evaluation mode, and in :meth:`per_sample`, the KL
    weight is always 1: the value is the negative ELBO, a bound on
    ``-log p(x)``, whatever ``beta`` was used for training.
    """

    def __init__(self, likelihood="bernoulli", beta=1.0):
        super().__init__()
        self.likelihood = likelihood
        self.beta = beta
        self.kl_weight = beta

    def link(self, raw):
        """Map the decoder's raw output to the data-space mean."""
        return torch.sigmoid(raw) if self.likelihood == "bernoulli" else raw

    def inverse_link(self, mean):
        """Map a data-space mean to the decoder's raw output."""
        return logit(mean) if self.likelihood == "bernoulli" else torch.as_tensor(mean)

    def log_likelihood(self, output, x):
        """log p(x | z) for every draw of z: shape ``(n, n_draws)``.

        ``x`` has shape ``(n, n_features)``; the decoder output in
        ``output["recon"]`` has shape ``(n, n_draws, n_features)``.
        """
        raw = output["recon"]
        x = x.unsqueeze(1).to(raw.dtype).expand_as(raw)
        if self.likelihood == "bernoulli":
            return bernoulli_log_likelihood(raw, x)
        return gaussian_log_likelihood(raw, output["recon_logvar"].to(raw.dtype), x)

    def per_sample(self, output, x):
        """Negative ELBO of each sample, computed in float64.

        float64 sums make a row's value independent of its batch.
        """
        out64 = {k: v.double() for k, v in output.items()}
        expected = self.log_likelihood(out64, x.double()).mean(dim=1)
        return gaussian_kl(out64["mu"], out64["logvar"]) - expected

    def forward(self, output, x):
        weight = self.kl_weight if self.training else 1.0
        expected = self.log_likelihood(output, x).mean()
        kl = gaussian_kl(output["mu"], output["logvar"]).mean()
        return weight * kl - expected


def importance_weighted_bound(module, objective, x, n_draws, seed, *, chunk_size=None):
    """Importance-weighted bound on log p(x) (Burda et al., 2015), in float64.

    Parameters
    ----------
    module : GaussianMLPVAE
    objective : ELBOObjective
        Supplies the decoder likelihood.
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
    logvar_x = module.recon_logvar(mu)
    mu64, logvar64 = mu.double(), logvar.double()
    generators = row_generators(x, seed)
    if chunk_size is None:
        chunk_size = max(1, (1 << 22) // max(1, x.shape[0] * x.shape[1]))
    parts = []
    for start in range(0, n_draws, chunk_size):
        eps = row_noise(generators, min(chunk_size, n_draws - start), module.n_components)
        eps64 = eps.double().to(mu.device)
        z = mu.unsqueeze(1) + torch.exp(0.5 * logvar).unsqueeze(1) * eps.to(mu.device, mu.dtype)
        output = {"recon": module.decode(z).double()}
        if logvar_x is not None:
            output["recon_logvar"] = logvar_x.double()
        log_px_z = objective.log_likelihood(output, x.double())
        z64 = mu64.unsqueeze(1) + torch.exp(0.5 * logvar64).unsqueeze(1) * eps64
        log_pz = -0.5 * (z64.pow(2) + _LOG_2PI).sum(dim=2)
        log_qz = -0.5 * (eps64.pow(2) + logvar64.unsqueeze(1) + _LOG_2PI).sum(dim=2)
        parts.append(torch.logsumexp(log_px_z + log_pz - log_qz, dim=1))
    return torch.logsumexp(torch.stack(parts, dim=1), dim=1) - math.log(n_draws)
