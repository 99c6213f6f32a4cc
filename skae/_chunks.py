"""Data larger than memory: rows read a chunk at a time, for training and inference.

:class:`ChunkedData` names where the rows come from (an array read by
slicing, a list of chunks, or a loader). An estimator reads it once to
check every chunk and sum the column moments, which gives a
:class:`ChunkedRows`; training then reads it again every epoch through a
:class:`ChunkedDataset`, which shuffles the order of the chunks and the rows
within each chunk. At most a few chunks are in memory at any time.
"""

import math
import mmap
import os
from contextlib import contextmanager
from numbers import Integral

import numpy as np
import scipy.sparse as sp
import torch

from ._data import MOMENT_BLOCK, _Rows

#: Bytes of float32 values one chunk holds by default.
CHUNK_BUDGET = 64 * 2**20

#: Libraries whose arrays are read a chunk at a time without being wrapped
#: in ChunkedData: their arrays live on disk or on other machines.
STREAMED_LIBRARIES = ("h5py", "zarr", "dask")


class ChunkedData:
    """Data read a chunk of rows at a time, for data larger than memory.

    Passed to ``fit``, ``partial_fit``, ``transform`` or ``score_samples``
    of an autoencoder (and ``predict`` or ``predict_proba`` of a
    classifier) in place of ``X``, it is read one chunk at a time: memory
    holds a few chunks, never the whole data. An estimator reads it once to
    check every chunk (width, NaN and infinite values, the likelihood's
    range) and to compute the column moments the network starts from, and
    then once per epoch, visiting the chunks in a random order and the rows
    of each chunk in a random order, drawn from the estimator's own
    ``random_state``.

    Arrays of h5py, zarr and dask are read this way even when they are not
    wrapped. A :class:`numpy.memmap` passed unwrapped is an in-memory
    array, as it is to NumPy and scikit-learn (joblib hands the workers of a
    parallel search memory-mapped copies of ordinary arrays).

    Parameters
    ----------
    data : array-like, sequence of array-likes, iterable or callable
        Where the rows come from:

        - a 2-D array read by slicing rows: :class:`numpy.memmap` (read with
          plain file reads, so the pages read do not stay in the process's
          memory), an h5py ``Dataset``, a zarr array, a dask array, a NumPy
          array or a pandas DataFrame;
        - a list or tuple of 2-D chunks, all of the same width;
        - a function of no arguments that returns an iterable of chunks (a
          user's loader): it is called once per pass over the data and must
          give the same chunks every time;
        - an iterable whose ``iter()`` starts again every time (a
          ``torch.utils.data.DataLoader`` of arrays, say). An iterator,
          which can be read only once, is refused.

        Chunks are NumPy arrays, CSR matrices or anything ``validate_data``
        accepts. The chunks of a list can be visited in any order; those of
        a loader come in the loader's order, and only the rows within each
        are shuffled.
    chunk_rows : int or None, default=None
        Rows read at once from an array. None reads as many as 64 MiB of
        float32 values hold, a multiple of 4,096 rows when that is at least
        one. Ignored for lists and loaders, whose chunks are as given.

    See Also
    --------
    numpy.memmap : An array stored in a file on disk.

    Notes
    -----
    With ``chunk_rows`` at least the number of rows, a fit draws the same
    numbers as a fit on the array in memory and gives the same model, bit
    for bit. With several chunks, the rows are visited in another order,
    and a mini-batch may hold the last rows of one chunk and the first of
    the next. With ``early_stopping=True`` the validation set is a random
    set of whole chunks (an array is cut into at least 10 of them), about
    ``validation_fraction`` of all, which training never reads.

    Examples
    --------
    >>> import numpy as np
    >>> from skae import AutoencoderTransformer, ChunkedData
    >>> rng = np.random.default_rng(0)
    >>> chunks = [rng.random((100, 8)) for _ in range(5)]
    >>> model = AutoencoderTransformer(2, hidden_layer_sizes=(16,), max_iter=3,
    ...                                random_state=0)
    >>> model.fit(ChunkedData(chunks)).transform(ChunkedData(chunks)).shape
    (500, 2)
    """

    def __init__(self, data, *, chunk_rows=None):
        self.data = data
        self.chunk_rows = chunk_rows

    def __repr__(self):
        return f"ChunkedData({type(self.data).__name__}, chunk_rows={self.chunk_rows!r})"


