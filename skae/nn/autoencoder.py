"""Deterministic multi-layer perceptron autoencoders."""

import torch
from torch import nn

from .contractive import contractive_penalty
from .mlp import make_mlp


class Autoencoder(nn.Module):
    """An encoder and a decoder, with optional corruption and penalties.

    Parameters
    ----------
    encoder, decoder : torch.nn.Module
        Map inputs to codes and codes to the decoder's raw output.
    contractive : float, default=0.0
        Weight of the contractive penalty, the batch mean of
        ``||d code / d x||_F^2`` (see :func:`skae.nn.contractive_penalty`).
    corruption : torch.nn.Module or None, default=None
        Called as ``corruption(x, generator)`` on every training batch before
        encoding; ``generator`` is ``self.rng.generator``, so ``rng`` must be
        set before training. Inputs are left clean in evaluation mode.
    code_penalty : torch.nn.Module or None, default=None
        Maps a batch of codes to a scalar added to the loss.

    Notes
    -----
    ``forward`` returns a dict with the ``"code"`` and the decoder's raw
    output ``"recon"`` (logits for a Bernoulli reconstruction loss). In
    training mode it also holds the ``"penalty"`` (the sum of the
    contractive and code penalties), which
    :class:`~skae.nn.ReconstructionObjective` adds to the loss. Penalties are
    training terms: evaluation-mode outputs, and so validation losses and
    scores, measure reconstruction alone.
    """

    def __init__(self, encoder, decoder, *, contractive=0.0, corruption=None,
                 code_penalty=None):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.contractive = float(contractive)
        self.corruption = corruption
        self.code_penalty = code_penalty
        if corruption is not None:
            self.rng = None

    def set_output_bias(self, bias):
        """Start the decoder at a given output, e.g. the data mean.

        With the decoder's output bias at the data mean, training starts from
        the mean reconstruction (PCA's starting point) instead of spending
        its first epochs learning the mean.
        """
        with torch.no_grad():
            last = self.decoder[-1]
            last.bias.copy_(torch.as_tensor(bias, device=last.bias.device))

    def encode(self, x):
        """Map inputs to codes."""
        return self.encoder(x)

    def decode(self, z):
        """Map codes to the decoder's raw output."""
        return self.decoder(z)

    def forward(self, x):
        if self.training and self.corruption is not None:
            x = self.corruption(x, self.rng.generator)
        code = self.encoder(x)
        out = {"code": code, "recon": self.decoder(code)}
        if self.training:
            penalty = None
            if self.contractive > 0:
                penalty = self.contractive * contractive_penalty(self.encoder, x)
            if self.code_penalty is not None:
                term = self.code_penalty(code)
                penalty = term if penalty is None else penalty + term
            if penalty is not None:
                out["penalty"] = penalty
        return out


def _blocks(sequential):
    """Split a sequential network before each linear layer."""
    blocks = []
    for layer in sequential:
        if isinstance(layer, nn.Linear) or not blocks:
            blocks.append([])
        blocks[-1].append(layer)
    return [nn.Sequential(*block) for block in blocks]


class MLPAutoencoder(Autoencoder):
    """An MLP encoder and a mirrored MLP (or a linear) decoder.

    Parameters
    ----------
    n_features : int
        Width of the input.
    n_components : int
        Width of the code.
    hidden_layer_sizes : sequence of int, default=()
        Widths of the encoder's hidden layers; a mirrored decoder uses them
        in reverse order.
    activation : str, default="relu"
        Hidden activation (see :data:`skae.nn.ACTIVATIONS`). The decoder
        output is linear.
    code_layer : torch.nn.Module or None, default=None
        Applied to the encoder's last linear output to make the code (e.g.
        :class:`torch.nn.ReLU` or :class:`skae.nn.TopK`); None leaves the
        code linear.
    decoder : {"mirror", "linear"}, default="mirror"
        ``"linear"`` decodes with a single affine map, whose weight columns
        are then the dictionary atoms.
    unit_norm_atoms : bool, default=False
        With a linear decoder, keep its atoms at unit norm
        (:class:`skae.nn.UnitNormLinear`).
    **kwargs
        ``contractive``, ``corruption`` and ``code_penalty``, see
        :class:`Autoencoder`.
    """

    def __init__(self, n_features, n_components, hidden_layer_sizes=(), activation="relu",
                 *, code_layer=None, decoder="mirror", unit_norm_atoms=False, **kwargs):
        hidden = list(hidden_layer_sizes)
        encoder = make_mlp([n_features, *hidden, n_components], activation)
        if isinstance(code_layer, nn.Sequential):
            # Flat, so that a single-layer encoder keeps its closed-form
            # contractive penalty.
            encoder.extend(code_layer)
        elif code_layer is not None:
            encoder.append(code_layer)
        if decoder == "linear":
            from .sparse import UnitNormLinear

            layer = UnitNormLinear if unit_norm_atoms else nn.Linear
            dec = nn.Sequential(layer(n_components, n_features))
        else:
            dec = make_mlp([n_components, *hidden[::-1], n_features], activation)
        super().__init__(encoder, dec, **kwargs)

    def greedy_stages(self, make_linear):
        """The layer pairs of greedy layer-wise pretraining, input side first.

        Stage ``i`` pairs the encoder's ``i``-th layer (with the activation
        that follows it) with the decoder layer that maps back to that
        layer's input. The modules share parameters with this autoencoder,
        so training a stage trains the network. When the decoder does not
        mirror the encoder (a linear decoder), the hidden layers get
        temporary linear decoders from ``make_linear(n_in, n_out)`` and the
        code layer is left to fine-tuning.

        Every stage carries this autoencoder's contractive weight; only the
        stage whose encoder ends in the code carries the code penalty, and
        only the first (on the data) the corruption.

        Returns
        -------
        list of Autoencoder
        """
        enc, dec = _blocks(self.encoder), _blocks(self.decoder)
        mirrored = len(enc) == len(dec)
        stages = []
        for i, block in enumerate(enc):
            last = i == len(enc) - 1
            if mirrored:
                decoder = dec[len(dec) - 1 - i]
            elif last:
                break
            else:
                linear = block[0]
                decoder = nn.Sequential(make_linear(linear.out_features, linear.in_features))
            stage = Autoencoder(
                block,
                decoder,
                contractive=self.contractive,
                corruption=self.corruption if i == 0 else None,
                code_penalty=self.code_penalty if last else None,
            )
            if i == 0 and self.corruption is not None:
                stage.rng = self.rng
            stages.append(stage)
        return stages
