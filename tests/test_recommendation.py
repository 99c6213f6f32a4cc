"""Recommendation from sparse implicit feedback with a denoising autoencoder."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.exceptions import NotFittedError

from skae import DenoisingAE, recommendation
from skae.datasets import make_implicit_feedback
from skae.recommendation import item_scores, recommend, top_n

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def clicks():
    """Training users (CSR), held-out users' visible clicks (CSR) and one hidden click each."""
    X, _ = make_implicit_feedback(1000, 120, n_tastes=6, mean_clicks=12, random_state=0)
    train, test = X[:800], X[800:].tolil()
    rng = np.random.default_rng(0)
    hidden = np.array([rng.choice(items) for items in test.rows])
    test[np.arange(len(hidden)), hidden] = 0
    visible = test.tocsr()
    visible.eliminate_zeros()
    return train, visible, hidden


def hit_rate(scores, visible, hidden, k=10):
    """Share of users whose hidden click is among their top k unclicked items."""
    scores = np.where(visible.toarray() > 0, -np.inf, scores)
    top = np.argsort(-scores, axis=1)[:, :k]
    return np.mean([h in t for h, t in zip(hidden, top, strict=True)])


def reconstruct(noise_level, train, visible):
    dae = DenoisingAE(16, noise="masking", noise_level=noise_level, hidden_layer_sizes=(64,),
                      likelihood="bernoulli", max_iter=60, random_state=0).fit(train)
    return dae.inverse_transform(dae.transform(visible))


def test_masking_noise_finds_hidden_clicks(clicks):
    train, visible, hidden = clicks
    assert sp.issparse(train) and sp.issparse(visible)
    popularity = np.tile(np.asarray(train.sum(axis=0)), (visible.shape[0], 1))
    masked = hit_rate(reconstruct(0.5, train, visible), visible, hidden)
    unmasked = hit_rate(reconstruct(0.0, train, visible), visible, hidden)
    baseline = hit_rate(popularity, visible, hidden)
    print(f"hit rate at 10: masking {masked:.3f}, no noise {unmasked:.3f}, "
          f"popularity {baseline:.3f}")
    assert masked > baseline
    assert masked > unmasked


# recommend and item_scores: the step after fit --------------------------------

@pytest.fixture(scope="module")
def mult_dae(clicks):
    train, _, _ = clicks
    return DenoisingAE(16, noise="masking", noise_level=0.5, hidden_layer_sizes=(),
                       activation="tanh", likelihood="multinomial", input_norm="l2",
                       max_iter=60, random_state=0).fit(train)


def test_a_multinomial_denoiser_finds_hidden_clicks(clicks, mult_dae):
    train, visible, hidden = clicks
    popularity = np.tile(np.asarray(train.sum(axis=0)), (visible.shape[0], 1))
    found = hit_rate(item_scores(mult_dae, visible), visible, hidden)
    assert found > hit_rate(popularity, visible, hidden) + 0.1


def test_recommend_ranks_unseen_items_by_the_reconstruction(clicks, mult_dae):
    _, visible, _ = clicks
    ranking = recommend(mult_dae, visible, n=10)
    assert ranking.shape == (visible.shape[0], 10)
    rows = np.arange(visible.shape[0])[:, None]
    assert not visible.toarray()[rows, ranking].any()
    reconstruction = mult_dae.inverse_transform(mult_dae.transform(visible))
    np.testing.assert_array_equal(ranking, top_n(reconstruction, 10, exclude=visible))
    # The multinomial reconstruction is each user's share of every item.
    np.testing.assert_allclose(reconstruction.sum(axis=1), 1.0, rtol=1e-5)


def test_item_scores_exclude_seen_items(clicks, mult_dae):
    _, visible, _ = clicks
    scores = item_scores(mult_dae, visible)
    seen = visible.toarray() > 0
    assert np.isneginf(scores[seen]).all() and np.isfinite(scores[~seen]).all()
    everything = item_scores(mult_dae, visible, exclude_seen=False)
    assert np.isfinite(everything).all()
    np.testing.assert_array_equal(everything[~seen], scores[~seen])


def test_recommend_without_excluding_may_return_seen_items(clicks, mult_dae):
    _, visible, _ = clicks
    ranking = recommend(mult_dae, visible, n=10, exclude_seen=False)
    rows = np.arange(visible.shape[0])[:, None]
    assert visible.toarray()[rows, ranking].any()


def test_recommend_scores_in_blocks(clicks, mult_dae, monkeypatch):
    _, visible, _ = clicks
    whole, whole_scores = recommend(mult_dae, visible, n=7, return_scores=True)
    monkeypatch.setattr(recommendation, "_SCORE_BUDGET", 3 * visible.shape[1])
    calls = []
    transform = mult_dae.transform
    monkeypatch.setattr(mult_dae, "transform", lambda X: calls.append(X.shape[0])
                        or transform(X))
    blocks, block_scores = recommend(mult_dae, visible, n=7, return_scores=True)
    assert max(calls) == 3 and sum(calls) == visible.shape[0]
    np.testing.assert_array_equal(blocks, whole)
    np.testing.assert_allclose(block_scores, whole_scores, rtol=1e-6)
    rows = np.arange(visible.shape[0])[:, None]
    np.testing.assert_allclose(block_scores, item_scores(mult_dae, visible)[rows, blocks],
                               rtol=1e-12)


def test_recommend_pads_users_with_too_few_unseen_items():
    X = np.array([[1, 1, 1, 0], [0, 0, 0, 0], [1, 1, 1, 1]] * 5, dtype=float)
    svd = TruncatedSVD(2, random_state=0).fit(X)
    ranking, scores = recommend(svd, X[:3], n=2, return_scores=True)
    np.testing.assert_array_equal(ranking[0], [3, -1])
    assert (ranking[2] == -1).all() and np.isneginf(scores[2]).all()
    assert (ranking[1] >= 0).all()


def test_recommend_keeps_dataframe_feature_names(clicks):
    pd = pytest.importorskip("pandas")
    train, visible, _ = clicks
    columns = [f"item{j}" for j in range(train.shape[1])]
    frame = pd.DataFrame(train[:300].toarray(), columns=columns)
    model = DenoisingAE(4, hidden_layer_sizes=(), likelihood="multinomial", max_iter=2,
                        random_state=0).fit(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        ranking = recommend(model, frame.iloc[:20], n=5)
    assert ranking.shape == (20, 5)


def test_recommend_needs_a_fitted_reconstruction(clicks):
    _, visible, _ = clicks
    with pytest.raises(TypeError, match="no inverse_transform method"):
        recommend(StandardScalerWithoutInverse(), visible)
    with pytest.raises(NotFittedError):
        recommend(DenoisingAE(), visible)


class StandardScalerWithoutInverse:
    def fit(self, X):
        return self

    def transform(self, X):
        return X
