"""The main job, ``python -m skae``."""

import numpy as np
from sklearn.decomposition import PCA

from skae import AutoencoderTransformer
from skae.__main__ import main
from skae.comparison import compare, evaluate, format_table


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
    monkeypatch.setattr("skae.__main__.compare",
                        lambda **kw: comparison.compare(**kw))
    main(["--n-components", "2"])
    out = capsys.readouterr().out
    assert "held-out error" in out and "PCA" in out
    assert np.isfinite(float(out.splitlines()[-1].split()[1]))


def test_main_writes_plots(tmp_path, capsys, monkeypatch):
    import skae.comparison as comparison
    from skae import VAETransformer

    fast = {"PCA": PCA(3),
            "AE": AutoencoderTransformer(3, hidden_layer_sizes=(8,), max_iter=2, random_state=0),
            "VAE": VAETransformer(3, hidden_layer_sizes=(8,), max_iter=2, random_state=0)}
    monkeypatch.setattr(comparison, "default_models", lambda n, r: fast)
    main(["--n-components", "3", "--plots", str(tmp_path / "figs")])
    written = sorted(p.name for p in (tmp_path / "figs").iterdir())
    assert written == ["loss_curves.png", "reconstructions.png", "vae_samples.png"]
    for name in written:
        assert (tmp_path / "figs" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "figures written to" in capsys.readouterr().out
