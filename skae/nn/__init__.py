"""Pure PyTorch building blocks of skae's estimators.

Nothing in this sub-package imports scikit-learn: the modules here can be
used on their own in a hand-written training loop.
"""

from .autoencoder import Autoencoder, MLPAutoencoder
from .contractive import contractive_penalty
from .conv import ConvAutoencoder, PixelBias, conv_decoder, conv_encoder
from .init import build, reset_parameters
from .least_squares import least_squares_codes
from .mlp import ACTIVATIONS, make_mlp
from .noise import Corruption
from .objectives import ReconstructionObjective
from .sparse import (
    SparsityPenalty,
    TopK,
    UnitNormLinear,
    UnrolledThresholding,
)
from .vae import ELBOObjective, GaussianMLPVAE

__all__ = [
    "ACTIVATIONS",
    "Autoencoder",
    "ConvAutoencoder",
    "Corruption",
    "ELBOObjective",
    "GaussianMLPVAE",
    "MLPAutoencoder",
    "PixelBias",
    "ReconstructionObjective",
    "SparsityPenalty",
    "TopK",
    "UnitNormLinear",
    "UnrolledThresholding",
    "build",
    "contractive_penalty",
    "conv_decoder",
    "conv_encoder",
    "least_squares_codes",
    "make_mlp",
    "reset_parameters",
]
