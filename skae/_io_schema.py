"""What :func:`skae.io.load` checks of a file before it builds anything from it.

A file is untrusted input. Its JSON header is checked for nesting depth on
the raw text, parsed, and decoded against the forms :func:`skae.io.dump`
writes, with arrays standing in as :class:`Stored` (a name, a shape and a
dtype read from the safetensors header, not the data). The network the
parameters describe is built on torch's ``meta`` device, which allocates
nothing, and every stored tensor's name, shape and dtype is compared with
it; only then are the arrays read and the network built. Every refusal is
an :class:`~skae.exceptions.InvalidFileError`.
"""

import re
import warnings
from dataclasses import dataclass

import numpy as np
import torch

from ._likelihood import likelihood_class, make_likelihood
from .exceptions import InvalidFileError

#: Deepest nesting of lists and objects the header may hold; what dump
#: writes stays below 12.
MAX_DEPTH = 32
#: Bytes that arrays of strings in the header may take once decoded: this
#: much beyond 8 times the header's own size.
VALUES_ALLOWANCE = 1 << 20
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")
_UNICODE_DTYPE = re.compile(r"[<>=|]?U([0-9]{1,9})")
DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16,
          "BF16": torch.bfloat16, "I64": torch.int64, "I32": torch.int32, "I16": torch.int16,
          "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}
_RNG_STATE = torch.Generator().get_state()


@dataclass(frozen=True)
class Stored:
    """An array of the file, known by its safetensors entry; its data is not read."""

    name: str
    shape: tuple
    dtype: str


def short(value):
    """``repr(value)``, cut to fit in a message."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_depth(text):
    """Refuse JSON text nested deeper than :data:`MAX_DEPTH`, without parsing it."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    if deepest > MAX_DEPTH:
        raise InvalidFileError(f"the header is nested {deepest} levels deep; skae.io.dump "
                               f"writes at most {MAX_DEPTH}.")


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class Decoder:
    """Decodes the values :class:`skae.io._Writer` encodes, and nothing else.

    Arrays come back as :class:`Stored`; the arrays of strings written in
    the header are built within a budget of bytes.
    """

    def __init__(self, stored, budget):
        self.stored, self.budget, self.used = stored, budget, set()

    def value(self, encoded, where):
        if encoded is None or isinstance(encoded, (bool, int, float, str)):
            return encoded
        if isinstance(encoded, list):
            return [self.value(v, f"{where}.{i}") for i, v in enumerate(encoded)]
        if isinstance(encoded, dict):
            kind = set(encoded)
            if kind == {"array"} and encoded["array"] in self.stored:
                self.used.add(encoded["array"])
                return self.stored[encoded["array"]]
            if kind == {"values", "dtype"}:
                return self._values(encoded["values"], encoded["dtype"], where)
            if kind == {"tuple"} and isinstance(encoded["tuple"], list):
                return tuple(self.value(v, f"{where}.{i}") for i, v in enumerate(encoded["tuple"]))
            if kind == {"dict"} and isinstance(encoded["dict"], dict):
                return {k: self.value(v, f"{where}.{k}") for k, v in encoded["dict"].items()}
        raise InvalidFileError(f"{where} holds {short(encoded)}, which is not a value "
                               "skae.io.dump writes (or names an array the file lacks).")

    def _values(self, values, dtype, where):
        flat, pending = [], [values]
        while pending:
            item = pending.pop()
            if isinstance(item, list):
                pending.extend(item)
            elif isinstance(item, (str, int, float, bool)):
                flat.append(item)
            else:
                raise InvalidFileError(f"{where} holds {short(item)} in an array of values.")
        if not isinstance(values, list):
            raise InvalidFileError(f"{where}: the values of an array must be a list.")
        unicode = _UNICODE_DTYPE.fullmatch(dtype) if isinstance(dtype, str) else None
        if unicode is not None:
            # dump writes the width of the longest string: a wider one would
            # only make a small file allocate much.
            longest = max((len(v) for v in flat if isinstance(v, str)), default=0)
            width = int(unicode.group(1))
            if width > max(longest, 1):
                raise InvalidFileError(f"{where} declares strings of {width} characters; the "
                                       f"longest it holds has {longest}.")
            size = 4 * width * len(flat)
        elif dtype == "object":
            size = 8 * len(flat)
        else:
            raise InvalidFileError(f"{where} has dtype {short(dtype)}; arrays in the header are "
                                   "of strings ('<U' followed by a width) or 'object'.")
        self.budget -= size
        if self.budget < 0:
            raise InvalidFileError(f"the arrays of values in the header ({where}) would take "
                                   "far more memory than the file's size.")
        return np.array(values, dtype=object if dtype == "object" else dtype)


