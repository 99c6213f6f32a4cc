"""Every kind of bad input gets a clear error naming the problem, on every estimator."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.exceptions import NotFittedError

from skae import (
    AutoencoderTransformer,
    DenoisingAE,
    SparseCoder,
    TrainingDivergedError,
    VAETransformer,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = {"hidden_layer_sizes": (8,), "max_iter": 2, "random_state": 0}


@pytest.fixture(params=[AutoencoderTransformer, DenoisingAE, SparseCoder, VAETransformer],
                ids=lambda make: make.__name__)
def make(request):
    return request.param


@pytest.fixture
def X():
    return np.random.default_rng(0).random((60, 5))


@pytest.fixture
def fitted(X, make):
    return make(2, **FAST).fit(X)


@pytest.mark.parametrize("bad, message", [(np.nan, "NaN"), (np.inf, "infinity")])
@pytest.mark.parametrize("method", ["fit", "partial_fit", "transform", "score_samples"])
def test_non_finite_values(X, fitted, make, bad, message, method):
    X = X.copy()
    X[3, 2] = bad
    target = fitted if method in ("transform", "score_samples") else make(**FAST)
    with pytest.raises(ValueError, match=message):
        getattr(target, method)(X)


def test_nan_in_codes_for_inverse_transform(fitted):
    Z = np.zeros((3, 2))
    Z[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fitted.inverse_transform(Z)


def test_values_overflowing_float32(X, make):
    with pytest.raises(ValueError, match="float32"):
        make(**FAST).fit(X * 1e300)


def test_empty_input(make):
    with pytest.raises(ValueError, match="0 sample"):
        make(**FAST).fit(np.empty((0, 4)))
    with pytest.raises(ValueError, match="0 feature"):
        make(**FAST).fit(np.empty((5, 0)))


def test_wrong_width(fitted, make, X):
    name = make.__name__
    with pytest.raises(ValueError, match=f"X has 4 features, but {name} is "
                                         "expecting 5 features"):
        fitted.transform(X[:, :4])
    with pytest.raises(ValueError, match=f"X has 3 features, but {name}"
                                         r".inverse_transform is expecting 2 features "
                                         r"\(the width of the code\)"):
        fitted.inverse_transform(np.zeros((4, 3)))


@pytest.mark.parametrize("method", ["transform", "inverse_transform", "score_samples",
                                    "score"])
def test_unfitted(method, make, X):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(make(), method)(X)


@pytest.mark.parametrize("params, message", [
    ({"n_components": 0}, "n_components"),
    ({"activation": "softplus"}, "activation"),
    ({"likelihood": "laplace"}, "likelihood"),
    ({"solver": "lbfgs"}, "solver"),
    ({"learning_rate_init": 0.0}, "learning_rate_init"),
    ({"batch_size": 0}, "batch_size"),
    ({"validation_fraction": 1.0}, "validation_fraction"),
    ({"device": "tpu"}, "device"),
    ({"device": 0}, "device"),
    ({"hidden_layer_sizes": (4, 0)}, "hidden_layer_sizes must contain only positive"),
    ({"hidden_layer_sizes": (4.5,)}, "hidden_layer_sizes must contain only positive"),
])
def test_invalid_parameters(params, message, X, make):
    with pytest.raises(ValueError, match=message):
        make(**{**FAST, **params}).fit(X)


def test_cuda_requested_without_cuda(X, make):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ValueError, match="CUDA is not available"):
        make(device="cuda", **FAST).fit(X)


def test_one_sample_with_early_stopping(X, make):
    with pytest.raises(ValueError, match="early_stopping=True .* leaves 0 training"):
        make(early_stopping=True, **FAST).fit(X[:1])
    # Without early stopping one sample is a valid (if tiny) training set.
    assert make(2, **FAST).fit(X[:1]).transform(X[:1]).shape == (1, 2)


@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
def test_bernoulli_needs_unit_interval(container, X, make):
    est = make(likelihood="bernoulli", **FAST)
    with pytest.raises(ValueError, match=r"models values in \[0, 1\].*MinMaxScaler"):
        est.fit(container(X * 3))
    est.fit(container(X))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        est.transform(container(X - 1))


def test_divergence_is_reported_not_returned(X, make):
    # Squared errors of this size overflow float32: the loss becomes inf.
    est = make(**FAST)
    with pytest.raises(TrainingDivergedError, match="diverged.*learning_rate_init"):
        est.fit(X * 1e25)
    assert isinstance(TrainingDivergedError("x"), FloatingPointError)


def test_divergence_from_a_huge_learning_rate(make):
    X = np.random.default_rng(0).normal(size=(200, 10)) * 10
    est = make(solver="sgd", learning_rate_init=10.0, max_iter=50, random_state=0)
    with pytest.raises(TrainingDivergedError, match="smaller learning_rate_init"):
        est.fit(X)


def test_non_finite_network_output_is_an_error(fitted, X):
    with torch.no_grad():
        for parameter in fitted.net_.module_.parameters():
            parameter.fill_(3e38)
    with pytest.raises(ValueError, match="non-finite codes"):
        # float32 input is computed in float32, where these weights overflow.
        fitted.transform(X.astype(np.float32))
