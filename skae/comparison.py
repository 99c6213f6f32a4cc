"""The comparisons behind ``python -m skae``, on scikit-learn's digits.

skae's autoencoders beside scikit-learn's reducers (:func:`compare`), and
its classifier beside scikit-learn's, with every label and with few
(:func:`compare_classifiers`). Public so that the main job's tables, and
the benchmarks that extend them to other data sets, can be reproduced with
the same models and measures.
"""

import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.decomposition import NMF, PCA, FastICA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.semi_supervised import LabelSpreading

from ._autoencoder import AutoencoderTransformer
from ._classifier import AutoencoderClassifier
from ._denoising import DenoisingAE
from ._sparse import SparseCoder
from ._vae import VAETransformer


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
    # The same optimiser settings for every network, so that the table
    # compares models rather than training budgets.
    trainer = {
        "learning_rate_init": 2e-3,
        # Early stopping watches a noisy validation loss: at a constant rate
        # it keeps training where a plateau schedule would cut the rate.
        "learning_rate": "constant",
        "batch_size": 64,
        "max_iter": 300,
        "early_stopping": True,
        "n_iter_no_change": 15,
        "random_state": random_state,
    }
    return {
        "PCA": PCA(n_components, random_state=random_state),
        "NMF": NMF(n_components, init="nndsvda", max_iter=500, random_state=random_state),
        "FastICA": FastICA(n_components, max_iter=500, random_state=random_state),
        "KMeans": KMeansCoder(n_components, random_state=random_state),
        "AutoencoderTransformer": AutoencoderTransformer(
            n_components, hidden_layer_sizes=(256, 128), **trainer
        ),
        "SparseCoder": SparseCoder(
            n_components,
            sparsity="l1",
            alpha=0.5,
            hidden_layer_sizes=(256,),
            **trainer,
        ),
        "DenoisingAE": DenoisingAE(
            n_components,
            noise="gaussian",
            noise_level=0.2,
            hidden_layer_sizes=(256, 128),
            **trainer,
        ),
        "VAETransformer": VAETransformer(
            n_components,
            hidden_layer_sizes=(128,),
            likelihood="bernoulli",
            **{**trainer, "learning_rate_init": 3e-3, "n_iter_no_change": 10},
        ),
    }


def evaluate(model, X_train, X_test, y_train=None, y_test=None, *, random_state=0,
             return_estimator=False):
    """Fit a clone of ``model`` on X_train and measure it on X_test.

    Returns a dict with the held-out reconstruction error (squared error
    summed over features, averaged over test samples), the accuracy of a
    logistic regression trained on the codes and the adjusted Rand index of
    KMeans on the test codes against the labels (both None without labels),
    and the fit time in seconds; with ``return_estimator``, also the fitted
    clone.
    """
    model = clone(model)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train)
    fit_seconds = time.perf_counter() - start
    codes_test = model.transform(X_test)
    recon = model.inverse_transform(codes_test)
    row = {"reconstruction_error": float(np.mean(np.sum((X_test - recon) ** 2, axis=1))),
           "accuracy": None, "adjusted_rand": None, "fit_seconds": fit_seconds}
    if y_train is not None:
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        clf.fit(model.transform(X_train), y_train)
        row["accuracy"] = float(clf.score(codes_test, y_test))
        clusters = KMeans(len(np.unique(y_train)), n_init=4, random_state=random_state)
        row["adjusted_rand"] = float(
            adjusted_rand_score(y_test, clusters.fit_predict(StandardScaler().fit_transform(
                codes_test)))
        )
    return (row, model) if return_estimator else row


def _digits_split(random_state):
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.25, random_state=random_state, stratify=y)


def compare(models=None, *, n_components=16, random_state=0, plot_dir=None):
    """Fit each model on 75% of the digits and measure it on the other 25%.

    Pixel values are scaled to [0, 1]. See :func:`evaluate` for what is
    measured.

    Parameters
    ----------
    models : dict of str to estimator, default=None
        Transformers with ``inverse_transform``; None uses
        :func:`default_models`.
    n_components : int, default=16
        Code size given to every default model.
    random_state : int, default=0
        Seeds the split and every model.
    plot_dir : str or path-like, default=None
        If given, figures are written there as PNG files (see
        :func:`write_plots`); needs matplotlib.

    Returns
    -------
    list of dict
        One dict per model: ``model`` and the keys of :func:`evaluate`.
    """
    if models is None:
        models = default_models(n_components, random_state)
    X_train, X_test, y_train, y_test = _digits_split(random_state)
    rows, fitted = [], {}
    for name, model in models.items():
        row, fitted[name] = evaluate(model, X_train, X_test, y_train, y_test,
                                     random_state=random_state, return_estimator=True)
        rows.append({"model": name, **row})
    if plot_dir is not None:
        write_plots(fitted, X_test, plot_dir)
    return rows


