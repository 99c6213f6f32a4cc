"""Learning rates per layer: a lower rate for the weights of layers with many inputs."""

from .nn.init import fan_in

#: Layers that read more inputs than this train their weights at a rate
#: lowered in proportion (see :func:`fan_in_param_groups`).
REFERENCE_FAN_IN = 256


def fan_in_param_groups(module, learning_rate):
    """skorch ``param_groups`` that lower the rate of layers reading many inputs.

    Adam moves every weight by about the learning rate, whatever the size
    of its gradient, so one step changes a unit's input by up to the rate
    times the sum of the magnitudes of the layer's inputs: a change that
    grows in proportion to the layer's fan-in, while the initial weights
    shrink as one over its square root. A rate that trains a layer of 64 or
    256 inputs well makes the first layer of 784 pixels, or of thousands of
    words, jump far at every step, and its ReLU units end switched off.
    As in the maximal-update parametrisation for Adam (Yang et al., 2021),
    the weights of a layer with more than :data:`REFERENCE_FAN_IN` inputs
    train at ``learning_rate * REFERENCE_FAN_IN / fan_in``; narrower layers,
    and all biases, at ``learning_rate``.

    Returns
    -------
    list of (str, dict)
        A parameter name and its options, for the wide layers only.
    """
    groups = []
    for name, layer in module.named_modules():
        inputs = fan_in(layer)
        if inputs is not None and inputs > REFERENCE_FAN_IN:
            prefix = f"{name}." if name else ""
            groups.append((f"{prefix}weight", {"lr": learning_rate * REFERENCE_FAN_IN / inputs}))
    return groups
