"""Estimator parameters, each declared once: its name, default and constraints.

An estimator lists the parameters it takes as a tuple of :class:`Param`;
:func:`declare` then gives the class an ``__init__`` with exactly that
signature, which only stores the values (as scikit-learn requires), and the
``_parameter_constraints`` that ``fit`` validates them against. Shared
parameters are declared here once instead of in every estimator.
"""

import inspect
from dataclasses import dataclass, field, replace
from numbers import Integral, Real

from sklearn.utils._param_validation import Hidden, Interval, StrOptions

from ._schedules import SCHEDULES
from .nn.likelihoods import LIKELIHOODS

#: ``Param.legacy`` when a model saved before the parameter existed takes its default.
_AS_DEFAULT = object()


@dataclass(frozen=True)
class Param:
    """One constructor parameter.

    ``positional`` parameters may be passed without their name (only
    ``n_components``, as in scikit-learn's decompositions). A model pickled
    before the parameter existed loads with ``legacy``, the value that
    reproduces how it behaved then (the default unless given).
    """

    name: str
    default: object
    constraints: list = field(default_factory=list)
    positional: bool = False
    legacy: object = field(default=_AS_DEFAULT, compare=False)

    def value_before(self):
        """The value a model saved before this parameter existed behaves as."""
        return self.default if self.legacy is _AS_DEFAULT else self.legacy

    def with_default(self, default):
        """The same parameter with another default."""
        return replace(self, default=default)


def n_components(default):
    constraints = [Interval(Integral, 1, None, closed="left")]
    if default is None:
        constraints.append(None)
    # A pickle from before None was the default was fitted with 2 codes.
    return Param("n_components", default, constraints, positional=True,
                 legacy=2 if default is None else _AS_DEFAULT)


#: Most codes ``n_components=None`` gives.
AUTO_COMPONENTS = 16


