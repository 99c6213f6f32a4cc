"""What every deterministic autoencoder adds to the base: a choice of network,
the contractive penalty and greedy layer-wise pretraining."""

import numpy as np
import torch

from ._base import BaseAutoencoder
from ._chunks import ChunkedRows
from ._data import map_batches
from ._interrupts import deferred
from ._pretraining import greedy_pretrain
from .nn import ConvAutoencoder, MLPAutoencoder, ReconstructionObjective
from .nn.code_axes import CodeAxes, decoder_metric, principal_axes
from .nn.inputs import normalize_encoder_input

#: Training rows, evenly spaced, that estimate the principal code axes: the
#: decoder's metric and the codes' covariance settle well before this many.
_AXES_ROWS = 2000
#: Most decoder outputs (rows x codes x features) the metric is estimated
#: from: a few seconds of work, so that wide data (a click matrix with
#: 200,000 columns) estimates it on fewer rows instead of for minutes.
_METRIC_OUTPUTS = 2**27


class DeterministicAutoencoder(BaseAutoencoder):
    """Base of the deterministic autoencoders.

    Subclasses take ``likelihood`` (or its deprecated spelling ``loss``),
    ``contractive`` and ``pretrain``; ``score_samples`` is minus the
    likelihood's point-estimate loss.

    Warning: This class should not be used directly. Use derived classes
    instead.
    """

    def _check_params(self, n_features):
        super()._check_params(n_features)
        if self._image_shape(n_features) is not None and self.pretrain == "greedy":
            raise ValueError(
                "pretrain='greedy' stacks fully connected layers and does not apply to "
                "the convolutional network of image_shape; use pretrain=None."
            )
        if getattr(self, "input_norm", None) is not None and self.pretrain == "greedy":
            raise ValueError(
                f"pretrain='greedy' trains the encoder's layers on their own inputs and does "
                f"not apply to an encoder that normalises its input (input_norm="
                f"{self.input_norm!r}); use pretrain=None or input_norm=None."
            )

    def _check_chunked_training(self):
        if self.pretrain == "greedy":
            raise ValueError(
                "pretrain='greedy' trains each stage on the codes of the previous one, "
                "which it keeps in memory, so it needs the training data in memory; use "
                "pretrain=None with data read a chunk at a time (ChunkedData)."
            )

    def _check_distributed(self, world):
        if self.pretrain == "greedy":
            raise ValueError(
                f"pretrain='greedy' trains in one process; it cannot train on {world} "
                "processes together. Use pretrain=None, or n_processes=1."
            )

    def _network(self, n_features, **kwargs):
        """The MLP autoencoder, or the convolutional one when ``image_shape`` is set."""
        if getattr(self, "principal_codes", False):
            kwargs["code_axes"] = CodeAxes(self.n_components_)
        shape = self._image_shape(n_features)
        if shape is None:
            return MLPAutoencoder(n_features, self.n_components_, self._hidden_sizes(),
                                  self.activation, contractive=self.contractive, **kwargs)
        return ConvAutoencoder(shape, self.n_components_, self._hidden_sizes(),
                               self.activation, contractive=self.contractive, **kwargs)

    def _make_module(self, n_features):
        # Estimators without input_norm (SparseCoder) feed the encoder the data as is.
        return normalize_encoder_input(self._network(n_features),
                                       getattr(self, "input_norm", None))

    def _make_objective(self, likelihood):
        return ReconstructionObjective(likelihood)

    def _setup(self, X, seed=None):
        super()._setup(X, seed=seed)
        self.pretrain_loss_curves_ = []

    def _pretrain(self, dataset):
        if self.pretrain == "greedy":
            self.pretrain_loss_curves_ = greedy_pretrain(self, dataset)

    def _inspect(self, X, *, converged):
        super()._inspect(X, converged=converged)
        module = self.net_.module_
        axes = getattr(module, "code_axes", None)
        if axes is None:
            return
        if isinstance(X, ChunkedRows):
            rows = X.head(_AXES_ROWS)  # read from the start, not from all over the source
        else:
            rows = X[np.linspace(0, X.shape[0] - 1, min(X.shape[0], _AXES_ROWS)).astype(int)]
        link = self.net_.criterion_.likelihood.link
        was_training = module.training
        # torch's inference mode and torch.func's transforms keep global
        # state that an interrupt inside them would leave broken for the
        # rest of the session: an interrupt waits until the axes are set
        # (a few seconds at most, see _METRIC_OUTPUTS).
        with deferred():
            module.eval()
            try:
                codes = torch.as_tensor(map_batches(
                    module.raw_code, rows, batch_size=self._rows_per_batch(X.shape[1]),
                    device=self.net_.device)).to(self.net_.device)
                n_metric = max(1, min(len(codes),
                                      _METRIC_OUTPUTS // (codes.shape[1] * X.shape[1])))
                spread = torch.linspace(0, len(codes) - 1, n_metric, device=codes.device).long()
                metric = decoder_metric(lambda z: link(module.decoder(z)), codes[spread])
                axes.set(*principal_axes(codes, metric))
            finally:
                module.train(was_training)
