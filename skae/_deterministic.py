"""What every deterministic autoencoder adds to the base: a choice of network,
the contractive penalty and greedy layer-wise pretraining."""

import warnings

import numpy as np
import scipy.sparse as sp
import torch

from ._base import BaseAutoencoder
from ._chunks import ChunkedRows
from ._data import map_batches
from ._interrupts import deferred
from ._pretraining import greedy_pretrain
from ._stacklevel import user_stacklevel
from .exceptions import CollapsedCodesWarning
from .nn import ConvAutoencoder, MLPAutoencoder, ReconstructionObjective
from .nn.code_axes import CodeAxes, decoder_metric, principal_axes
from .nn.inputs import CenterScale, normalize_encoder_input, prepend_to_encoder

#: Training rows, evenly spaced, that estimate the principal code axes: the
#: decoder's metric and the codes' covariance settle well before this many.
_AXES_ROWS = 2000
#: Most decoder outputs (rows x codes x features) the metric is estimated
#: from: a few seconds of work, so that wide data (a click matrix with
#: 200,000 columns) estimates it on fewer rows instead of for minutes.
_METRIC_OUTPUTS = 2**27
#: ``batch_size="auto"`` cuts an epoch into at least this many batches.
_MIN_BATCHES_PER_EPOCH = 8
#: Most values (rows x features) of the data and of their reconstructions
#: that the check for dead codes holds at once.
_CHECK_VALUES = 2**22


#: A code whose variance, measured in the data's units through the decoder,
#: is below this share of the data's total variance moves the reconstruction
#: by nothing that counts (PCA's tenth component explains about 2% of
#: MNIST's variance, its sixteenth 1.5% of digits').
_DEAD_VARIANCE = 1e-5
#: Reconstructions that vary over the rows by less than this share of the
#: data's variance are, for every purpose, one and the same row.
_CONSTANT_RECONSTRUCTION = 1e-4


def count_dead_codes(codes, metric, reconstructions, data_variance):
    """How many codes carry nothing.

    All of them when the ``reconstructions`` (of rows of ``codes``) vary
    by a negligible share of ``data_variance`` (the data's variance summed
    over features, in the units of the reconstructions); else the number of
    principal directions of the codes (or, for more codes than features,
    of codes) whose variation moves the reconstruction by a negligible share
    of it, measured with the decoder's ``metric``.
    """
    if len(codes) < 2 or not data_variance > 0:
        return 0
    spread = reconstructions.double().var(dim=0).sum().item()
    if spread <= _CONSTANT_RECONSTRUCTION * data_variance:
        return codes.shape[1]
    codes, metric = codes.double(), metric.double()
    if codes.shape[1] <= reconstructions.shape[1]:
        # The variances along the codes' principal axes in the data's units
        # (the eigenvalues of their covariance times the metric): codes that
        # all move the reconstruction along one direction carry one number.
        covariance = torch.cov(codes.T).reshape(codes.shape[1], codes.shape[1])
        variance = torch.linalg.eigvals(covariance @ metric).real
    else:
        # More codes than features (an overcomplete dictionary) span at most
        # as many directions as there are features: count each code's own
        # effect, its variance times the squared length of its atom.
        variance = codes.var(dim=0) * torch.diagonal(metric)
    return int((variance <= _DEAD_VARIANCE * data_variance).sum())


def _variance_in_mean_units(rows, likelihood):
    """The variance of ``rows`` summed over features, in the units of the
    likelihood's mean (see :meth:`skae.nn.Likelihood.in_mean_units`)."""
    rows = rows.toarray() if sp.issparse(rows) else np.asarray(rows)
    rows = likelihood.in_mean_units(torch.from_numpy(rows.astype(np.float64)))
    return float(rows.var(dim=0, unbiased=False).sum())


