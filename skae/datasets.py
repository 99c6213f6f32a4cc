"""Loaders for the image data sets autoencoders are usually measured on.

Each loader reads a local copy from a data folder: the ``data_home``
argument, else the ``SKAE_DATA`` environment variable, else
``~/skae_data``. The expected layout is one sub-folder per data set with the
files under their usual published names::

    mnist/train-images-idx3-ubyte.gz   (and the t10k-* and *-labels-* files)
    fashion_mnist/t10k-images-idx3-ubyte.gz
    frey_face/frey_rawface.mat
    usps/usps.h5
    binarized_mnist/binarized_mnist_test.mat

Images come back flattened, one row per image, with pixel values scaled to
[0, 1]. Reading the ``.mat`` files needs scipy (a dependency already);
``usps.h5`` needs ``h5py``.

:func:`make_implicit_feedback` simulates the sparse user-item data of
recommendation, for which no data set ships with scikit-learn.
"""

import gzip
import os
import struct
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state


def get_data_home(data_home=None):
    """Return the folder the loaders read from (see the module docstring)."""
    if data_home is None:
        data_home = os.environ.get("SKAE_DATA", Path.home() / "skae_data")
    return Path(data_home).expanduser()


def _file(data_home, *parts):
    path = get_data_home(data_home).joinpath(*parts)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found. Put the data set there, point the SKAE_DATA "
            "environment variable at the folder that holds it, or pass data_home."
        )
    return path


def read_idx(path):
    """Read a gzip-compressed IDX file (MNIST's format) into a uint8 array."""
    with gzip.open(path) as f:
        magic, n = struct.unpack(">II", f.read(8))
        if magic == 2051:
            shape = (n, *struct.unpack(">II", f.read(8)))
        elif magic == 2049:
            shape = (n,)
        else:
            raise ValueError(f"{path} is not an IDX image or label file (magic {magic}).")
        return np.frombuffer(f.read(), np.uint8).reshape(shape)


def _load_idx_pair(folder, prefix, data_home):
    images = read_idx(_file(data_home, folder, f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx(_file(data_home, folder, f"{prefix}-labels-idx1-ubyte.gz"))
    return images.reshape(len(images), -1).astype(np.float32) / 255.0, labels.astype(np.int64)


def load_mnist(subset="train", *, data_home=None):
    """MNIST digits: 60,000 training and 10,000 test images of 28x28 pixels.

    Parameters
    ----------
    subset : {"train", "test"}, default="train"
        Which split to load.
    data_home : str or path-like, default=None
        Data folder; see the module docstring.

    Returns
    -------
    X : ndarray of shape (n_images, 784), float32 in [0, 1]
    y : ndarray of shape (n_images,), int64 labels 0-9
    """
    prefix = {"train": "train", "test": "t10k"}[subset]
    return _load_idx_pair("mnist", prefix, data_home)


def load_fashion_mnist(*, data_home=None):
    """Fashion-MNIST test split: 10,000 images of 28x28 pixels with labels.

    Returns
    -------
    X : ndarray of shape (10000, 784), float32 in [0, 1]
    y : ndarray of shape (10000,), int64 labels 0-9
    """
    return _load_idx_pair("fashion_mnist", "t10k", data_home)


def load_binarized_mnist(*, data_home=None):
    """Statically binarized MNIST test split: 10,000 images in {0, 1}, sorted by label.

    Returns
    -------
    X : ndarray of shape (10000, 784), float32 in {0, 1}
    """
    from scipy.io import loadmat

    return loadmat(_file(data_home, "binarized_mnist", "binarized_mnist_test.mat"))[
        "X"
    ].astype(np.float32)


def load_frey_face(*, data_home=None):
    """Frey Face: 1,965 grey images of one face, 28x20 pixels.

    Returns
    -------
    X : ndarray of shape (1965, 560), float32 in [0, 1]
    """
    from scipy.io import loadmat

    faces = loadmat(_file(data_home, "frey_face", "frey_rawface.mat"))["ff"].T
    return faces.reshape(len(faces), -1).astype(np.float32) / 255.0


def load_usps(subset="train", *, data_home=None):
    """USPS digits: 7,291 training and 2,007 test images of 16x16 pixels.

    Parameters
    ----------
    subset : {"train", "test"}, default="train"
        Which split to load.
    data_home : str or path-like, default=None
        Data folder; see the module docstring.

    Returns
    -------
    X : ndarray of shape (n_images, 256), float32 in [0, 1]
    y : ndarray of shape (n_images,), int64 labels 0-9
    """
    try:
        import h5py
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("load_usps needs h5py: pip install h5py") from exc
    if subset not in ("train", "test"):
        raise ValueError(f"subset must be 'train' or 'test', got {subset!r}.")
    with h5py.File(_file(data_home, "usps", "usps.h5"), "r") as f:
        X = np.asarray(f[subset]["data"], dtype=np.float32)
        y = np.asarray(f[subset]["target"], dtype=np.int64)
    return X.reshape(len(X), -1), y


def make_implicit_feedback(n_users=2000, n_items=500, *, n_tastes=10, mean_clicks=20.0,
                           random_state=None):
    """Simulate which items each user clicked: a sparse binary matrix.

    Each of ``n_tastes`` tastes favours its own few items; each user holds a
    mix of one to three tastes and clicks items drawn, without repeats,
    from that mix (four parts in five) and from the items' overall
    popularity, which falls off as a power law (one part in five). Users
    who share a taste click overlapping items, which a recommender can
    exploit; the popularity part is what recommending the most clicked
    items captures.

    Parameters
    ----------
    n_users : int, default=2000
        Number of rows.
    n_items : int, default=500
        Number of columns.
    n_tastes : int, default=10
        Number of tastes the users' preferences mix.
    mean_clicks : float, default=20.0
        Mean number of clicks per user (each user clicks at least one item
        and at most half of them).
    random_state : int, RandomState instance or None, default=None
        Seeds the simulation.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_users, n_items)
        1.0 where a user clicked an item; the other entries are not stored.
    tastes : ndarray of shape (n_users, n_tastes)
        Each user's mix of tastes (rows sum to 1).

    Examples
    --------
    >>> from skae.datasets import make_implicit_feedback
    >>> X, tastes = make_implicit_feedback(100, 50, n_tastes=3, mean_clicks=5,
    ...                                    random_state=0)
    >>> X.shape, tastes.shape
    ((100, 50), (100, 3))
    >>> bool(set(X.data) == {1.0})
    True
    """
    rng = check_random_state(random_state)
    popularity = 1.0 / np.arange(1, n_items + 1) ** 0.8
    popularity = rng.permutation(popularity / popularity.sum())
    # A small Dirichlet concentration gives each taste a few favoured items.
    taste_items = rng.dirichlet(np.full(n_items, 0.05), size=n_tastes)
    tastes = np.zeros((n_users, n_tastes))
    rows = []
    for user in range(n_users):
        held = rng.choice(n_tastes, size=rng.randint(1, 4), replace=False)
        tastes[user, held] = rng.dirichlet(np.ones(len(held)))
        p = 0.8 * tastes[user] @ taste_items + 0.2 * popularity
        n_clicks = int(np.clip(rng.poisson(mean_clicks), 1, n_items // 2))
        rows.append(rng.choice(n_items, size=n_clicks, replace=False, p=p / p.sum()))
    indptr = np.cumsum([0] + [len(r) for r in rows])
    indices = np.concatenate(rows)
    X = sp.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(n_users, n_items))
    X.sort_indices()
    return X, tastes
