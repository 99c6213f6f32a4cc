"""Convolutional autoencoders for images given as flat rows."""

import math

import torch
from torch import nn

from .autoencoder import Autoencoder
from .mlp import ACTIVATIONS


class PixelBias(nn.Module):
    """Add a learned offset to every feature of a flat batch.

    Transposed convolutions share one bias per channel; the last layer of a
    convolutional decoder needs one per pixel to start at the mean image.
    """

    def __init__(self, n_features):
        super().__init__()
        self.bias = nn.Parameter(torch.empty(n_features))

    def after_reset(self):
        """Start at zero, after a generic re-initialisation of the weights."""
        with torch.no_grad():
            self.bias.zero_()

    def forward(self, x):
        return x + self.bias


def _halved(size, n_layers):
    """Spatial sizes after each of ``n_layers`` stride-2 convolutions."""
    sizes = [size]
    for _ in range(n_layers):
        sizes.append(math.ceil(sizes[-1] / 2))
    return sizes


def _image_shape(image_shape):
    shape = tuple(int(s) for s in image_shape)
    return (1, *shape) if len(shape) == 2 else shape


def conv_encoder(image_shape, channels=(32, 64), activation="relu"):
    """Flat rows -> images -> stride-2 3x3 convolutions -> flat feature maps.

    Parameters
    ----------
    image_shape : tuple of int
        ``(height, width)`` or ``(channels, height, width)``.
    channels : sequence of int, default=(32, 64)
        Feature maps of each convolution, input side first.
    activation : str, default="relu"
        Activation after each convolution (see :data:`skae.nn.ACTIVATIONS`).

    Returns
    -------
    encoder : torch.nn.Sequential
    width : int
        Number of values per sample it outputs.
    """
    depth, height, width = _image_shape(image_shape)
    channels = [int(c) for c in channels]
    act = ACTIVATIONS[activation]
    layers = [nn.Unflatten(1, (depth, height, width))]
    for c_in, c_out in zip([depth, *channels], channels, strict=False):
        layers += [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), act()]
    layers.append(nn.Flatten())
    heights, widths = _halved(height, len(channels)), _halved(width, len(channels))
    return nn.Sequential(*layers), (channels[-1] if channels else depth) * heights[-1] * widths[-1]


def conv_decoder(image_shape, n_components, channels=(32, 64), activation="relu"):
    """Codes -> linear -> stride-2 3x3 transposed convolutions -> flat images.

    Mirrors :func:`conv_encoder` with the same ``channels``: the output has
    exactly ``image_shape`` (flattened), and ends with a per-pixel offset
    (:class:`PixelBias`). The output is linear.

    Returns
    -------
    torch.nn.Sequential
    """
    depth, height, width = _image_shape(image_shape)
    channels = [int(c) for c in channels]
    act = ACTIVATIONS[activation]
    heights, widths = _halved(height, len(channels)), _halved(width, len(channels))
    maps = [depth, *channels]
    layers = [nn.Linear(n_components, maps[-1] * heights[-1] * widths[-1])]
    if channels:
        layers += [act(), nn.Unflatten(1, (maps[-1], heights[-1], widths[-1]))]
    for i in range(len(channels), 0, -1):
        # A stride-2 transposed convolution of a 3x3 kernel with padding 1
        # gives 2 * size - 1 pixels; one more restores an even size.
        padding = (heights[i - 1] - (2 * heights[i] - 1), widths[i - 1] - (2 * widths[i] - 1))
        last = i == 1
        layers.append(nn.ConvTranspose2d(maps[i], maps[i - 1], 3, stride=2, padding=1,
                                         output_padding=padding, bias=not last))
        if not last:
            layers.append(act())
    layers += [nn.Flatten(), PixelBias(depth * height * width)]
    return nn.Sequential(*layers)


class ConvAutoencoder(Autoencoder):
    """A convolutional encoder and a transposed-convolutional decoder.

    Rows are images flattened in (channels, height, width) order, as
    ``images.reshape(n, -1)`` gives. Each encoder layer is a 3x3 convolution
    with stride 2 (halving height and width) and the hidden activation; a
    linear layer maps the last feature maps to the code. The decoder mirrors
    this with a linear layer and 3x3 transposed convolutions of stride 2,
    sized so that the output has the input's shape exactly, and ends with a
    per-pixel offset. The code and the output are linear.

    Parameters
    ----------
    image_shape : tuple of int
        ``(height, width)`` or ``(channels, height, width)``.
    n_components : int
        Width of the code.
    channels : sequence of int, default=(32, 64)
        Feature maps of each convolutional layer, input side first; empty
        gives a linear encoder and decoder.
    activation : str, default="relu"
        Hidden activation (see :data:`skae.nn.ACTIVATIONS`).
    **kwargs
        ``contractive`` and ``code_penalty``, see
        :class:`Autoencoder`.
    """

    def __init__(self, image_shape, n_components, channels=(32, 64), activation="relu",
                 **kwargs):
        encoder, width = conv_encoder(image_shape, channels, activation)
        encoder.append(nn.Linear(width, n_components))
        decoder = conv_decoder(image_shape, n_components, channels, activation)
        super().__init__(encoder, decoder, **kwargs)
        self.image_shape = _image_shape(image_shape)