class DeterministicAutoencoder(BaseAutoencoder):
    """Base of the deterministic autoencoders.

    Subclasses take ``likelihood`` (or its deprecated spelling ``loss``),
    ``contractive`` and ``pretrain``; ``score_samples`` is minus the
    likelihood's point-estimate loss.

    Warning: This class should not be used directly. Use derived classes
    instead.
    """

    # Measured on wide image data (MNIST, Fashion-MNIST) with their default
    # rate of 1e-2: the first layer's steps are otherwise far too large.
    _rates_by_fan_in = True

    def _auto_batch_size(self, n_samples):
        # The stopping rule and the learning-rate schedule count epochs: at
        # MLPRegressor's min(200, n) an epoch of 112 rows is a single step,
        # and a default fit of a small table ends after a few dozen steps,
        # far from converged (on iris, 3.6 times PCA's held-out error).
        return min(200, -(-n_samples // _MIN_BATCHES_PER_EPOCH))

    def _check_params(self, n_features):
        super()._check_params(n_features)
        if self._image_shape(n_features) is not None and self.pretrain == "greedy":
            raise ValueError(
                "pretrain='greedy' stacks fully connected layers and does not apply to "
                "the convolutional network of image_shape; use pretrain=None."
            )
        if getattr(self, "input_norm_", None) is not None and self.pretrain == "greedy":
            raise ValueError(
                f"pretrain='greedy' trains the encoder's layers on their own inputs and does "
                f"not apply to an encoder that normalises its input (input_norm="
                f"{self.input_norm_!r}); use pretrain=None or input_norm=None."
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

    def _dead_codes_hint(self):
        """What causes dead codes and what to do, for :class:`CollapsedCodesWarning` (hook)."""
        centre = ("standardize_input=True (centred input keeps the units alive), "
                  if getattr(self, "standardize_input", True) is False else "")
        return ("Hidden units that stop responding to every row (ReLU units pushed below "
                f"zero by large steps) usually cause it; train with {centre}a smaller "
                "learning_rate_init, or activation='tanh'.")

    def _warn_dead_codes(self, n_dead, n_codes):
        if n_dead == 0:
            return
        if n_dead == n_codes:
            what = ("every code is constant over the training data: the model "
                    "reconstructs every row as the same mean row")
        else:
            what = (f"{n_dead} of its {n_codes} codes are (nearly) constant over the "
                    f"training data and carry nothing (n_components={n_codes - n_dead} "
                    "would give codes as informative)")
        warnings.warn(
            f"{type(self).__name__}: {what}. {self._dead_codes_hint()}",
            CollapsedCodesWarning,
            stacklevel=user_stacklevel(),
        )

    def _make_module(self, n_features):
        # Estimators without input_norm and standardize_input (SparseCoder)
        # feed the encoder the data as is.
        module = self._network(n_features)
        norm = getattr(self, "input_norm_", None)
        if norm is not None:
            # Rows on the unit sphere are on a scale of their own already.
            return normalize_encoder_input(module, norm)
        if getattr(self, "standardize_input", False):
            return prepend_to_encoder(module, CenterScale(n_features))
        return module

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
        if getattr(module, "code_axes", None) is None and not converged:
            return  # no axes to set and no fit to check
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
                self._inspect_codes(module, rows, X.shape[1], link, converged)
            finally:
                module.train(was_training)

    def _inspect_codes(self, module, rows, n_features, link, converged):
        """Set the principal code axes and, after a fit, warn about dead codes."""
        codes = torch.as_tensor(map_batches(
            module.raw_code, rows, batch_size=self._rows_per_batch(n_features),
            device=self.net_.device)).to(self.net_.device)
        n_metric = max(1, min(len(codes), _METRIC_OUTPUTS // (codes.shape[1] * n_features)))
        spread = torch.linspace(0, len(codes) - 1, n_metric, device=codes.device).long()
        metric = decoder_metric(lambda z: link(module.decoder(z)), codes[spread])
        if converged:
            n_check = max(2, min(len(codes), _CHECK_VALUES // n_features))
            check = torch.linspace(0, len(codes) - 1, n_check, device=codes.device).long()
            with torch.no_grad():
                reconstructions = link(module.decoder(codes[check]))
            data_variance = _variance_in_mean_units(
                rows[check.cpu().numpy()], self.net_.criterion_.likelihood)
            self._warn_dead_codes(
                count_dead_codes(codes, metric, reconstructions, data_variance),
                codes.shape[1])
        axes = getattr(module, "code_axes", None)
        if axes is not None:
            axes.set(*principal_axes(codes, metric))
