"""Dynamic binarisation: a fresh binary draw of every training batch, input and target alike."""

import numpy as np
import pytest
import torch

from skae import VAETransformer
from skae._net import TrainingNet

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = {"hidden_layer_sizes": (16,), "batch_size": 100, "max_iter": 3, "random_state": 0,
        "likelihood": "bernoulli", "dynamic_binarization": True}


@pytest.fixture
def X(digits):
    return digits[0][:300]


@pytest.fixture
def batches(monkeypatch):
    """Every training batch ``(input, target)``, in order."""
    seen = []
    original = TrainingNet.train_step_single

    def train_step_single(self, batch, **kwargs):
        seen.append(batch)
        return original(self, batch, **kwargs)

    monkeypatch.setattr(TrainingNet, "train_step_single", train_step_single)
    return seen


def test_input_and_target_are_one_binary_draw(X, batches):
    VAETransformer(2, shuffle=False, **FAST).fit(X)
    assert len(batches) == 9
    for x, target in batches:
        assert x is target
        assert set(torch.unique(x).tolist()) <= {0.0, 1.0}
    # Rows visited in order: the first batch of every epoch holds rows 0-99.
    first = [x for x, _ in batches[::3]]
    assert not torch.equal(first[0], first[1]) and not torch.equal(first[1], first[2])
    # Each value is 1 with its grey level's probability.
    drawn = torch.stack(first).double().mean(dim=0).numpy()
    assert np.abs(drawn - X[:100]).mean() < 0.15
    assert drawn[X[:100] == 0].max() == 0 and drawn[X[:100] == 1].min() == 1


def test_random_state_reproduces_the_draws(X):
    a, b = (VAETransformer(2, **FAST).fit(X) for _ in range(2))
    c = VAETransformer(2, **{**FAST, "random_state": 1}).fit(X)
    assert a.loss_curve_ == b.loss_curve_ != c.loss_curve_
    np.testing.assert_array_equal(a.transform(X), b.transform(X))


def test_without_it_the_grey_levels_are_the_target(X, batches):
    VAETransformer(2, **{**FAST, "dynamic_binarization": False}).fit(X)
    assert any(((x > 0) & (x < 1)).any() for x, _ in batches)


def test_values_outside_the_unit_interval_are_refused(X):
    with pytest.raises(ValueError, match=r"models values in \[0, 1\]"):
        VAETransformer(2, **FAST).fit(X * 16)


def test_only_the_bernoulli_likelihood_binarises(X):
    with pytest.raises(ValueError, match="dynamic_binarization=True .* likelihood='gaussian'"):
        VAETransformer(2, **{**FAST, "likelihood": "gaussian"}).fit(X)
