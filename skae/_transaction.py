"""``fit`` and ``partial_fit`` as transactions: all that a call changes is kept, or none.

``fit`` builds a new network, so putting the estimator's attributes back
undoes it. ``partial_fit`` trains the existing network in place, so its
training state (a :class:`~skae._fitting.Snapshot`) is kept as the call
begins and put back when the call fails, wherever it fails: in the epoch,
in recording the history, or in what the estimator computes afterwards
(principal code axes, latent activity).
"""

import warnings

import torch

from ._fitting import Snapshot
from ._interrupts import allowed, deferred
from ._stacklevel import user_stacklevel
from .exceptions import TrainingDivergedError


def transaction(estimator, train, data, *, continues=False):
    """Run ``train(data)`` for ``estimator``; commit what it changed, or nothing.

    Parameters
    ----------
    estimator : BaseNetworkEstimator
    train : callable
        ``train(data)`` returns a :class:`~skae._fitting.RunOutcome`; with
        ``continues`` and a fitted estimator it is called as
        ``train(data, start=snapshot)``, the snapshot being the network's
        state as the call began, for the run to start from.
    data : object
        What ``train`` trains on.
    continues : bool
        The call trains the estimator's network in place (``partial_fit``).

    Returns
    -------
    estimator : BaseNetworkEstimator
        The estimator, with the call's changes.

    Interrupts are held back while the state is taken and while it is put
    back, and let through while ``train`` runs.
    """
    with deferred():
        saved = estimator.__dict__.copy()
        net = saved.get("net_") if continues else None
        start = None if net is None else Snapshot(net, estimator._rng.generator)
        # An interrupt in the exit of a torch.no_grad block would leave
        # gradients off for the rest of the session.
        grad = torch.is_grad_enabled()
        try:
            with allowed():
                outcome = train(data) if start is None else train(data, start=start)
        except BaseException as error:
            torch.set_grad_enabled(grad)
            if start is not None:
                start.restore(net, saved["_rng"].generator)
            estimator.__dict__.clear()
            estimator.__dict__.update(saved)
            hint = (estimator._divergence_hint() if isinstance(error, TrainingDivergedError)
                    else None)
            if hint:
                raise TrainingDivergedError(f"{error} {hint}") from error
            raise
        torch.set_grad_enabled(grad)
    if outcome.interrupted:
        kept = "the best" if estimator.early_stopping else "the last complete"
        warnings.warn(
            f"{type(estimator).__name__} training was interrupted after "
            f"{estimator.n_iter_} complete epoch(s); the model keeps the weights of {kept} "
            "epoch and is usable. Call partial_fit to train it further.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
        raise KeyboardInterrupt
    return estimator
