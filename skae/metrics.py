"""Scorers that mean the same for every model, whatever its likelihood.

An estimator's ``score`` is in the units of its own likelihood (see the
user guide, "Scores and units"), so a model search over ``likelihood`` or
over different estimators needs a scorer that is not.
"""

import numpy as np
import scipy.sparse as sp

#: Values of X reconstructed at once, so that wide or sparse data is
#: densified a block of rows at a time.
_BLOCK_VALUES = 1 << 22


def neg_reconstruction_error(estimator, X, y=None):
    """Minus the mean squared reconstruction error per row, a scorer for any model.

    The error of ``estimator.inverse_transform(estimator.transform(X))``
    against X, summed over features and averaged over rows, so it is in the
    data's own units for every model with ``transform`` and
    ``inverse_transform``: skae's autoencoders whatever their likelihood
    (the reconstruction is the decoder's mean), and scikit-learn's PCA, NMF
    or a pipeline of such steps. Pass it as ``scoring`` to a model search
    that compares likelihoods or estimators; higher is better. X is read a
    block of rows at a time, so memory stays bounded on wide sparse data.

    The multinomial likelihood reconstructs each row's shares rather than
    its counts; score it against shares (divide each row by its sum) or
    with a downstream metric.

    Parameters
    ----------
    estimator : fitted estimator
        Any estimator with ``transform`` and ``inverse_transform``.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Data to reconstruct.
    y : Ignored
        Not used, present for the scorer signature.

    Returns
    -------
    score : float
        ``-mean_i sum_j (X_ij - Xhat_ij) ** 2``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skae import AutoencoderTransformer
    >>> from skae.metrics import neg_reconstruction_error
    >>> X = load_digits().data[:300] / 16
    >>> search = GridSearchCV(
    ...     AutoencoderTransformer(8, hidden_layer_sizes=(32,), max_iter=5, random_state=0),
    ...     {"likelihood": ["gaussian", "bernoulli"]}, cv=2,
    ...     scoring=neg_reconstruction_error)
    >>> search.fit(X).best_params_["likelihood"] in ("gaussian", "bernoulli")
    True
    """
    for method in ("transform", "inverse_transform"):
        if not callable(getattr(estimator, method, None)):
            raise TypeError(
                f"neg_reconstruction_error needs an estimator with transform and "
                f"inverse_transform; {type(estimator).__name__} has no {method}.")
    if not (sp.issparse(X) or hasattr(X, "iloc") or isinstance(X, np.ndarray)):
        X = np.asarray(X)
    n_samples, n_features = X.shape
    if n_samples == 0:
        raise ValueError("neg_reconstruction_error needs at least one row of X.")
    rows = max(1, _BLOCK_VALUES // max(1, n_features))
    total = 0.0
    for start in range(0, n_samples, rows):
        # A DataFrame stays a DataFrame, so that a model fitted with feature
        # names sees them.
        block = X.iloc[start:start + rows] if hasattr(X, "iloc") else X[start:start + rows]
        rebuilt = estimator.inverse_transform(estimator.transform(block))
        dense = block.toarray() if sp.issparse(block) else np.asarray(block, dtype=np.float64)
        total += float(np.sum((dense - np.asarray(rebuilt, dtype=np.float64)) ** 2))
    return -total / n_samples
