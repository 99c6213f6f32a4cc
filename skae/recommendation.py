"""Recommending from scores: top-n lists and ranking metrics.

A model that scores every item for every user, such as an autoencoder
reconstructing a user-item click matrix
(``model.inverse_transform(model.transform(X))``), still leaves the step a
recommender needs after ``fit``: rank each user's items, leave out the ones
the user has already seen, and keep the best few. :func:`recommend` does
that from a fitted estimator, :func:`item_scores` gives the scores it
ranks, :func:`top_n` ranks the scores of any model, and :func:`recall_at_k`
and :func:`ndcg_at_k` measure how many of a user's held-out items such a
list finds, with the definitions of Liang et al. (2018), which most work on
autoencoders for collaborative filtering reports.

Apart from :func:`recommend` and :func:`item_scores`, the functions operate
on arrays only, so they work with the scores of any model: rows are users,
columns are items, and a higher score is a better item.

References
----------
.. [1] D. Liang, R. G. Krishnan, M. D. Hoffman and T. Jebara, "Variational
   autoencoders for collaborative filtering", WWW 2018.
"""

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted

__all__ = ["item_scores", "ndcg_at_k", "recall_at_k", "recommend", "top_n"]

#: Scores computed at once by :func:`recommend`: it works through the rows a
#: block at a time, so memory does not grow with the number of users.
_SCORE_BUDGET = 1 << 22


def _check_scores(scores):
    """Dense 2-D float scores; +-inf allowed, NaN refused."""
    scores = check_array(scores, accept_sparse=False, dtype=None, ensure_all_finite=False,
                         input_name="scores")
    if not np.issubdtype(scores.dtype, np.floating):
        scores = scores.astype(np.float64)
    if np.isnan(scores).any():
        rows = np.flatnonzero(np.isnan(scores).any(axis=1))
        raise ValueError(
            f"scores contain NaN (in {len(rows)} row(s), the first is row {rows[0]}); "
            "a NaN cannot be ranked. Give unwanted items -inf instead, or exclude them."
        )
    return scores


def _check_matrix(X, name, shape):
    """A dense or sparse (returned as canonical CSR) matrix of the given shape."""
    X = check_array(X, accept_sparse="csr", dtype=None, input_name=name)
    if X.shape != shape:
        raise ValueError(
            f"{name} has shape {X.shape}, but scores have shape {shape}: both need one "
            "row per user and one column per item, in the same order."
        )
    if sp.issparse(X):
        X = X.copy()
        X.sum_duplicates()
    return X


def _check_k(k, name, n_items):
    if isinstance(k, bool) or not isinstance(k, Integral):
        raise TypeError(f"{name} must be an integer, got {k!r}.")
    if k < 1:
        raise ValueError(f"{name} must be at least 1, got {k}.")
    if k > n_items:
        raise ValueError(
            f"{name}={k} is larger than the number of items ({n_items}): a top-{k} list "
            f"cannot be drawn from {n_items} items."
        )
    return int(k)


def _mask_excluded(scores, exclude):
    """Copy of scores with the non-zero entries of exclude set to -inf."""
    exclude = _check_matrix(exclude, "exclude", scores.shape)
    scores = scores.copy()
    if sp.issparse(exclude):
        rows, cols = exclude.nonzero()
        scores[rows, cols] = -np.inf
    else:
        scores[exclude != 0] = -np.inf
    return scores


