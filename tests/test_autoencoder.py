"""Behaviour of AutoencoderTransformer a scikit-learn user relies on."""

import io
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from scipy.linalg import subspace_angles
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import FeatureUnion, make_pipeline

import skae
from skae import AutoencoderTransformer

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = {"hidden_layer_sizes": (32,), "max_iter": 20, "random_state": 0}


def test_linear_autoencoder_spans_pca_subspace(digits):
    X, _ = digits
    k = 5
    ae = AutoencoderTransformer(
        k, hidden_layer_sizes=(), activation="identity", learning_rate_init=3e-2,
        learning_rate="constant", batch_size=X.shape[0], max_iter=1000, tol=0.0,
        n_iter_no_change=1000, random_state=0,
    ).fit(X)
    decoder_columns = ae.net_.module_.decoder[0].weight.detach().numpy()
    pca = PCA(k).fit(X)
    angles = np.degrees(subspace_angles(decoder_columns, pca.components_.T))
    assert angles.max() < 2.0
    pca_error = np.sum((X - pca.inverse_transform(pca.transform(X))) ** 2, axis=1).mean()
    assert -ae.score(X) == pytest.approx(pca_error, rel=1e-3)


def test_training_lowers_the_loss(digits):
    X, _ = digits
    ae = AutoencoderTransformer(8, **SMALL).fit(X)
    assert ae.n_iter_ == len(ae.loss_curve_) == 20
    assert ae.loss_curve_[-1] < 0.5 * ae.loss_curve_[0]
    assert ae.best_loss_ == min(ae.loss_curve_)


def test_score_samples_is_negative_squared_error(digits):
    X, _ = digits
    ae = AutoencoderTransformer(8, **SMALL).fit(X)
    recon = ae.inverse_transform(ae.transform(X))
    expected = -np.sum((X - recon) ** 2, axis=1)
    np.testing.assert_allclose(ae.score_samples(X), expected, rtol=1e-4, atol=1e-6)
    assert ae.score(X) == pytest.approx(expected.mean(), rel=1e-4)


def test_binary_crossentropy_scores_bernoulli_log_likelihood(digits):
    X, _ = digits
    ae = AutoencoderTransformer(8, likelihood="bernoulli", **SMALL).fit(X)
    p = ae.inverse_transform(ae.transform(X))
    assert p.min() >= 0 and p.max() <= 1
    p = np.clip(p, 1e-12, 1 - 1e-12)
    loglik = np.sum(X * np.log(p) + (1 - X) * np.log1p(-p), axis=1)
    np.testing.assert_allclose(ae.score_samples(X), loglik, rtol=1e-3, atol=1e-3)


def test_deeper_model_reconstructs_better_than_pca(digits):
    X, _ = digits
    ae = AutoencoderTransformer(
        8, hidden_layer_sizes=(128,), max_iter=150, learning_rate_init=3e-3,
        random_state=0,
    ).fit(X)
    pca = PCA(8).fit(X)
    pca_error = np.sum((X - pca.inverse_transform(pca.transform(X))) ** 2, axis=1).mean()
    assert -ae.score(X) < pca_error


def test_convergence_warning_when_max_iter_reached(digits):
    X, _ = digits
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        AutoencoderTransformer(max_iter=2, random_state=0).fit(X[:100])


def test_stops_on_plateau_like_mlp(digits):
    X, _ = digits
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ae = AutoencoderTransformer(tol=1e3, n_iter_no_change=3, max_iter=50,
                                    learning_rate="constant", random_state=0).fit(X)
    # With a tolerance no epoch can beat, training ends, as MLPRegressor's
    # does, once more than n_iter_no_change epochs in a row failed to
    # improve: the first epoch sets the best loss, the next four miss.
    assert ae.n_iter_ == 5


