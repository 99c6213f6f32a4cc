import matplotlib
import numpy as np
import pytest
from sklearn.datasets import load_digits

# Tests and docstring examples draw figures without a display.
matplotlib.use("Agg")


@pytest.fixture(scope="session")
def digits():
    """Digits scaled to [0, 1], with labels."""
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.fixture(scope="session")
def digits_split(digits):
    """Digits shuffled with seed 0: 1,200 training and 597 test rows, with labels."""
    X, y = digits
    order = np.random.default_rng(0).permutation(len(X))
    X, y = X[order], y[order]
    return X[:1200], y[:1200], X[1200:], y[1200:]


@pytest.fixture
def interrupt_at_step(monkeypatch):
    """``interrupt_at_step(n)`` makes the n-th training step (from 1) raise KeyboardInterrupt.

    ``monkeypatch.undo()`` lifts it.
    """
    from skae._net import TrainingNet

    def arm(step):
        original = TrainingNet.train_step
        calls = {"n": 0}

        def train_step(self, batch, **kwargs):
            calls["n"] += 1
            if calls["n"] == step:
                raise KeyboardInterrupt
            return original(self, batch, **kwargs)

        monkeypatch.setattr(TrainingNet, "train_step", train_step)

    return arm


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(autouse=True)
def forget_scored_data():
    """Each test starts with no data remembered by the score-units guard.

    The guard remembers what each data set was scored in for the whole
    process; without this, one test's scores would make another warn.
    """
    from skae import _score_units

    _score_units._recent.clear()
    yield
    _score_units._recent.clear()
