"""Bad input and faults on every classifier: clear errors, and the model as it was."""

import numpy as np
import pytest
import scipy.sparse as sp

from skae import AutoencoderClassifier, TrainingDivergedError, VAEClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# 300 rows in batches of 50: 6 steps an epoch; no pretraining, so that the
# steps counted are the classifier's.
SETTINGS = {
    AutoencoderClassifier: {"pretrain": None},
    VAEClassifier: {"n_components": 2},
}
FAST = {"hidden_layer_sizes": (16,), "max_iter": 6, "batch_size": 50, "random_state": 0}


@pytest.fixture(params=list(SETTINGS), ids=lambda make: make.__name__)
def make(request):
    return lambda **kw: request.param(**{**SETTINGS[request.param], **FAST, **kw})


@pytest.fixture
def data(digits):
    X, y = digits
    return X[:300], y[:300]


@pytest.mark.parametrize(("bad", "message"), [(np.nan, "NaN"), (np.inf, "infinity")])
@pytest.mark.parametrize("method", ["fit", "partial_fit", "predict", "predict_proba",
                                    "transform"])
def test_non_finite_values(make, data, bad, message, method):
    X, y = data
    X_bad = X.copy()
    X_bad[3, 2] = bad
    with pytest.raises(ValueError, match=message):
        if method == "fit":
            make().fit(X_bad, y)
        elif method == "partial_fit":
            make().partial_fit(X_bad, y, classes=np.arange(10))
        else:
            getattr(make().fit(X, y), method)(X_bad)


def test_wrong_width_and_unfitted(make, data):
    from sklearn.exceptions import NotFittedError

    X, y = data
    with pytest.raises(NotFittedError):
        make().predict(X)
    with pytest.raises(ValueError, match="features"):
        make().fit(X, y).predict(X[:, :10])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        make().fit(X, y[:-1])


def test_divergence_keeps_the_previous_model(make, data):
    X, y = data
    model = make().fit(X, y)
    before = model.predict_proba(X)
    with pytest.raises(TrainingDivergedError):
        model.set_params(learning_rate_init=1e6, solver="sgd").fit(X * 1e3, y)
    np.testing.assert_array_equal(model.predict_proba(X), before)


def test_interrupt_keeps_the_last_complete_epoch(make, data, interrupt_at_step, monkeypatch):
    X, y = data
    reference = make(max_iter=2).fit(X, y)
    interrupt_at_step(15)  # in the third epoch
    model = make()
    with pytest.warns(UserWarning, match="interrupted after 2"), pytest.raises(KeyboardInterrupt):
        model.fit(X, y)
    monkeypatch.undo()
    assert model.n_iter_ == len(model.loss_curve_) == 2
    np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(X),
                               rtol=1e-5, atol=1e-6)
    model.partial_fit(X, y)
    assert model.n_iter_ == 3


def test_sparse_input_matches_dense(make, data):
    X, y = data
    dense = make().fit(X, y)
    sparse = make().fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse.predict_proba(sp.csr_matrix(X)), dense.predict_proba(X),
                               rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("kind", ["str", "object"])
def test_string_labels(make, kind, n_classes):
    from sklearn.datasets import make_blobs
    from sklearn.utils.estimator_checks import check_classifiers_predictions

    X, y = make_blobs(n_samples=30, centers=n_classes, random_state=0, cluster_std=0.1)
    names = np.take(["one", "two", "three"], y)
    check_classifiers_predictions(X, names if kind == "str" else names.astype(object),
                                  "classifier", make(max_iter=200, batch_size="auto"))