def test_early_stopping_records_validation_and_stops(digits):
    X, _ = digits
    ae = AutoencoderTransformer(
        4, early_stopping=True, n_iter_no_change=2, tol=1.0, max_iter=100,
        random_state=0,
    ).fit(X)
    assert ae.n_iter_ < 100
    assert len(ae.validation_scores_) == ae.n_iter_
    assert ae.best_validation_score_ == max(ae.validation_scores_)
    assert ae.best_loss_ is None


def test_early_stopping_keeps_best_weights(digits):
    X, _ = digits
    params = dict(early_stopping=True, n_iter_no_change=3, max_iter=100,
                  learning_rate_init=0.05, tol=0.0, random_state=0)
    ae = AutoencoderTransformer(4, **params).fit(X)
    # Refit for exactly the best epoch: it must give the weights kept.
    best_epoch = int(np.argmax(ae.validation_scores_)) + 1
    assert best_epoch < ae.n_iter_
    ref = AutoencoderTransformer(4, **{**params, "max_iter": best_epoch,
                                       "n_iter_no_change": 1000}).fit(X)
    np.testing.assert_array_equal(ae.transform(X), ref.transform(X))


def test_partial_fit_trains_in_chunks(digits):
    X, _ = digits
    ae = AutoencoderTransformer(8, hidden_layer_sizes=(32,), random_state=0)
    errors = []
    for _ in range(5):
        for chunk in np.array_split(X, 4):
            ae.partial_fit(chunk)
        errors.append(-ae.score(X))
    assert ae.n_iter_ == 20
    assert errors[-1] < errors[0]
    with pytest.raises(ValueError, match="features"):
        ae.partial_fit(X[:, :10])


def test_partial_fit_continues_after_fit(digits):
    X, _ = digits
    ae = AutoencoderTransformer(8, **SMALL).fit(X)
    before = ae.transform(X)
    ae.partial_fit(X)
    assert ae.n_iter_ == 21
    assert not np.array_equal(before, ae.transform(X))


def test_sparse_input_matches_dense(digits):
    X, _ = digits
    dense = AutoencoderTransformer(4, **SMALL).fit(X)
    sparse = AutoencoderTransformer(4, **SMALL).fit(sp.csr_matrix(X))
    np.testing.assert_allclose(dense.transform(X), sparse.transform(sp.csr_matrix(X)),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dense.score_samples(X),
                               dense.score_samples(sp.csr_matrix(X)), rtol=1e-6)


def test_sparse_input_is_densified_one_batch_at_a_time(monkeypatch):
    X = sp.random(300, 40, density=0.1, format="csr", random_state=0)
    ae = AutoencoderTransformer(3, hidden_layer_sizes=(8,), max_iter=1, batch_size=50,
                                random_state=0)
    widest = []
    original = sp.csr_matrix.toarray

    def spy(self, *args, **kwargs):
        widest.append(self.shape[0])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sp.csr_matrix, "toarray", spy)
    monkeypatch.setattr(type(ae), "_inference_batch_size", 64)
    ae.fit(X).transform(X)
    assert widest and max(widest) <= 64


def test_dtypes_follow_input(digits):
    X, _ = digits
    ae = AutoencoderTransformer(3, **SMALL).fit(X)
    assert ae.transform(X.astype(np.float32)).dtype == np.float32
    assert ae.transform(X).dtype == np.float64
    assert ae.transform((X * 16).astype(np.int64)).dtype == np.float64
    assert ae.inverse_transform(np.zeros((2, 3), np.float32)).dtype == np.float32
    assert ae.score_samples(X.astype(np.float32)).dtype == np.float64


def test_accepts_lists_and_dataframes(digits):
    pd = pytest.importorskip("pandas")
    X, _ = digits
    ae = AutoencoderTransformer(3, **SMALL).fit(X[:50].tolist())
    df = pd.DataFrame(X[:50], columns=[f"px{i}" for i in range(64)])
    ae_df = AutoencoderTransformer(3, **SMALL).fit(df)
    np.testing.assert_array_equal(ae.transform(X[:50]), ae_df.transform(df))
    assert list(ae_df.feature_names_in_) == list(df.columns)


