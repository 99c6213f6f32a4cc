"""Export fitted estimators to ONNX, alone or inside a scikit-learn pipeline.

:func:`to_onnx` turns one method of a fitted skae estimator (``transform``,
``inverse_transform``, ``score_samples`` or ``predict_proba``) into an ONNX
model with a dynamic batch dimension, which onnxruntime and other ONNX
runtimes serve without Python or torch. The graph is traced by torch's own
ONNX exporter (``torch.onnx.export``) from the very code skae runs, so the
exported model computes what skae computes.

Importing this module also registers a converter for every skae estimator
with skl2onnx, so that a whole :class:`~sklearn.pipeline.Pipeline` holding
one (for example ``StandardScaler`` -> :class:`~skae.AutoencoderTransformer`
-> ``LogisticRegression``) exports in one call of :func:`skl2onnx.to_onnx`.

Needs the ``onnx`` extra: ``pip install "skae[onnx]"``.
"""

import contextlib
import copy
import io
import logging
import warnings

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ._classification import BaseNetworkClassifier
from ._inference import ScoringMixin
from ._vae import VAETransformer
from .nn.vae_bounds import elbo_given_noise

try:
    import onnx

    from ._onnx_lgamma import lgamma
    from ._skl2onnx import register_converters
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise ImportError(
        "skae.export needs the onnx packages: pip install 'skae[onnx]' "
        "(onnx, onnxscript and skl2onnx)."
    ) from exc

#: The methods :func:`to_onnx` exports, with the names of the graph's outputs.
OUTPUT_NAMES = {
    "transform": "codes",
    "inverse_transform": "reconstruction",
    "score_samples": "scores",
    "predict_proba": "probabilities",
}

#: Lowest ONNX opset torch's exporter writes.
MIN_OPSET = 18

_TORCH_VERSION = tuple(int(part) for part in torch.__version__.split(".")[:2])

_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


class _Method(torch.nn.Module):
    """One inference method of an estimator as a module: ``fn(module, criterion, *inputs)``."""

    def __init__(self, fn, module, criterion):
        super().__init__()
        self.fn = fn
        self.module = module
        self.criterion = criterion

    def forward(self, *inputs):
        return self.fn(self.module, self.criterion, *inputs)


def _probabilities(module, criterion, x):
    return torch.softmax(module.logits(x), dim=1)


def _method_function(estimator, method):
    """The function of (module, criterion, *inputs) that ``method`` computes, and its inputs."""
    name = type(estimator).__name__
    is_classifier = isinstance(estimator, BaseNetworkClassifier)
    if method not in OUTPUT_NAMES:
        raise ValueError(
            f"method={method!r} is not one of {sorted(OUTPUT_NAMES)}."
        )
    if getattr(estimator, "refit_codes", False) and estimator.sparsity != "topk" and method in (
            "transform", "score_samples"):
        raise ValueError(
            f"{name} with refit_codes=True and sparsity={estimator.sparsity!r} cannot be "
            "exported: its codes' least-squares refits have a different number of "
            "non-zeros in each row, and an ONNX graph's shapes cannot depend on the data. "
            "Refits of top-k codes (sparsity='topk') export."
        )
    if method == "transform":
        return estimator._encode, ["X"]
    if method == "inverse_transform":
        if not hasattr(estimator, "inverse_transform"):
            raise ValueError(
                f"{name} has no inverse_transform to export: its decoder needs a "
                "class as well as a code."
            )
        return estimator._decode, ["codes"]
    if method == "predict_proba":
        if not is_classifier:
            raise ValueError(f"{name} is not a classifier: it has no predict_proba to export.")
        return _probabilities, ["X"]
    if not isinstance(estimator, ScoringMixin):
        raise ValueError(
            f"{name} has no score_samples to export; export predict_proba instead."
        )
    if isinstance(estimator, VAETransformer):
        # ONNX's random operators cannot reproduce skae's per-row draws, so
        # the standard-normal draws come in as a second input.
        return (lambda module, criterion, x, eps:
                elbo_given_noise(module, criterion.likelihood, x, eps)), ["X", "eps"]
    return estimator._score_rows, ["X"]


def _example_inputs(estimator, input_names, dtype):
    """Small inputs to trace with: two rows, so the batch size is not taken for a constant."""
    widths = {"X": estimator.n_features_in_, "codes": estimator._code_width()}
    examples = []
    for name in input_names:
        if name == "eps":
            examples.append(torch.zeros(2, 3, estimator.n_components_, dtype=dtype))
        else:
            examples.append(torch.full((2, widths[name]), 0.5, dtype=dtype))
    return tuple(examples)