def top_n(scores, n=10, *, exclude=None):
    """Return the indices of the n best-scored items of every row, best first.

    This is the list a recommender shows each user: the items with the
    highest scores, leaving out those in ``exclude`` (typically the items
    the user has already clicked).

    Parameters
    ----------
    scores : array-like of shape (n_users, n_items)
        Score of every item for every user; higher is better. Must not
        contain NaN; ``-inf`` marks an item that must not be recommended.
    n : int, default=10
        Length of each list, between 1 and ``n_items``.
    exclude : {array-like, sparse matrix} of shape (n_users, n_items), default=None
        Items not to recommend, typically those each user has already
        clicked: every non-zero entry (explicitly stored zeros of a sparse
        matrix do not count) gives that item a score of ``-inf`` for that
        user. ``scores`` itself is not modified.

    Returns
    -------
    ranking : ndarray of shape (n_users, n), dtype intp
        Column indices of the recommended items, the best first. Items
        scored ``-inf`` (by the model or through ``exclude``) are never
        returned: a row with fewer than ``n`` other items is padded at the
        end with ``-1``. Beware that ``-1`` is a valid numpy index (the last
        item); mask it, e.g. with ``ranking >= 0``, before indexing.

    Raises
    ------
    ValueError
        If ``scores`` is not 2-D or contains NaN, if ``n`` is below 1 or
        above ``n_items``, or if ``exclude`` has another shape than
        ``scores``.
    TypeError
        If ``n`` is not an integer.

    See Also
    --------
    recall_at_k : Share of held-out items in the top k.
    ndcg_at_k : Rank-discounted share of held-out items in the top k.

    Notes
    -----
    The n best items are selected with :func:`numpy.argpartition` (linear
    time in ``n_items``) and only those are sorted. Items with equal scores
    are ordered by increasing index within the list; which of several items
    tied at the n-th place make it into the list is not specified (but is
    deterministic).

    Examples
    --------
    >>> import numpy as np
    >>> from skae.recommendation import top_n
    >>> scores = np.array([[0.1, 0.9, 0.4, 0.7],
    ...                    [0.8, 0.2, 0.6, 0.3]])
    >>> top_n(scores, n=2)
    array([[1, 3],
           [0, 2]])

    Leave out what each user has already seen:

    >>> seen = np.array([[0, 1, 0, 0],
    ...                  [1, 1, 1, 0]])
    >>> top_n(scores, n=2, exclude=seen)
    array([[ 3,  2],
           [ 3, -1]])

    With an estimator, the scores of new users are the reconstruction of
    their clicks (``X_new``, a CSR matrix here):

    >>> import scipy.sparse as sp
    >>> from sklearn.decomposition import TruncatedSVD
    >>> X = sp.random(50, 30, density=0.2, format="csr", random_state=0)
    >>> X.data[:] = 1
    >>> X_new = X[:5]
    >>> model = TruncatedSVD(n_components=5, random_state=0).fit(X)
    >>> recommended = top_n(model.inverse_transform(model.transform(X_new)), n=3,
    ...                     exclude=X_new)
    >>> recommended.shape
    (5, 3)
    >>> bool(X_new.toarray()[np.arange(5)[:, None], recommended].any())
    False
    """
    scores = _check_scores(scores)
    n = _check_k(n, "n", scores.shape[1])
    if exclude is not None:
        scores = _mask_excluded(scores, exclude)
    rows = np.arange(scores.shape[0])[:, None]
    if n < scores.shape[1]:
        candidates = np.argpartition(-scores, n - 1, axis=1)[:, :n]
        # Ascending indices first, so that the stable sort orders ties by index.
        candidates.sort(axis=1)
    else:
        candidates = np.broadcast_to(np.arange(n), scores.shape)
    values = scores[rows, candidates]
    order = np.argsort(-values, axis=1, kind="stable")
    ranking = candidates[rows, order]
    ranking[values[rows, order] == -np.inf] = -1
    return ranking


def _check_recommender(estimator):
    for method in ("transform", "inverse_transform"):
        if not callable(getattr(estimator, method, None)):
            raise TypeError(
                f"{type(estimator).__name__} has no {method} method: the scores of a user's "
                "items are the reconstruction inverse_transform(transform(X)), so the "
                "estimator must have both (every skae autoencoder, PCA and TruncatedSVD do)."
            )
    check_is_fitted(estimator)


