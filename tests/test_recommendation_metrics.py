"""top_n, recall_at_k and ndcg_at_k on small hand-computed cases."""

import numpy as np
import pytest
import scipy.sparse as sp

from skae.recommendation import ndcg_at_k, recall_at_k, top_n


def liang_metrics(scores, heldout, seen, k):
    """Recall@k and NDCG@k transcribed from Liang et al.'s (2018) published notebook.

    Their code ranks with bottleneck.argpartition; a full argsort gives the
    same top k when there are no ties.
    """
    scores = np.where(seen > 0, -np.inf, scores)
    top = np.argsort(-scores, axis=1)[:, :k]
    rows = np.arange(len(scores))[:, None]
    true = heldout > 0
    found = true[rows, top]
    recall = found.sum(axis=1) / np.minimum(k, true.sum(axis=1))
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.array([discount[:min(n, k)].sum() for n in true.sum(axis=1)])
    return recall, (found * discount).sum(axis=1) / ideal


# top_n ---------------------------------------------------------------------

def test_top_n_orders_best_first():
    scores = np.array([[0.1, 0.9, 0.4, 0.7, 0.3],
                       [5.0, -1.0, 2.0, 3.0, 4.0]])
    np.testing.assert_array_equal(top_n(scores, 3), [[1, 3, 2], [0, 4, 3]])
    np.testing.assert_array_equal(top_n(scores, 1), [[1], [0]])
    np.testing.assert_array_equal(top_n(scores, 5), [[1, 3, 2, 4, 0], [0, 4, 3, 2, 1]])


def test_top_n_matches_full_sort():
    scores = np.random.default_rng(0).normal(size=(30, 200))
    for n in (1, 7, 100, 200):
        np.testing.assert_array_equal(top_n(scores, n), np.argsort(-scores, axis=1)[:, :n])


def test_top_n_orders_ties_by_index():
    scores = np.array([[1.0, 2.0, 1.0, 2.0, 0.0, 2.0]])
    np.testing.assert_array_equal(top_n(scores, 3), [[1, 3, 5]])
    np.testing.assert_array_equal(top_n(scores, 6), [[1, 3, 5, 0, 2, 4]])


def test_top_n_accepts_integer_and_float32_scores():
    np.testing.assert_array_equal(top_n([[3, 1, 2]], 2), [[0, 2]])
    scores = np.array([[0.5, 0.25, 1.0]], dtype=np.float32)
    np.testing.assert_array_equal(top_n(scores, 2, exclude=[[0, 0, 1]]), [[0, 1]])


@pytest.mark.parametrize("kind", ["dense", "bool", "csr", "csc", "coo"])
def test_excluded_items_are_never_returned(kind):
    rng = np.random.default_rng(1)
    scores = rng.normal(size=(40, 25))
    seen = (rng.random((40, 25)) < 0.3).astype(np.float64)
    exclude = {"dense": seen, "bool": seen > 0, "csr": sp.csr_matrix(seen),
               "csc": sp.csc_matrix(seen), "coo": sp.coo_matrix(seen)}[kind]
    before = scores.copy()
    ranking = top_n(scores, 10, exclude=exclude)
    np.testing.assert_array_equal(scores, before)  # not modified
    rows = np.arange(40)[:, None]
    assert not seen[rows, ranking].any()
    np.testing.assert_array_equal(ranking, np.argsort(-np.where(seen > 0, -np.inf, scores),
                                                      axis=1)[:, :10])


def test_explicit_zeros_of_a_sparse_exclude_do_not_exclude():
    scores = np.array([[3.0, 2.0, 1.0]])
    exclude = sp.csr_matrix((np.array([0.0, 1.0]), np.array([0, 1]), np.array([0, 2])),
                            shape=(1, 3))
    assert exclude.nnz == 2
    np.testing.assert_array_equal(top_n(scores, 2, exclude=exclude), [[0, 2]])


def test_short_rows_are_padded_with_minus_one():
    scores = np.array([[0.3, 0.2, 0.1, 0.4],
                       [0.1, -np.inf, 0.3, 0.2]])
    exclude = np.array([[1, 1, 0, 1],
                        [0, 0, 0, 0]])
    # Row 0 has one item left, row 1 three (the model itself gave item 1 -inf).
    np.testing.assert_array_equal(top_n(scores, 4, exclude=exclude),
                                  [[2, -1, -1, -1], [2, 3, 0, -1]])
    np.testing.assert_array_equal(top_n(scores, 2, exclude=np.ones((2, 4))),
                                  [[-1, -1], [-1, -1]])


def test_positive_infinity_ranks_first():
    np.testing.assert_array_equal(top_n([[1.0, np.inf, 2.0]], 2), [[1, 2]])