def read(value, file):
    """``value`` with every :class:`Stored` replaced by the array it names."""
    if isinstance(value, Stored):
        return file.get_tensor(value.name)
    if isinstance(value, list):
        return [read(v, file) for v in value]
    if isinstance(value, tuple):
        return tuple(read(v, file) for v in value)
    if isinstance(value, dict):
        return {k: read(v, file) for k, v in value.items()}
    return value


def require(condition, message):
    if not condition:
        raise InvalidFileError(message)


def check_object(value, where, required=(), optional=()):
    require(isinstance(value, dict), f"{where} must be an object, not {short(value)}.")
    missing = set(required) - set(value)
    extra = set(value) - set(required) - set(optional)
    require(not missing, f"{where} lacks {sorted(missing)}.")
    require(not extra, f"{where} holds {sorted(extra)[:5]}, which skae.io.dump does not write.")
    return value


def _count(value, where, minimum):
    require(isinstance(value, int) and not isinstance(value, bool) and value >= minimum,
            f"{where} must be an integer >= {minimum}, not {short(value)}.")


def _numbers(value, where, length=None):
    require(isinstance(value, list) and all(is_number(v) for v in value),
            f"{where} must be a list of numbers, not {short(value)}.")
    require(length is None or len(value) == length,
            f"{where} holds {len(value)} values where {length} are expected.")


def _array(value, where, shape):
    require(isinstance(value, Stored) and value.dtype in ("F32", "F64")
            and tuple(value.shape) == shape,
            f"{where} must be a float array of shape {shape}, not {short(value)}.")


def check_state(cls, state):
    """Check the fitted attributes a file sets, each on its own."""
    params = set(cls._get_param_names())
    for key in state:
        require(isinstance(key, str) and key.isidentifier() and not key.startswith("__")
                and not hasattr(cls, key) and key not in params
                and (key.endswith("_") or key.startswith("_")),
                f"the file sets the attribute {short(key)}, which no skae model has "
                "(parameters are set from the file's params only).")
    for key in ("n_features_in_", "n_components_", "_batch_size", "_n_features_out"):
        if key in state:
            _count(state[key], key, 1)
    if "_labelled_count" in state:
        _count(state["_labelled_count"], "_labelled_count", 0)
    if "n_iter_" in state:
        _count(state["n_iter_"], "n_iter_", 0)
        _numbers(state.get("loss_curve_"), "loss_curve_", state["n_iter_"])
    for key in ("best_loss_", "best_validation_score_", "alpha_"):
        require(state.get(key) is None or is_number(state[key]), f"{key} must be a number.")
    if state.get("validation_scores_") is not None:
        _numbers(state["validation_scores_"], "validation_scores_")
    if "_rng" in state:
        rng = state["_rng"]
        require(isinstance(rng, dict) and set(rng) == {"rng"} and isinstance(rng["rng"], Stored)
                and tuple(rng["rng"].shape) == tuple(_RNG_STATE.shape)
                and rng["rng"].dtype == "U8",
                "_rng must be a generator's state: an array of "
                f"{_RNG_STATE.numel()} bytes.")
    width = state.get("n_features_in_")
    if "latent_activity_" in state:
        _array(state["latent_activity_"], "latent_activity_", (state.get("n_components_"),))
    if "_noise_range" in state:
        value = state["_noise_range"]
        require(isinstance(value, tuple) and len(value) == 2,
                "_noise_range must be two arrays.")
        for bound in value:
            _array(bound, "_noise_range", (width,))
    classes = state.get("classes_")
    if classes is not None:
        require(len(getattr(classes, "shape", ())) == 1 and classes.shape[0] >= 2,
                "classes_ must be a list of at least two labels.")
    names = state.get("feature_names_in_")
    if names is not None:
        require(not isinstance(names, Stored) and getattr(names, "ndim", 0) == 1
                and len(names) == width
                and all(isinstance(n, str) for n in names),
                "feature_names_in_ must hold one string per feature.")


def check_history(history, state):
    """The history: a row of numbers per epoch, agreeing with ``n_iter_`` and ``loss_curve_``."""
    require(isinstance(history, list), "the history must be a list of rows.")
    for i, row in enumerate(history):
        require(isinstance(row, dict) and is_number(row.get("train_loss")),
                f"history row {i} must be an object with a train_loss.")
        for key, value in row.items():
            if key == "batches":
                require(isinstance(value, list) and all(
                    isinstance(b, dict) and all(is_number(v) for v in b.values())
                    for b in value), f"history row {i} has malformed batches.")
            else:
                require(value is None or isinstance(value, (int, float)),
                        f"history row {i} holds {key}={short(value)}; rows hold numbers.")
    require(state.get("n_iter_") == len(history)
            and state.get("loss_curve_") == [row["train_loss"] for row in history],
            "the history does not match n_iter_ and loss_curve_.")


def expected_network(estimator, n_features):
    """The module and criterion the parameters describe, on the meta device."""
    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore", FutureWarning)
        likelihood = make_likelihood(likelihood_class(estimator), n_features,
                                     **estimator._likelihood_options())
        return estimator._make_module(n_features), estimator._make_objective(likelihood)


