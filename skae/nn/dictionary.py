"""Starting a sparse autoencoder's dictionary at the data."""

import torch
from torch import nn

from .sparse import UnrolledThresholding


def init_dictionary(model, atoms, centre, sample=None):
    """Start a linear decoder at the given atoms, the encoder tied to them.

    ``model`` is an :class:`~skae.nn.MLPAutoencoder` with a linear decoder.
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
        device = model.decoder[-1].weight.device
        atoms = torch.as_tensor(atoms, dtype=torch.float32, device=device)
        centre = atoms.new_tensor(centre)
        model.decoder[-1].weight.copy_(atoms.T)
        if isinstance(model.encoder[0], UnrolledThresholding):
            linear = [model.encoder[0].linear]
        else:
            linear = [layer for layer in model.encoder if isinstance(layer, nn.Linear)]
        if len(linear) != 1:
            return
        linear[0].weight.copy_(atoms)
        linear[0].bias.copy_(-(atoms @ centre))
        if sample is None:
            return
        sample = atoms.new_tensor(sample) - centre
        recon = model.encoder(sample + centre) @ model.atoms()
        norm = float((recon * recon).sum())
        if norm > 0:
            scale = float((recon * sample).sum()) / norm
            if scale > 0:
                linear[0].weight.mul_(scale)
                linear[0].bias.mul_(scale)
