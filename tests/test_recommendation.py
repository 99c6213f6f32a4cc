"""Recommendation from sparse implicit feedback with a denoising autoencoder."""

import numpy as np
import pytest
import scipy.sparse as sp

from skae import DenoisingAE
from skae.datasets import make_implicit_feedback

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


def recommend(noise_level, train, visible):
    dae = DenoisingAE(16, noise="masking", noise_level=noise_level, hidden_layer_sizes=(64,),
                      likelihood="bernoulli", max_iter=60, random_state=0).fit(train)
    return dae.inverse_transform(dae.transform(visible))


def test_masking_noise_finds_hidden_clicks(clicks):
    train, visible, hidden = clicks
    assert sp.issparse(train) and sp.issparse(visible)
    popularity = np.tile(np.asarray(train.sum(axis=0)), (visible.shape[0], 1))
    masked = hit_rate(recommend(0.5, train, visible), visible, hidden)
    unmasked = hit_rate(recommend(0.0, train, visible), visible, hidden)
    baseline = hit_rate(popularity, visible, hidden)
    print(f"hit rate at 10: masking {masked:.3f}, no noise {unmasked:.3f}, "
          f"popularity {baseline:.3f}")
    assert masked > baseline
    assert masked > unmasked
