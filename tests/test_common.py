"""scikit-learn's own estimator checks, on every public estimator."""

import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

import skae

FAST = {"max_iter": 5, "hidden_layer_sizes": (8,), "random_state": 0}
# The classifier checks demand a training accuracy above 0.83, which takes
# more than 5 epochs of one batch.
FAST_FOR = {"AutoencoderClassifier": {"max_iter": 200}, "VAEClassifier": {"max_iter": 200}}

PUBLIC = [getattr(skae, name) for name in skae.__all__
          if isinstance(getattr(skae, name), type) and hasattr(getattr(skae, name), "fit")]

# Every estimator with its defaults as a user meets it (the checks' data sets
# are small enough for full training), and a small fast variant.
ESTIMATORS = [make() for make in PUBLIC] + [
    make(**{**FAST, **FAST_FOR.get(make.__name__, {})}) for make in PUBLIC
]

# One check is expected to fail; any other failure is a bug.
# check_classifiers_classes fits labels [-1, 1]; -1 marks unlabelled rows in
# skae's classifiers, as in sklearn.semi_supervised, whose classifiers the
# check exempts by name. test_classifier_faults.py runs the rest of it.
EXPECTED_FAILURES = {
    name: {"check_classifiers_classes": "-1 marks unlabelled rows"}
    for name in ("AutoencoderClassifier", "VAEClassifier")
}


def test_every_public_estimator_is_checked():
    public = {name for name in skae.__all__
              if isinstance(getattr(skae, name), type) and hasattr(getattr(skae, name), "fit")}
    assert {type(e).__name__ for e in ESTIMATORS} == public
    assert any(e.get_params() == type(e)().get_params() for e in ESTIMATORS)
    assert "AutoencoderTransformer" in public


@parametrize_with_checks(
    ESTIMATORS,
    expected_failed_checks=lambda e: EXPECTED_FAILURES.get(type(e).__name__, {}),
)
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)
