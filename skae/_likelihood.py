"""From an estimator's ``likelihood`` (or deprecated ``loss``) to a likelihood object."""

import inspect
import warnings

from ._stacklevel import user_stacklevel
from .nn.likelihoods import LIKELIHOODS, Likelihood

#: The deterministic estimators' former ``loss`` values, by likelihood name.
LOSS_NAMES = {"squared_error": "gaussian", "binary_crossentropy": "bernoulli"}


def likelihood_class(estimator):
    """The :class:`~skae.nn.Likelihood` subclass the estimator's parameters name.

    Reads ``loss`` too where the estimator has it: a value other than its
    default is the deprecated spelling of ``likelihood``.
    """
    spec = estimator.likelihood
    loss = getattr(estimator, "loss", "deprecated")
    if loss != "deprecated":
        renamed = LOSS_NAMES[loss]
        warnings.warn(
            f"'loss' was renamed 'likelihood' in skae 0.2 and will be removed in 0.4: "
            f"use likelihood={renamed!r} instead of loss={loss!r}.",
            FutureWarning,
            stacklevel=user_stacklevel(),
        )
        if spec != "gaussian" and spec != renamed:
            raise ValueError(
                f"loss={loss!r} and likelihood={spec!r} disagree; pass likelihood alone."
            )
        spec = renamed
    if isinstance(spec, str):
        return LIKELIHOODS[spec]
    if not (inspect.isclass(spec) and issubclass(spec, Likelihood)):
        raise ValueError(
            f"likelihood must be one of {sorted(LIKELIHOODS)} or a subclass of "
            f"skae.nn.Likelihood, got {spec!r}."
        )
    return spec


def make_likelihood(cls, n_features, **options):
    """Instantiate ``cls`` with the options its constructor accepts.

    Options such as ``variance`` (the VAE's ``decoder_variance``) apply to
    the likelihoods that have them and are ignored by the others.
    """
    accepted = inspect.signature(cls).parameters
    return cls(n_features, **{k: v for k, v in options.items() if k in accepted})


def check_values(estimator, likelihood, X):
    """Raise a ValueError naming the estimator when X is outside the likelihood's support."""
    problem = likelihood.check_values(X)
    if problem:
        name = likelihood.name or type(likelihood).__name__
        raise ValueError(f"{type(estimator).__name__} with likelihood={name!r} {problem}")
