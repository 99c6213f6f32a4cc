"""Pure PyTorch building blocks of skae's estimators.

Nothing in this sub-package imports scikit-learn: the modules here can be
used on their own in a hand-written training loop.
"""

from .autoencoder import MLPAutoencoder
from .init import build, reset_parameters
from .mlp import ACTIVATIONS, make_mlp
from .objectives import ReconstructionObjective

__all__ = [
    "ACTIVATIONS",
    "MLPAutoencoder",
    "ReconstructionObjective",
    "build",
    "make_mlp",
    "reset_parameters",
]
