"""The comparison behind ``python -m skae``: autoencoders beside sklearn's reducers."""

import time
import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.decomposition import NMF, PCA, FastICA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ._autoencoder import AutoencoderTransformer


class KMeansCoder(TransformerMixin, BaseEstimator):
    """KMeans read as an autoencoder: the code is the distance to each centroid
    and the reconstruction is the centroid of the nearest cluster."""

    def __init__(self, n_clusters=8, random_state=None):
        self.n_clusters = n_clusters
        self.random_state = random_state

    def fit(self, X, y=None):
        self.kmeans_ = KMeans(self.n_clusters, n_init=4, random_state=self.random_state)
        self.kmeans_.fit(X)
        return self

    def transform(self, X):
        return self.kmeans_.transform(X)

    def inverse_transform(self, D):
        return self.kmeans_.cluster_centers_[np.argmin(D, axis=1)]


def default_models(n_components, random_state):
    """The reducers compared, each producing ``n_components`` numbers per sample."""
    return {
        "PCA": PCA(n_components, random_state=random_state),
        "NMF": NMF(n_components, init="nndsvda", max_iter=500, random_state=random_state),
        "FastICA": FastICA(n_components, max_iter=500, random_state=random_state),
        "KMeans": KMeansCoder(n_components, random_state=random_state),
        "AutoencoderTransformer": AutoencoderTransformer(
            n_components,
            hidden_layer_sizes=(256, 128),
            learning_rate_init=2e-3,
            batch_size=64,
            max_iter=300,
            early_stopping=True,
            n_iter_no_change=15,
            random_state=random_state,
        ),
    }


def compare(models=None, *, n_components=16, random_state=0):
    """Fit each model on 75% of the digits and measure it on the other 25%.

    Pixel values are scaled to [0, 1]. For every model the result holds the
    held-out reconstruction error (squared error summed over the 64 pixels,
    averaged over images), the accuracy of a logistic regression trained on
    the codes, and the fit time in seconds.

    Parameters
    ----------
    models : dict of str to estimator, default=None
        Transformers with ``inverse_transform``; None uses
        :func:`default_models`.
    n_components : int, default=16
        Code size given to every default model.
    random_state : int, default=0
        Seeds the split and every model.

    Returns
    -------
    list of dict
        One dict per model with keys ``model``, ``reconstruction_error``,
        ``accuracy`` and ``fit_seconds``.
    """
    if models is None:
        models = default_models(n_components, random_state)
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=random_state, stratify=y
    )
    rows = []
    for name, model in models.items():
        model = clone(model)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train)
        fit_seconds = time.perf_counter() - start
        codes_train, codes_test = model.transform(X_train), model.transform(X_test)
        recon = model.inverse_transform(codes_test)
        error = float(np.mean(np.sum((X_test - recon) ** 2, axis=1)))
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        accuracy = float(clf.fit(codes_train, y_train).score(codes_test, y_test))
        rows.append({"model": name, "reconstruction_error": error,
                     "accuracy": accuracy, "fit_seconds": fit_seconds})
    return rows


def format_table(rows):
    """Render :func:`compare`'s rows as a plain-text table."""
    lines = [f"{'model':24s} {'held-out error':>15s} {'accuracy':>9s} {'fit (s)':>8s}"]
    for r in rows:
        lines.append(f"{r['model']:24s} {r['reconstruction_error']:15.3f} "
                     f"{r['accuracy']:9.3f} {r['fit_seconds']:8.2f}")
    return "\n".join(lines)
