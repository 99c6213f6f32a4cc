"""The main job, ``python -m skae``."""

import numpy as np
from sklearn.decomposition import PCA

from skae import AutoencoderTransformer
from skae.__main__ import main
from skae._comparison import compare, format_table


def test_compare_measures_every_model():
    models = {"PCA": PCA(4),
              "AutoencoderTransformer": AutoencoderTransformer(
                  4, hidden_layer_sizes=(16,), max_iter=3, random_state=0)}
    rows = compare(models, n_components=4)
    assert [r["model"] for r in rows] == ["PCA", "AutoencoderTransformer"]
    for r in rows:
        assert r["reconstruction_error"] > 0 and 0 < r["accuracy"] <= 1
        assert r["fit_seconds"] >= 0
    table = format_table(rows)
    assert "PCA" in table and "AutoencoderTransformer" in table
    # Four PCA components of digits lose a known share of the variance.
    assert 1.0 < rows[0]["reconstruction_error"] < 3.0


def test_main_prints_the_table(capsys, monkeypatch):
    import skae._comparison as comparison

    fast = {"PCA": PCA(2)}
    monkeypatch.setattr(comparison, "default_models", lambda n, r: fast)
    monkeypatch.setattr("skae.__main__.compare",
                        lambda **kw: comparison.compare(**kw))
    main(["--n-components", "2"])
    out = capsys.readouterr().out
    assert "held-out error" in out and "PCA" in out
    assert np.isfinite(float(out.splitlines()[-1].split()[1]))
