"""Invariants that hold for any shape of data."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skae import AutoencoderTransformer

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@settings(max_examples=15, deadline=None)
@given(
    n_samples=st.integers(1, 40),
    n_features=st.integers(1, 12),
    n_components=st.integers(1, 6),
    depth=st.integers(0, 2),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_shapes_dtypes_and_finite_scores(n_samples, n_features, n_components, depth,
                                         dtype, seed):
    X = np.random.default_rng(seed).normal(size=(n_samples, n_features)).astype(dtype)
    ae = AutoencoderTransformer(n_components, hidden_layer_sizes=(7,) * depth,
                                max_iter=2, random_state=seed)
    Z = ae.fit_transform(X)
    assert Z.shape == (n_samples, n_components) and Z.dtype == dtype
    R = ae.inverse_transform(Z)
    assert R.shape == X.shape and R.dtype == dtype
    scores = ae.score_samples(X)
    assert scores.shape == (n_samples,) and np.isfinite(scores).all()
    # Scores are negated losses: a squared error is never negative.
    assert (scores <= 0).all()
    assert len(ae.get_feature_names_out()) == n_components
