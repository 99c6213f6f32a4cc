"""Building blocks of sparse autoencoders: sparsifying code layers,
sparsity penalties and a unit-norm dictionary."""

from torch import nn
from torch.nn import functional as F

from ..losses import kl_sparsity, l1_sparsity


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
        kth = h.abs().topk(self.k, dim=-1).values[..., -1:]
        return h * (h.abs() >= kth)

    def extra_repr(self):
        return f"k={self.k}"


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
