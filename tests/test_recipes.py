"""A count likelihood brings the recommendation settings its "auto" parameters stand for."""

import json
import pickle

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.numpy import save_file
from sklearn.base import clone

from skae import AutoencoderTransformer, DenoisingAE, VAETransformer
from skae.datasets import make_implicit_feedback
from skae.io import dump, load
from skae.nn import CenterScale, Multinomial, RowNormalize
from skae.nn.inputs import InputDropout
from skae.nn.noise import Corruption

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning",
    "ignore::skae.exceptions.PosteriorCollapseWarning",
    "ignore::skae.exceptions.CollapsedCodesWarning",
)

FAST = {"max_iter": 2, "random_state": 0}


@pytest.fixture(scope="module")
def clicks():
    X, _ = make_implicit_feedback(n_users=120, n_items=40, random_state=0)
    return X


def input_noise(model):
    return model.net_.iterator_train__input_noise


def layers(model, kind):
    return [m for m in model.net_.module_.modules() if isinstance(m, kind)]


@pytest.mark.parametrize("likelihood", ["multinomial", "poisson"])
def test_a_count_vae_brings_the_recipe(clicks, likelihood):
    vae = VAETransformer(4, likelihood=likelihood, **FAST).fit(clicks)
    assert vae.input_norm_ == "l2"
    assert vae.input_dropout_ == 0.5
    assert vae.beta_ == 0.2
    assert vae.hidden_layer_sizes_ == ()
    assert len(layers(vae, RowNormalize)) == 1
    assert input_noise(vae).p == 0.5
    assert isinstance(input_noise(vae), InputDropout)
    assert vae.net_.criterion_.beta == 0.2
    for name in ("input_norm", "input_dropout", "beta", "hidden_layer_sizes"):
        assert vae.get_params()[name] == "auto"


def test_a_count_denoiser_masks_normalised_rows(clicks):
    dae = DenoisingAE(4, likelihood="multinomial", **FAST).fit(clicks)
    assert (dae.noise_, dae.noise_level_, dae.input_norm_) == ("masking", 0.5, "l2")
    assert isinstance(input_noise(dae), Corruption)
    assert input_noise(dae).kind == "masking"
    assert layers(dae, RowNormalize) and not layers(dae, CenterScale)
    # One affine map each way (and the code axes, which hold no weights).
    assert dae.hidden_layer_sizes_ == ()


def test_a_count_autoencoder_normalises_its_rows(clicks):
    ae = AutoencoderTransformer(4, likelihood="multinomial", **FAST).fit(clicks)
    assert ae.input_norm_ == "l2" and ae.hidden_layer_sizes_ == ()
    assert layers(ae, RowNormalize) and not layers(ae, CenterScale)


def test_a_likelihood_class_for_counts_brings_the_recipe_too(clicks):
    class Clicks(Multinomial):
        pass

    vae = VAETransformer(4, likelihood=Clicks, **FAST).fit(clicks)
    assert vae.input_norm_ == "l2" and vae.beta_ == 0.2


def test_other_likelihoods_keep_the_plain_settings(clicks):
    X = clicks.toarray()
    vae = VAETransformer(4, **FAST).fit(X)
    assert (vae.input_norm_, vae.input_dropout_, vae.beta_) == (None, 0.0, 1.0)
    assert vae.hidden_layer_sizes_ == (100,)
    assert input_noise(vae) is None and not layers(vae, RowNormalize)
    assert vae.net_.criterion_.beta == 1.0
    dae = DenoisingAE(4, likelihood="bernoulli", **FAST).fit(X)
    assert (dae.noise_, dae.noise_level_, dae.input_norm_) == ("gaussian", 0.1, None)
    assert dae.hidden_layer_sizes_ == (256,)
    # Centring stays where no norm takes its place.
    assert layers(dae, CenterScale) and not layers(dae, RowNormalize)