def _same_shape(stored, expected):
    # dump writes a scalar as an array of one value.
    return tuple(stored) == tuple(expected) or (tuple(expected) == () and tuple(stored) == (1,))


def stand_in(value):
    """``value`` with each :class:`Stored` as an empty meta tensor of its shape."""
    if isinstance(value, Stored):
        return torch.empty(value.shape, device="meta")
    if isinstance(value, tuple):
        return tuple(stand_in(v) for v in value)
    if isinstance(value, list):
        return [stand_in(v) for v in value]
    return value


def check_tensors(where, stored, expected):
    """Every stored tensor of a state dict has the name, shape and dtype expected."""
    require(isinstance(stored, dict), f"{where} must be an object of arrays.")
    missing, extra = set(expected) - set(stored), set(stored) - set(expected)
    require(not missing and not extra,
            f"the {where}'s tensors do not match the network its parameters describe: "
            f"missing {sorted(missing)[:5]}, unexpected {sorted(extra)[:5]}.")
    for name, tensor in expected.items():
        value = stored[name]
        require(isinstance(value, Stored) and _same_shape(value.shape, tensor.shape)
                and DTYPES.get(value.dtype) == tensor.dtype,
                f"the {where}'s {name} is {short(value)}; the network its parameters "
                f"describe has shape {tuple(tensor.shape)} and dtype {tensor.dtype}.")


def check_network(net, estimator):
    """Check the decoded ``net`` against the network built on the meta device."""
    module, criterion = expected_network(estimator, estimator.n_features_in_)
    check_tensors("module", net["module"], module.state_dict())
    check_tensors("criterion", net["criterion"], criterion.state_dict())
    require(net["reference_loss"] is None or is_number(net["reference_loss"]),
            "reference_loss must be a number.")
    shapes = [tuple(p.shape) for part in (module, criterion) for p in part.parameters()]
    optimizer = net["optimizer"]
    if optimizer is not None:
        check_object(optimizer, "the optimizer's state", ("state", "param_groups"))
        check_object(optimizer["state"], "the optimizer's state",
                     optional=[str(i) for i in range(len(shapes))])
        for key, values in optimizer["state"].items():
            require(isinstance(values, dict), "the optimizer's state is malformed.")
            for name, value in values.items():
                require(isinstance(value, Stored) and value.dtype == "F32"
                        and (_same_shape(value.shape, ()) or
                             _same_shape(value.shape, shapes[int(key)])),
                        f"the optimizer's {name} of parameter {key} is {short(value)}.")
        require(isinstance(optimizer["param_groups"], list)
                and all(isinstance(g, dict) for g in optimizer["param_groups"]),
                "the optimizer's param_groups must be a list of objects.")
    check_history(net["history"], estimator.__dict__)
    require(net["schedule"] is None or isinstance(net["schedule"], dict),
            "the learning-rate schedule's state must be an object.")


NET_ENTRIES = ("module", "criterion", "optimizer", "history", "reference_loss", "schedule")


def decode_net(net, decoder):
    """The header's ``net`` decoded: its state dicts are plain objects of values."""
    check_object(net, "net", NET_ENTRIES)
    decoded = {}
    for key in ("module", "criterion"):
        check_object(net[key], key, optional=net[key])
        decoded[key] = {k: decoder.value(v, f"{key}.{k}") for k, v in net[key].items()}
    for key in ("optimizer", "history", "schedule"):
        decoded[key] = decoder.value(net[key], key)
    decoded["reference_loss"] = net["reference_loss"]
    return decoded


def check_like(fresh, loaded, where):
    """``loaded`` has the structure of ``fresh``: the same keys, lengths and kinds.

    Numbers (and None, where a number may stand) are free; strings must be
    the same (they follow from the parameters).
    """
    if isinstance(fresh, dict):
        require(isinstance(loaded, dict) and set(loaded) == set(fresh),
                f"{where} has other entries than the estimator's: {short(loaded)}.")
        for key in fresh:
            check_like(fresh[key], loaded[key], f"{where}.{key}")
    elif isinstance(fresh, (list, tuple)):
        require(isinstance(loaded, (list, tuple)) and len(loaded) == len(fresh),
                f"{where} is {short(loaded)}, not {len(fresh)} values.")
        for i, (a, b) in enumerate(zip(fresh, loaded, strict=True)):
            check_like(a, b, f"{where}.{i}")
    elif isinstance(fresh, bool):
        require(isinstance(loaded, bool), f"{where} is {short(loaded)}, not a boolean.")
    elif isinstance(fresh, str):
        require(loaded == fresh, f"{where} is {short(loaded)}, not {fresh!r}.")
    elif fresh is None or is_number(fresh):
        require(loaded is None or is_number(loaded),
                f"{where} is {short(loaded)}, not a number.")
    else:
        raise InvalidFileError(f"{where} cannot be checked.")

