"""Inference: transform, inverse_transform and scores, in memory-bounded batches."""

import copy

import numpy as np
import torch
from sklearn.utils.validation import check_array, check_is_fitted

from ._chunks import as_source, is_chunked
from ._data import check_float32_range, map_batches
from ._score_units import check_score_units

#: Memory, in bytes, that one inference batch may take: sparse or wide input
#: is densified a batch at a time, so this bounds the memory of transform and
#: scoring whatever the number of rows.
INFERENCE_BUDGET = 64 * 2**20


class InferenceMixin:
    """transform and inverse_transform of a fitted network.

    Batches hold at most :data:`INFERENCE_BUDGET` bytes (see
    :meth:`_row_bytes`); float64 input is computed in float64.
    """

    #: Most rows in one inference batch: enough to amortise Python overhead.
    _inference_batch_size = 4096

    def _output_dtype(self, X):
        return X.dtype if X.dtype in (np.float32, np.float64) else np.float64

    def _row_bytes(self, n_features):
        """Bytes one row takes in an inference batch (hook): a few float64 copies
        of the row and of the widest layer."""
        widest = max(self._hidden_sizes(), default=0)
        return 8 * 4 * (n_features + widest + self._code_width())

    def _rows_per_batch(self, n_features):
        """Rows per inference batch: as many as :data:`INFERENCE_BUDGET` holds."""
        rows = INFERENCE_BUDGET // max(1, self._row_bytes(n_features))
        return int(min(max(rows, 1), self._inference_batch_size))

    def _inference_parts(self, dtype):
        """The module and criterion in evaluation mode, computing in ``dtype``.

        float64 input is computed in float64, on a copy of the network: a
        row's result then does not depend on the other rows of its batch
        (float32 matrix products round differently for different batch
        sizes), as scikit-learn's conventions require.
        """
        module, criterion = self.net_.module_, self.net_.criterion_
        if dtype == torch.float64:
            module, criterion = copy.deepcopy(module).double(), copy.deepcopy(criterion).double()
        return module.eval(), criterion.eval()

    def _encode(self, module, criterion, x):
        return module.encode(x)

    def _decode(self, module, criterion, z):
        return criterion.likelihood.link(module.decode(z))

    def _score_rows(self, module, criterion, x):
        return -criterion.per_sample(module(x), x)

    def _map(self, fn, X, what):
        dtype = torch.float64 if X.dtype == np.float64 else torch.float32
        module, criterion = self._inference_parts(dtype)
        out = map_batches(lambda xb: fn(module, criterion, xb), X,
                          batch_size=self._rows_per_batch(X.shape[1]),
                          device=self.net_.device, dtype=dtype)
        if not np.isfinite(out).all():
            raise ValueError(
                f"The network produced non-finite {what}. The input is far "
                "outside the range seen in training, or the weights were "
                "damaged; scale the data or refit."
            )
        return out

    def _map_chunks(self, fn, X, what):
        """``_map`` over data read a chunk at a time, each chunk checked as it is read.

        The results are small (codes, scores) and are returned in memory.
        """
        check = self._chunk_checker(self.net_.criterion_.likelihood)
        parts, start = [], 0
        for i, chunk in as_source(X).read():
            chunk = check(chunk, i, start)
            parts.append(self._map(fn, chunk, what))
            start += chunk.shape[0]
        if not parts:
            raise ValueError("X holds no chunks; ChunkedData needs at least one row.")
        return np.concatenate(parts)

    def transform(self, X):
        """Encode X.

        Parameters
        ----------
        X : {array-like, sparse matrix, ChunkedData} of shape (n_samples, n_features)
            Data to encode; :class:`~skae.ChunkedData` (and an h5py, zarr
            or dask array) is read a chunk at a time.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            The codes; float32 for float32 input, float64 otherwise.
        """
        check_is_fitted(self)
        if is_chunked(X):
            return self._map_chunks(self._encode, X, "codes")
        X = self._validate_input(X, reset=False)
        codes = self._map(self._encode, X, "codes")
        return codes.astype(self._output_dtype(X), copy=False)

    def inverse_transform(self, X):
        """Decode codes back to the input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, as returned by :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            The decoder's mean reconstruction.
        """
        check_is_fitted(self)
        Z = check_array(X, dtype=[np.float64, np.float32], input_name="X")
        if Z.shape[1] != self._code_width():
            raise ValueError(
                f"X has {Z.shape[1]} features, but {type(self).__name__}."
                f"inverse_transform is expecting {self._code_width()} features "
                "(the width of the code) as input."
            )
        check_float32_range(Z)
        recon = self._map(self._decode, Z, "reconstructions")
        return recon.astype(self._output_dtype(Z), copy=False)



class ScoringMixin:
    """score_samples and score of a fitted autoencoder: how well it models rows."""

    def score_samples(self, X):
        """Per-sample score: the negated training loss of each row.

        Higher is better; a low score marks a row the model reconstructs
        poorly, so ``-score_samples(X)`` serves as an anomaly score.

        Parameters
        ----------
        X : {array-like, sparse matrix, ChunkedData} of shape (n_samples, n_features)
            Data to score; :class:`~skae.ChunkedData` (and an h5py, zarr or
            dask array) is read a chunk at a time.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            See the estimator's documentation for the units.
        """
        return self._scores(X)

    def _scores(self, X, *, check_units=False):
        """Each row's score; with ``check_units``, warn first if equal data was
        scored before in other units (see :mod:`skae._score_units`)."""
        check_is_fitted(self)
        if is_chunked(X):
            return self._map_chunks(self._score_rows, X, "scores").astype(np.float64)
        X = self._validate_input(X, reset=False)
        if check_units:
            check_score_units(X, self._score_units(), self)
        return self._map(self._score_rows, X, "scores").astype(np.float64)

    def score(self, X, y=None):
        """Mean of :meth:`score_samples` over X (the mean ELBO in nats for a VAE).

        Higher is better. The units follow the estimator and its
        ``likelihood``; when data scored before in this process in other
        units is scored again (as a model search with the default scorer
        over ``likelihood`` does), a :class:`~skae.ScoreUnitsWarning` says
        the two must not be ranked: use
        :func:`skae.metrics.neg_reconstruction_error` as the scorer instead.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to score.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
        """
        # A search with the default scorer ranks every candidate's score on
        # the same fold: warn if this fold was scored before in other units.
        return float(np.mean(self._scores(X, check_units=True)))

    def _score_units(self):
        """What ``score`` measures, in words (hook): scores in different words
        must not be compared."""
        likelihood = self.net_.criterion_.likelihood
        if likelihood.name == "gaussian":
            return "minus the squared reconstruction error"
        name = likelihood.name or type(likelihood).__name__
        return f"the {name} log-probability of the reconstruction, in nats"
