"""scikit-learn's callbacks (:mod:`sklearn.callback`) on skae's fits.

``fit`` is a task whose subtasks are the epochs; with pretraining it has
two subtasks, ``"pretraining"`` (one ``"stage"`` subtask per stage, each
with its epochs) and ``"training"`` (the epochs of the network trained
whole). ``partial_fit`` is a task with one epoch. A callback's
``on_fit_task_end`` returning True after an epoch ends that level of
epochs: a pretraining stage goes on to the next stage, training ends and
``fit`` returns normally.

The hooks get the training data as ``X`` and the targets as ``y``: the
labels for a classifier, ``X`` itself for an autoencoder, whose target is
its input (so that :class:`sklearn.callback.ScoringMonitor` scores every
estimator); epochs on data read a chunk at a time get neither. Callbacks
that ask for ``fitted_estimator`` get, after each epoch of training, a copy
of the estimator as if ``fit`` had stopped then.

Nothing here runs when the estimator has no callbacks, and nothing needs
:mod:`sklearn.callback`, which scikit-learn provides from 1.9 on.
"""

import torch

from ._chunks import ChunkedRows
from ._fitting import load_weights, weights
from ._net import restore_history

try:
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # scikit-learn < 1.9

    class CallbackSupportMixin:
        """Stand-in for :class:`sklearn.callback.CallbackSupportMixin`: no callbacks."""


def pretrains(estimator):
    """Whether ``fit`` trains parts of the network before the whole."""
    return getattr(estimator, "pretrain", None) is not None


def begin_fit(estimator, X, y=None, *, partial=False):
    """Open the root task of ``fit`` (or ``partial_fit``) when callbacks are set.

    Called before any fitted state changes, so that an estimator that a
    failure leaves as it was keeps the context its callbacks are torn down
    with (scikit-learn's ``_fit_context`` tears them down).
    """
    if not getattr(estimator, "_skl_callbacks", None):
        return
    if partial:
        name, n_subtasks = "partial_fit", 1
    else:
        name, n_subtasks = "fit", 2 if pretrains(estimator) else estimator.max_iter
    context = estimator._init_callback_context(task_name=name, max_subtasks=n_subtasks)
    context.call_on_fit_task_begin(estimator=estimator, X=X, y=y)


def end_fit(estimator, X, y=None):
    """Close the root task; the fitted estimator is the estimator as it is."""
    context = getattr(estimator, "_callback_fit_ctx", None)
    if context is not None:
        context.call_on_fit_task_end(estimator=estimator, X=X, y=y,
                                     reconstruction_attributes={})


def training_epochs(estimator, X, y=None):
    """The :class:`EpochTasks` of the training proper, or None without callbacks.

    ``X`` is the validated training data; read a chunk at a time, it is no
    array a callback could use, and the callbacks get neither X nor y.
    """
    root = getattr(estimator, "_callback_fit_ctx", None)
    if root is None:
        return None
    rows = X
    if isinstance(X, ChunkedRows):
        X = y = None
    if root.task_name == "fit" and pretrains(estimator):
        phase = _begin(estimator, root, "training", estimator.max_iter, X, y)
        return EpochTasks(estimator, phase, X, y, rows=rows, close_parent=True)
    return EpochTasks(estimator, root, X, y, rows=rows)


def pretraining_stages(estimator, n_stages):
    """The task of pretraining, with ``n_stages`` subtasks, or None without callbacks."""
    root = getattr(estimator, "_callback_fit_ctx", None)
    if root is None:
        return None
    return _begin(estimator, root, "pretraining", n_stages)


def stage_epochs(estimator, pretraining):
    """The :class:`EpochTasks` of one pretraining stage, a subtask of ``pretraining``."""
    if pretraining is None:
        return None
    stage = _begin(estimator, pretraining, "stage", estimator.max_iter)
    return EpochTasks(estimator, stage, close_parent=True)


def end_task(estimator, context):
    """End a task opened here (pretraining), if any."""
    if context is not None:
        context.call_on_fit_task_end(estimator=estimator)


def _begin(estimator, parent, name, n_subtasks, X=None, y=None):
    context = parent.subcontext(task_name=name, max_subtasks=n_subtasks)
    context.call_on_fit_task_begin(estimator=estimator, X=X, y=y)
    return context


class EpochTasks:
    """The epochs of one run of :func:`skae._fitting.run_epochs` as subtasks.

    Parameters
    ----------
    estimator : estimator
        The estimator being fitted, handed to the callbacks.
    parent : CallbackContext
        The task the epochs are subtasks of.
    X, y : array-like or None
        The training data, handed to the callbacks.
    rows : array-like, ChunkedRows or None
        The training data of a run that trains the estimator's own net, for
        the fitted attributes read from it: callbacks that ask for
        ``fitted_estimator`` get a copy of the estimator as if ``fit`` had
        stopped at the epoch. None (pretraining stages): they get None.
    close_parent : bool
        End ``parent`` when the run ends.
    """

    def __init__(self, estimator, parent, X=None, y=None, *, rows=None,
                 close_parent=False):
        self.estimator, self.parent, self.X, self.y = estimator, parent, X, y
        self.rows, self.close_parent = rows, close_parent
        self._current = None

    def _hook_arguments(self, net, best=None):
        arguments = {"estimator": self.estimator, "X": self.X, "y": self.y}
        if self.rows is not None:
            # Evaluated only for callbacks that ask for fitted_estimator.
            arguments["reconstruction_attributes"] = (
                lambda: fitted_attributes(self.estimator, net, best, self.rows))
        return arguments

    def begin(self, net):
        """Begin the next epoch's task."""
        self._current = self.parent.subcontext(task_name="epoch")
        self._current.call_on_fit_task_begin(**self._hook_arguments(net))

    def end(self, net, best=None):
        """End the epoch's task; True when a callback asks to stop after it.

        ``best`` holds the weights the run would end with (those of the best
        epoch with early stopping), None for the net's own.
        """
        context, self._current = self._current, None
        return context.call_on_fit_task_end(**self._hook_arguments(net, best))

    def close(self):
        """End the run's task when it is one of its own (a stage, training)."""
        if self.close_parent:
            self.parent.call_on_fit_task_end(estimator=self.estimator, X=self.X, y=self.y)


def fitted_attributes(estimator, net, best, X):
    """What a copy of ``estimator`` needs to predict as if fit had stopped now.

    A new net of the estimator's, with a copy of ``net``'s weights (or of
    ``best``) and history; the fitted attributes read from the history and
    from the training data (``_inspect``) as ``fit`` sets them at its end.
    """
    # A copy of the instance's attributes, without the pickling round trip
    # that copy.copy makes (it rebuilds the net).
    twin = object.__new__(type(estimator))
    twin.__dict__.update(estimator.__dict__)
    twin.net_ = estimator._build(estimator.n_features_in_, estimator._batch_size,
                                 torch.Generator(), device=net.device)
    load_weights(twin.net_, weights(net) if best is None else best)
    restore_history(twin.net_, [dict(row) for row in net.history])
    twin.net_.reference_loss_ = net.reference_loss_
    twin._record_history()
    twin._inspect(X, converged=False)
    return {name: value for name, value in twin.__dict__.items()
            if estimator.__dict__.get(name, twin) is not value}
