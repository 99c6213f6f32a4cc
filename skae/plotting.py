"""Figures for looking at autoencoders: images, codes and training curves.

matplotlib is an optional dependency (``pip install "skae[plot]"``), imported
only when a function here is called. Every function returns the
:class:`matplotlib.figure.Figure` it drew on, so it works the same in a
notebook, a script or a headless test.
"""

import numpy as np


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "skae.plotting needs matplotlib; install it with pip install 'skae[plot]'."
        ) from exc
    return plt


def plot_image_rows(rows, image_shape, row_labels=None, *, cmap="gray"):
    """Draw rows of flat images, one labelled grid row per list.

    Parameters
    ----------
    rows : list of array-like of shape (n_images, n_pixels)
        Each becomes one row of the grid, e.g. clean, noisy and denoised
        versions of the same images.
    image_shape : tuple of int
        Shape of one image.
    row_labels : list of str, default=None
        Label written left of each row.
    cmap : str, default="gray"
        Colour map.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from skae.plotting import plot_image_rows
    >>> X = np.random.default_rng(0).random((3, 64))
    >>> fig = plot_image_rows([X, 1 - X], (8, 8), ["image", "negative"])
    >>> len(fig.axes)
    6
    """
    plt = _pyplot()
    n_rows, n_cols = len(rows), max(len(r) for r in rows)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(1.1 * n_cols, 1.2 * n_rows),
                             squeeze=False)
    for i, images in enumerate(rows):
        for j in range(n_cols):
            ax = axes[i, j]
            ax.set_xticks([])
            ax.set_yticks([])
            if j < len(images):
                ax.imshow(np.asarray(images[j]).reshape(image_shape), cmap=cmap)
            else:
                ax.set_axis_off()
        if row_labels is not None:
            axes[i, 0].set_ylabel(row_labels[i], rotation=0, ha="right", va="center")
    fig.tight_layout()
    return fig


def plot_images(images, image_shape, *, n_cols=10, cmap="gray"):
    """Show flat images (rows of an array) in a grid.

    Parameters
    ----------
    images : array-like of shape (n_images, n_pixels)
        For example ``VAETransformer.sample(...)`` or a dictionary's atoms.
    image_shape : tuple of int
        Shape of one image, e.g. ``(8, 8)`` for digits.
    n_cols : int, default=10
        Images per grid row.
    cmap : str, default="gray"
        Colour map.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from skae.plotting import plot_images
    >>> fig = plot_images(np.random.default_rng(0).random((12, 64)), (8, 8), n_cols=6)
    >>> len(fig.axes)
    12
    """
    images = np.asarray(images)
    rows = [images[i : i + n_cols] for i in range(0, len(images), n_cols)]
    return plot_image_rows(rows, image_shape, cmap=cmap)


def plot_reconstructions(X, models, image_shape, *, n_images=8, cmap="gray"):
    """Originals in the first row, then each model's reconstruction of them.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_pixels)
        Images; the first ``n_images`` are shown.
    models : dict of str to fitted transformer
        Each needs ``transform`` and ``inverse_transform`` (skae's
        estimators, ``PCA``, ``NMF``, ...). Keys label the rows.
    image_shape : tuple of int
        Shape of one image.
    n_images : int, default=8
        Number of images (columns).
    cmap : str, default="gray"
        Colour map.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.decomposition import PCA
    >>> from skae.plotting import plot_reconstructions
    >>> X = load_digits().data
    >>> fig = plot_reconstructions(X, {"PCA": PCA(8).fit(X)}, (8, 8), n_images=5)
    >>> len(fig.axes)
    10
    """
    X = np.asarray(X)[:n_images]
    rows = [X] + [m.inverse_transform(m.transform(X)) for m in models.values()]
    return plot_image_rows(rows, image_shape, ["original", *models], cmap=cmap)


def plot_latent(codes, labels=None, *, ax=None, title=None, **scatter_kwargs):
    """Scatter the first two code dimensions, coloured by label.

    Parameters
    ----------
    codes : array-like of shape (n_samples, n_components)
        Output of ``transform``; only the first two columns are drawn.
    labels : array-like of shape (n_samples,), default=None
        Class labels used as colours, with a legend.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    title : str, default=None
        Axes title.
    **scatter_kwargs
        Passed to :meth:`matplotlib.axes.Axes.scatter`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from skae.plotting import plot_latent
    >>> fig = plot_latent(np.zeros((4, 2)), labels=[0, 1, 0, 1])
    >>> fig.axes[0].get_xlabel()
    'component 0'
    """
    plt = _pyplot()
    codes = np.asarray(codes)
    if codes.ndim != 2 or codes.shape[1] < 2:
        raise ValueError(f"codes must have at least 2 columns, got shape {codes.shape}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    kwargs = {"s": 4, **scatter_kwargs}
    if labels is None:
        ax.scatter(codes[:, 0], codes[:, 1], **kwargs)
    else:
        labels = np.asarray(labels)
        for label in np.unique(labels):
            mask = labels == label
            ax.scatter(codes[mask, 0], codes[mask, 1], label=str(label), **kwargs)
        ax.legend(markerscale=3, fontsize="small", loc="best")
    ax.set_xlabel("component 0")
    ax.set_ylabel("component 1")
    if title:
        ax.set_title(title)
    return ax.figure


def plot_loss_curve(estimator, *, ax=None):
    """Training loss per epoch, and the validation loss when it was recorded.

    Parameters
    ----------
    estimator : fitted skae estimator
        Uses ``loss_curve_`` and, with early stopping, ``validation_scores_``.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from skae import AutoencoderTransformer
    >>> from skae.plotting import plot_loss_curve
    >>> X = np.random.default_rng(0).random((100, 5))
    >>> ae = AutoencoderTransformer(2, max_iter=3, random_state=0).fit(X)
    >>> fig = plot_loss_curve(ae)
    >>> len(fig.axes[0].lines)
    1
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    epochs = np.arange(1, len(estimator.loss_curve_) + 1)
    ax.plot(epochs, estimator.loss_curve_, label="training loss")
    validation = getattr(estimator, "validation_scores_", None)
    if validation:
        ax.plot(epochs[: len(validation)], -np.asarray(validation), label="validation loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss per sample")
    ax.legend()
    return ax.figure
