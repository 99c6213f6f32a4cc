"""skae: autoencoders as scikit-learn estimators."""

from . import metrics
from ._autoencoder import AutoencoderTransformer
from ._chunks import ChunkedData
from ._classifier import AutoencoderClassifier
from ._denoising import DenoisingAE
from ._sparse import SparseCoder
from ._vae import VAETransformer
from ._vae_classifier import VAEClassifier
from .exceptions import (
    CollapsedClassesWarning,
    CollapsedCodesWarning,
    InvalidFileError,
    PosteriorCollapseWarning,
    ScoreUnitsWarning,
    TrainingDivergedError,
)

__version__ = "0.1.0"

__all__ = [
    "AutoencoderClassifier",
    "AutoencoderTransformer",
    "ChunkedData",
    "CollapsedClassesWarning",
    "CollapsedCodesWarning",
    "DenoisingAE",
    "InvalidFileError",
    "PosteriorCollapseWarning",
    "ScoreUnitsWarning",
    "SparseCoder",
    "TrainingDivergedError",
    "VAEClassifier",
    "VAETransformer",
    "metrics",
    "__version__",
]