def test_top_n_input_errors():
    scores = np.zeros((2, 5))
    with pytest.raises(ValueError, match="larger than the number of items"):
        top_n(scores, 6)
    with pytest.raises(ValueError, match="at least 1"):
        top_n(scores, 0)
    with pytest.raises(TypeError, match="integer"):
        top_n(scores, 2.0)
    with pytest.raises(TypeError, match="integer"):
        top_n(scores, True)
    with pytest.raises(ValueError, match="NaN"):
        top_n(np.array([[0.0, np.nan]]), 1)
    with pytest.raises(ValueError, match="2D array"):
        top_n(np.zeros(5), 2)
    with pytest.raises(ValueError, match="exclude has shape"):
        top_n(scores, 2, exclude=np.zeros((2, 4)))
    with pytest.raises(ValueError, match="exclude has shape"):
        top_n(scores, 2, exclude=sp.csr_matrix((3, 5)))
    with pytest.raises(TypeError, match="dense data is required"):
        top_n(sp.csr_matrix(scores), 2)


# recall_at_k and ndcg_at_k -------------------------------------------------

SCORES = np.array([[0.9, 0.8, 0.7, 0.6, 0.5, 0.4],
                   [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]])
# Ranked lists: user 0 gets items 0, 1, 2, 3, 4, 5; user 1 gets 5, 4, 3, 2, 1, 0.
HELDOUT = np.array([[1, 0, 1, 0, 0, 0],   # positions 1 and 3
                    [1, 1, 1, 0, 1, 0]])  # positions 2, 4, 5 and 6


def test_recall_hand_computed():
    # user 0: 1 of 2 found in the top 2 -> 1 / min(2, 2); user 1: 1 of 4 -> 1 / min(2, 4).
    np.testing.assert_allclose(recall_at_k(HELDOUT, SCORES, 2), [0.5, 0.5])
    # top 3: user 0 finds both (2 / 2), user 1 finds 1 (1 / 3: normalised by k, not by 4).
    np.testing.assert_allclose(recall_at_k(HELDOUT, SCORES, 3), [1.0, 1 / 3])
    np.testing.assert_allclose(recall_at_k(HELDOUT, SCORES, 6), [1.0, 1.0])


def test_ndcg_hand_computed():
    d = 1 / np.log2(np.arange(2, 8))  # discounts of positions 1..6
    # k=3: user 0 hits positions 1 and 3, ideal 2 hits; user 1 hits position 2, ideal 3 hits.
    expected = [(d[0] + d[2]) / (d[0] + d[1]), d[1] / (d[0] + d[1] + d[2])]
    np.testing.assert_allclose(ndcg_at_k(HELDOUT, SCORES, 3), expected)
    np.testing.assert_allclose(
        ndcg_at_k(HELDOUT, SCORES, 6),
        [(d[0] + d[2]) / (d[0] + d[1]), (d[1] + d[3] + d[4] + d[5]) / d[:4].sum()])
    # Exact values for the first user at k=3: (1 + 1/2) / (1 + 1/log2(3)).
    assert ndcg_at_k(HELDOUT, SCORES, 3)[0] == pytest.approx(1.5 / (1 + 1 / np.log2(3)))


def test_perfect_and_worst_lists():
    heldout = np.array([[0, 1, 1, 0, 0]])
    assert ndcg_at_k(heldout, [[0, 5, 4, 1, 2]], 2)[0] == pytest.approx(1.0)
    assert ndcg_at_k(heldout, [[0, 4, 5, 1, 2]], 5)[0] == pytest.approx(1.0)
    assert recall_at_k(heldout, [[0, 5, 4, 1, 2]], 2)[0] == 1.0
    assert ndcg_at_k(heldout, [[5, 0, 0, 4, 3]], 3)[0] == 0.0
    assert recall_at_k(heldout, [[5, 0, 0, 4, 3]], 3)[0] == 0.0


def test_metrics_exclude_seen_items():
    heldout = np.array([[0, 0, 1, 0]])
    scores = np.array([[0.9, 0.8, 0.7, 0.1]])
    assert recall_at_k(heldout, scores, 1)[0] == 0.0
    seen = np.array([[1, 1, 0, 0]])
    assert recall_at_k(heldout, scores, 1, exclude=seen)[0] == 1.0
    assert ndcg_at_k(heldout, scores, 1, exclude=sp.csr_matrix(seen))[0] == 1.0


def test_users_without_heldout_items_get_nan():
    heldout = np.array([[0, 0, 0], [0, 1, 0]])
    scores = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    recall, ndcg = recall_at_k(heldout, scores, 2), ndcg_at_k(heldout, scores, 2)
    assert np.isnan(recall[0]) and np.isnan(ndcg[0])
    assert recall[1] == 1.0 and ndcg[1] == pytest.approx(1 / np.log2(3))


def test_sparse_and_dense_heldout_agree_and_relevance_is_binary():
    rng = np.random.default_rng(2)
    scores = rng.normal(size=(20, 30))
    ratings = rng.integers(0, 6, size=(20, 30)) * (rng.random((20, 30)) < 0.2)
    dense_binary = (ratings > 0).astype(int)
    for metric in (recall_at_k, ndcg_at_k):
        reference = metric(dense_binary, scores, 10)
        np.testing.assert_allclose(metric(ratings, scores, 10), reference)
        np.testing.assert_allclose(metric(sp.csr_matrix(ratings), scores, 10), reference)
        np.testing.assert_allclose(metric(sp.csc_array(ratings), scores, 10), reference)


