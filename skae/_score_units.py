"""A guard against ranking scores of different units computed on the same data.

``score`` means minus a squared error for a Gaussian autoencoder, a
log-probability in nats for the other likelihoods, and an ELBO for the
variational autoencoder. A model search with the default scorer scores every
candidate on the same held-out fold, so when two scores of different units
are computed on equal data in one process by scikit-learn's model selection
(a search, ``cross_val_score``), the second is about to be ranked against
the first: :func:`check_score_units` warns then. A script that calls
``score`` itself reads the numbers it gets, and is left alone.
"""

import hashlib
import sys
import threading
import warnings
from collections import OrderedDict

import numpy as np
import scipy.sparse as sp

from .exceptions import ScoreUnitsWarning

#: Data sets remembered: a search scores at most a few folds at a time.
_REMEMBERED = 64
#: Values hashed at once, so that hashing a strided array copies little.
_HASH_VALUES = 1 << 20

_recent = OrderedDict()
_lock = threading.Lock()


def fingerprint(X):
    """A digest of X's shape, dtype and values; None for data it cannot read cheaply.

    Equal data gives the same digest however it was sliced or copied, so
    the folds a search hands each candidate are recognised as one data set.
    """
    if sp.issparse(X):
        X = X.tocsr()
        parts = (X.data, X.indices, X.indptr)
    elif isinstance(X, np.ndarray):
        parts = None
    else:
        return None
    digest = hashlib.blake2b(digest_size=16)
    digest.update(repr((X.shape, str(X.dtype))).encode())
    if parts is not None:
        for part in parts:
            digest.update(np.ascontiguousarray(part).tobytes())
        return digest.digest()
    # The digest is of the row-major bytes, whatever the blocks they are fed in.
    rows = max(1, _HASH_VALUES // max(1, int(np.prod(X.shape[1:]))))
    for start in range(0, X.shape[0], rows):
        digest.update(np.ascontiguousarray(X[start:start + rows]).tobytes())
    return digest.digest()


def _called_by_model_selection():
    """Whether a function of :mod:`sklearn.model_selection` is among the callers."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_globals.get("__name__", "").startswith("sklearn.model_selection"):
            return True
        frame = frame.f_back
    return False


def check_score_units(X, units, estimator):
    """Warn when data scored now in ``units`` was scored before in other units.

    Only scores computed under scikit-learn's model selection (a search or a
    cross-validation with the default scorer) are remembered and compared.

    Parameters
    ----------
    X : ndarray or sparse matrix
        The validated data being scored.
    units : str
        What the score measures, in words (see ``_score_units``).
    estimator : estimator
        The estimator scoring X, named in the message.
    """
    if not _called_by_model_selection():
        return
    key = fingerprint(X)
    if key is None:
        return
    with _lock:
        earlier = _recent.get(key)
        _recent[key] = units
        _recent.move_to_end(key)
        while len(_recent) > _REMEMBERED:
            _recent.popitem(last=False)
    if earlier is not None and earlier != units:
        warnings.warn(
            f"{type(estimator).__name__}.score measures {units}, but the same data "
            f"was scored before as {earlier}. The two are different quantities and "
            "must not be ranked against each other, as a model search with the "
            "default scorer over `likelihood` (or over different estimators) "
            "would. Pass a scorer that means the same for every candidate, such as "
            "scoring=skae.metrics.neg_reconstruction_error or a downstream metric in a "
            "pipeline.",
            ScoreUnitsWarning,
            stacklevel=3,
        )
