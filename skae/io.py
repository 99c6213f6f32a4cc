"""Save and load fitted estimators without pickle: one safetensors file.

:func:`dump` writes the weights (and, optionally, the optimiser's state) as
safetensors arrays, and everything else (class, parameters, fitted
attributes, versions, training history) as JSON in the file's header.
:func:`load` reads that JSON and those arrays only: it constructs nothing
but the estimator classes skae lists in :data:`SAFE_CLASSES`, and refuses
any other class or value with :class:`~skae.exceptions.InvalidFileError`.

What is guaranteed for a file from an untrusted source: loading it runs no
code from it; the whole header is checked (structure, nesting depth,
parameters with the estimator's own validation, fitted attributes, history,
schedule, and every tensor's name, shape and dtype against the network the
parameters describe) before the network is built or an array is read, so
that memory and time spent on a refused file stay within a small multiple
of its size; and every malformed or inconsistent file raises
:class:`~skae.exceptions.InvalidFileError`, a ``ValueError``.

What is not: a file that loads holds a model of the stated class, not a
trustworthy one. Its weights and fitted values are whatever its author
chose, so its outputs deserve the trust its source does. A file that
passes the checks holds every weight of its network, so loading it takes a
few times its size in memory: check the size of a file that may be large
before loading it. Pickles and joblib files, unlike
these files, run code when they are loaded: load those only from sources
you trust.
"""

import json
import math
import re
import warnings

import numpy as np
import sklearn
import torch
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file
from sklearn.exceptions import InconsistentVersionWarning

from . import __version__
from . import _io_schema as schema
from . import _recipes as recipes
from ._net import learning_rate_schedule
from ._persistence import NetState
from ._random import TorchRNG
from .exceptions import InvalidFileError
from .nn.likelihoods import LIKELIHOODS

#: Version of the file layout; :func:`load` refuses files of a later one.
FORMAT_VERSION = 1
_HEADER_KEY = "skae"


#: Names of the classes :func:`load` constructs, the only ones it accepts.
SAFE_CLASSES = ("AutoencoderTransformer", "DenoisingAE", "SparseCoder", "VAETransformer",
                "AutoencoderClassifier", "VAEClassifier")


def _safe_classes():
    import skae

    return {name: getattr(skae, name) for name in SAFE_CLASSES}


class _Writer:
    """Turns an estimator's state into JSON values and named arrays."""

    def __init__(self):
        self.arrays = {}

    def array(self, name, value):
        value = np.ascontiguousarray(value)
        if value.dtype.kind in "biufc":
            self.arrays[name] = value
            return {"array": name}
        if value.dtype.kind in "UO" and all(isinstance(v, (str, int, float, bool))
                                          for v in value.ravel()):
            return {"values": value.tolist(), "dtype": value.dtype.str
                    if value.dtype.kind == "U" else "object"}
        raise TypeError(f"cannot save an array of dtype {value.dtype} ({name}).")

    def value(self, name, value):
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, (int, float, np.integer, np.floating, np.bool_)):
            return value.item() if isinstance(value, np.generic) else value
        if isinstance(value, np.ndarray):
            return self.array(name, value)
        if isinstance(value, tuple):
            return {"tuple": [self.value(f"{name}.{i}", v) for i, v in enumerate(value)]}
        if isinstance(value, list):
            return [self.value(f"{name}.{i}", v) for i, v in enumerate(value)]
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            return {"dict": {k: self.value(f"{name}.{k}", v) for k, v in value.items()}}
        if torch.is_tensor(value):
            return self.array(name, value.detach().cpu().numpy())
        raise TypeError(
            f"cannot save {name}={value!r} (a {type(value).__name__}) in a safe file: only "
            "numbers, strings, None, arrays and lists, tuples or dicts of them are "
            "stored. For random_state pass an int; for likelihood, a name."
        )


def _flat_state(writer, prefix, state_dict):
    return {key: writer.value(f"{prefix}.{key}", value) for key, value in state_dict.items()}


