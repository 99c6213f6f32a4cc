"""The base estimator every skae autoencoder derives from."""

import math
import warnings
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from . import _training
from .nn.init import build


class BaseAutoencoder(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator, metaclass=ABCMeta
):
    """Shared fitting, validation and transformation code of skae's estimators.

    A subclass provides the torch module (:meth:`_make_module`) and the
    objective (:meth:`_make_objective`); everything else, from input checks
    to feature names, lives here.

    Warning: This class should not be used directly. Use derived classes
    instead.
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions({"identity", "logistic", "tanh", "relu"})],
        "solver": [StrOptions({"adam", "adamw", "sgd"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "device": [StrOptions({"auto", "cpu", "cuda"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # How many rows transform, inverse_transform and score_samples push
    # through the network at once: large enough to amortise Python overhead,
    # small enough to keep sparse input from being densified whole.
    _inference_batch_size = 4096

    @abstractmethod
    def _make_module(self, n_features):
        """Return the torch module for inputs of width ``n_features``."""

    @abstractmethod
    def _make_objective(self):
        """Return the objective: ``objective(output, X)`` is the batch loss."""

    def _check_values(self, X):
        """Reject values the objective cannot model (hook for subclasses)."""

    def _extra_callbacks(self):
        """Further skorch callbacks, as ``(name, callback)`` pairs (hook)."""
        return []

    def _pretrain(self, dataset):
        """Train parts of the network before ``fit`` trains it whole (hook).

        Called by :meth:`fit` after the network is initialised and the
        validation split, if any, is held out; ``dataset`` is the training
        part, an :class:`~skae._training.ArrayDataset`.
        """

    def _inspect(self, X, *, converged):
        """Look at the trained network on its training data (hook).

        Called at the end of :meth:`fit` and :meth:`partial_fit`.
        ``converged`` is True only when ``fit``'s stopping rule ended
        training: a model stopped by ``max_iter`` (which already warns) or
        trained chunk by chunk may simply be unfinished.
        """

    def _encode(self, module, x):
        return module.encode(x)

    def _decode(self, module, z):
        return self.net_.criterion_.link(module.decode(z))

    # ------------------------------------------------------------------ input
    def _validate_input(self, X, *, reset):
        X = validate_data(
            self,
            X,
            reset=reset,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
        )
        _training.check_float32_range(X)
        self._check_values(X)
        return X

    def _check_hidden_layer_sizes(self):
        sizes = np.asarray(self.hidden_layer_sizes).ravel()
        if sizes.size and (
            not np.issubdtype(sizes.dtype, np.integer) or (sizes < 1).any()
        ):
            raise ValueError(
                "hidden_layer_sizes must contain only positive integers, got "
                f"{self.hidden_layer_sizes!r}."
            )
        return [int(s) for s in sizes]

    def _check_image_shape(self, n_features):
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

    # --------------------------------------------------------------- training
    def _initialize(self, X):
        n_samples, n_features = X.shape
        rng = _training.TorchRNG(_training.seed_from(self.random_state))
        module = build(lambda: self._make_module(n_features), rng.generator)
        if hasattr(module, "rng"):
            # Modules that draw noise while training (sampling, corruption)
            # draw it from the estimator's generator.
            module.rng = rng
        objective = self._make_objective()
        mean = np.asarray(X.mean(axis=0), dtype=np.float32).ravel()
        module.set_output_bias(objective.inverse_link(torch.from_numpy(mean)))
        batch_size = (
            min(200, n_samples) if self.batch_size == "auto" else self.batch_size
        )
        self.net_ = _training.build_net(
            module,
            objective,
            solver=self.solver,
            learning_rate=self.learning_rate_init,
            weight_decay=self.weight_decay,
            batch_size=batch_size,
            shuffle=self.shuffle,
            rng=rng,
            device=_training.resolve_device(self.device),
            verbose=self.verbose,
            tol=self.tol,
            patience=self.n_iter_no_change,
            early_stopping=self.early_stopping,
            callbacks=self._extra_callbacks(),
        )
        self._n_features_out = self.n_components

    def _record_history(self):
        history = self.net_.history
        self.n_iter_ = len(history)
        self.loss_curve_ = [float(row["train_loss"]) for row in history]
        if self.early_stopping:
            self.validation_scores_ = [
                -float(row["valid_loss"]) for row in history if "valid_loss" in row
            ]
            self.best_validation_score_ = max(self.validation_scores_, default=None)
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = min(self.loss_curve_)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the autoencoder on X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse input must be CSR; it is densified one
            batch at a time.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._check_hidden_layer_sizes()
        X = self._validate_input(X, reset=True)
        self._initialize(X)
        dataset = _training.ArrayDataset(X, self.net_.device)
        valid = None
        if self.early_stopping:
            rng = self.net_.iterator_train__rng
            dataset, valid = _training.split(dataset, self.validation_fraction, rng)
        self._pretrain(dataset)
        plateau = _training.train(
            self.net_, dataset, epochs=self.max_iter, dataset_valid=valid
        )
        if plateau.best_state_ is not None:
            self.net_.module_.load_state_dict(plateau.best_state_)
        self._record_history()
        self._inspect(X, converged=plateau.stopped_)
        if not plateau.stopped_:
            warnings.warn(
                f"{type(self).__name__} stopped after max_iter={self.max_iter} "
                "epochs without converging; consider a larger max_iter.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train for one epoch on X, continuing from the current weights.

        The first call initialises the network from ``random_state``; later
        calls continue training, which lets data arriving in chunks train
        one model. Early stopping does not apply.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The estimator.
        """
        first_call = not hasattr(self, "net_")
        if first_call:
            self._check_hidden_layer_sizes()
        X = self._validate_input(X, reset=first_call)
        if first_call:
            self._initialize(X)
        _training.train(
            self.net_, _training.ArrayDataset(X, self.net_.device), epochs=1
        )
        self._record_history()
        self._inspect(X, converged=False)
        return self

    # -------------------------------------------------------------- inference
    def _output_dtype(self, X):
        return X.dtype if X.dtype in (np.float32, np.float64) else np.float64

    def _map(self, fn, X, what):
        module = self.net_.module_
        module.eval()
        out = _training.map_batches(
            lambda xb: fn(module, xb),
            X,
            batch_size=self._inference_batch_size,
            device=self.net_.device,
        )
        if not np.isfinite(out).all():
            raise ValueError(
                f"The network produced non-finite {what}. The input is far "
                "outside the range seen in training, or the weights were "
                "damaged; scale the data or refit."
            )
        return out

    def transform(self, X):
        """Encode X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            The codes; float32 for float32 input, float64 otherwise.
        """
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)
        codes = self._map(self._encode, X, "codes")
        return codes.astype(self._output_dtype(X), copy=False)

    def inverse_transform(self, X):
        """Decode codes back to the input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, as returned by :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            The decoder's mean reconstruction.
        """
        check_is_fitted(self)
        Z = check_array(X, dtype=[np.float64, np.float32], input_name="X")
        if Z.shape[1] != self.n_components:
            raise ValueError(
                f"X has {Z.shape[1]} features, but {type(self).__name__}."
                f"inverse_transform is expecting n_components={self.n_components} "
                "features as input."
            )
        _training.check_float32_range(Z)
        recon = self._map(self._decode, Z, "reconstructions")
        return recon.astype(self._output_dtype(Z), copy=False)

    def score_samples(self, X):
        """Per-sample score: the negated training loss of each row.

        Higher is better; a low score marks a row the model reconstructs
        poorly, so ``-score_samples(X)`` serves as an anomaly score.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            See the estimator's documentation for the units.
        """
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)
        objective = self.net_.criterion_
        objective.eval()
        scores = self._map(
            lambda module, xb: -objective.per_sample(module(xb), xb), X, "scores"
        )
        return scores.astype(np.float64)

    def score(self, X, y=None):
        """Mean of :meth:`score_samples` over X: higher is better.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to score.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
        """
        return float(np.mean(self.score_samples(X)))

    def __setstate__(self, state):
        super().__setstate__(state)
        net = self.__dict__.get("net_")
        if net is not None and hasattr(net.module_, "rng"):
            # skorch pickles the module apart from the rest of the net, which
            # splits the one generator they share into two copies; rejoin
            # them so training after unpickling draws what it would have.
            net.module_.rng = net.iterator_train__rng

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
