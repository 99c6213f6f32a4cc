"""Module construction and initialisation from an explicit random generator.

PyTorch's layers initialise themselves from the global generator. skae
builds modules on the "meta" device, which allocates and draws nothing,
then materialises them and draws every parameter from a generator it owns,
so that ``random_state`` fixes the result without reading or changing
global random state.
"""

import math

import torch
from torch import nn

_LINEAR_LIKE = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.ConvTranspose1d, nn.ConvTranspose2d)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm)


def fan_in(layer):
    """How many inputs each output of a linear or convolutional layer reads, or None.

    Parameters
    ----------
    layer : torch.nn.Module

    Returns
    -------
    int or None
        None for a layer that is not linear or convolutional.
    """
    if not isinstance(layer, _LINEAR_LIKE):
        return None
    weight = layer.weight
    if isinstance(layer, (nn.ConvTranspose1d, nn.ConvTranspose2d)):
        return weight.shape[1] * weight[0, 0].numel()
    return weight[0].numel()


def reset_parameters(module, generator):
    """Re-initialise every parameter of ``module`` from ``generator``.

    Linear and convolutional layers get PyTorch's default distribution
    (uniform with bound ``1 / sqrt(fan_in)`` for weights and biases);
    normalisation layers their deterministic defaults. Then every
    sub-module with an ``after_reset()`` method has it called.

    Parameters
    ----------
    module : torch.nn.Module
        Its sub-modules are re-initialised in place.
    generator : torch.Generator
        Source of all random numbers.

    Returns
    -------
    module : torch.nn.Module
        The same module.

    Raises
    ------
    TypeError
        If a sub-module owns parameters of a kind this function does not
        know how to initialise.
    """
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, _LINEAR_LIKE):
                inputs = fan_in(layer)
                # kaiming_uniform with a=sqrt(5), PyTorch's default for these
                # layers, reduces to this bound.
                bound = 1.0 / math.sqrt(inputs) if inputs > 0 else 0.0
                layer.weight.uniform_(-bound, bound, generator=generator)
                if layer.bias is not None:
                    layer.bias.uniform_(-bound, bound, generator=generator)
            elif isinstance(layer, _NORMS):
                layer.reset_parameters()
            elif hasattr(layer, "after_reset"):
                continue  # initialised below
            elif any(True for _ in layer.parameters(recurse=False)):
                raise TypeError(
                    f"Cannot initialise parameters of {type(layer).__name__}; "
                    "give it a reset_parameters rule in skae.nn.init."
                )
        # Modules that start differently from the rules above (a zero
        # feedback, say) finish their own initialisation.
        for layer in module.modules():
            if hasattr(layer, "after_reset"):
                layer.after_reset()
    return module


def build(factory, generator, device="cpu"):
    """Call ``factory()`` without touching global random state, then initialise.

    Parameters
    ----------
    factory : callable
        Returns a fresh :class:`torch.nn.Module`.
    generator : torch.Generator
        Source of the initial parameter values.
    device : str, default="cpu"
        Where the parameters are allocated.

    Returns
    -------
    torch.nn.Module
    """
    with torch.device("meta"):
        module = factory()
    return reset_parameters(module.to_empty(device=device), generator)