# ---------------------------------------------------------------- ecosystem
def test_pipeline_with_classifier(digits):
    X, y = digits
    pipe = make_pipeline(
        AutoencoderTransformer(16, hidden_layer_sizes=(64,), max_iter=60, random_state=0),
        LogisticRegression(max_iter=2000),
    )
    pipe.fit(X[:1200], y[:1200])
    assert pipe.score(X[1200:], y[1200:]) > 0.85


def test_grid_search_over_n_components_with_default_score(digits):
    X, _ = digits
    grid = GridSearchCV(AutoencoderTransformer(**SMALL), {"n_components": [1, 4, 12]}, cv=3)
    grid.fit(X)
    # score is minus the reconstruction error: a larger code wins.
    assert grid.best_params_ == {"n_components": 12}
    means = grid.cv_results_["mean_test_score"]
    assert np.all(np.diff(means) > 0)


def test_feature_union_with_pca(digits):
    X, _ = digits
    union = FeatureUnion([("pca", PCA(3)), ("ae", AutoencoderTransformer(2, **SMALL))])
    Z = union.fit_transform(X)
    assert Z.shape == (X.shape[0], 5)
    assert list(union.get_feature_names_out()) == [
        "pca__pca0", "pca__pca1", "pca__pca2",
        "ae__autoencodertransformer0", "ae__autoencodertransformer1",
    ]


def test_column_transformer_with_pandas_output(digits):
    pd = pytest.importorskip("pandas")
    X, _ = digits
    df = pd.DataFrame(X[:300], columns=[f"px{i}" for i in range(64)])
    ct = ColumnTransformer([
        ("ae", AutoencoderTransformer(2, **SMALL), [f"px{i}" for i in range(32)]),
        ("keep", "passthrough", ["px40"]),
    ]).set_output(transform="pandas")
    out = ct.fit_transform(df)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["ae__autoencodertransformer0",
                                 "ae__autoencodertransformer1", "keep__px40"]
    assert list(out.index) == list(df.index)


def test_set_output_pandas(digits):
    pd = pytest.importorskip("pandas")
    X, _ = digits
    ae = AutoencoderTransformer(3, **SMALL).set_output(transform="pandas")
    out = ae.fit_transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == [f"autoencodertransformer{i}" for i in range(3)]


@pytest.mark.parametrize("name", sorted(skae.__all__))
def test_set_output_applies_to_transform(name, digits):
    pd = pytest.importorskip("pandas")
    make = getattr(skae, name)
    if not (isinstance(make, type) and hasattr(make, "transform")):
        pytest.skip("not an estimator")
    X, y = digits
    model = make(**SMALL).set_output(transform="pandas").fit(X[:300], y[:300])
    frame = pd.DataFrame(X[300:310], index=range(300, 310))
    out = model.transform(frame.to_numpy())
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(model.get_feature_names_out())


def test_get_feature_names_out(digits):
    X, _ = digits
    ae = AutoencoderTransformer(3, **SMALL)
    with pytest.raises(NotFittedError):
        ae.get_feature_names_out()
    names = ae.fit(X).get_feature_names_out()
    assert list(names) == ["autoencodertransformer0", "autoencodertransformer1",
                           "autoencodertransformer2"]


def test_pickle_round_trip_gives_identical_transforms(digits):
    X, _ = digits
    ae = AutoencoderTransformer(4, **SMALL).fit(X)
    restored = pickle.loads(pickle.dumps(ae))
    np.testing.assert_array_equal(ae.transform(X), restored.transform(X))
    np.testing.assert_array_equal(ae.score_samples(X), restored.score_samples(X))
    # Training continues identically too: the shuffling generator travels along.
    ae.partial_fit(X)
    restored.partial_fit(X)
    np.testing.assert_array_equal(ae.transform(X), restored.transform(X))


