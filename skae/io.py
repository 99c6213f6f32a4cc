"""Save and load fitted estimators without pickle: one safetensors file.

:func:`dump` writes the weights (and, optionally, the optimiser's state) as
safetensors arrays, and everything else (class, parameters, fitted
attributes, versions, training history) as JSON in the file's header.
:func:`load` reads that JSON and those arrays only: it constructs nothing
but the estimator classes skae lists in :data:`SAFE_CLASSES`, and refuses
any other class or value with an error. Unlike a pickle, a file from an
untrusted source cannot run code on the loading machine.
"""

import json
import warnings

import numpy as np
import sklearn
import torch
from safetensors import safe_open
from safetensors.numpy import save_file
from sklearn.exceptions import InconsistentVersionWarning

from . import __version__
from ._persistence import NetState
from ._random import TorchRNG
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


class _Reader:
    """Turns what :class:`_Writer` wrote back into values, building no other object."""

    def __init__(self, arrays):
        self.arrays = arrays

    def value(self, encoded):
        if isinstance(encoded, list):
            return [self.value(v) for v in encoded]
        if not isinstance(encoded, dict):
            return encoded
        if set(encoded) == {"array"}:
            return self.arrays[encoded["array"]]
        if set(encoded) == {"values", "dtype"}:
            dtype = object if encoded["dtype"] == "object" else np.dtype(encoded["dtype"])
            return np.array(encoded["values"], dtype=dtype)
        if set(encoded) == {"tuple"}:
            return tuple(self.value(v) for v in encoded["tuple"])
        if set(encoded) == {"dict"}:
            return {k: self.value(v) for k, v in encoded["dict"].items()}
        raise ValueError(f"unknown value in the file: {encoded!r}")


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


def _restore_keys(encoded):
    """Optimiser state dicts key their per-parameter state by int; JSON by str."""
    state = encoded["state"]
    return {**encoded, "state": {int(k): v for k, v in state.items()}}


def load(path):
    """Load an estimator saved with :func:`dump`, without running code from the file.

    Only the classes in :data:`SAFE_CLASSES` are constructed, with
    parameters and attributes of plain types read from JSON and arrays read
    from safetensors. A model trained on a GPU loads on the CPU of a machine
    without one (with a warning). A file written by other versions of
    scikit-learn warns with :class:`~sklearn.exceptions.InconsistentVersionWarning`,
    one written by another skae with a ``UserWarning``.

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
    ValueError
        If the file is not a skae file, names a class outside
        :data:`SAFE_CLASSES`, or was written by a later file format.
    """
    with safe_open(str(path), framework="numpy") as file:
        metadata = file.metadata() or {}
        arrays = {key: file.get_tensor(key) for key in file.keys()}
    if _HEADER_KEY not in metadata:
        raise ValueError(f"{path} is a safetensors file but was not written by skae.io.dump.")
    header = json.loads(metadata[_HEADER_KEY])
    if header.get("format", 0) > FORMAT_VERSION:
        raise ValueError(
            f"{path} uses file format {header['format']}, newer than this skae "
            f"({__version__}) reads; upgrade skae."
        )
    name = header.get("class")
    if name not in SAFE_CLASSES:
        raise ValueError(
            f"{path} names the class {name!r}, which skae.io.load does not construct; it "
            f"loads only {list(SAFE_CLASSES)}."
        )
    versions = header["versions"]
    if versions["skae"] != __version__:
        warnings.warn(
            f"{path} was saved with skae {versions['skae']} and is loaded with "
            f"skae {__version__}; results may differ.",
            UserWarning,
            stacklevel=2,
        )
    if versions["scikit-learn"] != sklearn.__version__:
        warnings.warn(
            InconsistentVersionWarning(estimator_name=name,
                                       current_sklearn_version=sklearn.__version__,
                                       original_sklearn_version=versions["scikit-learn"]),
            stacklevel=2,
        )
    reader = _Reader(arrays)
    cls = _safe_classes()[name]
    params = {k: reader.value(v) for k, v in header["params"].items()}
    # A file from a version without a parameter added since takes the value
    # that version behaved as, not the parameter's default ("auto" may stand
    # for something else).
    params.update({p.name: p.value_before() for p in cls._parameters if p.name not in params})
    # The constructor takes the declared parameters only, and they pass the
    # estimator's own validation before anything is built from them.
    estimator = cls(**params)
    estimator._validate_params()
    state = dict(params)
    for key, value in header["state"].items():
        if not key.isidentifier() or key.startswith("__") or hasattr(cls, key):
            # Attributes only: nothing that would shadow a method or a
            # Python hook.
            raise ValueError(f"{path} sets the attribute {key!r}, which no skae model has.")
        if isinstance(value, dict) and set(value) == {"rng"}:
            rng = TorchRNG.__new__(TorchRNG)
            rng.__setstate__({"state": torch.from_numpy(reader.value(value["rng"]).copy())})
            state[key] = rng
        else:
            state[key] = reader.value(value)
    net = header.get("net")
    if net is not None:
        state["_net_state"] = NetState(
            {k: reader.value(v) for k, v in net["module"].items()},
            {k: reader.value(v) for k, v in net["criterion"].items()},
            None if net["optimizer"] is None else _restore_keys(reader.value(net["optimizer"])),
            reader.value(net["history"]),
            net["reference_loss"],
            reader.value(net.get("schedule")),
        )
    estimator.__setstate__(state)
    return estimator