def _rows(X, checked, start, stop):
    """Rows start:stop of X, as a DataFrame when X is one (its feature names kept)."""
    return X.iloc[start:stop] if hasattr(X, "iloc") else checked[start:stop]


def _scores_of(estimator, X, checked, start, stop, exclude_seen):
    part = _rows(X, checked, start, stop)
    scores = np.asarray(estimator.inverse_transform(estimator.transform(part)))
    if not np.issubdtype(scores.dtype, np.floating):
        scores = scores.astype(np.float64)
    if scores.shape != (stop - start, checked.shape[1]):
        raise ValueError(
            f"{type(estimator).__name__}.inverse_transform returned shape {scores.shape} for "
            f"{stop - start} rows of {checked.shape[1]} items; it must return one score per "
            "item and row."
        )
    if exclude_seen:
        scores = _mask_excluded(scores, checked[start:stop])
    return scores


def item_scores(estimator, X, *, exclude_seen=True):
    """Score every item for every row of X with a fitted estimator.

    The score of a user's items is the estimator's reconstruction of the
    user's row, ``estimator.inverse_transform(estimator.transform(X))``:
    with ``likelihood="multinomial"`` the probability of each item among
    the user's next clicks, with ``"bernoulli"`` the probability that the
    user clicks it. Users need not have been seen in training (fold-in).

    Parameters
    ----------
    estimator : fitted estimator
        Any estimator with ``transform`` and ``inverse_transform``: a skae
        autoencoder, or :class:`~sklearn.decomposition.TruncatedSVD`.
    X : {array-like, sparse matrix} of shape (n_users, n_items)
        Each user's clicks (or counts); CSR input stays sparse.
    exclude_seen : bool, default=True
        Give the items a user has already clicked (the non-zero entries of
        their row) a score of ``-inf``.

    Returns
    -------
    scores : ndarray of shape (n_users, n_items)
        Higher is better. Dense: for many users, :func:`recommend` keeps
        only the top of each row.

    See Also
    --------
    recommend : The best unseen items of each row.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import TruncatedSVD
    >>> from skae.recommendation import item_scores
    >>> X = np.array([[1, 1, 0, 0], [0, 1, 1, 0], [1, 0, 0, 1], [1, 1, 0, 1]])
    >>> svd = TruncatedSVD(n_components=2, random_state=0).fit(X)
    >>> scores = item_scores(svd, X[:1])
    >>> scores[0, :2]
    array([-inf, -inf])
    """
    _check_recommender(estimator)
    checked = check_array(X, accept_sparse="csr", dtype=None, input_name="X")
    return _scores_of(estimator, X, checked, 0, checked.shape[0], exclude_seen)


