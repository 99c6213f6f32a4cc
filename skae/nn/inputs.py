"""What an encoder sees of a row: row normalisation and input dropout.

Count data (clicks, words) reach the likelihood as they are, but the
encoder reads them better scaled: :class:`RowNormalize` goes in front of
the encoder (:func:`normalize_encoder_input`) and acts in training and
inference alike, while :class:`InputDropout` corrupts training batches
only, as the data pipeline's input noise.
"""

import torch
from torch import nn

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


def normalize_encoder_input(module, norm):
    """Put a :class:`RowNormalize` in front of an autoencoder's encoder, in place.

    Parameters
    ----------
    module : Autoencoder or GaussianMLPVAE
        Its ``encoder`` (a deterministic autoencoder) or ``trunk`` (a VAE)
        gets the normalisation as its first step; the decoder, and so the
        likelihood's target, are unchanged.
    norm : {"l1", "l2"} or None
        None leaves the module as it is.

    Returns
    -------
    module : torch.nn.Module
        The same module.
    """
    if norm is None:
        return module
    for name in ("encoder", "trunk"):
        part = getattr(module, name, None)
        if isinstance(part, nn.Module):
            layers = list(part) if isinstance(part, nn.Sequential) else [part]
            setattr(module, name, nn.Sequential(RowNormalize(norm), *layers))
            return module
    raise TypeError(
        f"{type(module).__name__} has neither an 'encoder' nor a 'trunk' to normalise "
        "the input of."
    )
