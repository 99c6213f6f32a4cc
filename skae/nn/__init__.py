"""Pure PyTorch building blocks of skae's estimators.

Nothing in this sub-package imports scikit-learn or the rest of skae: the
modules here can be used on their own in a hand-written training loop.
"""

from .autoencoder import Autoencoder, MLPAutoencoder
from .classifier import ClassificationObjective, EncoderClassifier
from .contractive import contractive_penalty
from .conv import ConvAutoencoder, PixelBias, conv_decoder, conv_encoder
from .dictionary import init_dictionary
from .init import build, reset_parameters
from .inputs import (
    CenterScale,
    InputDropout,
    RowNormalize,
    normalize_encoder_input,
    prepend_to_encoder,
)
from .labelled_vae import LabelledELBOObjective, LabelledVAE
from .least_squares import least_squares_codes
from .likelihoods import LIKELIHOODS, Bernoulli, Gaussian, Likelihood, Multinomial, Poisson
from .mlp import ACTIVATIONS, make_mlp
from .noise import Corruption, DynamicBinarization
from .objectives import ELBOObjective, IWAEObjective, ReconstructionObjective
from .sparse import (
    SparsityPenalty,
    TopK,
    UnitNormLinear,
    UnrolledThresholding,
)
from .stages import greedy_stages
from .vae import GaussianMLPVAE
from .vae_bounds import importance_weighted_bound, log_importance_weights

__all__ = [
    "ACTIVATIONS",
    "LIKELIHOODS",
    "Autoencoder",
    "Bernoulli",
    "CenterScale",
    "ClassificationObjective",
    "ConvAutoencoder",
    "Corruption",
    "DynamicBinarization",
    "ELBOObjective",
    "EncoderClassifier",
    "Gaussian",
    "GaussianMLPVAE",
    "IWAEObjective",
    "InputDropout",
    "LabelledELBOObjective",
    "LabelledVAE",
    "Likelihood",
    "MLPAutoencoder",
    "Multinomial",
    "PixelBias",
    "Poisson",
    "ReconstructionObjective",
    "RowNormalize",
    "SparsityPenalty",
    "TopK",
    "UnitNormLinear",
    "UnrolledThresholding",
    "build",
    "contractive_penalty",
    "conv_decoder",
    "conv_encoder",
    "greedy_stages",
    "importance_weighted_bound",
    "init_dictionary",
    "least_squares_codes",
    "log_importance_weights",
    "make_mlp",
    "normalize_encoder_input",
    "prepend_to_encoder",
    "reset_parameters",
]
