"""Least-squares codes on a given support, the last step of orthogonal
matching pursuit, solved for many rows at once."""

import numpy as np
import torch

from ._numpy_view import numpy_view

#: Widest support solved by the vectorised Cholesky below. Its Python loop
#: runs a few numpy calls per support slot; past this width torch's batched
#: LAPACK solve is as fast.
_MAX_VECTORISED_WIDTH = 32

# torch.compiler.is_exporting appeared in torch 2.5; before it nothing exports.
_is_exporting = getattr(torch.compiler, "is_exporting", lambda: False)


def least_squares_codes(x, code, atoms, bias, *, support_width=None):
    """Replace each row's non-zero codes by their least-squares values.

    For every row, the atoms whose codes are non-zero (the support) are kept
    and the codes on them are re-solved so that ``code @ atoms + bias`` is as
    close as possible to ``x`` in squared error; codes off the support stay
    exactly 0. This is the last step of orthogonal matching pursuit, applied
    to the support an encoder chose in one pass.

    Parameters
    ----------
    x : torch.Tensor of shape (n, n_features)
        The rows being coded.
    code : torch.Tensor of shape (n, n_atoms)
        Sparse codes; their non-zero pattern is the support.
    atoms : torch.Tensor of shape (n_atoms, n_features)
        The dictionary, one atom per row.
    bias : torch.Tensor of shape (n_features,)
        Offset added to every reconstruction.
    support_width : int, default=None
        Most non-zeros a row's code can have (the k of top-k codes), when
        known. Only read while the computation is exported
        (``torch.compiler.is_exporting()``): the supports then have this
        fixed width and the solve is written with plain tensor operations,
        which trace to a graph whose shape does not depend on the data.

    Returns
    -------
    torch.Tensor of shape (n, n_atoms)

    Notes
    -----
    Each row's normal equations ``G_S c = D_S (x - bias)`` are read off the
    dictionary's full Gram matrix ``D D^T`` rather than formed from the
    atoms. A ridge at the scale of rounding error keeps them solvable when
    two chosen atoms are parallel. On the CPU without gradients, the rows are
    solved together by a Cholesky factorisation written column by column
    over the whole batch, which is several times faster than one LAPACK
    call per row for the small supports of sparse codes.

    Examples
    --------
    >>> import torch
    >>> from skae.nn import least_squares_codes
    >>> atoms = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.6, 0.8, 0.0]])
    >>> x = torch.tensor([[4.0, 4.0, 0.0]])
    >>> code = torch.tensor([[0.2, 0.0, 0.9]])  # the support: atoms 0 and 2
    >>> least_squares_codes(x, code, atoms, torch.zeros(3)).round(decimals=4)
    tensor([[1., 0., 5.]])
    """
    if _is_exporting():
        return _traceable_codes(x, code, atoms, bias, support_width)
    support, kept = _supports(code)
    if support is None:
        return code
    full_gram = atoms @ atoms.T
    target = ((x - bias) @ atoms.T).gather(1, support)
    # A ridge at the scale of rounding error keeps the solve defined when
    # two chosen atoms are parallel, without moving well-posed solutions.
    finfo = torch.finfo(full_gram.dtype)
    ridge = 10 * finfo.eps * max(float(full_gram.detach().diagonal().mean()), finfo.tiny)
    values = _solve_vectorised(full_gram, support, kept, target, ridge)
    if values is None:
        values = _solve_batched(full_gram, support, kept, target, ridge)
    return torch.zeros_like(code).scatter(1, support, values)


