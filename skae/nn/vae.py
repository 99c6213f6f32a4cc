"""Variational autoencoder with a diagonal Gaussian encoder."""

import torch
from torch import nn

from .conv import conv_decoder, conv_encoder
from .mlp import make_mlp
from .vae_bounds import row_generators, row_noise

#: Soft bound on the encoder's log-variance: exp(+-15) spans any scale a
#: code needs, and the bound keeps exp() finite for every finite input.
LOGVAR_BOUND = 15.0


class GaussianMLPVAE(nn.Module):
    """Encoder q(z|x) = N(mu(x), diag sigma^2(x)) and a decoder of z.

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
    image_shape : tuple of int or None, default=None
        ``(height, width)`` or ``(channels, height, width)``: read rows as
        images and use a convolutional encoder and decoder
        (:func:`skae.nn.conv_encoder`, :func:`skae.nn.conv_decoder`), with
        ``hidden_layer_sizes`` as their numbers of feature maps.

    Notes
    -----
    In training mode the noise comes from the ``generator`` passed to
    ``forward`` (a CPU :class:`torch.Generator`; None uses torch's global
    one), fresh for every sample and step. In evaluation mode each row gets
    ``n_eval_samples`` draws from a generator seeded by its own values and
    the buffer ``eval_seed`` (see :func:`~skae.nn.vae_bounds.row_generators`):
    the estimate for a row is unbiased, independent of the other rows' and
    the same on every call.

    ``forward`` returns a dict with ``"code"`` (the posterior mean),
    ``"mu"``, ``"logvar"`` (both of shape ``(n, n_components)``), the draws
    ``"z"`` and their standard-normal noise ``"eps"`` (both of shape
    ``(n, n_draws, n_components)``) and ``"recon"``, the decoder's raw
    output for every draw, of shape ``(n, n_draws, n_features)``; the
    likelihood reads it.
    """

    def __init__(self, n_features, n_components, hidden_layer_sizes=(), activation="relu",
                 n_mc_samples=1, n_eval_samples=16, image_shape=None):
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
        # A buffer, so that it is saved and loaded with the weights.
        self.register_buffer("eval_seed", torch.zeros((), dtype=torch.int64))

    def set_output_bias(self, bias):
        """Start the decoder at a given raw output, e.g. the data mean."""
        out = self.decoder[-1].bias
        with torch.no_grad():
            out.copy_(torch.as_tensor(bias, device=out.device))

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

    def eval_noise(self, x, n_draws=None):
        """The evaluation-mode draws for the rows of ``x``: ``(n, n_draws, n_components)``."""
        n_draws = self.n_eval_samples if n_draws is None else n_draws
        return row_noise(row_generators(x, int(self.eval_seed)), n_draws, self.n_components)

    def forward(self, x, generator=None):
        mu, logvar = self.encode_stats(x)
        if self.training:
            shape = (x.shape[0], self.n_mc_samples, self.n_components)
            eps = torch.randn(shape, generator=generator).to(mu.device, mu.dtype)
        else:
            eps = self.eval_noise(x).to(mu.device, mu.dtype)
        z = mu.unsqueeze(1) + torch.exp(0.5 * logvar).unsqueeze(1) * eps
        return {"code": mu, "mu": mu, "logvar": logvar, "z": z, "eps": eps,
                "recon": self.decode(z)}
