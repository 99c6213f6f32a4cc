"""Deterministic multi-layer perceptron autoencoder."""

import torch
from torch import nn

from .mlp import make_mlp


class MLPAutoencoder(nn.Module):
    """An MLP encoder and a mirrored MLP decoder.

    Parameters
    ----------
    n_features : int
        Width of the input.
    n_components : int
        Width of the code.
    hidden_layer_sizes : sequence of int, default=()
        Widths of the encoder's hidden layers; the decoder uses them in
        reverse order.
    activation : str, default="relu"
        Hidden activation (see :data:`skae.nn.ACTIVATIONS`). The code and
        the decoder output are linear.

    Notes
    -----
    ``forward`` returns a dict with the ``"code"`` and the decoder's raw
    output ``"recon"`` (logits for a Bernoulli reconstruction loss).
    """

    def __init__(self, n_features, n_components, hidden_layer_sizes=(), activation="relu"):
        super().__init__()
        hidden = list(hidden_layer_sizes)
        self.encoder = make_mlp([n_features, *hidden, n_components], activation)
        self.decoder = make_mlp([n_components, *hidden[::-1], n_features], activation)

    def set_output_bias(self, bias):
        """Start the decoder at a given output, e.g. the data mean.

        With the decoder's output bias at the data mean, training starts from
        the mean reconstruction (PCA's starting point) instead of spending
        its first epochs learning the mean.
        """
        with torch.no_grad():
            self.decoder[-1].bias.copy_(torch.as_tensor(bias, device=self.decoder[-1].bias.device))

    def encode(self, x):
        """Map inputs to codes."""
        return self.encoder(x)

    def decode(self, z):
        """Map codes to the decoder's raw output."""
        return self.decoder(z)

    def forward(self, x):
        code = self.encoder(x)
        return {"code": code, "recon": self.decoder(code)}
