"""The loaders read the published formats, tested on small files made here; the
simulated click data has the structure it promises."""

import gzip
import struct

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.io import savemat

from skae import datasets


def _write_idx(path, array):
    with gzip.open(path, "wb") as f:
        if array.ndim == 3:
            f.write(struct.pack(">IIII", 2051, *array.shape))
        else:
            f.write(struct.pack(">II", 2049, len(array)))
        f.write(array.astype(np.uint8).tobytes())


def test_load_mnist_reads_idx(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28))
    labels = rng.integers(0, 10, size=5)
    (tmp_path / "mnist").mkdir()
    _write_idx(tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz", images)
    _write_idx(tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz", labels)
    X, y = datasets.load_mnist("test", data_home=tmp_path)
    assert X.shape == (5, 784) and X.dtype == np.float32
    np.testing.assert_allclose(X, images.reshape(5, -1) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, labels)


def test_data_home_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SKAE_DATA", str(tmp_path))
    assert datasets.get_data_home() == tmp_path
    (tmp_path / "frey_face").mkdir()
    faces = np.arange(560 * 3).reshape(560, 3) % 256
    savemat(tmp_path / "frey_face" / "frey_rawface.mat", {"ff": faces.astype(np.uint8)})
    X = datasets.load_frey_face()
    assert X.shape == (3, 560)
    np.testing.assert_allclose(X[1], faces[:, 1] / 255.0, rtol=1e-6)


def test_missing_data_says_where_it_looked(tmp_path):
    with pytest.raises(FileNotFoundError, match="SKAE_DATA"):
        datasets.load_mnist(data_home=tmp_path)


def test_not_an_idx_file(tmp_path):
    path = tmp_path / "bad.gz"
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">II", 1234, 0))
    with pytest.raises(ValueError, match="not an IDX"):
        datasets.read_idx(path)


def test_implicit_feedback_is_binary_sparse_and_seeded():
    X, tastes = datasets.make_implicit_feedback(300, 80, n_tastes=4, mean_clicks=8,
                                                random_state=0)
    assert sp.isspmatrix_csr(X) and X.shape == (300, 80)
    assert set(np.unique(X.data)) == {1.0}
    clicks = np.diff(X.indptr)
    assert clicks.min() >= 1 and clicks.max() <= 40
    assert abs(clicks.mean() - 8) < 1
    np.testing.assert_allclose(tastes.sum(axis=1), 1.0)
    assert ((tastes > 0).sum(axis=1) <= 3).all()
    again, _ = datasets.make_implicit_feedback(300, 80, n_tastes=4, mean_clicks=8,
                                               random_state=0)
    assert (X != again).nnz == 0


def test_users_sharing_a_taste_click_alike():
    X, tastes = datasets.make_implicit_feedback(400, 100, n_tastes=4, random_state=0)
    co_clicks = (X @ X.T).toarray()
    held = (tastes > 0).astype(float)
    shared = (held @ held.T) > 0
    np.fill_diagonal(shared, False)
    disjoint = (held @ held.T) == 0
    # Were tastes ignored, both kinds of pairs would co-click alike on average.
    assert co_clicks[shared].mean() > 1.3 * co_clicks[disjoint].mean()