def resolve_n_components(n_components, n_features):
    """The code width ``n_components`` stands for on data of ``n_features`` features.

    None gives ``min(16, n_features // 2)`` (at least 1): a bottleneck that
    is narrower than the data, as an autoencoder needs, and wide enough for
    a first model of most data.
    """
    if n_components is None:
        return max(1, min(AUTO_COMPONENTS, n_features // 2))
    return int(n_components)


HIDDEN_LAYER_SIZES = Param("hidden_layer_sizes", (100,), ["array-like"])


def recipe_hidden_layer_sizes(plain):
    """``hidden_layer_sizes`` defaulting to "auto", which is ``plain`` outside
    :mod:`skae._recipes`'s tasks (and for a model saved before "auto")."""
    return Param("hidden_layer_sizes", "auto", [StrOptions({"auto"}), "array-like"],
                 legacy=plain)



IMAGE_SHAPE = Param("image_shape", None, ["array-like", None])
ACTIVATION = Param("activation", "relu", [StrOptions({"identity", "logistic", "tanh", "relu"})])
#: A name from :data:`skae.nn.LIKELIHOODS` or a :class:`skae.nn.Likelihood` subclass.
LIKELIHOOD = Param("likelihood", "gaussian", [StrOptions(set(LIKELIHOODS)), callable])
#: The former name of ``likelihood`` for the deterministic estimators.
LOSS = Param("loss", "deprecated", [
    StrOptions({"squared_error", "binary_crossentropy"}),
    Hidden(StrOptions({"deprecated"})),
])
#: Scale each row to unit norm before the encoder (see :class:`skae.nn.RowNormalize`);
#: ``"auto"`` as :mod:`skae._recipes` resolves it. A model saved before "auto" read
#: its rows as they were.
INPUT_NORM = Param("input_norm", "auto", [StrOptions({"l1", "l2", "auto"}), None], legacy=None)
#: Centre and scale what the encoder reads (see :class:`skae.nn.CenterScale`); a
#: model saved before it existed read its input as it was.
STANDARDIZE_INPUT = Param("standardize_input", True, ["boolean"], legacy=False)
#: The Gaussian likelihood's variance: one shared by the features, one per
#: feature, or a fixed value.
DECODER_VARIANCE = Param("decoder_variance", "shared", [
    StrOptions({"learned", "shared"}), Interval(Real, 0, None, closed="neither")])
#: Inverted dropout on the encoder's input in training (see :class:`skae.nn.InputDropout`).
INPUT_DROPOUT = Param("input_dropout", "auto", [Interval(Real, 0, 1, closed="left"),
                                                StrOptions({"auto"})], legacy=0.0)
CONTRACTIVE = Param("contractive", 0.0, [Interval(Real, 0, None, closed="left")])
PRETRAIN = Param("pretrain", None, [StrOptions({"greedy"}), None])
#: Express the codes on principal axes after training (see :mod:`skae.nn.code_axes`).
PRINCIPAL_CODES = Param("principal_codes", True, ["boolean"], legacy=False)

#: Train one model on several processes together (see :mod:`skae._distributed`).
N_PROCESSES = Param("n_processes", None, [Interval(Integral, 1, None, closed="left"), None])

#: The network's shape, shared by the estimators with a deep network.
NETWORK = (recipe_hidden_layer_sizes((100,)), IMAGE_SHAPE, ACTIVATION)
#: The deterministic autoencoders' network: a wider hidden layer than
#: MLPRegressor's 100 gives codes a linear model reads better (on digits,
#: 0.883 against 0.869 in scikit-learn's PCA pipelining example), at half as
#: much more time per fit.
AUTOENCODER_NETWORK = (recipe_hidden_layer_sizes((256,)), IMAGE_SHAPE, ACTIVATION)

#: What the deterministic autoencoders take beyond the network.
DETERMINISTIC = (LIKELIHOOD, LOSS, CONTRACTIVE, PRETRAIN)

#: How every estimator trains, named after MLPRegressor where it has a name.
TRAINING = (
    Param("solver", "adam", [StrOptions({"adam", "adamw", "sgd"})]),
    Param("learning_rate_init", 1e-3, [Interval(Real, 0, None, closed="neither")]),
    Param("learning_rate", "constant", [StrOptions(set(SCHEDULES))], legacy="constant"),
    Param("learning_rate_decay", 0.2, [Interval(Real, 0, 1, closed="neither")]),
    Param("decay_epochs", 50, [Interval(Integral, 1, None, closed="left")]),
    Param("weight_decay", 0.0, [Interval(Real, 0, None, closed="left")]),
    Param("batch_size", "auto", [StrOptions({"auto"}), Interval(Integral, 1, None,
                                                                closed="left")]),
    Param("max_iter", 200, [Interval(Integral, 1, None, closed="left")]),
    Param("shuffle", True, ["boolean"]),
    Param("tol", 1e-4, [Interval(Real, 0, None, closed="left")]),
    Param("early_stopping", False, ["boolean"]),
    Param("validation_fraction", 0.1, [Interval(Real, 0, 1, closed="neither")]),
    Param("n_iter_no_change", 10, [Interval(Integral, 1, None, closed="left")]),
    # "cuda:N" too: resolve_device checks the spelling at fit.
    Param("device", "cpu", [str]),
    # Training's forward pass under bfloat16 autocast (see skae._net.TrainingNet).
    Param("mixed_precision", False, ["boolean"]),
    Param("random_state", None, ["random_state"]),
    Param("verbose", 0, ["verbose"]),
)


def training(**defaults):
    """:data:`TRAINING` with other defaults for some of its parameters."""
    unknown = set(defaults) - {p.name for p in TRAINING}
    if unknown:
        raise TypeError(f"not training parameters: {sorted(unknown)}")
    return tuple(p.with_default(defaults[p.name]) if p.name in defaults else p
                 for p in TRAINING)


#: The autoencoders' defaults, chosen by measurement (benchmarks/bench_defaults.py):
#: a fast start whose rate falls on plateaus lets a default fit converge in
#: about a hundred epochs on small data, to a lower loss than 200 epochs at 1e-3.
AUTOENCODER_TRAINING = training(learning_rate="adaptive", learning_rate_init=1e-2)
#: A variational autoencoder first sits on a plateau where its posterior has
#: collapsed to the prior, and leaves it later: a plateau schedule would stop
#: it there. A constant rate of 3e-3, and more epochs, let it get away.
VAE_TRAINING = training(learning_rate_init=3e-3, max_iter=500)


def declare(cls, params):
    """Give ``cls`` an ``__init__`` taking ``params`` and their constraints."""
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise TypeError(f"{cls.__name__} declares a parameter twice: {names}")
    kinds = {True: inspect.Parameter.POSITIONAL_OR_KEYWORD,
             False: inspect.Parameter.KEYWORD_ONLY}
    signature = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [inspect.Parameter(p.name, kinds[p.positional], default=p.default) for p in params]
    )

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        for name, value in list(bound.arguments.items())[1:]:
            setattr(self, name, value)

    __init__.__signature__ = signature
    __init__.__qualname__ = f"{cls.__name__}.__init__"
    __init__.__doc__ = f"Store the parameters; see :class:`{cls.__name__}`."
    cls.__init__ = __init__
    cls._parameter_constraints = {p.name: list(p.constraints) for p in params}
    return cls
