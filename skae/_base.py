"""The base estimator every skae autoencoder derives from."""

import math
import warnings
from abc import ABCMeta, abstractmethod

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import validate_data

from . import _recipes as recipes
from ._callbacks import CallbackSupportMixin, begin_fit, end_fit, training_epochs
from ._chunks import ChunkedDataset, ChunkedRows, as_source, is_chunked, naming_chunk
from ._data import ArrayDataset, ColumnMoments, check_float32_range, column_moments, split
from ._distributed import current_group
from ._fitting import run_epochs
from ._inference import InferenceMixin, ScoringMixin
from ._likelihood import check_values, likelihood_class, make_likelihood
from ._net import LearningRateSchedule, build_net, check_mixed_precision, resolve_device
from ._parameters import AUTO_COMPONENTS, declare, resolve_n_components
from ._persistence import NetState
from ._processes import fit_in_processes
from ._random import TorchRNG, seed_from
from ._schedules import scheduler_factory
from ._stacklevel import user_stacklevel
from ._stopping import NoImprovementStopping
from ._transaction import transaction
from .nn.init import build


class BaseNetworkEstimator(
    CallbackSupportMixin, InferenceMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin,
    BaseEstimator, metaclass=ABCMeta,
):
    """Shared fitting, validation and transformation code of skae's estimators.

    A subclass declares its parameters (``_parameters``, see
    :mod:`skae._parameters`) and provides the torch module
    (:meth:`_make_module`) and the objective (:meth:`_make_objective`);
    everything else, from input checks to feature names, lives here.
    :class:`BaseAutoencoder` adds the unsupervised ``fit`` and the scores.

    ``fit`` and ``partial_fit`` are transactions: every check runs before
    any fitted state changes, and the weights, the optimiser's and the
    learning-rate schedule's state, the history, the random generator and
    the fitted attributes change together or not at all. When training
    fails (bad input, divergence, an error or an interrupt anywhere before
    the first epoch is complete and its results recorded) the estimator is
    left as it was before the call. A KeyboardInterrupt after a complete
    epoch of ``fit`` leaves the model of the last complete epoch (the best
    one with early stopping), as a run of that many epochs would have left
    it, warns with that number of epochs, and propagates.

    Warning: This class should not be used directly. Use derived classes
    instead.
    """

    _parameters = ()
    #: Whether layers with many inputs train at a rate lowered by their fan-in
    #: (see :func:`skae._learning_rates.fan_in_param_groups`).
    _rates_by_fan_in = False

    # Defined here, not only in InferenceMixin, so that scikit-learn's
    # set_output wraps it: it wraps the transform of its own subclasses only.
    transform = InferenceMixin.transform

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "_parameters" in cls.__dict__ and cls._parameters:
            declare(cls, cls._parameters)

    # ------------------------------------------------------------------ hooks
    @abstractmethod
    def _make_module(self, n_features):
        """Return the torch module for inputs of width ``n_features``."""

    @abstractmethod
    def _make_objective(self, likelihood):
        """Return the objective: ``objective(output, target)`` is the batch loss."""

    def _likelihood_options(self):
        """Keyword options for the likelihood's constructor (hook)."""
        return {}

    def _check_params(self, n_features):
        """Checks that involve several parameters or the data's width (hook).

        Runs at the start of ``fit``, before any fitted state changes; it
        first resolves the parameters left at ``"auto"`` (see
        :mod:`skae._recipes`), so that the checks see the values in use.
        """
        recipes.resolve(self)
        self._hidden_sizes()
        device = resolve_device(self.device)
        if self.mixed_precision:
            check_mixed_precision(device)

    def _auto_batch_size(self, n_samples):
        """Rows per batch for ``batch_size="auto"`` (hook): MLPRegressor's ``min(200, n)``."""
        return min(200, n_samples)

    def _warmup_epochs(self):
        """Epochs over which the objective changes, which the stopping rule waits out (hook)."""
        return 0

    def _divergence_hint(self):
        """A parameter-specific cause to add to a divergence's message, or None (hook)."""
        return None

    def _valid_batch_size(self, n_features, batch_size):
        """Rows per validation batch (hook)."""
        return batch_size

    def _input_noise(self):
        """``noise(x, generator)`` applied to training inputs, or None (hook)."""
        return None

    def _resampling(self):
        """``resample(x, generator)``: a fresh draw of every training batch, or None (hook).

        Unlike input noise it replaces the target too when the target is
        the input.
        """
        return None

    def _pretraining_noise(self):
        """The input noise of pretraining's first stage (hook): ``_input_noise``'s."""
        return self._input_noise()

    def _extra_callbacks(self):
        """Further skorch callbacks, as ``(name, callback)`` pairs (hook)."""
        return []

    def _start(self, X):
        """Data-dependent initialisation of a freshly built network (hook)."""

    def _pretrain(self, dataset):
        """Train parts of the network before ``fit`` trains it whole (hook)."""

    def _inspect(self, X, *, converged):
        """Look at the trained network on its training data (hook).

        ``converged`` is True only when ``fit``'s stopping rule ended
        training.
        """

    def _check_chunked_training(self):
        """Raise if the parameters need the training data in memory (hook)."""

    def _check_distributed(self, world):
        """Raise if the parameters cannot train on ``world`` processes together (hook)."""

    def _code_width(self):
        """Width of the code ``transform`` returns (hook).

        Before ``fit`` has resolved ``n_components=None``, the most it can give.
        """
        if hasattr(self, "n_components_"):
            return self.n_components_
        return AUTO_COMPONENTS if self.n_components is None else self.n_components

    # ------------------------------------------------------------ parameters
    def _hidden_sizes(self):
        # hidden_layer_sizes_ where "auto" was resolved at fit (see skae._recipes).
        given = getattr(self, "hidden_layer_sizes_", self.hidden_layer_sizes)
        sizes = np.asarray(given, dtype=object)
        flat = [s for s in sizes.ravel()] if sizes.ndim else [sizes.item()]
        if sizes.ndim > 1 or not all(
            isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 1
            for s in flat
        ):
            raise ValueError(
                "hidden_layer_sizes must contain only positive integers, in a flat "
                f"sequence such as (128, 64), got {given!r}."
            )
        return [int(s) for s in flat]

    def _image_shape(self, n_features):
        if getattr(self, "image_shape", None) is None:
            return None
        shape = np.asarray(self.image_shape).ravel()
        if (shape.size not in (2, 3) or not np.issubdtype(shape.dtype, np.integer)
                or (shape < 1).any()):
            raise ValueError(
                "image_shape must be (height, width) or (channels, height, width) "
                f"with positive integers, got {self.image_shape!r}."
            )
        shape = tuple(int(s) for s in shape)
        if math.prod(shape) != n_features:
            raise ValueError(
                f"image_shape={shape} describes {math.prod(shape)} values per image, but "
                f"X has {n_features} features. Each row must be one image flattened in "
                "(channels, height, width) order."
            )
        return shape

    # ------------------------------------------------------------------ input
    def _validate_input(self, X, *, reset):
        X = validate_data(self, X, reset=reset, accept_sparse="csr",
                          dtype=[np.float64, np.float32])
        check_float32_range(X)
        if not reset:
            check_values(self, self.net_.criterion_.likelihood, X)
        return X

    def _validate_chunk(self, chunk, *, reset):
        """Validate one chunk of data read a chunk at a time, as ``_validate_input`` would."""
        chunk = validate_data(self, chunk, reset=reset, accept_sparse="csr",
                              dtype=[np.float64, np.float32])
        if chunk.dtype == np.float64:
            # float32 values cannot overflow float32; NaN and inf were refused above.
            check_float32_range(chunk)
        return chunk

    def _chunk_checker(self, likelihood):
        """``check(chunk, index, start)``: a chunk validated against the fitted width
        and the likelihood's range, or a ValueError that names the chunk."""
        def check(chunk, index, start):
            with naming_chunk(index, start):
                chunk = self._validate_chunk(chunk, reset=False)
                check_values(self, likelihood, chunk)
            return chunk
        return check

    def _scan(self, X, *, reset, min_chunks=1):
        """Read data given a chunk at a time once: check every chunk and sum the moments.

        With ``reset`` the first chunk sets ``n_features_in_`` (and the
        feature names) and the parameters are checked against its width
        before the other chunks are read.
        """
        source = as_source(X, min_chunks)
        likelihood = None if reset else self.net_.criterion_.likelihood
        lengths, moments, start = [], None, 0
        for i, chunk in source.read():
            with naming_chunk(i, start):
                chunk = self._validate_chunk(chunk, reset=reset and i == 0)
            if likelihood is None:
                self._check_params(chunk.shape[1])
                with warnings.catch_warnings():
                    # The deprecated spelling warns once, when the network is built.
                    warnings.simplefilter("ignore", FutureWarning)
                    likelihood = make_likelihood(likelihood_class(self), chunk.shape[1],
                                                 **self._likelihood_options())
            if reset:
                if moments is None:
                    moments = ColumnMoments(chunk.shape[1])
                moments.add(chunk)
            with naming_chunk(i, start):
                check_values(self, likelihood, chunk)
            lengths.append(chunk.shape[0])
            start += chunk.shape[0]
        if not lengths:
            raise ValueError("X holds no chunks; ChunkedData needs at least one row.")
        return ChunkedRows(source, lengths, self.n_features_in_, self._chunk_checker(likelihood),
                           None if moments is None else moments.result())

    def _training_input(self, X, *, reset, min_chunks=1):
        """Validated X in memory, or a checked :class:`~skae._chunks.ChunkedRows`."""
        if is_chunked(X):
            self._check_chunked_training()
            return self._scan(X, reset=reset, min_chunks=min_chunks)
        return self._validate_input(X, reset=reset)

    def _dataset(self, X):
        if isinstance(X, ChunkedRows):
            return ChunkedDataset(X, device=self.net_.device)
        return ArrayDataset(X, self.net_.device)

    # --------------------------------------------------------------- training
    def _build(self, n_features, batch_size, generator, device=None):
        """The untrained network for this width, drawn from ``generator``."""
        likelihood = make_likelihood(likelihood_class(self), n_features,
                                     **self._likelihood_options())
        module = build(lambda: self._make_module(n_features), generator)
        callbacks = list(self._extra_callbacks())
        make_scheduler = scheduler_factory(self)
        if make_scheduler is not None:
            callbacks.append(("learning_rate", LearningRateSchedule(make_scheduler)))
        return build_net(
            module,
            self._make_objective(likelihood),
            solver=self.solver,
            learning_rate=self.learning_rate_init,
            weight_decay=self.weight_decay,
            batch_size=batch_size,
            valid_batch_size=self._valid_batch_size(n_features, batch_size),
            shuffle=self.shuffle,
            generator=self._rng.generator,
            device=resolve_device(self.device) if device is None else device,
            verbose=self.verbose,
            input_noise=self._input_noise(),
            resample=self._resampling(),
            callbacks=callbacks,
            mixed_precision=self.mixed_precision,
            rates_by_fan_in=self._rates_by_fan_in,
        )

    def _check_width(self, n_features):
        """Resolve ``n_components_`` and run ``_check_params`` for data this wide."""
        if hasattr(self, "n_components"):
            self.n_components_ = resolve_n_components(self.n_components, n_features)
        self._check_params(n_features)

    def _setup(self, X, seed=None):
        """Build the network for X; ``seed`` (None: drawn from ``random_state``)
        seeds the estimator's generator."""
        n_samples, n_features = X.shape
        self._check_width(n_features)
        self._rng = TorchRNG(seed_from(self.random_state) if seed is None else seed)
        self._batch_size = (self._auto_batch_size(n_samples) if self.batch_size == "auto"
                            else self.batch_size)
        self.net_ = self._build(n_features, self._batch_size, self._rng.generator)
        likelihood = self.net_.criterion_.likelihood
        if not isinstance(X, ChunkedRows):
            # Chunks were checked as they were read.
            check_values(self, likelihood, X)
        mean, variance = column_moments(X)
        # Every part with a start(mean, variance) method (the likelihood, an
        # input's CenterScale) starts from the data's per-feature moments.
        for part in (*self.net_.criterion_.modules(), *self.net_.module_.modules()):
            if callable(getattr(part, "start", None)):
                part.start(mean, variance)
        self.net_.module_.set_output_bias(
            likelihood.inverse_link(torch.from_numpy(mean.astype(np.float32))))
        self._start(X)
        self._n_features_out = self._code_width()

    def _ranks(self, partial=False):
        """This process's :class:`~skae._distributed.Ranks` in the process group it
        trains with (``n_processes=None`` in an initialised group), else None."""
        n_processes = getattr(self, "n_processes", 1)
        if partial and n_processes is not None and n_processes > 1:
            raise ValueError(
                f"partial_fit trains one epoch in the calling process and cannot start "
                f"n_processes={n_processes} processes for it; use fit, or set "
                "n_processes=None (to train as one process of a torch.distributed group, "
                "under torchrun) or 1."
            )
        ranks = current_group() if n_processes is None else None
        if ranks is not None:
            self._check_distributed(ranks.world)
            if ranks.device.type == "cuda" and resolve_device(self.device) == "cpu":
                raise ValueError(
                    "The torch.distributed process group uses the NCCL backend, which "
                    "exchanges GPU tensors only, but device='cpu'. Set device='cuda' (each "
                    "process on its own GPU, chosen with torch.cuda.set_device) or start "
                    "the group with backend='gloo'."
                )
        return ranks

    def _train(self, X):
        """Fit alone, as one process of a group, or in ``n_processes`` new processes."""
        n_processes = getattr(self, "n_processes", 1)
        if n_processes is not None and n_processes > 1:
            self._check_distributed(n_processes)
            return fit_in_processes(self, X, n_processes)
        return self._fit(X, ranks=self._ranks())

    def _record_history(self):
        history = self.net_.history
        self.n_iter_ = len(history)
        self.loss_curve_ = [float(row["train_loss"]) for row in history]
        if self.early_stopping:
            self.validation_scores_ = [
                self._validation_score(row) for row in history if "valid_loss" in row
            ]
            self.best_validation_score_ = max(self.validation_scores_, default=None)
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = min(self.loss_curve_, default=None)

    def _validation_score(self, row):
        """The validation score of an epoch's history row (hook): minus its loss."""
        return -float(row["valid_loss"])

    def _fit(self, X, ranks=None, seed=None):
        """Train on X alone, or with ``ranks`` as one of several processes.

        ``seed`` seeds the generator instead of a draw from ``random_state``;
        with ``ranks`` and no seed, every process takes rank 0's draw.
        """
        # Early stopping holds out whole chunks: an array is cut into enough.
        X = self._training_input(X, reset=True, min_chunks=10 if self.early_stopping else 1)
        if ranks is not None and seed is None:
            seed = ranks.broadcast_seed(seed_from(self.random_state))
        self._setup(X, seed=seed)
        dataset = self._dataset(X)
        valid = None
        if self.early_stopping:
            dataset, valid = split(dataset, self.validation_fraction, self._rng.generator)
        self._pretrain(dataset)
        outcome = run_epochs(
            self.net_, dataset, max_epochs=self.max_iter, generator=self._rng.generator,
            valid=valid,
            stopping=NoImprovementStopping(self.tol, self.n_iter_no_change,
                                           self._warmup_epochs()),
            keep_best=self.early_stopping, ranks=ranks,
            # The autoencoder's target is its input.
            tasks=training_epochs(self, X, X),
        )
        self._record_history()
        self._inspect(X, converged=outcome.converged)
        if not (outcome.converged or outcome.interrupted or outcome.stopped):
            warnings.warn(
                f"{type(self).__name__} stopped after max_iter={self.max_iter} "
                "epochs without converging; consider a larger max_iter.",
                ConvergenceWarning,
                stacklevel=user_stacklevel(),
            )
        return outcome

    def _partial_fit(self, X, start=None):
        ranks = self._ranks(partial=True)
        first_call = not hasattr(self, "net_")
        X = self._training_input(X, reset=first_call)
        if first_call:
            self._setup(X, seed=None if ranks is None
                        else ranks.broadcast_seed(seed_from(self.random_state)))
        outcome = run_epochs(self.net_, self._dataset(X), max_epochs=1,
                             generator=self._rng.generator, ranks=ranks,
                             tasks=training_epochs(self, X, X), start=start)
        self._record_history()
        self._inspect(X, converged=False)
        return outcome

    # ---------------------------------------------------------------- pickle
    def __getstate__(self):
        # object.__getstate__ may return the instance's own __dict__.
        state = dict(super().__getstate__())
        net = state.pop("net_", None)
        if net is not None:
            state["_net_state"] = NetState.of(net)
        return state

    def __setstate__(self, state):
        net_state = state.pop("_net_state", None)
        super().__setstate__(state)
        # A pickle from a version without a parameter added since takes the
        # value that version behaved as.
        for param in self._parameters:
            if param.name not in self.__dict__:
                setattr(self, param.name, param.value_before())
        if net_state is not None:
            if "n_components_" not in self.__dict__ and hasattr(self, "n_components"):
                self.n_components_ = self.n_components
            recipes.restore(self)
            self.net_ = net_state.restore(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class BaseAutoencoder(ScoringMixin, BaseNetworkEstimator):
    """Base of the autoencoders: unsupervised ``fit`` and ``partial_fit``, and scores.

    Warning: This class should not be used directly. Use derived classes
    instead.
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the autoencoder on X.

        Parameters
        ----------
        X : {array-like, sparse matrix, ChunkedData} of shape (n_samples, n_features)
            Training data. Sparse input must be CSR; it is densified one
            batch at a time. :class:`~skae.ChunkedData` (and an h5py, zarr
            or dask array) is read a chunk at a time, for data larger than
            memory.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        # The callbacks' context exists before the transaction keeps the
        # estimator's state, so that a failed fit still ends it.
        begin_fit(self, X, X)
        transaction(self, self._train, X)
        end_fit(self, X, X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train for one epoch on X, continuing from the current weights.

        The first call initialises the network from ``random_state``; later
        calls continue training, which lets data arriving in chunks train
        one model. Early stopping does not apply.

        Parameters
        ----------
        X : {array-like, sparse matrix, ChunkedData} of shape (n_samples, n_features)
            Training data; :class:`~skae.ChunkedData` is read twice, once to
            check it and once to train.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The estimator.
        """
        begin_fit(self, X, X, partial=True)
        transaction(self, self._partial_fit, X, continues=True)
        end_fit(self, X, X)
        return self
