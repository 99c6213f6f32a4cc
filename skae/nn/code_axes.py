"""Principal code axes: an autoencoder's codes expressed the way PCA expresses its own.

An autoencoder's code is defined only up to an invertible map absorbed by the
decoder: scaling, mixing or shifting the code and undoing it in the decoder's
first layer changes nothing the network computes. Training therefore leaves
the code in an arbitrary basis and scale. :func:`principal_axes` picks the
basis PCA uses: centred codes, measured in the units of the data (a unit
step along any code moves the decoder's mean output by a unit distance, on
average over the data), decorrelated and ordered by decreasing variance. For
a linear autoencoder these are exactly the principal component scores of its
reconstruction.
"""

import torch
from torch import nn

#: Eigenvalues of the decoder's metric below this fraction of the largest
#: are raised to it, so that a code the decoder ignores keeps an invertible map.
_METRIC_FLOOR = 1e-12


class CodeAxes(nn.Module):
    """An invertible affine map of codes, ``z -> (z - mean) @ forward_map``.

    Held as buffers, so that it is saved with the weights and never trained;
    it starts as the identity.

    Parameters
    ----------
    n_components : int
        Width of the code.
    """

    def __init__(self, n_components):
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_components))
        self.register_buffer("forward_map", torch.eye(n_components))
        self.register_buffer("inverse_map", torch.eye(n_components))

    def forward(self, z):
        return (z - self.mean) @ self.forward_map

    def inverse(self, z):
        """Map codes on these axes back to the network's own codes."""
        return z @ self.inverse_map + self.mean

    @torch.no_grad()
    def set(self, mean, forward_map, inverse_map):
        """Replace the map (tensors of any dtype, converted to the buffers')."""
        for buffer, value in ((self.mean, mean), (self.forward_map, forward_map),
                              (self.inverse_map, inverse_map)):
            buffer.copy_(value.to(buffer))


def decoder_metric(decode, codes, *, max_elements=2**22):
    """Mean over ``codes`` of ``J^T J``, J the Jacobian of ``decode`` at each code.

    Each column ``J^T J e_j`` is a product ``J e_j`` pulled back by a
    reverse-mode one, so no Jacobian is ever held whole: memory stays at
    ``max_elements`` output values, however wide the output.

    Parameters
    ----------
    decode : callable
        Maps a batch of codes (n, k) to a batch of outputs (n, d).
    codes : torch.Tensor of shape (n, k)
    max_elements : int, default=2**22
        Most output values held at once: rows and code directions are taken
        in chunks that fit.

    Returns
    -------
    torch.Tensor of shape (k, k), float64
    """
    n, k = codes.shape
    with torch.no_grad():
        width = decode(codes[:1]).shape[1]
    rows = max(1, min(n, max_elements // width))
    directions = max(1, min(k, max_elements // (rows * width)))
    metric = torch.zeros(k, k, dtype=torch.float64, device=codes.device)
    basis = torch.eye(k, dtype=codes.dtype, device=codes.device)
    for start in range(0, n, rows):
        chunk = codes[start:start + rows]
        outputs, pull_back = torch.func.vjp(decode, chunk)
        # J v by reverse mode too: the pull-back u -> J^T u is linear, and its
        # own pull-back is v -> J v. torch's forward mode (torch.func.jvp)
        # would cost as much, but its first use scripts decompositions with
        # torch.jit.script, deprecated: a score of warnings in each process.
        _, push_forward = torch.func.vjp(lambda u, pull_back=pull_back: pull_back(u)[0],
                                         torch.zeros_like(outputs))
        for first in range(0, k, directions):
            tangents = basis[first:first + directions, None, :].expand(-1, len(chunk), k)
            (pushed,) = torch.func.vmap(push_forward)(tangents)  # (directions, rows, width)
            (pulled,) = torch.func.vmap(pull_back)(pushed)  # (directions, rows, k)
            metric[:, first:first + directions] += pulled.detach().double().sum(1).T
    metric = (metric + metric.T) / 2
    return metric / n


def principal_axes(codes, metric):
    """The mean and the maps of :class:`CodeAxes` that put codes on principal axes.

    Parameters
    ----------
    codes : torch.Tensor of shape (n, k)
        The network's own codes of the training data (or a sample of it).
    metric : torch.Tensor of shape (k, k)
        The decoder's metric (:func:`decoder_metric`).

    Returns
    -------
    mean, forward_map, inverse_map : torch.Tensor, float64
        New codes are ``(codes - mean) @ forward_map``.
    """
    codes = codes.double()
    eigenvalues, eigenvectors = torch.linalg.eigh(metric.double())
    largest = eigenvalues.max().item()
    if not largest > 0:
        # A decoder that ignores its codes (all of them dead) has no metric
        # to measure them in: keep the network's own units, whose maps stay
        # finite, rather than divide by a metric of zero.
        eigenvalues = torch.ones_like(eigenvalues)
    eigenvalues = eigenvalues.clamp_min(_METRIC_FLOOR * max(largest, 0.0)
                                        + torch.finfo(torch.float64).tiny)
    # L with L @ L.T == metric: codes times L have a decoder of unit metric.
    root = eigenvectors * eigenvalues.sqrt()
    root_inverse = (eigenvectors / eigenvalues.sqrt()).T
    mean = codes.mean(0)
    scaled = (codes - mean) @ root
    covariance = scaled.T @ scaled / max(len(codes) - 1, 1)
    _, rotation = torch.linalg.eigh(covariance)
    rotation = rotation.flip(1)  # decreasing variance
    # A sign for each axis that does not depend on the solver: the largest
    # entry of each rotation column is positive (scikit-learn's svd_flip rule).
    signs = torch.sign(rotation.gather(0, rotation.abs().argmax(0, keepdim=True)))
    rotation = rotation * signs
    return mean, root @ rotation, rotation.T @ root_inverse
