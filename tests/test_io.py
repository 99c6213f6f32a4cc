"""skae.io: a pickle-free file that loads only skae's own classes."""

import json

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import save_file
from sklearn.exceptions import InconsistentVersionWarning

import skae
from skae.io import SAFE_CLASSES, dump, load

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = {"hidden_layer_sizes": (8,), "max_iter": 2, "random_state": 0}


@pytest.fixture
def data(digits):
    X, y = digits
    return X[:300], y[:300]


def _fit(name, X, y, **params):
    model = getattr(skae, name)(**{**FAST, **params})
    return model.fit(X, y) if "Classifier" in name else model.fit(X)


def _train_more(model, X, y):
    if "Classifier" in type(model).__name__:
        return model.partial_fit(X, y)
    return model.partial_fit(X)


def _rewrite(path, change):
    """Rewrite the file at ``path`` with ``change(header)`` applied to its JSON."""
    with safe_open(str(path), framework="numpy") as file:
        header = json.loads(file.metadata()["skae"])
        arrays = {k: file.get_tensor(k) for k in file.keys()}
    change(header)
    save_file(arrays, str(path), metadata={"skae": json.dumps(header)})


@pytest.mark.parametrize("name", SAFE_CLASSES)
def test_a_loaded_model_computes_and_trains_on_as_the_saved_one(name, data, tmp_path):
    X, y = data
    model = _fit(name, X, y)
    dump(model, tmp_path / "model.safetensors")
    copy = load(tmp_path / "model.safetensors")
    assert type(copy) is type(model)
    assert copy.get_params() == model.get_params()
    np.testing.assert_array_equal(copy.transform(X), model.transform(X))
    for method in ("predict_proba", "score_samples"):
        if hasattr(model, method):
            np.testing.assert_array_equal(getattr(copy, method)(X), getattr(model, method)(X))
    assert copy.loss_curve_ == model.loss_curve_ and copy.n_iter_ == model.n_iter_
    # The optimiser's state and the generator come back: training goes on alike.
    assert _train_more(copy, X, y).loss_curve_ == _train_more(model, X, y).loss_curve_


def test_without_the_optimizer_the_file_holds_the_weights(data, tmp_path):
    X, y = data
    model = _fit("AutoencoderTransformer", X, y, hidden_layer_sizes=(64,))
    dump(model, tmp_path / "full")
    dump(model, tmp_path / "weights", optimizer=False)
    weights = sum(p.numel() * 4 for p in model.net_.module_.parameters())
    assert (tmp_path / "weights").stat().st_size < weights + 20_000
    assert (tmp_path / "full").stat().st_size > 3 * weights
    copy = load(tmp_path / "weights")
    np.testing.assert_array_equal(copy.transform(X), model.transform(X))
    assert copy.partial_fit(X).n_iter_ == model.n_iter_ + 1


