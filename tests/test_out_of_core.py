"""Training and inference on data read a chunk at a time (ChunkedData)."""

import pickle
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.exceptions import ConvergenceWarning

from skae import (
    AutoencoderClassifier,
    AutoencoderTransformer,
    ChunkedData,
    DenoisingAE,
    SparseCoder,
    VAETransformer,
)
from skae._chunks import ChunkedDataset, ChunkedRows, as_source

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

N, D = 600, 10


@pytest.fixture
def X():
    return np.random.default_rng(0).random((N, D)).astype(np.float32)


@pytest.fixture
def memmap(X, tmp_path):
    path = tmp_path / "X.dat"
    out = np.memmap(path, dtype=X.dtype, mode="w+", shape=X.shape)
    out[:] = X
    out.flush()
    del out
    return np.memmap(path, dtype=X.dtype, mode="r", shape=X.shape)


def small(**kwargs):
    kwargs = {"hidden_layer_sizes": (8,), "max_iter": 3, "random_state": 0, **kwargs}
    return AutoencoderTransformer(3, **kwargs)


def state(model):
    """Every fitted attribute and weight, to compare a model before and after a call."""
    weights = {k: v.clone() for k, v in model.net_.module_.state_dict().items()}
    return {k: v for k, v in vars(model).items() if k != "net_"}, weights


def assert_unchanged(model, before):
    attributes, weights = state(model)
    assert attributes.keys() == before[0].keys()
    for key, value in before[0].items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(attributes[key], value)
        elif not hasattr(value, "get_state"):
            assert attributes[key] == value, key
    for key, value in before[1].items():
        assert torch.equal(weights[key], value), key


class CountingArray:
    """A 2-D array that records the row ranges read from it."""

    def __init__(self, array):
        self.array = array
        self.shape, self.dtype = array.shape, array.dtype
        self.reads = []

    def __getitem__(self, key):
        assert isinstance(key, slice), "rows are read as ranges"
        start, stop, _ = key.indices(self.shape[0])
        self.reads.append((start, stop))
        return self.array[key]


# ------------------------------------------------------------ same model
def test_one_chunk_fits_the_in_memory_model_bit_for_bit(X, memmap):
    expected = small().fit(X)
    model = small().fit(ChunkedData(memmap))
    assert model.loss_curve_ == expected.loss_curve_
    np.testing.assert_array_equal(model.transform(X), expected.transform(X))
    assert model.n_features_in_ == D


@pytest.mark.parametrize("cls", [VAETransformer, DenoisingAE])
def test_one_chunk_same_model_for_other_estimators(cls, X):
    kwargs = {"noise": "salt_pepper"} if cls is DenoisingAE else {}
    expected = cls(2, max_iter=2, random_state=0, **kwargs).fit(X)
    model = cls(2, max_iter=2, random_state=0, **kwargs).fit(ChunkedData(X))
    assert model.loss_curve_ == expected.loss_curve_
    np.testing.assert_array_equal(model.transform(X), expected.transform(X))


def test_float64_memmap_one_chunk_matches(X, tmp_path):
    X64 = X.astype(np.float64)
    path = tmp_path / "X64.dat"
    out = np.memmap(path, dtype=np.float64, mode="w+", shape=X64.shape)
    out[:] = X64
    out.flush()
    expected = small().fit(X64)
    model = small().fit(ChunkedData(np.memmap(path, dtype=np.float64, shape=X64.shape)))
    assert model.loss_curve_ == expected.loss_curve_


def test_many_chunks_are_reproducible_and_shuffled(memmap):
    a = small().fit(ChunkedData(memmap, chunk_rows=100))
    b = small().fit(ChunkedData(memmap, chunk_rows=100))
    assert a.loss_curve_ == b.loss_curve_
    c = small(random_state=1).fit(ChunkedData(memmap, chunk_rows=100))
    assert a.loss_curve_ != c.loss_curve_
    # Training lowers the loss from chunks as from the whole array.
    assert a.loss_curve_[-1] < a.loss_curve_[0]


def test_batches_span_chunks_and_visit_every_row_once():
    values = np.arange(50, dtype=np.float32).reshape(-1, 1)
    rows = ChunkedRows(as_source(ChunkedData(values, chunk_rows=7)), [7] * 7 + [1], 1,
                       lambda chunk, i, start: chunk)
    generator = torch.Generator().manual_seed(0)
    batches = list(ChunkedDataset(rows).stream(10, True, generator))
    assert [len(b) for b in batches] == [10] * 5
    seen = torch.cat(batches).ravel().tolist()
    assert sorted(seen) == list(range(50))
    assert seen != list(range(50))


# ------------------------------------------------------------- memory
def test_reads_one_chunk_at_a_time(X):
    source = CountingArray(X)
    model = small().fit(ChunkedData(source, chunk_rows=64))
    assert max(stop - start for start, stop in source.reads) <= 64
    # One checking pass, one pass per epoch, then the first 2,000 rows once
    # more to set the principal code axes.
    assert sum(stop - start for start, stop in source.reads) == (
        N * (1 + model.n_iter_) + min(N, 2000))


