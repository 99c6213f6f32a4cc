"""What an encoder sees of a row: centring, row normalisation and input dropout.

The likelihood compares the reconstruction with the data as they are, but
the encoder trains better on rescaled rows. :class:`CenterScale` centres
them on the training mean, :class:`RowNormalize` scales counts to unit
norm; both go in front of the encoder (:func:`prepend_to_encoder`) and act
in training and inference alike, while :class:`InputDropout` corrupts
training batches only, as the data pipeline's input noise.
"""

import numpy as np
import torch
from torch import nn


class CenterScale(nn.Module):
    """Subtract the training data's mean and divide by one overall scale.

    Adam moves every weight by about the learning rate, whatever its
    gradient's size, so one step changes a first-layer unit's input by up
    to the learning rate times the row's L1 norm. On data that are all
    non-negative (pixels, counts) that change has the same sign for every
    row, and on wide rows it is large: a few steps at a usual rate push
    a ReLU unit below zero on every row at once, where its gradient is zero
    for good, and once all hidden units are there the codes are constant.
    Centred rows have no such shared component: a step moves rows apart
    instead of all of them together, as PCA works on centred data.

    The scale is a single number, the root mean square of the centred data
    over all features, so the encoder sees values of about unit size while
    the features keep their relative weights (scaling each feature to unit
    variance would magnify nearly constant ones, such as an image's border
    pixels).

    Parameters
    ----------
    n_features : int
        Width of the rows.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from skae.nn import CenterScale
    >>> layer = CenterScale(2)
    >>> layer.start(np.array([1.0, 3.0]), np.array([4.0, 4.0]))
    >>> layer(torch.tensor([[3.0, 3.0]]))
    tensor([[1., 0.]])
    """

    def __init__(self, n_features):
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("scale", torch.ones(()))

    def start(self, mean, variance):
        """Set the centre and the scale from per-feature means and variances."""
        rms = float(np.sqrt(np.mean(np.asarray(variance, dtype=np.float64))))
        with torch.no_grad():
            self.mean.copy_(torch.as_tensor(np.asarray(mean, dtype=np.float64)))
            # Constant data have nothing to scale.
            self.scale.fill_(rms if rms > 0 else 1.0)

    def forward(self, x):
        return (x - self.mean.to(x.dtype)) / self.scale.to(x.dtype)

    def extra_repr(self):
        return f"n_features={self.mean.shape[0]}"

#: Norms :class:`RowNormalize` scales rows by.
ROW_NORMS = ("l1", "l2")


class RowNormalize(nn.Module):
    """Scale each row to unit norm, as :class:`sklearn.preprocessing.Normalizer` does.

    Placed in front of an encoder, it lets the encoder see what a row of
    counts is made of whatever its total: a user with 20 clicks and one
    with 200 on the same kind of items get similar codes. Rows of zeros
    stay zero.

    Parameters
    ----------
    norm : {"l1", "l2"}, default="l2"
        ``"l2"`` divides each row by its Euclidean norm (Liang et al.,
        2018), ``"l1"`` by the sum of its absolute values (for counts, its
        total: the row becomes proportions).

    Examples
    --------
    >>> import torch
    >>> from skae.nn import RowNormalize
    >>> RowNormalize("l2")(torch.tensor([[3.0, 4.0], [0.0, 0.0]]))
    tensor([[0.6000, 0.8000],
            [0.0000, 0.0000]])
    >>> RowNormalize("l1")(torch.tensor([[1.0, 3.0]]))
    tensor([[0.2500, 0.7500]])
    """

    def __init__(self, norm="l2"):
        super().__init__()
        if norm not in ROW_NORMS:
            raise ValueError(f"norm must be one of {ROW_NORMS}, got {norm!r}.")
        self.norm = norm

    def forward(self, x):
        order = 1 if self.norm == "l1" else 2
        scale = torch.linalg.vector_norm(x, ord=order, dim=-1, keepdim=True)
        # Zero rows have nothing to scale; dividing by 1 keeps them zero.
        return x / torch.where(scale > 0, scale, torch.ones_like(scale))

    def extra_repr(self):
        return f"norm={self.norm!r}"


class InputDropout(nn.Module):
    """Zero each value with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    Inverted dropout, as :class:`torch.nn.Dropout`, but drawn from the
    generator passed to ``forward`` (a CPU :class:`torch.Generator`), so that
    a seeded generator gives the same mask on every device. Applied to the
    encoder's input only: the target of the loss stays the clean row.

    Parameters
    ----------
    p : float
        Probability of zeroing a value, in [0, 1).

    Examples
    --------
    >>> import torch
    >>> from skae.nn import InputDropout
    >>> x = torch.ones(2, 6)
    >>> InputDropout(0.5)(x, torch.Generator().manual_seed(0))
    tensor([[0., 2., 0., 0., 0., 2.],
            [0., 2., 0., 2., 0., 0.]])
    """

    def __init__(self, p):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"p must be in [0, 1), got {p!r}.")
        self.p = float(p)

    def forward(self, x, generator=None):
        if self.p == 0:
            return x
        keep = torch.rand(x.shape, generator=generator) >= self.p
        return x * keep.to(x.device, x.dtype) / (1.0 - self.p)

    def extra_repr(self):
        return f"p={self.p}"


def prepend_to_encoder(module, layer):
    """Put ``layer`` in front of an autoencoder's encoder, in place.

    Parameters
    ----------
    module : Autoencoder or GaussianMLPVAE
        Its ``encoder`` (a deterministic autoencoder) or ``trunk`` (a VAE)
        gets ``layer`` as its first step; the decoder, and so the
        likelihood's target, are unchanged.
    layer : torch.nn.Module or None
        None leaves the module as it is.

    Returns
    -------
    module : torch.nn.Module
        The same module.
    """
    if layer is None:
        return module
    for name in ("encoder", "trunk"):
        part = getattr(module, name, None)
        if isinstance(part, nn.Module):
            layers = list(part) if isinstance(part, nn.Sequential) else [part]
            setattr(module, name, nn.Sequential(layer, *layers))
            return module
    raise TypeError(
        f"{type(module).__name__} has neither an 'encoder' nor a 'trunk' to put "
        f"{type(layer).__name__} in front of."
    )


def normalize_encoder_input(module, norm):
    """Put a :class:`RowNormalize` in front of an autoencoder's encoder, in place.

    Parameters
    ----------
    module : Autoencoder or GaussianMLPVAE
        See :func:`prepend_to_encoder`.
    norm : {"l1", "l2"} or None
        None leaves the module as it is.

    Returns
    -------
    module : torch.nn.Module
        The same module.
    """
    return prepend_to_encoder(module, None if norm is None else RowNormalize(norm))
