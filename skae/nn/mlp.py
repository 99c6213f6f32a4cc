"""Multi-layer perceptron blocks."""

from torch import nn

#: Hidden-layer activations, named as in :class:`sklearn.neural_network.MLPRegressor`.
ACTIVATIONS = {
    "identity": nn.Identity,
    "logistic": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
}


def make_mlp(sizes, activation="relu", *, activate_last=False):
    """Stack linear layers of the given widths with an activation between them.

    Parameters
    ----------
    sizes : sequence of int
        Widths from the input to the output, so ``len(sizes) - 1`` layers.
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation placed after every layer but the last.
    activate_last : bool, default=False
        Also apply the activation after the last layer.

    Returns
    -------
    torch.nn.Sequential
    """
    act = ACTIVATIONS[activation]
    layers = []
    n_layers = len(sizes) - 1
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(fan_in, fan_out))
        if i < n_layers - 1 or activate_last:
            layers.append(act())
    return nn.Sequential(*layers)