def _traceable_codes(x, code, atoms, bias, support_width):
    """:func:`least_squares_codes` as a graph of fixed shape, for export.

    Each row's support is its ``support_width`` largest magnitudes, with
    the zero ones masked out; the systems are solved by
    :func:`_unrolled_cholesky_solve`.
    """
    if support_width is None:
        raise ValueError(
            "Least-squares refits of codes whose rows have different numbers of "
            "non-zeros cannot be exported: the graph's shape would depend on the "
            "data. Refits of top-k codes can be."
        )
    full_gram = atoms @ atoms.T
    magnitude, support = code.abs().topk(support_width, dim=1)
    kept = (magnitude > 0).to(code.dtype)
    target = ((x - bias) @ atoms.T).gather(1, support) * kept
    n_atoms = full_gram.shape[0]
    gram = full_gram.take(support.unsqueeze(-1) * n_atoms + support.unsqueeze(-2))
    # Padded slots: a unit diagonal and no coupling, so they solve to 0.
    gram = gram * kept.unsqueeze(-1) * kept.unsqueeze(-2) + torch.diag_embed(1 - kept)
    finfo = torch.finfo(full_gram.dtype)
    ridge = 10 * finfo.eps * full_gram.diagonal().mean().clamp(min=finfo.tiny)
    values = _unrolled_cholesky_solve(gram, target, ridge)
    return torch.zeros_like(code).scatter(1, support, values)


def _unrolled_cholesky_solve(gram, rhs, ridge):
    """Solve ``gram c = rhs`` for a batch of small SPD systems, one slot at a time.

    The same factorisation as :func:`_cholesky_solve` (pivots raised by
    ``ridge``), with the loops over the ``width`` slots in Python and each
    step a tensor operation over the batch, so that it traces to plain
    graph operations (ONNX has no linear solver).

    Parameters
    ----------
    gram : torch.Tensor of shape (n, width, width)
    rhs : torch.Tensor of shape (n, width)
    ridge : torch.Tensor of shape ()

    Returns
    -------
    torch.Tensor of shape (n, width)
    """
    width = gram.shape[-1]
    slots = torch.arange(width, device=gram.device)
    columns = []  # columns[j][:, i] is the factor's entry (i, j), zero above j
    for j in range(width):
        column = gram[:, :, j]
        if columns:
            done = torch.stack(columns, dim=2)
            column = column - (done * done[:, j : j + 1, :]).sum(dim=2)
        pivot = torch.sqrt(torch.maximum(column[:, j] + ridge, ridge)).unsqueeze(1)
        below = (slots > j).to(gram.dtype)
        column = column / pivot * below + pivot * (slots == j).to(gram.dtype)
        columns.append(column)
    lower = torch.stack(columns, dim=2)
    forward = []
    for i in range(width):
        value = rhs[:, i]
        if forward:
            value = value - (lower[:, i, :i] * torch.stack(forward, dim=1)).sum(dim=1)
        forward.append(value / lower[:, i, i])
    solution = [None] * width
    for i in reversed(range(width)):
        value = forward[i]
        if i + 1 < width:
            later = torch.stack(solution[i + 1 :], dim=1)
            value = value - (lower[:, i + 1 :, i] * later).sum(dim=1)
        solution[i] = value / lower[:, i, i]
    return torch.stack(solution, dim=1)


def _supports(code):
    """Each row's support as column indices, padded to the widest row.

    Returns ``(support, kept)``: ``support`` of shape (n, width) and ``kept``,
    None when every row has ``width`` non-zeros (as top-k codes have), else
    a 0/1 mask of the real (non-padding) slots. ``(None, None)`` when every
    code is 0.
    """
    if code.numel() == 0:
        return None, None
    support = _uniform_support_without_grad(code)
    if support is not None:
        return support, None
    nonzero = code != 0
    counts = nonzero.sum(dim=1)
    width = int(counts.max())
    if width == 0:
        return None, None
    if bool((counts == width).all()):
        # Column indices of the non-zeros, row by row, are the supports.
        return nonzero.nonzero()[:, 1].view(-1, width), None
    magnitude, support = code.abs().topk(width, dim=1)
    return support, (magnitude > 0).to(code.dtype)


def _uniform_support_without_grad(code):
    """The supports by numpy when every row has as many non-zeros, or None.

    numpy lists the non-zeros of a CPU array several times faster than
    ``torch.nonzero``. None where :func:`numpy_view` refuses the tensor, and
    for codes whose rows differ in their number of non-zeros.
    """
    values = numpy_view(code)
    if values is None:
        return None
    n, n_atoms = values.shape
    flat = np.flatnonzero(values != 0)
    if flat.size == 0 or flat.size % n:
        return None
    first = np.arange(0, n * n_atoms, n_atoms)[:, None]
    support = flat.reshape(n, -1) - first
    # Flat positions run row by row; every row holds as many iff all of
    # them fall inside their own row.
    if support[:, 0].min() < 0 or support[:, -1].max() >= n_atoms:
        return None
    return torch.from_numpy(support)


