"""Data as the training core sees it: rows with a target, served in batches.

Estimators hand this module validated numpy arrays or CSR matrices (data
read a chunk at a time is in :mod:`skae._chunks`). A batch is a pair
``(input, target)``; the target defaults to the input, which makes a plain
autoencoder, and corrupting the input alone makes a denoiser.
"""

import math

import numpy as np
import scipy.sparse as sp
import torch

_FLOAT32_MAX = float(np.finfo(np.float32).max)

#: Rows summed at once by :class:`ColumnMoments`: data read in chunks of a
#: multiple of this many rows gets the moments of the whole array, bit for bit.
MOMENT_BLOCK = 4096


def check_float32_range(X, name="X"):
    """Raise if ``X`` holds values that overflow to inf in float32.

    Reads the extremes without building a copy of ``X``.
    """
    values = X.data if sp.issparse(X) else X
    if values.size and max(-float(np.min(values)), float(np.max(values))) > _FLOAT32_MAX:
        raise ValueError(
            f"{name} contains values larger in magnitude than {_FLOAT32_MAX:.3g}, "
            "which overflow in float32, the precision the network computes in; "
            "scale the data first, for example with StandardScaler."
        )


class _Rows:
    """Rows of a dense array (copied to the device once) or of a CSR matrix.

    Integer arrays (class labels) stay integers (int64); everything else
    becomes float32.
    """

    def __init__(self, X, device):
        self.device = device
        if sp.issparse(X):
            self.sparse, self.dense = sp.csr_matrix(X, dtype=np.float32), None
        else:
            X = np.asarray(X)
            dtype = np.int64 if X.dtype.kind in "iu" else np.float32
            # torch.tensor copies, so read-only or memory-mapped input is safe.
            self.sparse = None
            self.dense = torch.tensor(X.astype(dtype, copy=False), device=device)

    def __len__(self):
        return self.sparse.shape[0] if self.dense is None else self.dense.shape[0]

    def take(self, index):
        if self.dense is not None:
            return self.dense[index.to(self.device)]
        return torch.from_numpy(self.sparse[index.cpu().numpy()].toarray()).to(self.device)

    def slice(self, start, stop):
        if self.dense is not None:
            return self.dense[start:stop]
        return torch.from_numpy(self.sparse[start:stop].toarray()).to(self.device)

    def subset(self, index):
        part = _Rows.__new__(_Rows)
        part.device = self.device
        if self.dense is not None:
            part.dense, part.sparse = self.take(index), None
        else:
            part.dense, part.sparse = None, self.sparse[index.cpu().numpy()]
        return part


class ArrayDataset(torch.utils.data.Dataset):
    """Inputs and optional targets, served as float32 tensors on a device.

    Dense data is copied to the device once, so that a batch is one tensor
    gather rather than one ``__getitem__`` call per sample. Sparse data
    stays sparse and is densified one batch at a time.

    Parameters
    ----------
    X : ndarray or CSR matrix of shape (n_samples, n_features)
        The inputs.
    device : str, default="cpu"
    targets : ndarray, CSR matrix or None, default=None
        One target row per input row (or one class index per row, as an
        integer array); None makes the input its own target.
    """

    def __init__(self, X, device="cpu", targets=None):
        self.device = device
        self.inputs = X if isinstance(X, _Rows) else _Rows(X, device)
        if targets is not None and not isinstance(targets, _Rows):
            targets = _Rows(targets, device)
        self.targets = targets

    def __len__(self):
        return len(self.inputs)

    def __getitem__(self, i):
        x, t = self.batch(torch.as_tensor([i]))
        return x[0], t[0]

    def batch(self, index):
        """Inputs and targets of the rows at ``index`` (a CPU ``LongTensor``)."""
        x = self.inputs.take(index)
        return x, (x if self.targets is None else self.targets.take(index))

    def rows(self, start, stop):
        """Inputs of rows ``start:stop``."""
        return self.inputs.slice(start, stop)

    def batch_rows(self, start, stop):
        """Inputs and targets of rows ``start:stop``."""
        x = self.inputs.slice(start, stop)
        return x, (x if self.targets is None else self.targets.slice(start, stop))

    def subset(self, index):
        """A dataset holding only the rows at ``index``."""
        targets = None if self.targets is None else self.targets.subset(index)
        return ArrayDataset(self.inputs.subset(index), self.device, targets)

    @classmethod
    def from_tensor(cls, inputs):
        """A dataset over a tensor already on its device (no copy)."""
        rows = _Rows.__new__(_Rows)
        rows.device, rows.dense, rows.sparse = inputs.device, inputs, None
        return cls(rows, inputs.device)