def default_classifiers(random_state):
    """The classifiers :func:`compare_classifiers` compares, all with their defaults.

    ``LabelSpreading`` learns from unlabelled rows (marked -1) as
    :class:`~skae.AutoencoderClassifier` does; the others see only the
    labelled rows.
    """
    return {
        "AutoencoderClassifier": AutoencoderClassifier(random_state=random_state),
        "MLPClassifier": MLPClassifier(random_state=random_state),
        "LogisticRegression": LogisticRegression(max_iter=2000),
        "LabelSpreading": LabelSpreading(),
    }


def keep_labels(y, share, random_state):
    """``y`` with all but ``share`` of each class's labels replaced by -1 (unlabelled)."""
    rng = np.random.default_rng(random_state)
    kept = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        kept[rng.choice(rows, max(1, round(share * len(rows))), replace=False)] = True
    return np.where(kept, y, -1)


def compare_classifiers(models=None, *, label_shares=(1.0, 0.05), random_state=0):
    """Test accuracy of classifiers on digits, trained with every label and with few.

    The split is :func:`compare`'s. For each share of labels kept (per
    class, at least one), the other training rows are marked -1: models
    that learn from unlabelled rows (``AutoencoderClassifier``,
    ``LabelSpreading``) get every row, the others the labelled rows only.

    Parameters
    ----------
    models : dict of str to estimator, default=None
        Classifiers; None uses :func:`default_classifiers`.
    label_shares : sequence of float, default=(1.0, 0.05)
        Shares of the training labels kept.
    random_state : int, default=0
        Seeds the split, the labels kept and every model.

    Returns
    -------
    list of dict
        One dict per model and share: ``model``, ``labels`` (the number of
        labelled rows), ``accuracy`` and ``fit_seconds``.
    """
    if models is None:
        models = default_classifiers(random_state)
    X_train, X_test, y_train, y_test = _digits_split(random_state)
    rows = []
    for share in label_shares:
        y_kept = keep_labels(y_train, share, random_state)
        labelled = y_kept != -1
        for name, model in models.items():
            model = clone(model)
            semi_supervised = isinstance(model, (AutoencoderClassifier, LabelSpreading))
            X_fit, y_fit = (X_train, y_kept) if semi_supervised else (X_train[labelled],
                                                                       y_kept[labelled])
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X_fit, y_fit)
            rows.append({"model": name, "labels": int(labelled.sum()),
                         "accuracy": float(model.score(X_test, y_test)),
                         "fit_seconds": time.perf_counter() - start})
    return rows


def format_classifier_table(rows):
    """Render :func:`compare_classifiers`'s rows as a plain-text table."""
    lines = [f"{'model':24s} {'labels':>7s} {'accuracy':>9s} {'fit (s)':>8s}"]
    for r in rows:
        lines.append(f"{r['model']:24s} {r['labels']:7d} {r['accuracy']:9.3f} "
                     f"{r['fit_seconds']:8.2f}")
    return "\n".join(lines)


def write_plots(models, X_test, folder):
    """Write the comparison's figures to ``folder`` and return their paths.

    ``reconstructions.png`` shows test images and every model's
    reconstruction; ``loss_curves.png`` the training curves of the networks;
    ``vae_samples.png`` images drawn from each variational autoencoder.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only: no window, whatever the backend was
    import matplotlib.pyplot as plt

    from .plotting import plot_images, plot_loss_curve, plot_reconstructions

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    figures = {"reconstructions": plot_reconstructions(X_test, models, (8, 8), n_images=10)}
    networks = {name: m for name, m in models.items() if hasattr(m, "loss_curve_")}
    if networks:
        fig, axes = plt.subplots(1, len(networks), figsize=(4 * len(networks), 3),
                                 squeeze=False)
        for ax, (name, model) in zip(axes[0], networks.items(), strict=True):
            plot_loss_curve(model, ax=ax)
            ax.set_title(name)
        fig.tight_layout()
        figures["loss_curves"] = fig
    for name, model in models.items():
        if hasattr(model, "sample"):
            images = model.sample(30, random_state=0, return_mean=True)
            figures["vae_samples"] = plot_images(images, (8, 8), n_cols=10)
            figures["vae_samples"].suptitle(f"{name}: samples from the prior")
    paths = []
    for stem, fig in figures.items():
        paths.append(folder / f"{stem}.png")
        fig.savefig(paths[-1], dpi=100)
        plt.close(fig)
    return paths


def format_table(rows):
    """Render :func:`compare`'s rows as a plain-text table."""

    def fmt(value):
        return f"{value:9.3f}" if value is not None else f"{'-':>9s}"

    lines = [f"{'model':24s} {'held-out error':>15s} {'accuracy':>9s} {'ARI':>9s} "
             f"{'fit (s)':>8s}"]
    for r in rows:
        lines.append(f"{r['model']:24s} {r['reconstruction_error']:15.3f} "
                     f"{fmt(r['accuracy'])} {fmt(r['adjusted_rand'])} {r['fit_seconds']:8.2f}")
    return "\n".join(lines)