def _solve_batched(full_gram, support, kept, target, ridge):
    """Solve every row's normal equations with torch's batched solver."""
    n_atoms = full_gram.shape[0]
    gram = full_gram.take(support.unsqueeze(-1) * n_atoms + support.unsqueeze(-2))
    diagonal = torch.full(support.shape, ridge, dtype=gram.dtype, device=gram.device)
    if kept is not None:
        # Padded slots get a unit diagonal and a zero right-hand side, so
        # they solve to 0 without touching the real ones.
        gram = gram * kept.unsqueeze(-1) * kept.unsqueeze(-2)
        diagonal = diagonal + (1 - kept)
        target = target * kept
    gram = gram + torch.diag_embed(diagonal)
    return torch.linalg.solve_ex(gram, target)[0]


def _solve_vectorised(full_gram, support, kept, target, ridge):
    """Solve every row's normal equations by one Cholesky over the batch.

    Works with the batch as the last axis, so that each step of the
    factorisation is one numpy operation over all rows. Returns None where
    it does not apply: supports wider than ``_MAX_VECTORISED_WIDTH``, and
    tensors :func:`numpy_view` refuses.
    """
    if support.shape[1] > _MAX_VECTORISED_WIDTH:
        return None
    arrays = [numpy_view(t) for t in (full_gram, support, target)]
    if any(a is None for a in arrays):
        return None
    gram, columns, rhs = arrays[0].ravel(), np.ascontiguousarray(arrays[1].T), arrays[2].T
    mask = None if kept is None else kept.numpy().T
    offsets = columns * full_gram.shape[0]

    def gram_column(j, out):
        # Entries G[s_i, s_j], i >= j, of every row's Gram matrix.
        np.take(gram, offsets[j:] + columns[j], out=out)
        if mask is not None:
            # Padded slots get a unit diagonal and no coupling, so that
            # they solve to 0 without touching the real ones.
            out *= mask[j:] * mask[j]
            out[0] += 1 - mask[j]

    if mask is not None:
        rhs = rhs * mask
    solution = _cholesky_solve(gram_column, rhs, ridge)
    return torch.from_numpy(np.ascontiguousarray(solution.T))


def _cholesky_solve(gram_column, rhs, ridge):
    """Solve ``G c = rhs`` for a batch of symmetric positive definite G.

    ``gram_column(j, out)`` writes ``G[j:, j]`` of every system into
    ``out``, shape ``(width - j, n)``; ``rhs`` has shape ``(width, n)``.
    The right-hand side rides along as an extra row of the factorised
    matrix, so that the factorisation also does the forward substitution.
    A pivot below ``ridge`` (a numerically singular system) is raised to
    it, so the solution stays finite.
    """
    width, n = rhs.shape
    # lower[i, j] is the factor's entry (i, j) of every system; row
    # ``width`` holds the forward-substituted right-hand side.
    lower = np.empty((width + 1, width, n), rhs.dtype)
    for j in range(width):
        column = lower[j:, j]
        gram_column(j, column[:-1])
        column[-1] = rhs[j]
        if j:
            column -= np.einsum("ipn,pn->in", lower[j:, :j], lower[j, :j])
        pivot = column[0]
        pivot += ridge
        np.maximum(pivot, ridge, out=pivot)
        np.sqrt(pivot, out=pivot)
        column[1:] /= pivot
    solution = np.empty((width, n), rhs.dtype)
    for j in reversed(range(width)):
        value = lower[width, j]
        if j + 1 < width:
            value = value - np.einsum("pn,pn->n", lower[j + 1 : width, j], solution[j + 1 :])
        np.divide(value, lower[j, j], out=solution[j])
    return solution
