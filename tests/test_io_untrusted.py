"""skae.io.load on crafted files: one documented error, and no large allocation first.

Each file is a real dump whose header (or arrays) a test rewrites.
"""

import json
import tracemalloc

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import save_file

import skae
from skae import InvalidFileError
from skae.io import dump, load

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = {"hidden_layer_sizes": (8,), "max_iter": 2, "random_state": 0}


@pytest.fixture(scope="module")
def saved(tmp_path_factory, digits):
    """Files of a fitted autoencoder and classifier (4-value codes)."""
    X, y = digits[0][:200], digits[1][:200]
    folder = tmp_path_factory.mktemp("saved")
    dump(skae.AutoencoderTransformer(4, **SMALL).fit(X), folder / "ae")
    dump(skae.AutoencoderClassifier(**{**SMALL, "hidden_layer_sizes": (8, 4)}).fit(X, y),
         folder / "clf")
    dump(skae.VAETransformer(4, **SMALL).fit(X), folder / "vae")
    dump(skae.DenoisingAE(4, **SMALL).fit(X), folder / "dae")
    return folder


def _craft(saved, tmp_path, change, name="ae"):
    """A copy of a saved file with ``change(header, arrays)`` applied."""
    with safe_open(str(saved / name), framework="numpy") as file:
        header = json.loads(file.metadata()["skae"])
        arrays = {k: file.get_tensor(k) for k in file.keys()}
    text = change(header, arrays)
    path = tmp_path / "crafted.safetensors"
    save_file(arrays, str(path), metadata={"skae": text or json.dumps(header)})
    return path


def _refused(path, match=None):
    with pytest.raises(InvalidFileError, match=match) as error:
        load(path)
    assert isinstance(error.value, ValueError)


def _state(**entries):
    return lambda header, arrays: header["state"].update(entries)


def _param(**entries):
    return lambda header, arrays: header["params"].update(entries)


def test_the_error_is_public_and_a_value_error():
    assert "InvalidFileError" in skae.__all__
    assert issubclass(InvalidFileError, ValueError)


# ------------------------------------------------- allocation before refusal
@pytest.mark.parametrize("change", [
    _state(extra_={"values": [0, 0], "dtype": "(5000,5000)f8"}),
    _state(extra_={"values": ["a", "b"], "dtype": "<U100000000"}),
    _state(feature_names_in_={"values": ["x"] * 5000, "dtype": "<U50000"}),
    _param(hidden_layer_sizes={"tuple": [8000, 8000]}),
    _state(n_features_in_=2_000_000),
    _state(n_components_=30_000, _n_features_out=30_000),
], ids=["subarray dtype", "wide strings", "many wide strings", "wide layers",
        "wide input", "wide code"])
def test_a_small_file_cannot_make_load_allocate_much(saved, tmp_path, change, monkeypatch):
    from skae._base import BaseNetworkEstimator

    path = _craft(saved, tmp_path, change)
    size = path.stat().st_size

    def build(*args, **kwargs):
        raise AssertionError("the network was built from an unchecked file")

    monkeypatch.setattr(BaseNetworkEstimator, "_build", build)
    tracemalloc.start()
    try:
        with pytest.raises(InvalidFileError):
            load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Parsing the header takes a few times its size; the crafted values ask
    # for hundreds of megabytes.
    assert peak < 20 * size + (1 << 20), (peak, size)


# ---------------------------------------------------------- stored tensors
@pytest.mark.parametrize("dtype", [np.float16, np.float64, np.int32])
def test_weights_of_another_dtype_are_refused(saved, tmp_path, dtype):
    def change(header, arrays):
        arrays["module.encoder.1.weight"] = arrays["module.encoder.1.weight"].astype(dtype)

    _refused(_craft(saved, tmp_path, change), "dtype")


@pytest.mark.parametrize("entry", ["module.encoder.1.weight", "optimizer.state.0.exp_avg"])
def test_tensors_of_another_shape_are_refused(saved, tmp_path, entry):
    def change(header, arrays):
        arrays[entry] = np.zeros((3, 3), np.float32)

    _refused(_craft(saved, tmp_path, change))


def test_missing_and_extra_tensors_are_refused(saved, tmp_path):
    def rename(header, arrays):
        arrays["module.encoder.1.weight.x"] = arrays.pop("module.encoder.1.weight")
        module = header["net"]["module"]
        module["encoder.1.weight.x"] = {"array": "module.encoder.1.weight.x"}
        del module["encoder.1.weight"]

    _refused(_craft(saved, tmp_path, rename), "missing")

    def extra(header, arrays):
        arrays["unused"] = np.zeros(3, np.float32)

    _refused(_craft(saved, tmp_path, extra), "nothing refers to")


# --------------------------------------------------- parameters and state
@pytest.mark.parametrize("entries", [
    {"max_iter": -5}, {"device": "cpu; touch x"}, {"likelihood": "os.system"},
    {"random_state": 0},
])
def test_state_cannot_set_parameters(saved, tmp_path, entries):
    _refused(_craft(saved, tmp_path, _state(**entries)), "params")


@pytest.mark.parametrize("entries", [
    {"max_iter": -5}, {"device": "cpu; touch x"}, {"likelihood": "os.system"},
    {"no_such_parameter": 1}, {"hidden_layer_sizes": {"tuple": [0]}},
])
def test_invalid_parameters_are_refused(saved, tmp_path, entries):
    _refused(_craft(saved, tmp_path, _param(**entries)))


# ------------------------------------------------------- malformed files
def _text(text):
    return lambda header, arrays: text


def _deep(header, arrays):
    header["state"]["extra_"] = "DEEP"
    return json.dumps(header).replace('"DEEP"', "[" * 50_000 + "]" * 50_000)


