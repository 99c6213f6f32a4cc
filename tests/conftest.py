import pytest
from sklearn.datasets import load_digits


@pytest.fixture(scope="session")
def digits():
    """Digits scaled to [0, 1], with labels."""
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y