@contextlib.contextmanager
def _quiet_exporter():
    """Silence the exporter's progress lines and warnings about its own internals."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with (warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()),
              contextlib.redirect_stderr(io.StringIO())):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def to_onnx(estimator, method="transform", *, dtype=np.float32, target_opset=None, path=None):
    """Export one method of a fitted skae estimator as an ONNX model.

    Parameters
    ----------
    estimator : fitted skae estimator
        Any of skae's estimators.
    method : {"transform", "inverse_transform", "score_samples", \
"predict_proba"}, default="transform"
        The method the model computes. Its input is ``X`` (``codes`` for
        ``inverse_transform``); its output is named ``codes``,
        ``reconstruction``, ``scores`` or ``probabilities``. The batch
        dimension is dynamic.
    dtype : {numpy.float32, numpy.float64}, default=numpy.float32
        Type of the model's input and of its computation; skae computes
        float64 input in float64. Scores are float64 either way, as skae's.
    target_opset : int, default=None
        ONNX opset of the model, at least 18; None takes the exporter's
        default.
    path : str or path-like, default=None
        Also write the model to this file.

    Returns
    -------
    model : onnx.ModelProto

    Notes
    -----
    A :class:`~skae.VAETransformer`'s ``score_samples`` model takes a second
    input, ``eps``, of shape ``(n_samples, n_draws, n_components)``: the
    standard-normal draws of z for each row, which skae draws itself from
    each row's values (ONNX's random operators cannot reproduce them). Its
    output is the ELBO estimated with those draws; ``n_draws =
    n_eval_samples`` standard-normal draws give an estimate as good as
    skae's.

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> from skae.export import to_onnx
    >>> X = (load_digits().data / 16).astype(np.float32)
    >>> ae = AutoencoderTransformer(8, max_iter=5, random_state=0).fit(X)
    >>> model = to_onnx(ae, "transform")
    >>> session = onnxruntime.InferenceSession(model.SerializeToString())
    >>> codes = session.run(["codes"], {"X": X})[0]
    >>> codes.shape
    (1797, 8)
    >>> bool(np.allclose(codes, ae.transform(X), atol=1e-5))
    True
    """
    check_is_fitted(estimator)
    if _TORCH_VERSION < (2, 6):
        raise RuntimeError(
            f"ONNX export needs torch 2.6 or later (its exporter built on torch.export); "
            f"this is torch {torch.__version__}."
        )
    try:
        torch_dtype = _DTYPES[np.dtype(dtype)]
    except (TypeError, KeyError):
        raise ValueError(f"dtype={dtype!r} is not supported: use numpy.float32 or "
                         "numpy.float64.") from None
    if target_opset is not None and target_opset < MIN_OPSET:
        raise ValueError(
            f"target_opset={target_opset} is too old: torch's ONNX exporter writes "
            f"opset {MIN_OPSET} or later."
        )
    fn, input_names = _method_function(estimator, method)
    # A copy on the CPU: the export neither moves nor changes the fitted network.
    module = copy.deepcopy(estimator.net_.module_).to("cpu", torch_dtype).eval()
    criterion = copy.deepcopy(estimator.net_.criterion_).to("cpu", torch_dtype).eval()
    graph = _Method(fn, module, criterion).eval()
    inputs = _example_inputs(estimator, input_names, torch_dtype)
    batch = torch.export.Dim("batch")
    dynamic = [{0: batch} for _ in input_names]
    if "eps" in input_names:
        dynamic[input_names.index("eps")] = {0: batch, 1: torch.export.Dim("draws")}
    try:
        with _quiet_exporter():
            program = torch.onnx.export(
                graph, inputs, dynamo=True, input_names=input_names,
                output_names=[OUTPUT_NAMES[method]], dynamic_shapes=(tuple(dynamic),),
                opset_version=target_opset, verbose=False,
                custom_translation_table={torch.ops.aten.lgamma.default: lgamma},
            )
    except Exception as exc:
        cause = exc
        while cause.__cause__ is not None:
            cause = cause.__cause__
        first_line = (str(cause).strip().splitlines() or [""])[0]
        raise RuntimeError(
            f"{type(estimator).__name__}.{method} could not be exported to ONNX: "
            f"{type(cause).__name__}: {first_line}"
        ) from exc
    model = program.model_proto
    model.doc_string = f"skae {type(estimator).__name__}.{method}"
    if path is not None:
        onnx.save(model, path)
    return model


register_converters()
