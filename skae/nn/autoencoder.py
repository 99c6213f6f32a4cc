"""Deterministic autoencoders: an encoder, a decoder and optional penalties."""

import torch
from torch import nn

from .contractive import contractive_penalty
from .least_squares import least_squares_codes
from .mlp import make_mlp
from .sparse import TopK, UnitNormLinear, UnrolledThresholding


class Autoencoder(nn.Module):
    """An encoder and a decoder, with optional penalties.

    Parameters
    ----------
    encoder, decoder : torch.nn.Module
        Map inputs to codes and codes to the decoder's raw output.
    contractive : float, default=0.0
        Weight of the contractive penalty, the batch mean of
        ``||d code / d x||_F^2`` (see :func:`skae.nn.contractive_penalty`).
    code_penalty : torch.nn.Module or None, default=None
        Maps a batch of codes to a scalar added to the loss.
    code_axes : CodeAxes or None, default=None
        An invertible map applied by :meth:`encode` and undone by
        :meth:`decode` (see :mod:`skae.nn.code_axes`); training, the
        penalties and the reconstruction never see it.

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

    def __init__(self, encoder, decoder, *, contractive=0.0, code_penalty=None,
                 code_axes=None):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.contractive = float(contractive)
        self.code_penalty = code_penalty
        self.code_axes = code_axes

    def set_output_bias(self, bias):
        """Start the decoder at a given output, e.g. the data mean.

        With the decoder's output bias at the data mean, training starts from
        the mean reconstruction (PCA's starting point) instead of spending
        its first epochs learning the mean.
        """
        with torch.no_grad():
            last = self.decoder[-1]
            last.bias.copy_(torch.as_tensor(bias, device=last.bias.device))

    def raw_code(self, x):
        """The network's own code of ``x``, before any :class:`CodeAxes`."""
        return self.encoder(x)

    def encode(self, x):
        """Map inputs to codes."""
        code = self.raw_code(x)
        return code if self.code_axes is None else self.code_axes(code)

    def decode(self, z):
        """Map codes (as :meth:`encode` returns them) to the decoder's raw output."""
        return self.decoder(z if self.code_axes is None else self.code_axes.inverse(z))

    def forward(self, x, generator=None):
        # ``generator`` is accepted for a uniform call signature: every
        # module is called with the estimator's generator while training,
        # and this one draws nothing.
        code = self.raw_code(x)
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
    encoder_steps : int, default=1
        With more than one step, the encoder is an
        :class:`skae.nn.UnrolledThresholding` of that many steps around the
        ``code_layer``; needs a ``code_layer`` and no hidden layers.
    refit_codes : bool, default=False
        With a linear decoder, in evaluation mode, re-solve each sample's
        non-zero codes by least squares against the atoms
        (:func:`skae.nn.least_squares_codes`). Training is unaffected.
    **kwargs
        ``contractive`` and ``code_penalty``, see
        :class:`Autoencoder`.
    """

    def __init__(self, n_features, n_components, hidden_layer_sizes=(), activation="relu",
                 *, code_layer=None, decoder="mirror", unit_norm_atoms=False,
                 encoder_steps=1, refit_codes=False, **kwargs):
        if refit_codes and decoder != "linear":
            raise ValueError("refit_codes needs a linear decoder, whose atoms the codes fit.")
        hidden = list(hidden_layer_sizes)
        encoder = make_mlp([n_features, *hidden, n_components], activation)
        if encoder_steps > 1:
            if hidden or code_layer is None:
                raise ValueError(
                    "encoder_steps > 1 needs a single-layer encoder and a code layer."
                )
            encoder = nn.Sequential(UnrolledThresholding(encoder[0], code_layer, encoder_steps))
        elif isinstance(code_layer, nn.Sequential):
            # Flat, so that a single-layer encoder keeps its closed-form
            # contractive penalty.
            encoder.extend(code_layer)
        elif code_layer is not None:
            encoder.append(code_layer)
        if decoder == "linear":
            layer = UnitNormLinear if unit_norm_atoms else nn.Linear
            dec = nn.Sequential(layer(n_components, n_features))
        else:
            dec = make_mlp([n_components, *hidden[::-1], n_features], activation)
        super().__init__(encoder, dec, **kwargs)
        self.refit_codes = bool(refit_codes)

    def atoms(self):
        """The linear decoder's atoms, shape (n_components, n_features)."""
        layer = self.decoder[-1]
        normalized = getattr(layer, "normalized_weight", None)
        return (layer.weight if normalized is None else normalized()).T

    def support_width(self):
        """Most non-zeros of a code (the k of a :class:`TopK` code layer), or None."""
        return next((m.k for m in self.encoder.modules() if isinstance(m, TopK)), None)

    def raw_code(self, x):
        code = self.encoder(x)
        if self.refit_codes and not self.training:
            code = least_squares_codes(x, code, self.atoms(), self.decoder[-1].bias,
                                       support_width=self.support_width())
        return code
