"""skl2onnx converters for skae's estimators, so that pipelines holding them export."""

import numpy as np
from onnx import TensorProto
from skl2onnx import update_registered_converter
from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType
from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes
from skl2onnx.helpers.integration import add_onnx_graph

from ._classifier import AutoencoderClassifier
from ._vae_classifier import VAEClassifier

#: The classes registered, by the alias skl2onnx knows them under.
_TRANSFORMERS = ("AutoencoderTransformer", "DenoisingAE", "SparseCoder", "VAETransformer")
_CLASSIFIERS = (AutoencoderClassifier, VAEClassifier)


def _input_dtype(operator):
    return np.float64 if isinstance(operator.inputs[0].type, DoubleTensorType) else np.float32


def _check_input(operator):
    kind = operator.inputs[0].type
    if not isinstance(kind, (FloatTensorType, DoubleTensorType)):
        raise TypeError(
            f"{operator.raw_operator.__class__.__name__} takes a float or double tensor "
            f"in ONNX, not {type(kind).__name__}: convert with a float input type."
        )


def _transformer_shape(operator):
    _check_input(operator)
    n_rows = operator.inputs[0].get_first_dimension()
    width = operator.raw_operator._code_width()
    operator.outputs[0].type = type(operator.inputs[0].type)([n_rows, width])


def _convert_transformer(scope, operator, container):
    from .export import to_onnx

    model = to_onnx(operator.raw_operator, "transform", dtype=_input_dtype(operator),
                    target_opset=container.target_opset)
    add_onnx_graph(scope, operator, container, model)


class _Stage:
    """The inputs and outputs of one graph inside a converter (what add_onnx_graph reads)."""

    def __init__(self, inputs, outputs):
        self.inputs, self.outputs = inputs, outputs


def _classifier_shape(operator):
    _check_input(operator)
    calculate_linear_classifier_output_shapes(operator)


def _classes_tensor(estimator):
    """classes_ as an ONNX element type and a list of values (labels are int64 or strings)."""
    classes = estimator.classes_
    if classes.dtype.kind in "iub" or (classes.dtype.kind == "f"
                                       and np.array_equal(classes, np.round(classes))):
        return TensorProto.INT64, classes.astype(np.int64).tolist()
    if classes.dtype.kind in "OUS":
        return TensorProto.STRING, [str(c).encode() for c in classes]
    raise TypeError(
        f"classes_ of dtype {classes.dtype} cannot be ONNX labels: skl2onnx's labels "
        "are integers or strings. Fit with integer or string labels."
    )


def _convert_classifier(scope, operator, container):
    from .export import to_onnx

    estimator = operator.raw_operator
    label, probabilities = operator.outputs[:2]
    model = to_onnx(estimator, "predict_proba", dtype=_input_dtype(operator),
                    target_opset=container.target_opset)
    add_onnx_graph(scope, _Stage(operator.inputs, [probabilities]), container, model)
    # The label: the column of the largest probability, read off classes_.
    index = scope.get_unique_variable_name("class_index")
    container.add_node("ArgMax", [probabilities.onnx_name], [index],
                       name=scope.get_unique_operator_name("ArgMax"), axis=1, keepdims=0)
    if container.get_options(estimator, {"nocl": False})["nocl"]:
        # skl2onnx's option nocl: the labels are the class indices.
        container.add_node("Identity", [index], [label.onnx_name],
                           name=scope.get_unique_operator_name("Identity"))
        return
    classes_type, values = _classes_tensor(estimator)
    classes_name = scope.get_unique_variable_name("classes")
    container.add_initializer(classes_name, classes_type, [len(values)], values)
    container.add_node("Gather", [classes_name, index], [label.onnx_name],
                       name=scope.get_unique_operator_name("Gather"), axis=0)


def register_converters():
    """Register skae's estimators with skl2onnx (done when :mod:`skae.export` is imported).

    Afterwards :func:`skl2onnx.to_onnx` converts a pipeline that holds a
    skae estimator: a transformer exports its ``transform``, a classifier
    its ``predict`` and ``predict_proba`` (as a label and a probability
    output, like scikit-learn's classifiers).
    """
    import skae

    for name in _TRANSFORMERS:
        update_registered_converter(getattr(skae, name), f"Skae{name}", _transformer_shape,
                                    _convert_transformer)
    for cls in _CLASSIFIERS:
        update_registered_converter(cls, f"Skae{cls.__name__}", _classifier_shape,
                                    _convert_classifier,
                                    options={"zipmap": [True, False, "columns"],
                                             "nocl": [False, True]})
