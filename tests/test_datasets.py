"""The loaders read the published formats; tested on small files made here."""

import gzip
import struct

import numpy as np
import pytest
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