def test_a_value_the_user_sets_wins(clicks):
    vae = VAETransformer(4, likelihood="multinomial", input_norm=None, input_dropout=0.1,
                         beta=1.0, hidden_layer_sizes=(8,), **FAST).fit(clicks)
    assert (vae.input_norm_, vae.input_dropout_, vae.beta_) == (None, 0.1, 1.0)
    assert not layers(vae, RowNormalize)
    assert vae.hidden_layer_sizes_ == (8,)
    assert any(isinstance(m, torch.nn.Linear) and m.out_features == 8
               for m in vae.net_.module_.modules())
    dae = DenoisingAE(4, likelihood="multinomial", noise="gaussian", input_norm=None,
                      **FAST).fit(clicks)
    assert (dae.noise_, dae.noise_level_) == ("gaussian", 0.5)
    # Without a norm, centring comes back.
    assert layers(dae, CenterScale)


def test_auto_gives_way_where_the_recipe_does_not_apply(clicks):
    iwae = VAETransformer(4, likelihood="multinomial", objective="iwae", **FAST).fit(clicks)
    assert iwae.beta_ == 1.0 and iwae.input_norm_ == "l2"
    greedy = AutoencoderTransformer(4, likelihood="multinomial", pretrain="greedy",
                                    hidden_layer_sizes=(8,), **FAST).fit(clicks)
    assert greedy.input_norm_ is None


def test_clone_and_get_params_keep_auto(clicks):
    vae = VAETransformer(4, likelihood="multinomial", **FAST).fit(clicks)
    copy = clone(vae)
    assert copy.get_params() == VAETransformer(4, likelihood="multinomial", **FAST).get_params()
    assert not hasattr(copy, "beta_")
    # Refitting with another likelihood resolves again.
    copy.set_params(likelihood="gaussian").fit(clicks.toarray())
    assert copy.beta_ == 1.0 and copy.input_norm_ is None


@pytest.mark.parametrize("cls", [VAETransformer, DenoisingAE])
def test_a_model_saved_before_auto_loads_with_the_behaviour_it_had(clicks, cls):
    # Trained as the plain defaults, then pickled by a version without "auto":
    # the concrete values it held, none of the resolved attributes.
    plain = {"hidden_layer_sizes": (100,) if cls is VAETransformer else (256,),
             "input_norm": None}
    plain.update({"input_dropout": 0.0, "beta": 1.0} if cls is VAETransformer
                 else {"noise": "gaussian", "noise_level": 0.1})
    model = cls(4, likelihood="multinomial", **plain, **FAST).fit(clicks)
    state = model.__getstate__()
    for name in plain:
        state.pop(name + "_")
    del state["input_norm"]  # older still: saved before input_norm existed
    old = cls.__new__(cls)
    old.__setstate__(pickle.loads(pickle.dumps(state)))
    assert old.input_norm is None and old.input_norm_ is None
    assert not layers(old, RowNormalize)
    np.testing.assert_allclose(old.transform(clicks[:5]), model.transform(clicks[:5]))
    # It trains on as it did.
    for name in plain:
        assert getattr(old, name + "_") == plain[name]


def test_a_saved_file_keeps_auto_and_the_resolved_values(clicks, tmp_path):
    vae = VAETransformer(4, likelihood="multinomial", **FAST).fit(clicks)
    dump(vae, tmp_path / "vae")
    copy = load(tmp_path / "vae")
    assert copy.get_params()["input_norm"] == "auto" and copy.input_norm_ == "l2"
    assert copy.beta_ == 0.2
    np.testing.assert_allclose(copy.transform(clicks[:5]), vae.transform(clicks[:5]))


def test_a_file_saved_before_auto_loads_with_the_behaviour_it_had(clicks, tmp_path):
    model = VAETransformer(4, likelihood="multinomial", input_norm=None, input_dropout=0.0,
                           beta=1.0, hidden_layer_sizes=(100,), **FAST).fit(clicks)
    dump(model, tmp_path / "vae")
    with safe_open(str(tmp_path / "vae"), framework="numpy") as file:
        header = json.loads(file.metadata()["skae"])
        arrays = {key: file.get_tensor(key) for key in file.keys()}
    # As written by a version without these parameters' "auto" (nor input_norm).
    del header["params"]["input_norm"]
    for name in ("input_norm_", "input_dropout_", "beta_", "hidden_layer_sizes_"):
        del header["state"][name]
    save_file(arrays, str(tmp_path / "old"), metadata={"skae": json.dumps(header)})
    old = load(tmp_path / "old")
    assert old.input_norm is None and old.input_norm_ is None and old.beta_ == 1.0
    np.testing.assert_allclose(old.transform(clicks[:5]), model.transform(clicks[:5]))
