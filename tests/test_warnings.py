"""Warnings: none that skae causes are deprecated, and each points at the user's line."""

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderClassifier, AutoencoderTransformer, VAETransformer

X = np.random.default_rng(0).random((100, 6))
y = np.arange(100) % 2


def test_fitting_and_transforming_every_estimator_warns_of_nothing_deprecated():
    # A fresh process: torch warns of its deprecations once per process, at
    # the first use of what is deprecated, which another test may have made.
    script = textwrap.dedent("""
        import warnings

        import numpy as np
        from sklearn.exceptions import ConvergenceWarning

        import skae

        warnings.simplefilter("error", DeprecationWarning)
        warnings.simplefilter("error", PendingDeprecationWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        X = np.random.default_rng(0).random((60, 6))
        y = np.arange(60) % 2
        small = {"max_iter": 2, "random_state": 0}
        estimators = [
            skae.AutoencoderTransformer(2, **small),  # principal codes
            # An overcomplete deep encoder: the Jacobian a column at a time.
            skae.AutoencoderTransformer(8, hidden_layer_sizes=(8,), contractive=0.1,
                                        principal_codes=False, **small),
            skae.DenoisingAE(2, **small),
            skae.SparseCoder(8, **small),
            skae.VAETransformer(2, **small),
            skae.AutoencoderClassifier(pretrain="greedy", **small),
            skae.VAEClassifier(**small),
        ]
        for estimator in estimators:
            estimator.fit(X, y)
            if hasattr(estimator, "predict"):
                estimator.predict_proba(X)
            else:
                estimator.score(X)
            estimator.transform(X)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr


def _only(caught, category):
    found = [w for w in caught if issubclass(w.category, category)]
    assert len(found) == 1, [str(w.message) for w in caught]
    return found[0]


@pytest.mark.parametrize("fit", [
    lambda: AutoencoderTransformer(2, max_iter=2, random_state=0).fit(X),
    lambda: AutoencoderClassifier(max_iter=2, pretrain=None, random_state=0).fit(X, y),
    lambda: make_pipeline(StandardScaler(),
                          AutoencoderTransformer(2, max_iter=2, random_state=0)).fit(X),
    lambda: cross_validate(AutoencoderTransformer(2, max_iter=2, random_state=0), X, cv=2),
], ids=["autoencoder", "classifier", "pipeline", "cross_validate"])
def test_a_convergence_warning_points_at_the_users_line(fit):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit()
    found = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert found and all(w.filename == __file__ for w in found)


def test_the_interrupt_warning_points_at_the_users_line(interrupt_at_step):
    # 100 rows in batches of 50: the 5th step is in the 3rd epoch.
    interrupt_at_step(5)
    model = VAETransformer(2, max_iter=10, batch_size=50, random_state=0)
    with warnings.catch_warnings(record=True) as caught, pytest.raises(KeyboardInterrupt):
        warnings.simplefilter("always")
        model.fit(X)
    warning = _only(caught, UserWarning)
    assert "interrupted after 2 complete epoch(s)" in str(warning.message)
    assert warning.filename == __file__


def test_the_deprecated_spelling_warns_at_the_users_line():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        AutoencoderTransformer(2, loss="squared_error", max_iter=2, random_state=0).fit(X)
    warning = _only(caught, FutureWarning)
    assert "'loss' was renamed" in str(warning.message) and warning.filename == __file__