class Batches:
    """Mini-batches ``(input, target)`` of an :class:`ArrayDataset`.

    Parameters
    ----------
    dataset : ArrayDataset
    batch_size : int
    shuffle : bool, default=False
        Visit the rows in a fresh random order every pass.
    generator : torch.Generator or None, default=None
        Source of the shuffling and of the input noise.
    input_noise : callable or None, default=None
        ``input_noise(x, generator)`` corrupts each batch's input; the
        target stays clean.
    resample : callable or None, default=None
        ``resample(x, generator)`` replaces each batch's rows by a fresh
        draw from them before any input noise (dynamic binarisation). When
        the target is the input, it is the same draw.
    ranks : Ranks or None, default=None
        When several processes train together (:mod:`skae._distributed`),
        each batch of ``batch_size`` rows is drawn whole, with its noise, in
        every process, which then keeps its own share of it: the processes
        together train on the batches one process would, and their
        generators stay in step.
    """

    def __init__(self, dataset, batch_size, shuffle=False, generator=None, input_noise=None,
                 resample=None, ranks=None):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator
        self.input_noise = input_noise
        self.resample = resample
        self.ranks = ranks

    def __len__(self):
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        if self.ranks is None:
            yield from self._batches()
            return
        # Data read a chunk at a time comes in whole batches.
        whole = (self.input_noise is not None or self.resample is not None
                 or getattr(self.dataset, "stream", None) is not None)
        for x, target in self._batches(share=not whole):
            if whole:
                # The noise was drawn for the whole batch: keep this share.
                start, stop = self.ranks.share(len(x))
                x, target = x[start:stop], target[start:stop]
            yield x, target

    def _batches(self, share=False):
        """The batches, or with ``share`` this process's share of each (no noise then)."""
        stream = getattr(self.dataset, "stream", None)
        if stream is not None:
            # Data read a chunk at a time makes its own batches (skae._chunks).
            for x in stream(self.batch_size, self.shuffle, self.generator):
                noisy = x if self.input_noise is None else self.input_noise(x, self.generator)
                yield noisy, x
            return
        n, size = len(self.dataset), self.batch_size
        order = None
        if self.shuffle:
            # Drawn on the CPU, so that a seed gives the same order on every
            # device, then moved to the data's device once per epoch rather
            # than once per batch.
            order = torch.randperm(n, generator=self.generator)
            if self.dataset.inputs.dense is not None:
                order = order.to(self.dataset.device)
        for start in range(0, n, size):
            stop = min(start + size, n)
            if share:
                # Only this process's rows are gathered.
                start, stop = (start + i for i in self.ranks.share(stop - start))
            if order is None:
                x, target = self.dataset.batch_rows(start, stop)
            else:
                x, target = self.dataset.batch(order[start:stop])
            if self.resample is not None:
                drawn = self.resample(x, self.generator)
                x, target = drawn, (drawn if target is x else target)
            if self.input_noise is not None:
                x = self.input_noise(x, self.generator)
            yield x, target


