"""The layer pairs that greedy layer-wise pretraining trains one at a time."""

from torch import nn

from .autoencoder import Autoencoder


def _blocks(sequential):
    """Split a sequential network before each linear layer but the first.

    Layers in front of the first linear one (a :class:`CenterScale`, say)
    belong to the first block: they prepare the input of the first stage.
    """
    blocks = [[]]
    for layer in sequential:
        if isinstance(layer, nn.Linear) and _linear(blocks[-1]) is not None:
            blocks.append([])
        blocks[-1].append(layer)
    return [nn.Sequential(*block) for block in blocks if block]


def _linear(block):
    """The first linear layer of a block, or None."""
    return next((layer for layer in block if isinstance(layer, nn.Linear)), None)


def greedy_stages(model, make_linear):
    """The layer pairs of greedy layer-wise pretraining, input side first.

    Stage ``i`` pairs the encoder's ``i``-th layer (with the activation that
    follows it) with the decoder layer that maps back to that layer's input.
    The stages share parameters with ``model``, so training a stage trains
    the network. When the decoder does not mirror the encoder (a linear
    decoder), the hidden layers get temporary linear decoders from
    ``make_linear(n_in, n_out)`` and the code layer is left to fine-tuning.

    Every stage carries the model's contractive weight; only the stage whose
    encoder ends in the code carries the code penalty.

    Parameters
    ----------
    model : Autoencoder
        A fully connected autoencoder.
    make_linear : callable
        ``make_linear(n_in, n_out)`` returns an initialised linear layer.

    Returns
    -------
    list of Autoencoder
    """
    enc, dec = _blocks(model.encoder), _blocks(model.decoder)
    mirrored = len(enc) == len(dec)
    stages = []
    for i, block in enumerate(enc):
        last = i == len(enc) - 1
        if mirrored:
            decoder = dec[len(dec) - 1 - i]
        elif last:
            break
        else:
            linear = _linear(block)
            decoder = nn.Sequential(make_linear(linear.out_features, linear.in_features))
        stages.append(Autoencoder(
            block,
            decoder,
            contractive=model.contractive,
            code_penalty=model.code_penalty if last else None,
        ))
    return stages
