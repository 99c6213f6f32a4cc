"""Scores of different units are never ranked silently; a scorer that is comparable."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV, cross_val_score

from skae import (
    AutoencoderTransformer,
    DenoisingAE,
    ScoreUnitsWarning,
    SparseCoder,
    VAETransformer,
    metrics,
)
from skae._score_units import fingerprint

FAST = {"hidden_layer_sizes": (16,), "max_iter": 3, "random_state": 0}

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def units_warnings(record):
    return [w for w in record if issubclass(w.category, ScoreUnitsWarning)]


@pytest.mark.parametrize("Estimator", [AutoencoderTransformer, DenoisingAE, VAETransformer])
def test_search_over_likelihood_warns(digits, Estimator):
    X = digits[0][:300]
    search = GridSearchCV(Estimator(4, **FAST), {"likelihood": ["gaussian", "bernoulli"]}, cv=2)
    with pytest.warns(ScoreUnitsWarning, match="scored before as") as record:
        search.fit(X)
    message = str(units_warnings(record)[0].message)
    assert "bernoulli" in message
    assert "neg_reconstruction_error" in message


def test_search_with_one_likelihood_does_not_warn(digits):
    X = digits[0][:300]
    search = GridSearchCV(AutoencoderTransformer(4, **FAST),
                          {"n_components": [2, 4], "likelihood": ["bernoulli"]}, cv=2)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        search.fit(X)
    assert not units_warnings(record)


def test_different_estimators_cross_validated_on_the_same_data_warn(digits):
    X = digits[0][:200]
    cross_val_score(AutoencoderTransformer(4, **FAST), X, cv=2)
    with pytest.warns(ScoreUnitsWarning, match="squared reconstruction error"):
        cross_val_score(VAETransformer(4, **FAST), X, cv=2)


def test_a_script_that_calls_score_itself_is_not_warned(digits):
    # Outside model selection the caller reads the numbers it gets.
    X = digits[0][:200]
    ae = AutoencoderTransformer(4, **FAST).fit(X)
    vae = VAETransformer(4, **FAST).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScoreUnitsWarning)
        ae.score(X)
        vae.score(X)
        ae.score(X)


def test_different_data_does_not_warn(digits):
    X = digits[0]
    cross_val_score(AutoencoderTransformer(4, **FAST), X[:200], cv=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScoreUnitsWarning)
        cross_val_score(AutoencoderTransformer(4, likelihood="bernoulli", **FAST),
                        X[200:400], cv=2)


def test_equal_data_is_recognised_however_it_was_copied(digits):
    X = digits[0][:100]
    assert fingerprint(X) == fingerprint(np.asfortranarray(X.copy()))
    assert fingerprint(X) == fingerprint(np.repeat(X, 2, axis=0)[::2])
    assert fingerprint(X) != fingerprint(X[:99])
    assert fingerprint(X) != fingerprint(X.astype(np.float32))
    changed = X.copy()
    changed[50, 3] += 1e-9
    assert fingerprint(X) != fingerprint(changed)
    assert fingerprint(sp.csr_matrix(X)) == fingerprint(sp.csr_matrix(X.copy()))
    assert fingerprint(sp.csr_matrix(X)) != fingerprint(X)


def test_strided_data_is_hashed_a_block_at_a_time(digits, monkeypatch):
    from skae import _score_units

    X = np.asfortranarray(digits[0][:100])
    whole = fingerprint(X)
    monkeypatch.setattr(_score_units, "_HASH_VALUES", 64 * 7)
    assert fingerprint(X) == whole


def test_sparse_data_is_guarded(digits):
    X = sp.csr_matrix((digits[0][:200] > 0.5).astype(np.float64))
    cross_val_score(SparseCoder(8, max_iter=3, random_state=0), X, cv=2)
    with pytest.warns(ScoreUnitsWarning):
        cross_val_score(SparseCoder(8, likelihood="bernoulli", max_iter=3, random_state=0),
                        X, cv=2)


def test_score_is_unchanged_by_the_guard(digits):
    X = digits[0][:200]
    vae = VAETransformer(4, **FAST).fit(X)
    assert vae.score(X) == pytest.approx(np.mean(vae.score_samples(X)), rel=1e-12)


@pytest.mark.parametrize("model", [
    AutoencoderTransformer(4, likelihood="bernoulli", **FAST),
    VAETransformer(4, **FAST),
    PCA(4),
])
def test_neg_reconstruction_error_is_the_mean_squared_error(digits, model):
    X = digits[0][:200]
    model.fit(X)
    expected = -np.mean(np.sum((X - model.inverse_transform(model.transform(X))) ** 2, axis=1))
    assert metrics.neg_reconstruction_error(model, X) == pytest.approx(expected, rel=1e-10)


def test_neg_reconstruction_error_reads_blocks_of_rows(digits, monkeypatch):
    X = sp.csr_matrix(digits[0][:200])
    model = AutoencoderTransformer(4, **FAST).fit(X)
    whole = metrics.neg_reconstruction_error(model, X)
    seen = []
    transform = model.transform
    monkeypatch.setattr(model, "transform", lambda block: seen.append(block.shape[0])
                        or transform(block))
    monkeypatch.setattr(metrics, "_BLOCK_VALUES", 64 * 30)
    assert metrics.neg_reconstruction_error(model, X) == pytest.approx(whole, rel=1e-10)
    assert max(seen) == 30 and sum(seen) == 200


# The comparisons below pass arrays to a model fitted on a DataFrame, on purpose.
@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_neg_reconstruction_error_keeps_a_dataframe_s_feature_names(digits):
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(digits[0][:200], columns=[f"pixel{i}" for i in range(64)])
    model = AutoencoderTransformer(4, **FAST).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        score = metrics.neg_reconstruction_error(model, X)
    assert score == pytest.approx(metrics.neg_reconstruction_error(model, X.to_numpy()))
    assert metrics.neg_reconstruction_error(model, X.to_numpy().tolist()) == pytest.approx(score)


def test_search_with_the_comparable_scorer_does_not_warn(digits):
    X = digits[0][:300]
    search = GridSearchCV(AutoencoderTransformer(4, **FAST),
                          {"likelihood": ["gaussian", "bernoulli"]}, cv=2,
                          scoring=metrics.neg_reconstruction_error)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        search.fit(X)
    assert not units_warnings(record)
    assert np.all(search.cv_results_["mean_test_score"] < 0)


def test_neg_reconstruction_error_needs_a_decoder(digits):
    X = digits[0][:100]
    with pytest.raises(TypeError, match="inverse_transform"):
        metrics.neg_reconstruction_error(KMeans(2, n_init=1).fit(X), X)
