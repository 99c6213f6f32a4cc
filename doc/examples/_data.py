"""Data for the examples: a real data set when it is on disk, else digits."""

import numpy as np
from sklearn.datasets import load_digits

from skae import datasets


def mnist_or_digits(n_samples=10_000):
    """Up to ``n_samples`` MNIST training images, or digits when MNIST is absent.

    Returns X scaled to [0, 1], the labels, the image shape and a name.
    """
    try:
        X, y = datasets.load_mnist("train")
    except FileNotFoundError:
        X, y = load_digits(return_X_y=True)
        return X / 16.0, y, (8, 8), "digits"
    rng = np.random.default_rng(0)
    keep = rng.choice(len(X), size=min(n_samples, len(X)), replace=False)
    return X[keep], y[keep], (28, 28), "MNIST"
