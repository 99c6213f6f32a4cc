"""Building blocks of sparse autoencoders: sparsifying code layers,
sparsity penalties and a unit-norm dictionary."""

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ._numpy_view import numpy_view
from .functional import kl_sparsity, l1_sparsity


def _top_k_without_grad(h, k):
    """``h`` with all but the k largest magnitudes of each row zeroed, or None.

    On the CPU, numpy's introselect finds the k-th largest magnitude several
    times faster than ``torch.topk``, and numpy's elementwise masking of a
    small array costs less than torch's. None where :func:`numpy_view`
    refuses the tensor, or for a tensor that is not a matrix: the caller
    then takes its torch path.
    """
    values = numpy_view(h) if h.dim() == 2 else None
    if values is None:
        return None
    magnitude = np.abs(values)
    position = values.shape[1] - k
    # Non-negative IEEE floats order as their bit patterns read as signed
    # integers, and numpy selects among integers about twice as fast.
    as_integers = magnitude.view(np.dtype(f"i{magnitude.itemsize}"))
    kth = np.partition(as_integers, position, axis=1)[:, position : position + 1]
    return torch.from_numpy(values * (magnitude >= kth.view(magnitude.dtype)))


class TopK(nn.Module):
    """Keep the ``k`` entries of largest magnitude in each row; zero the rest.

    The dropped entries are exactly 0. Kept entries pass through unchanged,
    so gradients flow to the ``k`` selected units only.

    Parameters
    ----------
    k : int
        Number of entries kept per row.
    """

    def __init__(self, k):
        super().__init__()
        self.k = int(k)

    def forward(self, h):
        # A threshold at the k-th magnitude rather than a scatter keeps the
        # layer usable under torch.func transforms (the contractive penalty).
        kept = _top_k_without_grad(h, self.k)
        if kept is not None:
            return kept
        magnitude = h.abs()
        # Unsorted top-k is the faster kernel; its minimum is the k-th value.
        kth = magnitude.topk(self.k, dim=-1, sorted=False).values.amin(dim=-1, keepdim=True)
        return h * (magnitude >= kth)

    def extra_repr(self):
        return f"k={self.k}"


class UnrolledThresholding(nn.Module):
    """An encoder that refines its sparse code over a few unrolled steps.

    Step 1 is the one-pass encoder ``h = T(W x + c)``, with ``T`` the
    sparsifying code layer (top-k, soft threshold, ...). Each further step
    feeds the code back, ``h = T(W x + c + S h)``, with a learned
    ``n_components x n_components`` matrix ``S``. This is the shape of
    iterative thresholding algorithms for sparse coding (ISTA, iterative
    hard thresholding: ``S = I - D D^T`` up to a step size) with the
    matrices learned, as in LISTA (Gregor & LeCun, 2010): atoms that
    explain the same part of the sample inhibit each other, which one pass
    cannot do.

    ``S`` starts at zero, so training starts from the one-pass encoder.

    Parameters
    ----------
    linear : torch.nn.Linear
        The input map ``x -> W x + c``.
    code_layer : torch.nn.Module
        The sparsifying non-linearity ``T``.
    steps : int
        Number of steps, at least 1.
    """

    def __init__(self, linear, code_layer, steps):
        super().__init__()
        self.linear = linear
        self.code_layer = code_layer
        self.feedback = nn.Linear(linear.out_features, linear.out_features, bias=False)
        self.steps = int(steps)

    def after_reset(self):
        """Zero the feedback, after a generic re-initialisation of the weights."""
        with torch.no_grad():
            self.feedback.weight.zero_()

    def forward(self, x):
        drive = self.linear(x)
        code = self.code_layer(drive)
        for _ in range(self.steps - 1):
            code = self.code_layer(drive + self.feedback(code))
        return code

    def extra_repr(self):
        return f"steps={self.steps}"


class UnitNormLinear(nn.Linear):
    """A linear layer whose weight columns are rescaled to unit norm.

    As a decoder ``z -> z @ D + b`` it keeps every dictionary atom (a row of
    ``D``, a column of ``weight``) at unit length, so an L1 penalty on the
    code cannot be lowered by shrinking the codes and growing the atoms.
    """

    def normalized_weight(self):
        return F.normalize(self.weight, dim=0, eps=1e-12)

    def forward(self, z):
        return F.linear(z, self.normalized_weight(), self.bias)


class SparsityPenalty(nn.Module):
    """A sparsity penalty on a batch of codes.

    Parameters
    ----------
    kind : {"l1", "kl"}
        ``"l1"``: ``weight * mean(|h|)`` over samples and units.
        ``"kl"``: ``weight * sum_j KL(rho || mean_i h_ij)``, the Bernoulli KL
        divergence between the target rate ``rho`` and each unit's mean
        activation over the batch; codes must lie in (0, 1).
    weight : float
        Multiplier of the penalty.
    rho : float, default=0.05
        Target mean activation, for ``"kl"``.
    """

    def __init__(self, kind, weight, rho=0.05):
        super().__init__()
        self.kind = kind
        self.weight = float(weight)
        self.rho = float(rho)

    def forward(self, code):
        if self.kind == "l1":
            return self.weight * l1_sparsity(code)
        return self.weight * kl_sparsity(code, self.rho)

    def extra_repr(self):
        return f"kind={self.kind!r}, weight={self.weight}, rho={self.rho}"
