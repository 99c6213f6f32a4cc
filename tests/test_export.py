"""skae.export: ONNX models that compute what skae computes, alone and in pipelines."""

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

import skae

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")
from skae.export import to_onnx  # noqa: E402  (needs the onnx packages)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = {"hidden_layer_sizes": (8,), "max_iter": 2, "random_state": 0}
TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}

#: Every public estimator (with a variant of each kind of network) and the
#: methods it exports.
CASES = [
    ("AutoencoderTransformer", {}, ["transform", "inverse_transform", "score_samples"]),
    ("AutoencoderTransformer", {"image_shape": (8, 8), "hidden_layer_sizes": (4,),
                                "input_norm": "l2"}, ["transform", "inverse_transform"]),
    ("DenoisingAE", {}, ["transform", "inverse_transform", "score_samples"]),
    ("SparseCoder", {}, ["transform", "inverse_transform", "score_samples"]),
    ("SparseCoder", {"sparsity": "topk", "n_components": 12, "refit_codes": True,
                     "hidden_layer_sizes": ()}, ["transform", "score_samples"]),
    ("SparseCoder", {"sparsity": "topk", "encoder_steps": 2, "hidden_layer_sizes": ()},
     ["transform"]),
    ("VAETransformer", {"likelihood": "bernoulli"}, ["transform", "inverse_transform"]),
    ("AutoencoderClassifier", {}, ["transform", "inverse_transform", "predict_proba"]),
    ("VAEClassifier", {}, ["transform", "predict_proba"]),
]


@pytest.fixture(scope="module")
def data(digits):
    X, y = digits
    return X[:300].astype(np.float32), y[:300]


def _fit(name, X, y, **params):
    model = getattr(skae, name)(**{**FAST, **params})
    return model.fit(X, y) if "Classifier" in name else model.fit(X)


def _run(model, **inputs):
    session = ort.InferenceSession(model.SerializeToString())
    return session.run(None, inputs)[0]


@pytest.mark.parametrize(("name", "params", "methods"), CASES,
                         ids=[f"{c[0]}-{'-'.join(c[1]) or 'default'}" for c in CASES])
def test_exported_methods_match_skae(data, name, params, methods):
    X, y = data
    model = _fit(name, X, y, **params)
    codes = model.transform(X)
    for method in methods:
        onnx_model = to_onnx(model, method)
        # Batch sizes other than the two rows traced: the batch axis is dynamic.
        for rows in (slice(0, 1), slice(0, 57), slice(None)):
            if method == "inverse_transform":
                got, expected = _run(onnx_model, codes=codes[rows]), model.inverse_transform(
                    codes[rows])
            else:
                got = _run(onnx_model, X=X[rows])
                expected = getattr(model, method)(X[rows])
            np.testing.assert_allclose(got, expected, **TOLERANCE, err_msg=f"{name}.{method}")


