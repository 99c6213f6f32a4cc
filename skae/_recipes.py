"""What the parameters left at ``"auto"`` stand for, given the task the others name.

Count likelihoods (``"multinomial"``, ``"poisson"``) name a task: clicks,
plays or words, where the model is asked which features a row is likely to
hold next. Such a model reads the rows scaled to unit norm and corrupted
in training, and a VAE weights its KL term below 1 (Liang et al., 2018).
Every other likelihood keeps the settings of a plain autoencoder. The
values are resolved once, at the start of ``fit``, into fitted attributes
of the same name with a trailing underscore (``input_norm_``, ``beta_``),
which the network and the objective are built from; ``get_params`` keeps
returning ``"auto"``.
"""

import inspect

from .nn.likelihoods import Multinomial, Poisson

AUTO = "auto"

#: What ``"auto"`` resolves to for a count likelihood; for any other it is
#: the parameter's value before ``"auto"`` (its ``Param.legacy``).
FOR_COUNTS = {
    # One affine map each way, as EASE and the linear Mult-VAE: on
    # MovieLens-100K a hidden layer of ReLUs ranks worse, whatever the
    # corruption (benchmarks/bench_recommendation.py).
    "hidden_layer_sizes": (),
    # Liang et al. (2018): the code then depends on what a row holds rather
    # than on its total, which the likelihood models on its own.
    "input_norm": "l2",
    # Dropping clicks and asking for them back is the task itself: a
    # recommender is scored on the clicks it was not shown.
    "input_dropout": 0.5,
    "noise": "masking",
    "noise_level": 0.5,
    # A KL weight of 1 pulls the codes of sparse rows to the prior; Liang
    # et al.'s cap of 0.2 ranks better.
    "beta": 0.2,
}


def counts_task(estimator):
    """Whether the estimator's likelihood models counts (a recommendation task)."""
    if getattr(estimator, "loss", "deprecated") != "deprecated":
        return False  # the deprecated spelling names Gaussian or Bernoulli only
    spec = getattr(estimator, "likelihood", None)
    if isinstance(spec, str):
        return spec in (Multinomial.name, Poisson.name)
    return inspect.isclass(spec) and issubclass(spec, (Multinomial, Poisson))


def resolved(estimator, name):
    """The value ``name`` stands for on ``estimator``: its own unless ``"auto"``."""
    value = getattr(estimator, name)
    if not (isinstance(value, str) and value == AUTO):
        return value
    plain = declared(estimator)[name].value_before()
    if not counts_task(estimator):
        return plain
    if name == "hidden_layer_sizes" and getattr(estimator, "image_shape", None) is not None:
        return plain  # a convolutional network needs its layers
    if name == "input_norm" and getattr(estimator, "pretrain", None) == "greedy":
        return plain  # greedy pretraining trains the first layer on the rows as they are
    if name == "beta" and getattr(estimator, "objective", "elbo") != "elbo":
        return plain  # the importance-weighted bound has no KL term to weight
    return FOR_COUNTS[name]


def declared(estimator):
    # Only the parameters declared with "auto" as their default: others of the
    # same name (SparseCoder's sparsity weight beta) mean something else.
    return {p.name: p for p in estimator._parameters
            if p.name in FOR_COUNTS and p.default == AUTO}


def resolve(estimator):
    """Set ``<name>_`` for every parameter of the recipe the estimator takes."""
    for name in declared(estimator):
        setattr(estimator, name + "_", resolved(estimator, name))


def restore(estimator):
    """Resolve, for a model saved before its values were resolved at fit.

    Such a model holds the values it was trained with (none of them
    ``"auto"``), so each resolves to itself.
    """
    for name in declared(estimator):
        if name + "_" not in estimator.__dict__:
            setattr(estimator, name + "_", resolved(estimator, name))