def is_chunked(X):
    """Whether ``X`` is read a chunk at a time rather than validated whole."""
    if isinstance(X, ChunkedData):
        return True
    library = type(X).__module__.partition(".")[0]
    return library in STREAMED_LIBRARIES and hasattr(X, "shape") and hasattr(X, "dtype")


def default_chunk_rows(n_features):
    """Rows in :data:`CHUNK_BUDGET` bytes of float32, a multiple of MOMENT_BLOCK if >= 1."""
    rows = max(1, CHUNK_BUDGET // (4 * max(1, n_features)))
    return rows - rows % MOMENT_BLOCK if rows >= MOMENT_BLOCK else rows


# ------------------------------------------------------------------ sources
class _ArraySource:
    """A 2-D array read by slicing rows, in row ranges of at most ``chunk_rows``."""

    random_access = True

    def __init__(self, array, chunk_rows, min_chunks):
        if len(array.shape) != 2:
            raise ValueError(
                f"ChunkedData needs a 2-D array of shape (n_samples, n_features), got "
                f"one of shape {tuple(array.shape)}."
            )
        n, d = (int(s) for s in array.shape)
        rows = default_chunk_rows(d) if chunk_rows is None else chunk_rows
        # Early stopping holds out whole chunks: enough of them for a fraction.
        rows = max(1, min(rows, math.ceil(n / min_chunks)))
        self.array = array
        self.bounds = [(start, min(start + rows, n)) for start in range(0, n, rows)]
        self.file = _file_layout(array)
        # Chunks read from the file are new buffers nobody else holds.
        self.fresh = self.file is not None

    def __len__(self):
        return len(self.bounds)

    def read(self, indices=None):
        """Yield ``(index, chunk)`` for the chunks at ``indices`` (all when None), in order."""
        for i in range(len(self)) if indices is None else indices:
            yield i, self.rows(*self.bounds[i])

    def rows(self, start, stop):
        if self.file is not None:
            return _read_file_rows(self.array, self.file, start, stop)
        part = self.array.iloc[start:stop] if hasattr(self.array, "iloc") else \
            self.array[start:stop]
        # dask computes here, one chunk at a time.
        return part.compute() if hasattr(part, "compute") else part


def _file_layout(array):
    """``(path, offset, row_bytes)`` of a whole C-ordered memmap whose file shows its
    contents (not copy-on-write), else None."""
    if not (isinstance(array, np.memmap) and isinstance(array.base, mmap.mmap)
            and array.filename and array.mode in ("r", "r+", "w+")
            and array.flags.c_contiguous):
        return None
    return array.filename, array.offset, array.strides[0]


def _read_file_rows(array, layout, start, stop):
    # Plain reads rather than slices of the mapping: the pages of a mapping
    # stay in the process's resident memory until it is unmapped, so slicing
    # a large memmap once over would hold all of it.
    path, offset, row_bytes = layout
    out = np.empty((stop - start, *array.shape[1:]), dtype=array.dtype)
    buffer = memoryview(out).cast("B")
    with open(path, "rb", buffering=0) as file:
        file.seek(offset + start * row_bytes)
        done = 0
        while done < len(buffer):
            got = file.readinto(buffer[done:])
            if not got:
                raise ValueError(f"The file {os.fspath(path)!r} of X ended before row {stop}.")
            done += got
    return out


class _SequenceSource:
    """A list or tuple of chunks, read in any order."""

    random_access = True
    fresh = False

    def __init__(self, chunks):
        self.chunks = chunks

    def __len__(self):
        return len(self.chunks)

    def read(self, indices=None):
        for i in range(len(self)) if indices is None else indices:
            yield i, self.chunks[i]


class _LoaderSource:
    """Chunks from a function that returns an iterable, or from a re-iterable."""

    random_access = False
    fresh = False

    def __init__(self, loader):
        self.loader = loader
        self.count = None

    def __len__(self):
        return self.count

    def _iterate(self):
        return iter(self.loader() if callable(self.loader) else self.loader)

    def read(self, indices=None):
        """Yield ``(index, chunk)`` for the chunks at ``indices`` (all when None), in the
        loader's order: a chunk not asked for is read and skipped."""
        wanted = None if indices is None else set(indices)
        count = 0
        for i, chunk in enumerate(self._iterate()):
            count += 1
            if wanted is None or i in wanted:
                yield i, chunk
        if self.count is not None and count != self.count:
            raise ValueError(
                f"The loader of X gave {count} chunks on this pass and {self.count} on "
                "the first; it must give the same chunks on every pass."
            )
        self.count = count


def as_source(X, min_chunks=1):
    """The source of ``X`` (a ChunkedData, or an array of a streamed library)."""
    data, chunk_rows = (X.data, X.chunk_rows) if isinstance(X, ChunkedData) else (X, None)
    if chunk_rows is not None and (
            not isinstance(chunk_rows, Integral) or isinstance(chunk_rows, bool)
            or chunk_rows < 1):
        raise ValueError(f"chunk_rows must be a positive integer or None, got {chunk_rows!r}.")
    if hasattr(data, "shape") and not sp.issparse(data):
        return _ArraySource(data, chunk_rows, min_chunks)
    if isinstance(data, (list, tuple)):
        return _SequenceSource(data)
    if callable(data):
        return _LoaderSource(data)
    try:
        iterator = iter(data)
    except TypeError:
        raise TypeError(
            "ChunkedData needs a 2-D array, a list of chunks, a function that returns "
            f"an iterable of chunks, or a re-iterable; got {type(data).__name__}."
        ) from None
    if iterator is data:
        raise TypeError(
            f"ChunkedData got an iterator ({type(data).__name__}), which can be read only "
            "once, but training reads the data once per epoch. Pass a function that "
            "returns a new iterator each time, e.g. ChunkedData(lambda: read_chunks(path)), "
            "or a list of chunks; or call partial_fit on each chunk."
        )
    return _LoaderSource(data)


# ------------------------------------------------------------- checked rows
class ChunkedRows:
    """A source after one checked pass: its chunks' sizes and column moments.

    Parameters
    ----------
    source : source
        Where the chunks come from (see :func:`as_source`).
    lengths : list of int
        Rows of each chunk.
    n_features : int
    check : callable
        ``check(chunk, index, start)`` validates a chunk as read, or raises
        a ValueError that names it.
    moments : tuple or None
        The column mean and variance (None when not asked for).
    """

    def __init__(self, source, lengths, n_features, check, moments=None):
        self.source = source
        self.lengths = list(lengths)
        self.starts = np.concatenate([[0], np.cumsum(self.lengths, dtype=np.int64)])
        self.shape = (int(self.starts[-1]), n_features)
        self.check = check
        self._moments = moments

    @property
    def n_chunks(self):
        return len(self.lengths)

    def moments(self, variance):
        mean, var = self._moments
        return mean, (var if variance else None)

    def chunks(self, indices=None):
        """Yield ``(index, checked chunk)`` for the chunks at ``indices`` (all when None)."""
        indices = range(self.n_chunks) if indices is None else indices
        for i, chunk in self.source.read(indices):
            chunk = self.check(chunk, i, int(self.starts[i]))
            if chunk.shape[0] != self.lengths[i]:
                raise ValueError(
                    f"Chunk {i} of X has {chunk.shape[0]} rows on this pass and had "
                    f"{self.lengths[i]} on the first; the chunks must be the same on every "
                    "pass."
                )
            yield i, chunk

    def head(self, n):
        """The first ``n`` rows (fewer when there are fewer), dense."""
        parts, have = [], 0
        count = min(n, self.shape[0])
        needed = int(np.searchsorted(self.starts, count, side="left"))
        for _, chunk in self.chunks(range(max(needed, 1))):
            parts.append(_dense(chunk[: count - have]))
            have += parts[-1].shape[0]
            if have >= count:
                break
        return np.concatenate(parts)

    def take(self, rows):
        """The rows at the sorted indices ``rows``, dense, reading only their chunks."""
        owner = np.searchsorted(self.starts, rows, side="right") - 1
        found = {}
        for i, chunk in self.chunks(np.unique(owner).tolist()):
            mine = rows[owner == i]
            found[i] = _dense(chunk[mine - int(self.starts[i])])
        return np.concatenate([found[i] for i in np.unique(owner)])

    def column_range(self):
        """Per-feature minimum and maximum, in one more pass."""
        low = high = None
        for _, chunk in self.chunks():
            lo, hi = chunk.min(axis=0), chunk.max(axis=0)
            if sp.issparse(chunk):
                lo, hi = lo.toarray().ravel(), hi.toarray().ravel()
            low = lo if low is None else np.minimum(low, lo)
            high = hi if high is None else np.maximum(high, hi)
        return low, high


@contextmanager
def naming_chunk(index, start):
    """Prefix a ValueError raised inside with the chunk it is about."""
    try:
        yield
    except ValueError as error:
        raise ValueError(f"Chunk {index} of X (from row {start}): {error}") from None


def _dense(chunk):
    return chunk.toarray() if sp.issparse(chunk) else np.asarray(chunk)


def head(X, n):
    """The first ``n`` rows of an in-memory array or of a :class:`ChunkedRows`."""
    return X.head(n) if isinstance(X, ChunkedRows) else X[:n]


# ----------------------------------------------------------------- training
class ChunkedDataset(torch.utils.data.Dataset):
    """Some chunks of a :class:`ChunkedRows`, served in batches on a device.

    :class:`~skae._data.Batches` asks for its batches (:meth:`stream`)
    instead of indexing it.

    Parameters
    ----------
    rows : ChunkedRows
    indices : list of int or None
        The chunks in this dataset; None for all.
    device : str or torch.device
    """

    def __init__(self, rows, indices=None, device="cpu"):
        self.rows = rows
        self.indices = list(range(rows.n_chunks)) if indices is None else list(indices)
        self.device = device

    def __len__(self):
        return int(sum(self.rows.lengths[i] for i in self.indices))

    def __getitem__(self, i):
        raise TypeError("Rows read a chunk at a time are served in batches, not one by one.")

    def stream(self, batch_size, shuffle, generator):
        """Yield input batches of ``batch_size`` rows (the last one may be smaller).

        With ``shuffle`` the chunks come in a random order (when the source
        can be read in any order) and each chunk's rows in a random order;
        a batch may span two chunks. One chunk draws exactly what the
        in-memory :class:`~skae._data.Batches` draws.
        """
        order = self.indices
        if shuffle and len(order) > 1 and self.rows.source.random_access:
            order = [order[k] for k in torch.randperm(len(order), generator=generator)]
        carry = None
        for _, chunk in self.rows.chunks(order):
            x = self._tensor(chunk)
            if x is None:
                yield from self._sparse_batches(_Rows(chunk, self.device), batch_size, shuffle,
                                                generator)
                continue
            n = len(x)
            # Rows are gathered a batch at a time, as in memory: gathering a
            # whole chunk at once costs a fresh chunk-sized allocation.
            perm = torch.randperm(n, generator=generator).to(x.device) if shuffle else None

            def rows(start, stop, x=x, perm=perm):
                return x[start:stop] if perm is None else x[perm[start:stop]]

            pos = 0
            if carry is not None:
                pos = min(batch_size - len(carry), n)
                carry = torch.cat([carry, rows(0, pos)])
                if len(carry) < batch_size:
                    continue
                yield carry
            stop = pos + (n - pos) // batch_size * batch_size
            for start in range(pos, stop, batch_size):
                yield rows(start, start + batch_size)
            # A copy, so that the chunk's memory is freed before the next is read.
            carry = rows(stop, n).clone() if stop < n else None
        if carry is not None:
            yield carry

    def _tensor(self, chunk):
        """A dense chunk as a float32 tensor on the device; None for a sparse one."""
        if sp.issparse(chunk):
            return None
        if (self.rows.source.fresh and chunk.dtype == np.float32 and chunk.flags.writeable
                and chunk.flags.c_contiguous and str(self.device) == "cpu"):
            # The source read this buffer for us alone: no copy needed.
            return torch.from_numpy(chunk)
        return _Rows(chunk, self.device).dense

    @staticmethod
    def _sparse_batches(rows, batch_size, shuffle, generator):
        # Sparse rows are densified a batch at a time, so batches stay
        # within one chunk.
        n = len(rows)
        order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
        for start in range(0, n, batch_size):
            yield rows.take(order[start : start + batch_size])

    def split(self, fraction, generator):
        """Hold out about ``fraction`` of the chunks, chosen at random, for validation."""
        n = len(self.indices)
        n_valid = max(1, round(fraction * n))
        if n - n_valid < 1:
            raise ValueError(
                f"early_stopping=True holds out whole chunks of X for validation, and X has "
                f"{n} chunk(s): validation_fraction={fraction} leaves none to train on. Pass "
                "more chunks (or a smaller chunk_rows), or set early_stopping=False."
            )
        held = torch.randperm(n, generator=generator)[:n_valid].sort().values.tolist()
        held_set = set(held)
        train = [i for k, i in enumerate(self.indices) if k not in held_set]
        valid = [self.indices[k] for k in held]
        return (ChunkedDataset(self.rows, train, self.device),
                ChunkedDataset(self.rows, valid, self.device))