def test_explicit_zeros_and_duplicates_in_sparse_heldout():
    # Entry (0, 0) stored as 0 is not relevant; (0, 2) stored twice counts once.
    heldout = sp.csr_matrix((np.array([0.0, 1.0, 1.0]), np.array([0, 2, 2]),
                             np.array([0, 3])), shape=(1, 4))
    scores = np.array([[4.0, 3.0, 2.0, 1.0]])
    assert recall_at_k(heldout, scores, 1)[0] == 0.0
    assert recall_at_k(heldout, scores, 3)[0] == 1.0
    assert ndcg_at_k(heldout, scores, 3)[0] == pytest.approx(1 / np.log2(4))


def test_agrees_with_liang_et_al_code():
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(50, 120))
    seen = rng.random((50, 120)) < 0.1
    heldout = (rng.random((50, 120)) < 0.08) & ~seen
    heldout[np.arange(50), rng.integers(0, 120, 50)] = True  # at least one each
    seen &= ~heldout
    for k in (1, 5, 20, 100):
        recall, ndcg = liang_metrics(scores, heldout, seen, k)
        np.testing.assert_allclose(recall_at_k(sp.csr_matrix(heldout), scores, k,
                                               exclude=sp.csr_matrix(seen)), recall)
        np.testing.assert_allclose(ndcg_at_k(heldout, scores, k, exclude=seen), ndcg)


def test_rankings_give_the_same_values_as_scores():
    rng = np.random.default_rng(4)
    scores = rng.normal(size=(15, 40))
    seen = rng.random((15, 40)) < 0.2
    heldout = (rng.random((15, 40)) < 0.2) & ~seen
    ranking = top_n(scores, 25, exclude=seen)
    for metric in (recall_at_k, ndcg_at_k):
        np.testing.assert_array_equal(metric(heldout, ranking, 10, ranked=True),
                                      metric(heldout, scores, 10, exclude=seen))


def test_padding_in_rankings_counts_as_a_miss():
    heldout = np.array([[1, 1, 0]])
    ranking = np.array([[0, -1, -1]])
    assert recall_at_k(heldout, ranking, 3, ranked=True)[0] == 0.5
    assert ndcg_at_k(heldout, ranking, 3, ranked=True)[0] == pytest.approx(1 / (1 + 1 / np.log2(3)))
    # Excluding all but one item pads the list in the same way.
    scores = np.array([[1.0, 2.0, 3.0]])
    assert recall_at_k(heldout, scores, 3, exclude=[[0, 1, 1]])[0] == 0.5


@pytest.mark.parametrize("metric", [recall_at_k, ndcg_at_k])
def test_metric_input_errors(metric):
    heldout = np.array([[1, 0, 0], [0, 1, 0]])
    scores = np.ones((2, 3))
    with pytest.raises(ValueError, match="scores have shape"):
        metric(heldout, np.ones((2, 4)), 1)
    with pytest.raises(ValueError, match="scores have shape"):
        metric(heldout, np.ones((3, 3)), 1)
    with pytest.raises(ValueError, match="at least 1"):
        metric(heldout, scores, 0)
    with pytest.raises(ValueError, match="larger than the number of items"):
        metric(heldout, scores, 4)
    with pytest.raises(TypeError, match="integer"):
        metric(heldout, scores, 2.5)
    with pytest.raises(ValueError, match="NaN"):
        metric(heldout, np.array([[1.0, np.nan, 0.0], [0.0, 0.0, 0.0]]), 1)
    with pytest.raises(ValueError, match="NaN"):
        metric(np.array([[1.0, np.nan, 0.0], [0.0, 1.0, 0.0]]), scores, 1)
    with pytest.raises(ValueError, match="exclude has shape"):
        metric(heldout, scores, 1, exclude=np.zeros((2, 2)))
    # Rankings.
    with pytest.raises(ValueError, match="integer item indices"):
        metric(heldout, np.array([[0.0, 1.0], [1.0, 0.0]]), 2, ranked=True)
    with pytest.raises(ValueError, match="fewer than k"):
        metric(heldout, np.array([[0], [1]]), 2, ranked=True)
    with pytest.raises(ValueError, match="rows"):
        metric(heldout, np.array([[0, 1]]), 2, ranked=True)
    with pytest.raises(ValueError, match="outside"):
        metric(heldout, np.array([[0, 3], [1, 0]]), 2, ranked=True)
    with pytest.raises(ValueError, match="outside"):
        metric(heldout, np.array([[0, -2], [1, 0]]), 2, ranked=True)
    with pytest.raises(ValueError, match="twice"):
        metric(heldout, np.array([[0, 1], [1, 1]]), 2, ranked=True)
    with pytest.raises(ValueError, match="exclude applies to scores"):
        metric(heldout, np.array([[0, 1], [1, 0]]), 2, ranked=True, exclude=heldout)
