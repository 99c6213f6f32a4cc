"""What skae's classifiers share: labels, unlabelled rows, fit, partial_fit and predict."""

import math
import warnings
from numbers import Number

import numpy as np
import torch
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import BaseNetworkEstimator
from ._callbacks import begin_fit, end_fit, training_epochs
from ._chunks import is_chunked
from ._data import ArrayDataset, check_float32_range
from ._fitting import run_epochs
from ._stacklevel import user_stacklevel
from ._stopping import NoImprovementStopping
from ._transaction import transaction
from .exceptions import CollapsedClassesWarning
from .nn.classifier import UNLABELED


def unlabeled_rows(y):
    """Mask of the rows of ``y`` marked unlabelled (-1, scikit-learn's convention)."""
    if y.dtype.kind in "iuf":
        return y == -1
    if y.dtype == object:
        return np.fromiter((isinstance(v, Number) and v == -1 for v in y), bool, len(y))
    return np.zeros(len(y), dtype=bool)


#: Labelled training rows, evenly spaced, on which fit checks that the
#: classifier learned from the labels.
_CHECKED_ROWS = 2000
#: A classifier whose accuracy on its labelled rows does not exceed the most
#: common class's share by this fraction of what is left to gain learned
#: nothing from them.
_MAJORITY_MARGIN = 0.1