@pytest.mark.parametrize("likelihood", ["gaussian", "poisson"])
def test_vae_score_samples_takes_the_draws_as_an_input(data, likelihood):
    X, _ = data
    X = np.round(X * 16) if likelihood == "poisson" else X
    vae = _fit("VAETransformer", X, None, likelihood=likelihood, n_components=3)
    onnx_model = to_onnx(vae, "score_samples")
    # skae's own draws for these rows give skae's own scores ...
    eps = vae.net_.module_.eval_noise(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(_run(onnx_model, X=X, eps=eps), vae.score_samples(X), **TOLERANCE)
    # ... and any number of fresh draws an estimate of the same bound.
    fresh = np.random.default_rng(0).standard_normal((len(X), 64, 3)).astype(np.float32)
    estimate = _run(onnx_model, X=X, eps=fresh)
    assert abs(estimate.mean() - vae.score(X)) < 0.05 * abs(vae.score(X))


def test_count_likelihood_scores_export_through_log_gamma(data):
    X, _ = data
    counts = np.round(X * 16)
    ae = _fit("AutoencoderTransformer", counts, None, likelihood="multinomial")
    scores = _run(to_onnx(ae, "score_samples"), X=counts)
    np.testing.assert_allclose(scores, ae.score_samples(counts), **TOLERANCE)


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_log_gamma_translation_matches_torch():
    x = np.concatenate([np.linspace(1e-3, 10, 500), np.geomspace(10, 1e8, 100)])

    class LogGamma(torch.nn.Module):
        def forward(self, values):
            return torch.lgamma(values)

    from skae._onnx_lgamma import lgamma

    program = torch.onnx.export(
        LogGamma().eval(), (torch.ones(3, dtype=torch.float64),), dynamo=True,
        dynamic_shapes=({0: torch.export.Dim("n")},), verbose=False,
        custom_translation_table={torch.ops.aten.lgamma.default: lgamma})
    session = ort.InferenceSession(program.model_proto.SerializeToString())
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    expected = torch.lgamma(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def test_float64_export_computes_in_float64(data):
    X, _ = data
    X = X.astype(np.float64)
    ae = _fit("AutoencoderTransformer", X, None)
    onnx_model = to_onnx(ae, "transform", dtype=np.float64)
    got = _run(onnx_model, X=X)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, ae.transform(X), rtol=1e-12, atol=1e-12)


def test_export_leaves_the_estimator_as_it_was(data, tmp_path):
    X, _ = data
    ae = _fit("AutoencoderTransformer", X, None)
    before = ae.transform(X)
    state = {k: v.clone() for k, v in ae.net_.module_.state_dict().items()}
    to_onnx(ae, "score_samples", dtype=np.float64, path=tmp_path / "ae.onnx")
    np.testing.assert_array_equal(ae.transform(X), before)
    for key, value in ae.net_.module_.state_dict().items():
        assert value.dtype == state[key].dtype and torch.equal(value, state[key])
    # The file is the model: it loads and runs.
    loaded = onnx.load(str(tmp_path / "ae.onnx"))
    assert _run(loaded, X=X.astype(np.float64)).shape == (len(X),)


def test_unavailable_methods_and_bad_arguments_are_refused(data):
    X, y = data
    with pytest.raises(NotFittedError):
        to_onnx(skae.AutoencoderTransformer())
    vae_classifier = _fit("VAEClassifier", X, y)
    with pytest.raises(ValueError, match="no inverse_transform"):
        to_onnx(vae_classifier, "inverse_transform")
    with pytest.raises(ValueError, match="no score_samples"):
        to_onnx(vae_classifier, "score_samples")
    ae = _fit("AutoencoderTransformer", X, None)
    with pytest.raises(ValueError, match="not a classifier"):
        to_onnx(ae, "predict_proba")
    with pytest.raises(ValueError, match="method='predict'"):
        to_onnx(ae, "predict")
    with pytest.raises(ValueError, match="dtype"):
        to_onnx(ae, dtype=np.int32)
    with pytest.raises(ValueError, match="target_opset=13"):
        to_onnx(ae, target_opset=13)


def test_refits_of_codes_of_varying_support_are_refused_clearly(data):
    X, _ = data
    coder = _fit("SparseCoder", X, None, sparsity="l1", refit_codes=True,
                 hidden_layer_sizes=())
    with pytest.raises(ValueError, match="different number of non-zeros"):
        to_onnx(coder, "transform")


def test_pipeline_with_an_autoencoder_exports_in_one_call(data):
    X, y = data
    pipe = make_pipeline(StandardScaler(), skae.AutoencoderTransformer(8, **FAST),
                         LogisticRegression(max_iter=500)).fit(X, y)
    onnx_model = skl2onnx.to_onnx(pipe, X[:1], options={id(pipe[-1]): {"zipmap": False}})
    session = ort.InferenceSession(onnx_model.SerializeToString())
    labels, probabilities = session.run(None, {session.get_inputs()[0].name: X})
    np.testing.assert_array_equal(labels, pipe.predict(X))
    np.testing.assert_allclose(probabilities, pipe.predict_proba(X), **TOLERANCE)


@pytest.mark.parametrize("name", ["AutoencoderClassifier", "VAEClassifier"])
def test_classifier_exports_labels_and_probabilities(data, name):
    X, y = data
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                      "nine"])[y]
    pipe = make_pipeline(MinMaxScaler(), getattr(skae, name)(**FAST)).fit(X, names)
    session = ort.InferenceSession(skl2onnx.to_onnx(pipe, X[:1]).SerializeToString())
    labels, probabilities = session.run(None, {session.get_inputs()[0].name: X})
    np.testing.assert_array_equal(labels, pipe.predict(X))
    # The default output, as for scikit-learn's classifiers: one dict a row.
    as_array = np.array([[row[c] for c in pipe.classes_] for row in probabilities])
    np.testing.assert_allclose(as_array, pipe.predict_proba(X), **TOLERANCE)
    # nocl: the class indices instead of the labels.
    options = {id(pipe[-1]): {"nocl": True, "zipmap": False}}
    session = ort.InferenceSession(skl2onnx.to_onnx(pipe, X[:1], options=options)
                                   .SerializeToString())
    indices = session.run(None, {session.get_inputs()[0].name: X})[0]
    np.testing.assert_array_equal(pipe.classes_[indices], pipe.predict(X))