def dump(estimator, path, *, optimizer=True):
    """Save a fitted skae estimator to ``path`` as one safetensors file.

    Parameters
    ----------
    estimator : estimator
        A fitted (or unfitted) instance of one of :data:`SAFE_CLASSES`.
    path : str or path-like
        The file to write (conventionally ending in ``.safetensors``).
    optimizer : bool, default=True
        Also save the optimiser's state, so that ``partial_fit`` after
        :func:`load` continues exactly as it would have; without it the file
        holds the weights alone, about a third of the size with Adam.

    Raises
    ------
    TypeError
        If the estimator is not one of :data:`SAFE_CLASSES`, or holds a value
        a safe file cannot store (a ``RandomState`` instance as
        ``random_state``, a likelihood class rather than a name).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> from skae.io import dump, load
    >>> X = load_digits().data / 16
    >>> ae = AutoencoderTransformer(4, max_iter=3, random_state=0).fit(X)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ae.safetensors"
    >>> dump(ae, path)
    >>> bool((load(path).transform(X) == ae.transform(X)).all())
    True
    """
    name = type(estimator).__name__
    if name not in SAFE_CLASSES or _safe_classes()[name] is not type(estimator):
        raise TypeError(f"dump saves skae's estimators {list(SAFE_CLASSES)}, not {name}.")
    state = estimator.__getstate__()
    writer = _Writer()
    params = estimator.get_params(deep=False)
    likelihood = params.get("likelihood")
    if likelihood is not None and not isinstance(likelihood, str):
        names = [k for k, v in LIKELIHOODS.items() if v is likelihood]
        if not names:
            raise TypeError(
                f"cannot save likelihood={likelihood!r} in a safe file: loading would have "
                "to import its code. Use a likelihood by name, or pickle the model."
            )
        params["likelihood"] = names[0]
    header = {
        "format": FORMAT_VERSION,
        "class": name,
        "versions": {"skae": __version__, "scikit-learn": sklearn.__version__,
                     "torch": torch.__version__, "numpy": np.__version__},
        "params": {k: writer.value(f"param.{k}", v) for k, v in params.items()},
        "state": {},
    }
    for key, value in state.items():
        if key in params:
            continue
        if isinstance(value, TorchRNG):
            header["state"][key] = {"rng": writer.array(f"state.{key}",
                                                         value.get_state().numpy())}
        elif isinstance(value, NetState):
            header["net"] = {
                "module": _flat_state(writer, "module", value.module),
                "criterion": _flat_state(writer, "criterion", value.criterion),
                "optimizer": _optimizer_state(writer, value.optimizer) if optimizer else None,
                "history": writer.value("history", value.history),
                "reference_loss": value.reference_loss,
                "schedule": writer.value("schedule", value.schedule),
            }
        else:
            header["state"][key] = writer.value(f"state.{key}", value)
    save_file(writer.arrays, str(path), metadata={_HEADER_KEY: json.dumps(header)})


def _optimizer_state(writer, state_dict):
    # The per-parameter state is keyed by int, which JSON keys cannot be.
    return writer.value("optimizer", {
        "state": {str(k): v for k, v in state_dict["state"].items()},
        "param_groups": state_dict["param_groups"],
    })


def _restore_keys(optimizer):
    """Optimiser state dicts key their per-parameter state by int; JSON by str."""
    return {**optimizer, "state": {int(k): v for k, v in optimizer["state"].items()}}


def load(path):
    """Load an estimator saved with :func:`dump`, without running code from the file.

    Only the classes in :data:`SAFE_CLASSES` are constructed, with
    parameters and attributes of plain types read from JSON and arrays read
    from safetensors. A model trained on a GPU loads on the CPU of a machine
    without one (with a warning). A file written by other versions of
    scikit-learn warns with :class:`~sklearn.exceptions.InconsistentVersionWarning`,
    one written by another skae with a ``UserWarning``.

    The file is treated as untrusted input, and checked whole before the
    network is built: the header's structure and nesting depth, the
    parameters (with the estimator's own validation), the fitted attributes
    (none may set a parameter or shadow a method), the history and the
    schedule's state, and the name, shape and dtype of every stored tensor
    against the network the parameters describe. Memory and time spent on
    a file that is refused stay within a small multiple of its size.

    What is not guaranteed: a file that passes these checks holds a valid
    model of the stated class, but its weights can still be anything (a
    model trained to misbehave, or one whose outputs are not finite);
    trust its results as much as you trust its source.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`dump`.

    Returns
    -------
    estimator : estimator
        The estimator, fitted if it was.

    Raises
    ------
    InvalidFileError
        If the file is not a skae file, names a class outside
        :data:`SAFE_CLASSES`, was written by a later file format, or is
        malformed or inconsistent in any way. It is a ``ValueError``.
    """
    try:
        return _load(path)
    except InvalidFileError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError,
            RecursionError, RuntimeError, SafetensorError) as error:
        raise InvalidFileError(f"{path} is not a valid skae model file: {error}") from error


