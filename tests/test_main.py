"""The main job, ``python -m skae``."""

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression

from skae import AutoencoderTransformer
from skae.__main__ import main
from skae.comparison import (
    compare,
    compare_classifiers,
    evaluate,
    format_classifier_table,
    format_table,
    keep_labels,
)


def test_compare_measures_every_model():
    models = {"PCA": PCA(4),
              "AutoencoderTransformer": AutoencoderTransformer(
                  4, hidden_layer_sizes=(16,), max_iter=3, random_state=0)}
    rows = compare(models, n_components=4)
    assert [r["model"] for r in rows] == ["PCA", "AutoencoderTransformer"]
    for r in rows:
        assert r["reconstruction_error"] > 0 and 0 < r["accuracy"] <= 1
        assert r["fit_seconds"] >= 0
        assert -1 <= r["adjusted_rand"] <= 1
    table = format_table(rows)
    assert "PCA" in table and "AutoencoderTransformer" in table
    # Four PCA components of digits lose a known share of the variance.
    assert 1.0 < rows[0]["reconstruction_error"] < 3.0


def test_evaluate_without_labels_skips_label_metrics(digits):
    X, _ = digits
    row = evaluate(PCA(3), X[:1000], X[1000:])
    assert row["accuracy"] is None and row["adjusted_rand"] is None
    pca = PCA(3).fit(X[:1000])
    expected = np.mean(np.sum((X[1000:] - pca.inverse_transform(pca.transform(X[1000:]))) ** 2,
                              axis=1))
    assert row["reconstruction_error"] == expected


def test_evaluate_label_metrics_match_a_recomputation(digits):
    from sklearn.cluster import KMeans
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import adjusted_rand_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = digits
    row = evaluate(PCA(5), X[:1000], X[1000:], y[:1000], y[1000:], random_state=3)
    pca = PCA(5).fit(X[:1000])
    codes_train, codes_test = pca.transform(X[:1000]), pca.transform(X[1000:])
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    assert row["accuracy"] == clf.fit(codes_train, y[:1000]).score(codes_test, y[1000:])
    labels = KMeans(10, n_init=4, random_state=3).fit_predict(
        StandardScaler().fit_transform(codes_test))
    assert row["adjusted_rand"] == adjusted_rand_score(y[1000:], labels)
    # Five principal components of digits separate the classes well above chance.
    assert row["accuracy"] > 0.7 and row["adjusted_rand"] > 0.2


def test_main_prints_the_table(capsys, monkeypatch):
    import skae.comparison as comparison

    fast = {"PCA": PCA(2)}
    monkeypatch.setattr(comparison, "default_models", lambda n, r: fast)
    monkeypatch.setattr(comparison, "default_classifiers",
                        lambda r: {"LogisticRegression": LogisticRegression(max_iter=500)})
    main(["--n-components", "2"])
    out = capsys.readouterr().out.splitlines()
    assert "held-out error" in out[1] and out[2].startswith("PCA")
    assert np.isfinite(float(out[2].split()[1]))
    assert out[-3].split() == ["model", "labels", "accuracy", "fit", "(s)"]
    assert out[-2].split()[:2] == ["LogisticRegression", "1347"]
    y_train = comparison._digits_split(0)[2]
    n_kept = int(np.sum(keep_labels(y_train, 0.05, 0) != -1))
    assert out[-1].split()[:2] == ["LogisticRegression", str(n_kept)]


def test_keep_labels_keeps_a_share_of_every_class(digits):
    _, y = digits
    kept = keep_labels(y, 0.05, 0)
    for label in range(10):
        assert np.sum(kept == label) == round(0.05 * np.sum(y == label))
    assert np.all((kept == -1) | (kept == y))
    np.testing.assert_array_equal(keep_labels(y, 0.05, 0), kept)


def test_compare_classifiers_trains_semi_supervised_models_on_every_row(monkeypatch):
    from sklearn.semi_supervised import LabelSpreading

    seen = {}
    original = LabelSpreading.fit

    def fit(self, X, y):
        seen["rows"], seen["unlabelled"] = len(X), int(np.sum(y == -1))
        return original(self, X, y)

    monkeypatch.setattr(LabelSpreading, "fit", fit)
    rows = compare_classifiers({"LS": LabelSpreading(),
                                "LR": LogisticRegression(max_iter=500)},
                               label_shares=(0.1,))
    assert seen == {"rows": 1347, "unlabelled": 1347 - rows[0]["labels"]}
    assert [r["model"] for r in rows] == ["LS", "LR"]
    assert all(0.5 < r["accuracy"] <= 1 for r in rows)
    assert "LS" in format_classifier_table(rows)


def test_main_writes_plots(tmp_path, capsys, monkeypatch):
    import skae.comparison as comparison
    from skae import VAETransformer

    fast = {"PCA": PCA(3),
            "AE": AutoencoderTransformer(3, hidden_layer_sizes=(8,), max_iter=2, random_state=0),
            "VAE": VAETransformer(3, hidden_layer_sizes=(8,), max_iter=2, random_state=0)}
    monkeypatch.setattr(comparison, "default_models", lambda n, r: fast)
    monkeypatch.setattr(comparison, "default_classifiers", lambda r: {})
    main(["--n-components", "3", "--plots", str(tmp_path / "figs")])
    written = sorted(p.name for p in (tmp_path / "figs").iterdir())
    assert written == ["loss_curves.png", "reconstructions.png", "vae_samples.png"]
    for name in written:
        assert (tmp_path / "figs" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "figures written to" in capsys.readouterr().out
