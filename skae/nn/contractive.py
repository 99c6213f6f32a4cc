"""The contractive penalty: the squared Frobenius norm of the encoder's Jacobian."""

import torch
from torch import nn
from torch.func import jacrev, vjp, vmap

from .inputs import CenterScale
from .sparse import TopK


def _activation_slope(layer, pre, out):
    """Derivative of an element-wise activation, from its input and output.

    Returns None for a layer that is not a known element-wise activation.
    """
    if isinstance(layer, nn.Identity):
        return torch.ones_like(out)
    if isinstance(layer, nn.Sigmoid):
        return out * (1 - out)
    if isinstance(layer, nn.Tanh):
        return 1 - out.pow(2)
    if isinstance(layer, nn.ReLU):
        return (pre > 0).to(out.dtype)
    if isinstance(layer, nn.Softshrink):
        return (pre.abs() > layer.lambd).to(out.dtype)
    if isinstance(layer, TopK):
        # Kept units pass their input through unchanged, dropped ones are
        # constant zero: the slope is the mask of kept units.
        return (out != 0).to(out.dtype)
    return None


def _single_layer_parts(encoder):
    """``(linear, activations, centering)`` if ``encoder`` is one affine map
    followed by element-wise activations, perhaps after a :class:`CenterScale`,
    else None."""
    layers = list(encoder) if isinstance(encoder, nn.Sequential) else [encoder]
    centering = None
    if layers and isinstance(layers[0], CenterScale):
        centering, layers = layers[0], layers[1:]
    if not layers or not isinstance(layers[0], nn.Linear):
        return None
    rest = layers[1:]
    probe = torch.zeros(1)
    if any(_activation_slope(a, probe, probe) is None for a in rest):
        return None
    return layers[0], rest, centering


def jacobian_norm_closed_form(linear, activations, x, centering=None):
    """Per-sample ||J||_F^2 of ``activations(linear(centering(x)))``.

    For ``h = s(W x + b)`` with an element-wise ``s`` the Jacobian is
    ``diag(s') W``, so its squared norm is ``sum_j s'_j^2 ||W_j||^2``: one
    matrix-vector product per batch instead of a Jacobian per sample.
    A :class:`CenterScale` in front divides ``W`` by its scale.
    """
    row_norms = linear.weight.pow(2).sum(dim=1)
    if centering is not None:
        x = centering(x)
        row_norms = row_norms / centering.scale.to(x.dtype).pow(2)
    pre = linear(x)
    slope = torch.ones_like(pre)
    for layer in activations:
        out = layer(pre)
        slope = slope * _activation_slope(layer, pre, out)
        pre = out
    return slope.pow(2) @ row_norms


def _jacobian_by_columns(function):
    """``torch.func.jacfwd(function)`` for one sample, without forward mode.

    The pull-back ``u -> J^T u`` of ``function`` is linear, and its own
    pull-back is ``v -> J v``: one pass per input feature, as forward mode
    takes, and as fast on CPU. torch's forward mode would first script
    decompositions with the deprecated ``torch.jit.script``.
    """
    def jacobian(sample):
        out, pull_back = vjp(function, sample)
        _, push_forward = vjp(lambda u: pull_back(u)[0], torch.zeros_like(out))
        basis = torch.eye(sample.shape[0], dtype=sample.dtype, device=sample.device)
        return vmap(lambda v: push_forward(v)[0], out_dims=1)(basis)

    return jacobian


def jacobian_norm_autograd(encoder, x):
    """Per-sample ||J||_F^2 of any encoder, from its exact batched Jacobian.

    The Jacobian of one sample is ``n_components x n_features``. Reverse mode
    builds it one row (code unit) at a time and :func:`_jacobian_by_columns`
    one column (input feature) at a time, so the cheaper way is the one with
    fewer passes: rows for an undercomplete code, columns for an overcomplete
    one. ``vmap`` runs those passes for the whole batch at once
    rather than looping over samples in Python, and the result stays
    differentiable with respect to the encoder's parameters.
    """
    n_features = x.shape[1]
    n_components = encoder(x[:1]).shape[1]
    mode = jacrev if n_components <= n_features else _jacobian_by_columns

    def encode_one(sample):
        return encoder(sample.unsqueeze(0)).squeeze(0)

    jac = vmap(mode(encode_one))(x)
    return jac.pow(2).flatten(1).sum(dim=1)


def contractive_penalty(encoder, x):
    """Batch mean of the squared Frobenius norm of the encoder's Jacobian.

    Computed exactly: in closed form when ``encoder`` is a single linear
    layer followed by element-wise activations (identity, sigmoid, tanh,
    ReLU, soft-thresholding, top-k), by batched automatic differentiation
    otherwise.

    Parameters
    ----------
    encoder : torch.nn.Module
        Maps a batch ``(n, n_features)`` to codes ``(n, n_components)``,
        each sample independently.
    x : torch.Tensor of shape (n, n_features)
        Where the Jacobian is evaluated.

    Returns
    -------
    torch.Tensor
        A scalar, differentiable with respect to the encoder's parameters.
    """
    parts = _single_layer_parts(encoder)
    if parts is not None:
        linear, activations, centering = parts
        per_sample = jacobian_norm_closed_form(linear, activations, x, centering)
    else:
        per_sample = jacobian_norm_autograd(encoder, x)
    return per_sample.mean()