def _load(path):
    with safe_open(str(path), framework="numpy") as file:
        metadata = file.metadata() or {}
        if _HEADER_KEY not in metadata:
            raise InvalidFileError(
                f"{path} is a safetensors file but was not written by skae.io.dump.")
        stored = {}
        for key in file.keys():
            entry = file.get_slice(key)
            stored[key] = schema.Stored(key, tuple(entry.get_shape()), entry.get_dtype())
        text = metadata[_HEADER_KEY]
        schema.check_depth(text)
        header = schema.check_object(json.loads(text), "the header",
                                     ("format", "class", "versions", "params", "state"),
                                     ("net",))
        estimator, state, net = _checked(header, stored, len(text), path, file)
        # Every check has passed: the arrays are read, and the network built.
        state = schema.read(state, file)
        net = schema.read(net, file)
    if "_rng" in state:
        rng = TorchRNG.__new__(TorchRNG)
        rng.__setstate__({"state": state["_rng"]["rng"]})
        state["_rng"] = rng
    estimator.__setstate__({**estimator.get_params(deep=False), **state})
    if net is not None:
        if "n_components_" not in state and hasattr(estimator, "n_components"):
            estimator.n_components_ = estimator.n_components
        recipes.restore(estimator)
        net_state = NetState(
            net["module"], net["criterion"],
            None if net["optimizer"] is None else _restore_keys(net["optimizer"]),
            net["history"], net["reference_loss"], net["schedule"],
        )
        estimator.net_ = net_state.restore(estimator, check=lambda fresh: _check_like_fresh(
            fresh, net_state))
    return estimator