class BaseNetworkClassifier(ClassifierMixin, BaseNetworkEstimator):
    """Base of skae's classifiers: a network trained on labelled and unlabelled rows.

    Rows labelled -1 are unlabelled, as in :mod:`sklearn.semi_supervised`.
    The network's module has ``logits(x)``; its objective reads each row's
    class index (-1 when unlabelled) as the batch's target and has
    ``count_errors``, so that early stopping watches the validation error
    rate.

    Warning: This class should not be used directly. Use derived classes
    instead.
    """

    def _uses_unlabelled(self):
        """Whether training (beyond ``_before_training``) learns from unlabelled rows (hook)."""
        return False

    def _before_training(self, inputs):
        """Train parts of the network on every row before the classifier trains (hook)."""

    # ------------------------------------------------------------- labels
    def _validate_training_data(self, X, y, *, reset):
        if is_chunked(X):
            raise ValueError(
                f"{type(self).__name__} trains on data in memory only; data read a chunk "
                "at a time (ChunkedData, or an h5py, zarr or dask array) serves its predict "
                "and predict_proba. Load the training rows into a NumPy array, or call "
                "partial_fit on one chunk at a time."
            )
        X, y = validate_data(self, X, y, reset=reset, accept_sparse="csr",
                             dtype=[np.float64, np.float32], ensure_min_samples=2)
        check_float32_range(X)
        # Only labelled rows: -1 beside string labels is not a label type.
        check_classification_targets(y[~unlabeled_rows(y)])
        return X, y

    def _set_classes(self, y):
        unlabeled = unlabeled_rows(y)
        if unlabeled.all():
            raise ValueError(
                f"Every row of y is -1 (unlabelled); {type(self).__name__} needs some "
                "labelled rows. To learn from X alone use AutoencoderTransformer."
            )
        classes = np.unique(y[~unlabeled])
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs labelled rows of at least 2 classes; the "
                f"labelled rows of y all belong to class {classes[0]!r}."
            )
        self.classes_ = classes

    def _class_indices(self, y):
        """Each row's index in ``classes_``; -1 for an unlabelled row."""
        unlabeled = unlabeled_rows(y)
        labels = y[~unlabeled]
        index = np.searchsorted(self.classes_, labels)
        index = np.minimum(index, len(self.classes_) - 1)
        unknown = self.classes_[index] != labels
        if unknown.any():
            raise ValueError(
                f"y contains labels not in classes_ ({self.classes_.tolist()}): "
                f"{np.unique(labels[unknown]).tolist()}. Pass every class to the first "
                "partial_fit call with classes=, or refit with fit."
            )
        out = np.full(len(y), UNLABELED, dtype=np.int64)
        out[~unlabeled] = index
        return out

    # ------------------------------------------------------------ training
    def _training_sets(self, inputs, classes, *, validation):
        """The fine-tuning rows (and held-out labelled rows), sharing ``inputs``'s rows."""
        data = ArrayDataset(inputs.inputs, self.net_.device, targets=classes)
        labelled = torch.from_numpy(np.flatnonzero(classes != UNLABELED))
        unlabelled = torch.from_numpy(np.flatnonzero(classes == UNLABELED))
        valid = None
        if validation:
            n = len(labelled)
            n_valid = math.ceil(self.validation_fraction * n)
            if n_valid < 1 or n - n_valid < 1:
                raise ValueError(
                    f"early_stopping=True with validation_fraction={self.validation_fraction} "
                    f"leaves {n - n_valid} training and {n_valid} validation row(s) out of "
                    f"{n} labelled rows; both need at least one. Label more rows or set "
                    "early_stopping=False."
                )
            order = labelled[torch.randperm(n, generator=self._rng.generator)]
            valid, labelled = data.subset(order[:n_valid]), order[n_valid:].sort().values
        if self._uses_unlabelled() and len(unlabelled) and len(labelled):
            # Repeating the labelled rows keeps labels in most batches
            # however few they are.
            repeats = max(1, math.ceil(len(unlabelled) / len(labelled)))
            return data.subset(torch.cat([unlabelled, labelled.repeat(repeats)])), valid
        if len(labelled) == len(data) or (self._uses_unlabelled() and not len(labelled)):
            return data, valid
        return data.subset(labelled), valid

    def _validation_score(self, row):
        # Accuracy on the held-out labelled rows, as MLPClassifier reports.
        return 1.0 - float(row["valid_error"])

    def _fit(self, data):
        X, y = self._validate_training_data(*data, reset=True)
        self._set_classes(y)
        classes = self._class_indices(y)
        self._labelled_count = int(np.sum(classes != UNLABELED))
        self._setup(X)
        inputs = ArrayDataset(X, self.net_.device)
        self._before_training(inputs)
        train, valid = self._training_sets(inputs, classes, validation=self.early_stopping)
        del inputs
        outcome = run_epochs(
            self.net_, train, max_epochs=self.max_iter, generator=self._rng.generator,
            valid=valid,
            stopping=NoImprovementStopping(self.tol, self.n_iter_no_change,
                                           self._warmup_epochs()),
            keep_best=self.early_stopping,
            monitor="valid_error" if self.early_stopping else "train_loss",
            tasks=training_epochs(self, X, y),
        )
        self._record_history()
        if not outcome.interrupted:
            self._warn_no_better_than_majority(X, classes)
        if not (outcome.converged or outcome.interrupted or outcome.stopped):
            warnings.warn(
                f"{type(self).__name__} stopped after max_iter={self.max_iter} epochs "
                "without converging; consider a larger max_iter.",
                ConvergenceWarning,
                stacklevel=user_stacklevel(),
            )
        return outcome

    def _warn_no_better_than_majority(self, X, classes):
        """Warn when the trained classifier fits its labelled rows no better than
        always predicting their most common class."""
        labelled = np.flatnonzero(classes != UNLABELED)
        if len(self.classes_) < 2 or not len(labelled):
            return
        labelled = labelled[np.linspace(0, len(labelled) - 1,
                                        min(len(labelled), _CHECKED_ROWS)).astype(int)]
        logits = self._map(lambda module, criterion, x: module.logits(x), X[labelled],
                           "logits")
        accuracy = float(np.mean(logits.argmax(axis=1) == classes[labelled]))
        majority = np.bincount(classes[labelled]).max() / len(labelled)
        if accuracy > majority + _MAJORITY_MARGIN * (1 - majority):
            return
        warnings.warn(
            f"{type(self).__name__} classifies its labelled training rows no better than "
            f"always predicting their most common class (accuracy {accuracy:.2f} against "
            f"{majority:.2f}): it learned nothing from the labels. In a semi-supervised "
            "model the reconstruction term has probably swamped the labelled rows' "
            "cross-entropy; scale the data to unit order, use a likelihood that fits it "
            "(likelihood='bernoulli' for values in [0, 1]), or give the labels more weight.",
            CollapsedClassesWarning,
            stacklevel=user_stacklevel(),
        )

    def _partial_fit(self, data, start=None):
        X, y, classes = data
        first_call = not hasattr(self, "net_")
        if first_call and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit: the "
                "classes of all the data to come, as a list of labels."
            )
        X, y = self._validate_training_data(X, y, reset=first_call)
        if first_call:
            self._set_classes(np.asarray(classes))
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"classes={list(classes)!r} differs from the classes of the first "
                f"partial_fit call, {self.classes_.tolist()}."
            )
        indices = self._class_indices(y)
        if first_call:
            self._labelled_count = int(np.sum(indices != UNLABELED))
            self._setup(X)
        if (indices == UNLABELED).all() and not self._uses_unlabelled():
            raise ValueError(
                f"Every row of y is -1 (unlabelled), and {type(self).__name__} as set "
                "learns from labelled rows only in partial_fit; pass labelled rows."
            )
        train, _ = self._training_sets(ArrayDataset(X, self.net_.device), indices,
                                          validation=False)
        outcome = run_epochs(self.net_, train, max_epochs=1, generator=self._rng.generator,
                             tasks=training_epochs(self, X, y), start=start)
        self._record_history()
        return outcome

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train the classifier on X and y, unlabelled rows included.

        What each estimator does before training the classifier (such as
        pretraining) is in its own description.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse input must be CSR; it is densified one
            batch at a time.
        y : array-like of shape (n_samples,)
            Class labels; -1 marks an unlabelled row.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        begin_fit(self, X, y)
        transaction(self, self._fit, (X, y))
        end_fit(self, X, y)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None):
        """Train for one epoch on X, continuing from the current weights.

        The first call initialises the network from ``random_state`` and
        needs ``classes``; nothing is pretrained.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels; -1 marks an unlabelled row, which only an
            unsupervised term of the objective uses.
        classes : array-like of shape (n_classes,), default=None
            Every class of the data to come; required on the first call.

        Returns
        -------
        self : object
            The classifier.
        """
        begin_fit(self, X, y, partial=True)
        transaction(self, self._partial_fit, (X, y, classes), continues=True)
        end_fit(self, X, y)
        return self

    # ------------------------------------------------------------ predict
    def _class_outputs(self, X, fn, what):
        check_is_fitted(self)
        outputs = lambda module, criterion, x: fn(module.logits(x))  # noqa: E731
        if is_chunked(X):
            return self._map_chunks(outputs, X, what)
        X = self._validate_input(X, reset=False)
        return self._map(outputs, X, what)

    def predict_proba(self, X):
        """Probability of each class.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        return self._class_outputs(X, lambda z: torch.softmax(z, dim=1), "probabilities")

    def predict_log_proba(self, X):
        """Logarithm of the probability of each class.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        return self._class_outputs(X, lambda z: torch.log_softmax(z, dim=1),
                                   "log-probabilities")

    def predict(self, X):
        """Most probable class of each row.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags
