import matplotlib
import pytest
from sklearn.datasets import load_digits

# Tests and docstring examples draw figures without a display.
matplotlib.use("Agg")


@pytest.fixture(scope="session")
def digits():
    """Digits scaled to [0, 1], with labels."""
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