MALFORMED = {
    "not json": _text("{"),
    "a list": _text("[]"),
    "deep nesting": _deep,
    "state a list": lambda h, a: h.update(state=[]),
    "params a string": lambda h, a: h.update(params="x"),
    "no versions": lambda h, a: h.pop("versions") and None,
    "format a string": lambda h, a: h.update(format="1"),
    "class a number": lambda h, a: h.update({"class": 5}),
    "array named by a list": _state(extra_={"array": ["x"]}),
    "array named by a number": _state(extra_={"array": 5}),
    "unknown value": _state(extra_={"pickle": "cos\nsystem"}),
    "no module": lambda h, a: h["net"].pop("module") and None,
    "module a list": lambda h, a: h["net"].update(module=[]),
    "optimizer key": lambda h, a: h["net"]["optimizer"]["dict"]["state"]["dict"].update(
        x=h["net"]["optimizer"]["dict"]["state"]["dict"]["0"]),
    "param groups": lambda h, a: h["net"]["optimizer"]["dict"].update(param_groups=5),
    "huge integer": _text('{"format": 1' + "0" * 10_000 + "}"),
    "rng of another size": lambda h, a: a.update({"state._rng": np.zeros(7, np.uint8)}),
    "no rng": lambda h, a: (h["state"].pop("_rng"), a.pop("state._rng")) and None,
    "string dtype": _state(extra_={"values": [1], "dtype": 5}),
    "values not a list": _state(extra_={"values": 5, "dtype": "object"}),
    "values of objects": _state(extra_={"values": [{"a": 1}], "dtype": "object"}),
    "ragged values": _state(extra_={"values": [["a"], ["b", "c"]], "dtype": "<U1"}),
    "a generator under another name": _state(other_={"rng": {"array": "state._rng"}}),
    "fitted attributes without a network": lambda h, a: (
        h.pop("net"), [a.pop(k) for k in list(a) if not k.startswith("state.")]) and None,
}


@pytest.mark.parametrize("change", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_headers_raise_the_documented_error(saved, tmp_path, change):
    _refused(_craft(saved, tmp_path, change))


@pytest.mark.parametrize("content", [b"", b"\x00" * 7, b"\xff" * 64,
                                     (10**9).to_bytes(8, "little") + b"{}"])
def test_files_that_are_not_safetensors_raise_the_documented_error(tmp_path, content):
    path = tmp_path / "junk"
    path.write_bytes(content)
    _refused(path)


def test_a_truncated_file_raises_the_documented_error(saved, tmp_path):
    data = (saved / "ae").read_bytes()
    (tmp_path / "cut").write_bytes(data[:-100])
    _refused(tmp_path / "cut")


def test_a_missing_file_is_not_a_malformed_one(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "absent")


# ----------------------------------------------------- inconsistent state
INCONSISTENT = {
    "history row with a string": lambda h, a: h["net"]["history"][0]["dict"].update(
        train_loss="0.5"),
    "history row with a text column": lambda h, a: h["net"]["history"][0]["dict"].update(
        note="x"),
    "history longer than n_iter_": lambda h, a: h["net"]["history"].append(
        h["net"]["history"][0]),
    "loss curve of another run": _state(loss_curve_=[1.0, 2.0]),
    "schedule with a string": lambda h, a: h["net"]["schedule"]["dict"].update(
        last_epoch="x"),
    "schedule with another mode": lambda h, a: h["net"]["schedule"]["dict"].update(
        mode="max"),
    "schedule with an attribute": lambda h, a: h["net"]["schedule"]["dict"].update(step=1),
    "no schedule": lambda h, a: h["net"].update(schedule=None),
    "learning rate a string": lambda h, a: h["net"]["optimizer"]["dict"]["param_groups"][0][
        "dict"].update(lr="fast"),
    "n_features_out": _state(_n_features_out=9),
    "n_iter_ negative": _state(n_iter_=-1),
    "n_features_in_ a float": _state(n_features_in_=64.0),
    "best loss a string": _state(best_loss_="low"),
    "feature names of another width": _state(
        feature_names_in_={"values": ["a", "b"], "dtype": "object"}),
}


@pytest.mark.parametrize("change", INCONSISTENT.values(), ids=INCONSISTENT.keys())
def test_inconsistent_metadata_is_refused_at_load(saved, tmp_path, change):
    _refused(_craft(saved, tmp_path, change))


def test_a_classifier_needs_its_classes(saved, tmp_path):
    _refused(_craft(saved, tmp_path, _state(classes_={"values": ["a"], "dtype": "<U1"}),
                    name="clf"))
    _refused(_craft(saved, tmp_path, _state(_n_features_out=9), name="clf"))


@pytest.mark.parametrize(("name", "array"), [("vae", "state.latent_activity_"),
                                             ("dae", "state._noise_range.1")])
def test_fitted_arrays_of_another_shape_are_refused(saved, tmp_path, name, array):
    def change(header, arrays):
        arrays[array] = np.zeros(3, arrays[array].dtype)

    _refused(_craft(saved, tmp_path, change, name=name), "shape")


def test_the_saved_files_load(saved):
    # The corpus above starts from files that load.
    for name in ("ae", "vae", "dae"):
        assert load(saved / name).n_features_in_ == 64
    assert load(saved / "clf").predict(np.zeros((1, 64))).shape == (1,)


def test_parameters_given_as_arrays_round_trip(digits, tmp_path):
    X = digits[0][:100]
    model = skae.AutoencoderTransformer(2, **{**SMALL, "hidden_layer_sizes": np.array([8, 4])})
    dump(model.fit(X), tmp_path / "model")
    copy = load(tmp_path / "model")
    np.testing.assert_array_equal(copy.hidden_layer_sizes, [8, 4])
    np.testing.assert_array_equal(copy.transform(X), model.transform(X))