def test_names_and_labels_survive(data, tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = data
    frame = pd.DataFrame(X, columns=[f"px{i}" for i in range(64)])
    labels = np.array([f"digit {v}" for v in y], dtype=object)
    model = skae.AutoencoderClassifier(**FAST).fit(frame, labels)
    dump(model, tmp_path / "clf")
    copy = load(tmp_path / "clf")
    np.testing.assert_array_equal(copy.feature_names_in_, model.feature_names_in_)
    np.testing.assert_array_equal(copy.classes_, model.classes_)
    np.testing.assert_array_equal(copy.predict(frame), model.predict(frame))


def test_an_unfitted_estimator_round_trips(tmp_path):
    model = skae.VAETransformer(5, beta=0.5, hidden_layer_sizes=(7, 3))
    dump(model, tmp_path / "vae")
    copy = load(tmp_path / "vae")
    assert copy.get_params() == model.get_params()
    assert not hasattr(copy, "net_")


def test_what_a_safe_file_cannot_hold_is_refused_at_dump(data, tmp_path):
    X, y = data
    with pytest.raises(TypeError, match="random_state pass an int"):
        dump(skae.AutoencoderTransformer(random_state=np.random.RandomState(0)),
             tmp_path / "x")

    class Custom(skae.nn.Gaussian):
        pass

    with pytest.raises(TypeError, match="use a likelihood by name|Use a likelihood by name"):
        dump(skae.AutoencoderTransformer(likelihood=Custom), tmp_path / "x")
    from sklearn.decomposition import PCA

    with pytest.raises(TypeError, match="saves skae's estimators"):
        dump(PCA(), tmp_path / "x")


def test_load_constructs_skae_classes_only(data, tmp_path):
    X, y = data
    path = tmp_path / "model"
    dump(_fit("AutoencoderTransformer", X, y), path)

    def other_class(header):
        header["class"] = "os.system"

    _rewrite(path, other_class)
    with pytest.raises(ValueError, match="does not construct"):
        load(path)


@pytest.mark.parametrize("key", ["__class__", "__dict__", "transform", "fit"])
def test_load_sets_no_hook_or_method(key, data, tmp_path):
    X, y = data
    path = tmp_path / "model"
    dump(_fit("AutoencoderTransformer", X, y), path)
    _rewrite(path, lambda header: header["state"].update({key: "x"}))
    with pytest.raises(ValueError, match="no skae model has"):
        load(path)


def test_parameters_from_a_file_are_validated(data, tmp_path):
    X, y = data
    path = tmp_path / "model"
    dump(_fit("AutoencoderTransformer", X, y), path)
    _rewrite(path, lambda header: header["params"].update({"activation": "rm -rf"}))
    with pytest.raises(ValueError, match="activation"):
        load(path)


def test_other_files_and_formats_are_refused(tmp_path):
    save_file({"w": np.zeros(3, np.float32)}, str(tmp_path / "plain"))
    with pytest.raises(ValueError, match="not written by skae.io.dump"):
        load(tmp_path / "plain")
    dump(skae.SparseCoder(), tmp_path / "later")
    _rewrite(tmp_path / "later", lambda header: header.update({"format": 99}))
    with pytest.raises(ValueError, match="upgrade skae"):
        load(tmp_path / "later")


def test_version_mismatches_warn(data, tmp_path):
    X, y = data
    path = tmp_path / "model"
    dump(_fit("AutoencoderTransformer", X, y), path)

    def older(header):
        header["versions"]["skae"] = "0.0.1"
        header["versions"]["scikit-learn"] = "1.6.1"

    _rewrite(path, older)
    with pytest.warns(UserWarning, match="saved with skae 0.0.1"), \
            pytest.warns(InconsistentVersionWarning):
        load(path)


def test_a_model_trained_on_cuda_loads_on_a_cpu_only_machine(data, tmp_path, monkeypatch):
    import torch

    X, y = data
    model = _fit("VAETransformer", X, y)
    codes = model.transform(X)
    model.device = "cuda"  # what a GPU-trained model records
    dump(model, tmp_path / "gpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="loaded on the CPU"):
        copy = load(tmp_path / "gpu")
    np.testing.assert_array_equal(copy.transform(X), codes)


def test_skops_loads_a_model_once_skaes_own_types_are_trusted(data, tmp_path):
    sio = pytest.importorskip("skops.io")
    X, y = data
    model = _fit("AutoencoderClassifier", X, y)
    sio.dump(model, tmp_path / "model.skops")
    untrusted = sio.get_untrusted_types(file=tmp_path / "model.skops")
    # The estimator and the two holders of its arrays, nothing else.
    assert sorted(untrusted) == ["skae._classifier.AutoencoderClassifier",
                                 "skae._persistence.NetState", "skae._random.TorchRNG"]
    copy = sio.load(tmp_path / "model.skops", trusted=untrusted)
    np.testing.assert_array_equal(copy.predict_proba(X), model.predict_proba(X))
    assert _train_more(copy, X, y).loss_curve_ == _train_more(model, X, y).loss_curve_
