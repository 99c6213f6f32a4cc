"""scikit-learn's own estimator checks, on every public estimator."""

import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

import skae

FAST = {"max_iter": 5, "hidden_layer_sizes": (8,), "random_state": 0}

PUBLIC = [getattr(skae, name) for name in skae.__all__
          if isinstance(getattr(skae, name), type) and hasattr(getattr(skae, name), "fit")]

# Every estimator with its defaults as a user meets it (the checks' data sets
# are small enough for full training), and a small fast variant.
ESTIMATORS = [make() for make in PUBLIC] + [make(**FAST) for make in PUBLIC]

# No check is expected to fail; a failure here is a bug.
EXPECTED_FAILURES = {}


def test_every_public_estimator_is_checked():
    public = {name for name in skae.__all__
              if isinstance(getattr(skae, name), type) and hasattr(getattr(skae, name), "fit")}
    assert {type(e).__name__ for e in ESTIMATORS} == public
    assert any(e.get_params() == type(e)().get_params() for e in ESTIMATORS)
    assert "AutoencoderTransformer" in public


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda e: EXPECTED_FAILURES)
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)