def split(dataset, fraction, generator):
    """Shuffle and split ``dataset`` into training and validation parts.

    Data read a chunk at a time splits itself, by whole chunks.
    """
    if hasattr(dataset, "split"):
        return dataset.split(fraction, generator)
    n = len(dataset)
    n_valid = int(math.ceil(fraction * n))
    if n_valid < 1 or n - n_valid < 1:
        raise ValueError(
            f"early_stopping=True with validation_fraction={fraction} leaves "
            f"{n - n_valid} training and {n_valid} validation sample(s) out of {n}; "
            "both need at least one. Pass more samples or set early_stopping=False."
        )
    order = torch.randperm(n, generator=generator)
    return dataset.subset(order[n_valid:]), dataset.subset(order[:n_valid])


def map_batches(fn, X, *, batch_size, device, dtype=torch.float32):
    """Apply ``fn`` to tensor batches of ``X`` in ``dtype`` without gradients.

    Returns the concatenated results as a numpy array.
    """
    n = X.shape[0]
    out = None
    with torch.inference_mode():
        for start in range(0, n, batch_size):
            part = X[start : start + batch_size]
            part = part.toarray() if sp.issparse(part) else np.ascontiguousarray(part)
            if not part.flags.writeable:
                # torch warns on read-only memory (a read-only memmap, say).
                part = part.copy()
            xb = torch.as_tensor(part).to(device, dtype)
            result = fn(xb).cpu().numpy()
            if out is None:
                out = np.empty((n, *result.shape[1:]), dtype=result.dtype)
            # Written into one array allocated once: keeping each batch's small
            # result alive instead would pin them between the batches' large
            # freed temporaries, and the C heap would grow by a batch's size
            # at every batch (measured: +1.2 GiB scoring 500 wide rows).
            out[start : start + len(result)] = result
            del part, xb, result
    if out is None:
        raise ValueError("X has no rows; at least one is needed.")
    return out


class ColumnMoments:
    """Per-feature sums in float64, added a block of rows at a time.

    Memory stays at a few blocks whatever the number of rows, so the same
    sums serve an in-memory array and data read a chunk at a time.

    Parameters
    ----------
    n_features : int
    variance : bool, default=True
        Also sum the squares, for the variance.
    """

    def __init__(self, n_features, variance=True):
        self.n_samples = 0
        self.total = np.zeros(n_features)
        self.total_sq = np.zeros(n_features) if variance else None

    def add(self, X):
        """Add the rows of ``X`` (a dense array or a CSR matrix)."""
        self.n_samples += X.shape[0]
        if sp.issparse(X):
            self.total += np.asarray(X.sum(axis=0, dtype=np.float64)).ravel()
            if self.total_sq is not None:
                squares = X.multiply(X).sum(axis=0, dtype=np.float64)
                self.total_sq += np.asarray(squares).ravel()
            return
        for start in range(0, X.shape[0], MOMENT_BLOCK):
            block = X[start : start + MOMENT_BLOCK]
            self.total += block.sum(axis=0, dtype=np.float64)
            if self.total_sq is not None:
                self.total_sq += np.square(block, dtype=np.float64).sum(axis=0)

    def result(self):
        """The mean and the variance (None without ``variance``)."""
        mean = self.total / self.n_samples
        if self.total_sq is None:
            return mean, None
        return mean, np.maximum(self.total_sq / self.n_samples - np.square(mean), 0.0)


def column_moments(X, *, variance=True):
    """Per-feature mean (and variance) of X in float64, a block of rows at a time.

    Memory stays at a few blocks whatever the size of X (no float64 copy of
    the whole input). Without ``variance`` the second array is None. Data
    read a chunk at a time (:class:`skae._chunks.ChunkedRows`) brings the
    moments of its first pass.
    """
    if hasattr(X, "moments"):
        return X.moments(variance)
    if sp.issparse(X):
        # Sparse sums never densify, whatever the width.
        from sklearn.utils.sparsefuncs import mean_variance_axis

        mean, var = mean_variance_axis(sp.csr_matrix(X, dtype=np.float64), axis=0)
        return np.asarray(mean), (np.asarray(var) if variance else None)
    moments = ColumnMoments(X.shape[1], variance)
    moments.add(X)
    return moments.result()