def test_memmap_is_not_loaded_whole(tmp_path):
    rows, width = 40_000, 50
    path = tmp_path / "big.dat"
    out = np.memmap(path, dtype=np.float32, mode="w+", shape=(rows, width))
    for start in range(0, rows, 10_000):
        out[start : start + 10_000] = np.random.default_rng(start).random((10_000, width))
    out.flush()
    del out
    data = np.memmap(path, dtype=np.float32, mode="r", shape=(rows, width))
    model = AutoencoderTransformer(2, hidden_layer_sizes=(4,), max_iter=1, random_state=0)
    tracemalloc.start()
    try:
        model.fit(ChunkedData(data, chunk_rows=1000))
        codes = model.transform(ChunkedData(data, chunk_rows=1000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert codes.shape == (rows, 2)
    assert peak < data.nbytes / 4, f"{peak / 2**20:.1f} MiB for {data.nbytes / 2**20:.1f} MiB"


def test_memmap_view_and_copy_on_write_are_read_by_slicing(memmap, tmp_path):
    expected = small().fit(ChunkedData(np.asarray(memmap[100:])))
    assert small().fit(ChunkedData(memmap[100:])).loss_curve_ == expected.loss_curve_
    cow = np.memmap(memmap.filename, dtype=memmap.dtype, mode="c", shape=memmap.shape)
    assert small().fit(ChunkedData(cow)).loss_curve_ == small().fit(memmap).loss_curve_


def test_fitted_model_holds_no_data(memmap):
    model = small().fit(ChunkedData(memmap, chunk_rows=100))
    for value in vars(model).values():
        assert not isinstance(value, (ChunkedRows, ChunkedData, np.memmap))
    assert len(pickle.dumps(model)) < memmap.nbytes


# ------------------------------------------------------------- early stopping
def test_validation_chunks_are_never_trained_on(X):
    source = CountingArray(X)
    model = AutoencoderTransformer(3, hidden_layer_sizes=(8,), max_iter=4, early_stopping=True,
                                   n_iter_no_change=10, random_state=0)
    model.fit(ChunkedData(source))
    ranges = sorted(set(source.reads))
    # An array is cut into at least 10 ranges; each is read to check it,
    # then once per epoch, by training or by validation, never both, and
    # once more (all 600 rows are among the first 2,000) for the code axes.
    assert len(ranges) >= 10
    for r in ranges:
        assert source.reads.count(r) == 2 + model.n_iter_
    assert len(model.validation_scores_) == model.n_iter_


def test_split_holds_out_whole_chunks(X):
    rows = ChunkedRows(as_source(ChunkedData(X, chunk_rows=60)), [60] * 10, D,
                       lambda chunk, i, start: chunk)
    train, valid = ChunkedDataset(rows).split(0.2, torch.Generator().manual_seed(0))
    assert len(valid.indices) == 2 and len(train.indices) == 8
    assert not set(train.indices) & set(valid.indices)
    assert len(train) + len(valid) == N


def test_early_stopping_needs_two_chunks(X):
    with pytest.raises(ValueError, match="whole chunks"):
        small(early_stopping=True).fit(ChunkedData([X]))


# -------------------------------------------------------------- loaders
def test_list_and_loader_of_chunks_train(X):
    chunks = [X[i : i + 75] for i in range(0, N, 75)]
    from_list = small().fit(ChunkedData(chunks))
    from_loader = small().fit(ChunkedData(lambda: (c for c in chunks)))
    assert from_list.n_features_in_ == from_loader.n_features_in_ == D
    assert from_loader.loss_curve_[-1] < from_loader.loss_curve_[0]
    # A loader's chunks come in its order; a list's are shuffled.
    assert from_list.loss_curve_ != from_loader.loss_curve_
    codes = from_loader.transform(ChunkedData(chunks))
    np.testing.assert_allclose(codes, from_loader.transform(X), rtol=1e-5, atol=1e-6)


def test_one_shot_iterator_is_refused(X):
    with pytest.raises(TypeError, match="read only once"):
        small().fit(ChunkedData(iter([X[:300], X[300:]])))


def test_loader_must_give_the_same_chunks(X):
    calls = []

    def loader():
        calls.append(1)
        return [X[:300], X[300:]] if len(calls) == 1 else [X[:300]]

    with pytest.raises(ValueError, match="same chunks on every pass"):
        small().fit(ChunkedData(loader))


def test_sparse_chunks_train(X):
    chunks = [sp.csr_matrix(np.where(X[i : i + 200] > 0.7, X[i : i + 200], 0))
              for i in range(0, N, 200)]
    model = small().fit(ChunkedData(chunks))
    assert model.transform(ChunkedData(chunks)).shape == (N, 3)


def test_dataframe_chunks_record_feature_names(X):
    pd = pytest.importorskip("pandas")
    columns = [f"f{j}" for j in range(D)]
    frames = [pd.DataFrame(X[i : i + 300], columns=columns) for i in (0, 300)]
    model = small().fit(ChunkedData(frames))
    assert list(model.feature_names_in_) == columns


def test_partial_fit_continues_from_chunks(X):
    model = small()
    model.partial_fit(ChunkedData(X, chunk_rows=100))
    model.partial_fit(ChunkedData(X, chunk_rows=100))
    assert model.n_iter_ == 2


# ----------------------------------------------------------- bad chunks
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_nan_chunk_names_the_chunk_and_leaves_the_model(X, method):
    model = small().fit(X)
    before = state(model)
    bad = [X[:200], X[200:400].copy(), X[400:]]
    bad[2][5, 1] = np.nan
    with pytest.raises(ValueError, match=r"Chunk 2 of X \(from row 400\).*NaN"):
        getattr(model, method)(ChunkedData(bad))
    assert_unchanged(model, before)


def test_wrong_width_chunk_names_the_chunk(X):
    model = small()
    with pytest.raises(ValueError, match=r"Chunk 1 of X .*features"):
        model.fit(ChunkedData([X[:300], X[300:, :5]]))
    assert not hasattr(model, "n_features_in_")


def test_chunk_outside_the_likelihood_is_refused(X):
    chunks = [X[:300], X[300:] * 3]
    with pytest.raises(ValueError, match=r"Chunk 1 of X .*likelihood='bernoulli'"):
        small(likelihood="bernoulli").fit(ChunkedData(chunks))


def test_bad_chunk_in_a_later_epoch_restores_the_model(X):
    calls = []

    def loader():
        calls.append(1)
        # The third pass (the second epoch) brings a NaN.
        return [X[:300], np.full_like(X[300:], np.nan) if len(calls) == 3 else X[300:]]

    model = small().fit(X)
    before = state(model)
    with pytest.raises(ValueError, match="Chunk 1 of X"):
        model.fit(ChunkedData(loader))
    assert_unchanged(model, before)


def test_transform_checks_each_chunk(X):
    model = small().fit(X)
    with pytest.raises(ValueError, match="Chunk 1 of X .*expecting 10 features"):
        model.transform(ChunkedData([X[:10], X[10:20, :4]]))


def test_bad_chunk_rows_and_empty_data(X):
    with pytest.raises(ValueError, match="chunk_rows must be a positive integer"):
        small().fit(ChunkedData(X, chunk_rows=0))
    with pytest.raises(ValueError, match="no chunks"):
        small().fit(ChunkedData([]))


def test_greedy_pretraining_needs_memory(X):
    with pytest.raises(ValueError, match="pretrain='greedy'"):
        small(pretrain="greedy").fit(ChunkedData(X))


# ------------------------------------------------------------ inference
def test_inference_streams_and_matches(X):
    X64 = X.astype(np.float64)
    model = VAETransformer(2, max_iter=2, random_state=0).fit(X)
    chunked = ChunkedData(X64, chunk_rows=128)
    np.testing.assert_array_equal(model.transform(chunked), model.transform(X64))
    np.testing.assert_array_equal(model.score_samples(chunked), model.score_samples(X64))
    assert model.transform(chunked).dtype == np.float64


def test_classifier_predicts_from_chunks_but_trains_in_memory(X):
    y = (X[:, 0] > 0.5).astype(int)
    model = AutoencoderClassifier((8,), pretrain=None, max_iter=2, random_state=0)
    with pytest.raises(ValueError, match="trains on data in memory only"):
        model.fit(ChunkedData(X), y)
    model.fit(X, y)
    np.testing.assert_array_equal(model.predict(ChunkedData(X, chunk_rows=100)),
                                  model.predict(X))


def test_sparse_coder_starts_its_atoms_from_chunks(X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = SparseCoder(4, max_iter=2, random_state=0).fit(ChunkedData(X, chunk_rows=50))
    assert model.components_.shape == (4, D)


# ---------------------------------------------------- array libraries
def test_h5py_dataset_is_streamed(X, tmp_path):
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "X.h5", "w") as file:
        file["X"] = X
    with h5py.File(tmp_path / "X.h5", "r") as file:
        model = small().fit(file["X"])
        codes = model.transform(file["X"])
    assert model.loss_curve_ == small().fit(X).loss_curve_
    np.testing.assert_array_equal(codes, model.transform(X))


def test_zarr_array_is_streamed(X, tmp_path):
    zarr = pytest.importorskip("zarr")
    array = zarr.open_array(str(tmp_path / "X.zarr"), mode="w", shape=X.shape,
                            chunks=(100, D), dtype="float32")
    array[:] = X
    model = small().fit(array)
    assert model.loss_curve_ == small().fit(X).loss_curve_
    chunked = small().fit(ChunkedData(array, chunk_rows=100))
    assert chunked.loss_curve_ != model.loss_curve_


def test_dask_array_is_streamed(X):
    da = pytest.importorskip("dask.array")
    array = da.from_array(X, chunks=(100, D))
    model = small().fit(array)
    assert model.loss_curve_ == small().fit(X).loss_curve_
    np.testing.assert_array_equal(model.transform(array), model.transform(X))
