"""skae: autoencoders as scikit-learn estimators."""

from ._autoencoder import AutoencoderTransformer
from .exceptions import TrainingDivergedError

__version__ = "0.1.0"

__all__ = ["AutoencoderTransformer", "TrainingDivergedError", "__version__"]