def recommend(estimator, X, n=10, *, exclude_seen=True, return_scores=False):
    """Return the n best items of every row of X for a fitted estimator, best first.

    The step a recommender takes after ``fit``: score every item for each
    user by the estimator's reconstruction of the user's row (see
    :func:`item_scores`), leave out the items the user has already
    clicked, and rank the rest. Rows are scored a block at a time, so
    memory stays bounded however many users X holds.

    Parameters
    ----------
    estimator : fitted estimator
        Any estimator with ``transform`` and ``inverse_transform``, such as
        a :class:`~skae.DenoisingAE` or :class:`~skae.VAETransformer` fitted
        with ``likelihood="multinomial"`` on a user-item matrix.
    X : {array-like, sparse matrix} of shape (n_users, n_items)
        Each user's clicks (or counts), with the columns the estimator was
        fitted on; CSR input stays sparse. The users need not have been
        seen in training.
    n : int, default=10
        Length of each list, between 1 and ``n_items``.
    exclude_seen : bool, default=True
        Leave out the items each user has already clicked (the non-zero
        entries of their row).
    return_scores : bool, default=False
        Also return the score of every listed item.

    Returns
    -------
    ranking : ndarray of shape (n_users, n), dtype intp
        Item (column) indices, best first. A user with fewer than ``n``
        unseen items gets ``-1`` in the places left over (see
        :func:`top_n`).
    scores : ndarray of shape (n_users, n)
        Only with ``return_scores``: the scores of the listed items,
        ``-inf`` where the ranking holds ``-1``.

    See Also
    --------
    item_scores : Every item's score.
    top_n : The same ranking from scores of any model.

    Examples
    --------
    >>> import numpy as np
    >>> from skae import DenoisingAE
    >>> from skae.datasets import make_implicit_feedback
    >>> from skae.recommendation import recommend
    >>> X, _ = make_implicit_feedback(n_users=300, n_items=40, random_state=0)
    >>> model = DenoisingAE(8, likelihood="multinomial", input_norm="l2",
    ...                     noise="masking", noise_level=0.5, max_iter=20,
    ...                     random_state=0).fit(X[:250])
    >>> new_users = X[250:]
    >>> ranking = recommend(model, new_users, n=5)
    >>> ranking.shape
    (50, 5)
    >>> bool(new_users[np.arange(50)[:, None], ranking].toarray().any())
    False
    """
    _check_recommender(estimator)
    checked = check_array(X, accept_sparse="csr", dtype=None, input_name="X")
    n_users, n_items = checked.shape
    n = _check_k(n, "n", n_items)
    block = max(1, _SCORE_BUDGET // max(1, n_items))
    rankings, listed = [], []
    for start in range(0, n_users, block):
        stop = min(start + block, n_users)
        scores = _scores_of(estimator, X, checked, start, stop, exclude_seen)
        ranking = top_n(scores, n)
        rankings.append(ranking)
        if return_scores:
            rows = np.arange(stop - start)[:, None]
            listed.append(np.where(ranking >= 0, scores[rows, ranking], -np.inf))
    # check_array guarantees at least one row, so there is at least one block.
    ranking = np.concatenate(rankings)
    return (ranking, np.concatenate(listed)) if return_scores else ranking


def _check_heldout(heldout):
    """Binary relevance: a canonical boolean CSR matrix, or a dense boolean array."""
    heldout = check_array(heldout, accept_sparse="csr", dtype=None, input_name="heldout")
    if sp.issparse(heldout):
        heldout = heldout.copy()
        heldout.sum_duplicates()
        heldout.data = heldout.data > 0
        heldout.eliminate_zeros()
        return heldout
    return heldout > 0


def _check_ranking(ranking, n_users, n_items, k):
    ranking = check_array(ranking, dtype=None, input_name="ranking")
    if not np.issubdtype(ranking.dtype, np.integer):
        raise ValueError(
            f"ranked=True needs integer item indices (as returned by top_n), got dtype "
            f"{ranking.dtype}. Pass scores with ranked=False instead."
        )
    if ranking.shape[0] != n_users:
        raise ValueError(
            f"ranking has {ranking.shape[0]} rows, but heldout has {n_users}: both need one "
            "row per user, in the same order."
        )
    if ranking.shape[1] < k:
        raise ValueError(f"ranking has {ranking.shape[1]} columns, fewer than k={k}.")
    ranking = ranking[:, :k].astype(np.intp)
    if ranking.size and (ranking.min() < -1 or ranking.max() >= n_items):
        raise ValueError(
            f"ranking holds item indices outside [0, {n_items}) (heldout's columns); -1 is "
            "the only other value allowed, for an empty place."
        )
    valid = np.sort(ranking, axis=1)
    repeated = (valid[:, 1:] == valid[:, :-1]) & (valid[:, 1:] >= 0)
    if repeated.any():
        row = int(np.flatnonzero(repeated.any(axis=1))[0])
        raise ValueError(
            f"ranking lists an item twice in its first k={k} places (first in row {row}); "
            "each item may appear once."
        )
    return ranking


def _hits(heldout, scores, k, exclude, ranked):
    """Validated inputs -> (boolean hits of shape (n_users, k), relevant count per user)."""
    heldout = _check_heldout(heldout)
    n_users, n_items = heldout.shape
    k = _check_k(k, "k", n_items)
    if ranked:
        if exclude is not None:
            raise ValueError(
                "exclude applies to scores; with ranked=True, leave the excluded items "
                "out of the ranking (top_n(scores, k, exclude=...) does)."
            )
        ranking = _check_ranking(scores, n_users, n_items, k)
    else:
        scores = _check_scores(scores)
        if scores.shape != heldout.shape:
            raise ValueError(
                f"scores have shape {scores.shape}, but heldout has shape {heldout.shape}: "
                "both need one row per user and one column per item, in the same order."
            )
        ranking = top_n(scores, k, exclude=exclude)
    placed = ranking >= 0
    items = np.where(placed, ranking, 0)
    if sp.issparse(heldout):
        users = np.repeat(np.arange(n_users), k)
        relevant = np.asarray(heldout[users, items.ravel()]).reshape(n_users, k)
        n_relevant = np.diff(heldout.indptr)
    else:
        relevant = heldout[np.arange(n_users)[:, None], items]
        n_relevant = heldout.sum(axis=1)
    return (relevant != 0) & placed, n_relevant, k


def recall_at_k(heldout, scores, k, *, exclude=None, ranked=False):
    r"""Compute the recall at k of each user, as defined by Liang et al. (2018).

    .. math::

        \mathrm{Recall@}k(u) = \frac{|\{\text{top } k \text{ items of } u\}
        \cap I_u|}{\min(k, |I_u|)}

    where :math:`I_u` is the set of user u's held-out items. Dividing by
    :math:`\min(k, |I_u|)` rather than :math:`|I_u|` makes 1 reachable for
    users with more than k held-out items (it is then a precision).

    Parameters
    ----------
    heldout : {array-like, sparse matrix} of shape (n_users, n_items)
        Each user's held-out items: every entry above 0 is a relevant item
        (binary relevance; the values are otherwise ignored).
    scores : array-like of shape (n_users, n_items), or (n_users, m) with ``ranked``
        Score of every item for every user, higher is better, without NaN.
        With ``ranked=True``, integer item indices instead, best first, at
        least ``k`` per row, as returned by :func:`top_n` (``-1`` for an
        empty place).
    k : int
        Length of the list evaluated, between 1 and ``n_items``.
    exclude : {array-like, sparse matrix} of shape (n_users, n_items), default=None
        Items not to rank, typically the clicks the model was given as
        input; their non-zero entries set the scores to ``-inf`` (see
        :func:`top_n`). Not allowed with ``ranked=True``.
    ranked : bool, default=False
        Whether ``scores`` holds rankings rather than scores.

    Returns
    -------
    recall : ndarray of shape (n_users,)
        Recall at k of each user, in [0, 1]; NaN for users without
        held-out items (use :func:`numpy.nanmean` to average over the
        others).

    Raises
    ------
    ValueError
        On NaN scores, shapes that disagree, ``k`` below 1 or above
        ``n_items``, or an invalid ranking.
    TypeError
        If ``k`` is not an integer.

    See Also
    --------
    ndcg_at_k : Rewards finding held-out items early in the list.
    top_n : The lists evaluated here.

    Examples
    --------
    >>> import numpy as np
    >>> from skae.recommendation import recall_at_k
    >>> heldout = np.array([[1, 0, 0, 1, 0],
    ...                     [0, 1, 1, 1, 0]])
    >>> scores = np.array([[0.9, 0.8, 0.1, 0.2, 0.3],
    ...                    [0.1, 0.2, 0.9, 0.8, 0.7]])
    >>> recall_at_k(heldout, scores, k=2)
    array([0.5, 1. ])

    The second user's top 2 are two of their three held-out items: recall
    at 2 is 2 / min(2, 3) = 1.
    """
    hits, n_relevant, k = _hits(heldout, scores, k, exclude, ranked)
    found = hits.sum(axis=1)
    recall = np.full(len(found), np.nan)
    has = n_relevant > 0
    recall[has] = found[has] / np.minimum(k, n_relevant[has])
    return recall


def ndcg_at_k(heldout, scores, k, *, exclude=None, ranked=False):
    r"""Compute the normalised discounted cumulative gain at k of each user.

    The definition is Liang et al.'s (2018).

    With binary relevance, the item at position i (from 1) of user u's top
    k counts :math:`1 / \log_2(i + 1)` when it is one of the user's
    held-out items :math:`I_u`, and 0 otherwise:

    .. math::

        \mathrm{DCG@}k(u) = \sum_{i=1}^{k}
        \frac{[\text{item}_i \in I_u]}{\log_2(i + 1)}, \qquad
        \mathrm{NDCG@}k(u) = \frac{\mathrm{DCG@}k(u)}{\sum_{i=1}^{\min(k, |I_u|)}
        1 / \log_2(i + 1)}

    The denominator is the DCG of an ideal list, with all held-out items
    (at most k) at its top, so NDCG is 1 exactly for such a list.

    Parameters
    ----------
    heldout : {array-like, sparse matrix} of shape (n_users, n_items)
        Each user's held-out items: every entry above 0 is a relevant item
        (binary relevance; the values are otherwise ignored).
    scores : array-like of shape (n_users, n_items), or (n_users, m) with ``ranked``
        Score of every item for every user, higher is better, without NaN.
        With ``ranked=True``, integer item indices instead, best first, at
        least ``k`` per row, as returned by :func:`top_n` (``-1`` for an
        empty place).
    k : int
        Length of the list evaluated, between 1 and ``n_items``.
    exclude : {array-like, sparse matrix} of shape (n_users, n_items), default=None
        Items not to rank, typically the clicks the model was given as
        input; their non-zero entries set the scores to ``-inf`` (see
        :func:`top_n`). Not allowed with ``ranked=True``.
    ranked : bool, default=False
        Whether ``scores`` holds rankings rather than scores.

    Returns
    -------
    ndcg : ndarray of shape (n_users,)
        NDCG at k of each user, in [0, 1]; NaN for users without held-out
        items (use :func:`numpy.nanmean` to average over the others).

    Raises
    ------
    ValueError
        On NaN scores, shapes that disagree, ``k`` below 1 or above
        ``n_items``, or an invalid ranking.
    TypeError
        If ``k`` is not an integer.

    See Also
    --------
    recall_at_k : Ignores the order within the top k.
    top_n : The lists evaluated here.

    Examples
    --------
    >>> import numpy as np
    >>> from skae.recommendation import ndcg_at_k
    >>> heldout = np.array([[0, 1, 0, 1]])
    >>> scores = np.array([[0.4, 0.3, 0.2, 0.1]])
    >>> ndcg = ndcg_at_k(heldout, scores, k=4)
    >>> expected = (1 / np.log2(3) + 1 / np.log2(5)) / (1 + 1 / np.log2(3))
    >>> bool(np.isclose(ndcg[0], expected))
    True

    A ranking from :func:`top_n` gives the same value:

    >>> from skae.recommendation import top_n
    >>> ndcg_at_k(heldout, top_n(scores, 4), k=4, ranked=True) == ndcg
    array([ True])
    """
    hits, n_relevant, k = _hits(heldout, scores, k, exclude, ranked)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = hits @ discount
    ideal = np.concatenate([[0.0], np.cumsum(discount)])[np.minimum(k, n_relevant)]
    ndcg = np.full(len(dcg), np.nan)
    has = n_relevant > 0
    ndcg[has] = dcg[has] / ideal[has]
    return ndcg