# ------------------------------------------------------------ reproducibility
def test_random_state_gives_identical_fits(digits):
    X, _ = digits
    ae = AutoencoderTransformer(4, **SMALL)
    first = ae.fit_transform(X)
    np.testing.assert_array_equal(first, ae.fit_transform(X))
    np.testing.assert_array_equal(first, clone(ae).fit_transform(X))
    other = AutoencoderTransformer(4, **{**SMALL, "random_state": 1}).fit_transform(X)
    assert not np.allclose(first, other)


def test_random_state_leaves_global_random_state_alone(digits):
    X, _ = digits
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()  # noqa: NPY002 (the global state is the subject)
    AutoencoderTransformer(4, early_stopping=True, **SMALL).fit(X)
    assert torch.equal(torch_state, torch.get_rng_state())
    after = np.random.get_state()  # noqa: NPY002
    assert np_state[0] == after[0] and np.array_equal(np_state[1], after[1])
    assert np_state[2:] == after[2:]


def test_grid_search_in_parallel_is_reproducible(digits):
    X, _ = digits
    params = {"n_components": [2, 6]}

    def search(n_jobs):
        grid = GridSearchCV(AutoencoderTransformer(**SMALL), params, cv=2, n_jobs=n_jobs)
        return grid.fit(X).cv_results_["mean_test_score"]

    first, second = search(2), search(2)
    np.testing.assert_array_equal(first, second)
    # Worker processes run torch with fewer threads, and the CPU's matrix
    # kernels sum in a thread-dependent order: serial results agree to
    # float32 rounding, not bit for bit.
    np.testing.assert_allclose(first, search(1), rtol=1e-4)


# -------------------------------------------------------------- verbosity
def test_verbose_levels(digits, capsys):
    X, _ = digits
    AutoencoderTransformer(2, hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X)
    assert capsys.readouterr().out == ""
    AutoencoderTransformer(2, hidden_layer_sizes=(8,), max_iter=3, random_state=0,
                           verbose=1).fit(X)
    out = capsys.readouterr().out
    assert "epoch" in out and "train_loss" in out
    assert len([line for line in out.splitlines() if line.strip()[:1].isdigit()]) == 3


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_verbose_two_adds_a_progress_bar_on_a_terminal_only(digits, capsys, monkeypatch):
    X, _ = digits
    params = {"n_components": 2, "hidden_layer_sizes": (8,), "max_iter": 2, "random_state": 0}
    AutoencoderTransformer(**params, verbose=1).fit(X)
    assert "%|" not in capsys.readouterr().err
    # A log file (not a terminal) gets the table and no bar's carriage returns.
    AutoencoderTransformer(**params, verbose=2).fit(X)
    captured = capsys.readouterr()
    assert "train_loss" in captured.out and "%|" not in captured.err and "\r" not in captured.err
    # A terminal gets the bar once an epoch has lasted its delay (here none).
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    monkeypatch.setattr("skae._net.EpochProgressBar.delay", 0)
    AutoencoderTransformer(**params, verbose=2).fit(X)
    assert "%|" in terminal.getvalue()


def test_verbose_two_writes_plain_progress_lines_without_a_terminal(digits, capsys,
                                                                    monkeypatch):
    X, _ = digits
    params = {"n_components": 2, "hidden_layer_sizes": (8,), "max_iter": 2, "random_state": 0,
              "batch_size": 200}
    # Epochs shorter than the interval write no line.
    AutoencoderTransformer(**params, verbose=2).fit(X)
    assert "batches" not in capsys.readouterr().err
    # Here every batch is long enough to be reported.
    monkeypatch.setattr("skae._net.EpochProgressBar.interval", 0)
    AutoencoderTransformer(**params, verbose=2).fit(X)
    lines = capsys.readouterr().err.splitlines()
    assert "\r" not in "".join(lines) and "%|" not in "".join(lines)
    # 1,797 rows in batches of 200: 9 batches an epoch.
    assert lines[0].startswith("epoch 1: 1/9 batches (11%), ")
    assert lines[17].startswith("epoch 2: 9/9 batches (100%), ")
    assert len(lines) == 18
