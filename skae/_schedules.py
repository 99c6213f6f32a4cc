"""Learning-rate schedules: from an estimator's parameters to a torch scheduler.

Each schedule is one of :mod:`torch.optim.lr_scheduler`'s, stepped once per
epoch by :class:`skae._net.LearningRateSchedule`; this module only maps the
``learning_rate`` parameter and its companions to the scheduler's arguments.
"""

from functools import partial

from torch.optim import lr_scheduler

#: The ``learning_rate`` values, ``"constant"`` first (no scheduler).
SCHEDULES = ("constant", "step", "exponential", "cosine", "adaptive")

#: ``"adaptive"`` lowers the rate down to this fraction of ``learning_rate_init``
#: and no further: MLPRegressor's floor of 1e-6 for its default rate of 1e-3.
ADAPTIVE_FLOOR = 1e-3


def _adaptive(optimizer, *, factor, patience, tol, floor):
    # threshold_mode="abs": an epoch improves when it lowers the best loss by
    # more than tol, the stopping rule's sense of tol. eps=0: every cut down
    # to the floor is made, however small the rates, so that the floor is
    # always reached (the stopping rule waits for it).
    return lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", factor=factor, patience=patience, threshold=tol,
        threshold_mode="abs", min_lr=floor, eps=0.0)


def scheduler_factory(estimator):
    """``make(optimizer)`` returning the estimator's scheduler, or None for ``"constant"``.

    The factory, not a scheduler, is what the net keeps: the scheduler is
    bound to an optimiser, which is rebuilt when a pickled model is loaded.
    """
    name = estimator.learning_rate
    decay, every = estimator.learning_rate_decay, estimator.decay_epochs
    if name == "step":
        return partial(lr_scheduler.StepLR, step_size=every, gamma=decay)
    if name == "exponential":
        # The rate falls by ``decay`` over ``every`` epochs, as with "step".
        return partial(lr_scheduler.ExponentialLR, gamma=decay ** (1.0 / every))
    if name == "cosine":
        # Warm restarts rather than CosineAnnealingLR: past max_iter epochs
        # (partial_fit) the rate starts a new cycle instead of climbing back
        # along the cosine.
        return partial(lr_scheduler.CosineAnnealingWarmRestarts, T_0=estimator.max_iter)
    if name == "adaptive":
        return partial(_adaptive, factor=decay, patience=estimator.n_iter_no_change,
                       tol=estimator.tol,
                       floor=ADAPTIVE_FLOOR * estimator.learning_rate_init)
    return None
