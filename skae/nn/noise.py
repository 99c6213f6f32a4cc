"""Input corruption for denoising autoencoders."""

import torch
from torch import nn

#: Kinds of corruption :class:`Corruption` applies.
NOISE_KINDS = ("gaussian", "masking", "salt_pepper")


class Corruption(nn.Module):
    """Corrupt a batch with noise drawn from a given generator.

    Parameters
    ----------
    kind : {"gaussian", "masking", "salt_pepper"}
        ``"gaussian"`` adds ``N(0, level^2)`` noise to every value;
        ``"masking"`` sets each value to 0 with probability ``level``;
        ``"salt_pepper"`` sets each value, with probability ``level``, to
        its feature's minimum or maximum (``low`` / ``high``), each with
        probability one half.
    level : float
        Standard deviation (``"gaussian"``, in data units) or fraction of
        corrupted values (``"masking"``, ``"salt_pepper"``).
    n_features : int
        Width of the input, the size of the ``low`` and ``high`` buffers.

    Notes
    -----
    Noise is drawn on the CPU from the generator passed to ``forward`` and
    then moved to the batch's device, so that a seeded generator gives the
    same corruption on every device.
    """

    def __init__(self, kind, level, n_features):
        super().__init__()
        if kind not in NOISE_KINDS:
            raise ValueError(f"kind must be one of {NOISE_KINDS}, got {kind!r}.")
        self.kind = kind
        self.level = float(level)
        self.register_buffer("low", torch.zeros(n_features))
        self.register_buffer("high", torch.ones(n_features))

    def set_range(self, low, high):
        """Values salt-and-pepper noise writes: per-feature minimum and maximum."""
        with torch.no_grad():
            self.low.copy_(torch.as_tensor(low, dtype=self.low.dtype))
            self.high.copy_(torch.as_tensor(high, dtype=self.high.dtype))

    def forward(self, x, generator):
        if self.level == 0:
            return x
        shape = x.shape
        if self.kind == "gaussian":
            noise = torch.randn(shape, generator=generator).to(x.device, x.dtype)
            return x + self.level * noise
        hit = torch.rand(shape, generator=generator) < self.level
        if self.kind == "masking":
            return x * (~hit).to(x.device, x.dtype)
        salt = torch.rand(shape, generator=generator) < 0.5
        hit, salt = hit.to(x.device), salt.to(x.device)
        replacement = torch.where(salt, self.high.to(x.device, x.dtype),
                                  self.low.to(x.device, x.dtype))
        return torch.where(hit, replacement, x)

    def extra_repr(self):
        return f"kind={self.kind!r}, level={self.level}"


class DynamicBinarization(nn.Module):
    """Replace values in [0, 1] by Bernoulli draws with those probabilities.

    Each value ``p`` becomes 1 with probability ``p`` and 0 otherwise, with
    fresh draws on every call: grey-level images become a new binary image
    each time (dynamic binarisation, as in Salakhutdinov & Murray, 2008,
    and Burda et al., 2015). The uniform draws are made on the CPU from the
    generator passed to ``forward`` and then moved to the batch's device, so
    that a seeded generator gives the same draws on every device.

    Examples
    --------
    >>> import torch
    >>> from skae.nn import DynamicBinarization
    >>> DynamicBinarization()(torch.tensor([[0.0, 0.5, 1.0]]),
    ...                       torch.Generator().manual_seed(0))
    tensor([[0., 0., 1.]])
    """

    def forward(self, x, generator=None):
        uniform = torch.rand(x.shape, generator=generator).to(x.device, x.dtype)
        return (uniform < x).to(x.dtype)