def _checked(header, stored, header_size, path, file):
    """The estimator with its parameters, its checked state, and the checked net."""
    version = header["format"]
    schema.require(isinstance(version, int) and not isinstance(version, bool)
                   and version >= 1, f"{path} has no valid format number.")
    if version > FORMAT_VERSION:
        raise InvalidFileError(
            f"{path} uses file format {version}, newer than this skae "
            f"({__version__}) reads; upgrade skae."
        )
    name = header["class"]
    if name not in SAFE_CLASSES:
        raise InvalidFileError(
            f"{path} names the class {schema.short(name)}, which skae.io.load does not "
            f"construct; it loads only {list(SAFE_CLASSES)}."
        )
    versions = schema.check_object(header["versions"], "versions",
                                   ("skae", "scikit-learn"), ("torch", "numpy"))
    schema.require(all(isinstance(v, str) for v in versions.values()),
                   "versions must be strings.")
    cls = _safe_classes()[name]
    decoder = schema.Decoder(stored, 8 * header_size + schema.VALUES_ALLOWANCE)
    schema.check_object(header["params"], "params", optional=cls._get_param_names())
    # Arrays among the parameters (a sequence of layer sizes) are tiny and
    # read at once: the validation below sees them as they will be used.
    params = schema.read({k: decoder.value(v, f"params.{k}")
                          for k, v in header["params"].items()}, file)
    # A file from a version without a parameter added since takes the value
    # that version behaved as, not the parameter's default ("auto" may stand
    # for something else).
    params.update({p.name: p.value_before() for p in cls._parameters if p.name not in params})
    # The constructor takes the declared parameters only, and they pass the
    # estimator's own validation before anything is built from them.
    estimator = cls(**params)
    try:
        estimator._validate_params()
    except ValueError as error:
        raise InvalidFileError(f"{path} holds invalid parameters: {error}") from error
    # A device the machine lacks loads on the CPU; one that no machine has is refused.
    schema.require(re.fullmatch(r"cpu|auto|cuda(:\d+)?", estimator.device) is not None,
                   f"{path} names the device {schema.short(estimator.device)}.")
    schema.check_object(header["state"], "state", optional=header["state"])
    state = {}
    for key, value in header["state"].items():
        if key == "_rng" and isinstance(value, dict) and set(value) == {"rng"}:
            state[key] = {"rng": decoder.value(value["rng"], f"state.{key}")}
        else:
            state[key] = decoder.value(value, f"state.{key}")
    schema.check_state(cls, state)
    net = header.get("net")
    schema.require(net is not None or not state,
                   f"{path} sets fitted attributes but holds no network.")
    if net is not None:
        net = schema.decode_net(net, decoder)
        schema.require(all(k in state for k in ("n_features_in_", "_rng", "_batch_size",
                                                "n_iter_", "_n_features_out")),
                       "a fitted model's file lacks some of its fitted attributes.")
        # The checks below build from the parameters and attributes.
        probe = cls(**params)
        probe.__dict__.update({k: schema.stand_in(v) for k, v in state.items()})
        if "n_components_" not in state and hasattr(probe, "n_components"):
            probe.n_components_ = probe.n_components
        # What the parameters resolve to must be what the model holds.
        for name in recipes.declared(probe):
            if name + "_" in state:
                held, expected = state[name + "_"], recipes.resolved(probe, name)
                if isinstance(held, schema.Stored):
                    # A value kept as an array (layer sizes) is a few numbers.
                    schema.require(math.prod(held.shape) <= _MOST_RECIPE_VALUES,
                                   f"{name}_ is an array of shape {held.shape}.")
                    held = schema.read(held, file)
                schema.require(_same_value(held, expected),
                               f"{name}_={schema.short(held)} differs from what the "
                               f"parameters give, {schema.short(expected)}.")
                setattr(probe, name + "_", held)
        # Values a model saved before they were resolved at fit trained with.
        recipes.restore(probe)
        schema.require(probe._code_width() == state["_n_features_out"],
                       f"_n_features_out={state['_n_features_out']} differs from the width "
                       f"of the code the parameters describe, {probe._code_width()}.")
        schema.check_network(net, probe)
    unused = set(stored) - decoder.used
    schema.require(not unused, f"{path} holds arrays nothing refers to: {sorted(unused)[:5]}.")
    _warn_versions(versions, name, path)
    return estimator, state, net


#: Most numbers a resolved parameter kept as an array (layer sizes) may hold.
_MOST_RECIPE_VALUES = 64


def _same_value(a, b):
    """Equality of two parameter values, a tuple read back as a list included."""
    sequences = (list, tuple, np.ndarray)
    if isinstance(a, sequences) and isinstance(b, sequences):
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, sequences) or isinstance(b, sequences):
        return False
    return bool(a == b)


def _check_like_fresh(net, state):
    """The stored optimiser and schedule states have the structure of ``net``'s own."""
    schedule = learning_rate_schedule(net)
    if schedule is None or state.schedule is None:
        schema.require(schedule is None and state.schedule is None,
                       "the learning-rate schedule's state does not match learning_rate.")
    else:
        # Made first: a scheduler adds its entries to the optimiser's groups.
        fresh = schedule.state_dict(net)
        declared = type(schedule.scheduler(net))
        for key in set(state.schedule) - set(fresh):
            # Attributes the scheduler's class declares, set on its first step.
            default = getattr(declared, key, "") if isinstance(key, str) else ""
            if default is None or schema.is_number(default):
                fresh[key] = default
        schema.check_like(fresh, state.schedule, "the learning-rate schedule's state")
    if state.optimizer is not None:
        schema.check_like(net.optimizer_.state_dict()["param_groups"],
                          state.optimizer["param_groups"], "the optimizer's param_groups")


def _warn_versions(versions, name, path):
    if versions["skae"] != __version__:
        warnings.warn(
            f"{path} was saved with skae {versions['skae']} and is loaded with "
            f"skae {__version__}; results may differ.",
            UserWarning,
            stacklevel=5,
        )
    if versions["scikit-learn"] != sklearn.__version__:
        warnings.warn(
            InconsistentVersionWarning(estimator_name=name,
                                       current_sklearn_version=sklearn.__version__,
                                       original_sklearn_version=versions["scikit-learn"]),
            stacklevel=5,
        )
