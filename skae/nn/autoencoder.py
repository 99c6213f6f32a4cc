"""Deterministic multi-layer perceptron autoencoders."""

import torch
from torch import nn

from .contractive import contractive_penalty
from .least_squares import least_squares_codes
from .mlp import make_mlp
from .sparse import UnitNormLinear, UnrolledThresholding


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
        code = self.encode(x)
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
    encoder_steps : int, default=1
        With more than one step, the encoder is an
        :class:`skae.nn.UnrolledThresholding` of that many steps around the
        ``code_layer``; needs a ``code_layer`` and no hidden layers.
    refit_codes : bool, default=False
        With a linear decoder, in evaluation mode, re-solve each sample's
        non-zero codes by least squares against the atoms
        (:func:`skae.nn.least_squares_codes`). Training is unaffected.
    **kwargs
        ``contractive``, ``corruption`` and ``code_penalty``, see
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

    def encode(self, x):
        code = self.encoder(x)
        if self.refit_codes and not self.training:
            code = least_squares_codes(x, code, self.atoms(), self.decoder[-1].bias)
        return code

    def init_dictionary(self, atoms, centre, sample=None):
        """Start a linear decoder at the given atoms, the encoder tied to them.

        The decoder's weight becomes ``atoms`` (one per row); its bias is left
        as it is. When the encoder is a single affine map, it starts as the
        transposed dictionary applied to ``x - centre``: each code is then the
        correlation of the centred sample with an atom, the first step of
        matching pursuit, so every atom is chosen, from the first batch on,
        by the samples that resemble it. Given a ``sample`` of rows, the
        tied encoder is then scaled by the one factor that best reconstructs
        them: correlated atoms would otherwise each claim the same part of a
        sample, and the first reconstructions overshoot.
        """
        with torch.no_grad():
            device = self.decoder[-1].weight.device
            atoms = torch.as_tensor(atoms, dtype=torch.float32, device=device)
            centre = atoms.new_tensor(centre)
            self.decoder[-1].weight.copy_(atoms.T)
            if isinstance(self.encoder[0], UnrolledThresholding):
                linear = [self.encoder[0].linear]
            else:
                linear = [layer for layer in self.encoder if isinstance(layer, nn.Linear)]
            if len(linear) != 1:
                return
            linear[0].weight.copy_(atoms)
            linear[0].bias.copy_(-(atoms @ centre))
            if sample is None:
                return
            sample = atoms.new_tensor(sample) - centre
            recon = self.encoder(sample + centre) @ self.atoms()
            norm = float((recon * recon).sum())
            if norm > 0:
                scale = float((recon * sample).sum()) / norm
                if scale > 0:
                    linear[0].weight.mul_(scale)
                    linear[0].bias.mul_(scale)

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
