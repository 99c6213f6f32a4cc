"""Learning-rate schedules: from an estimator's parameters to a torch scheduler.

Each schedule is one of :mod:`torch.optim.lr_scheduler`'s, stepped once per
epoch by :class:`skae._net.LearningRateSchedule`; this module only maps the
``learning_rate`` parameter and its companions to the scheduler's arguments.
"""

from functools import partial

from torch.optim import lr_scheduler

from ._stopping import improves

#: The ``learning_rate`` values, ``"constant"`` first (no scheduler).
SCHEDULES = ("constant", "step", "exponential", "cosine", "adaptive")

#: ``"adaptive"`` lowers the rate down to this fraction of ``learning_rate_init``
#: and no further: MLPRegressor's floor of 1e-6 for its default rate of 1e-3.
ADAPTIVE_FLOOR = 1e-3

#: ``"adaptive"`` lowers the rate once this many epochs in a row fail to
#: improve the loss (MLPRegressor's documented "two consecutive epochs"), so
#: that the rate reaches its floor within a few dozen epochs of a plateau.
PLATEAU_EPOCHS = 2


class _ScaledPlateau(lr_scheduler.ReduceLROnPlateau):
    """ReduceLROnPlateau whose epochs improve by the stopping rule's test.

    An epoch improves when it lowers the best loss by more than ``threshold``
    times the first loss the scheduler was shown (the loss's scale), as in
    :class:`~skae._stopping.NoImprovementStopping`; torch's own modes compare
    with the best loss, which never settles when the loss heads for 0.
    """

    scale = None

    def is_better(self, a, best):
        if self.scale is None:
            self.scale = abs(float(a))
        return improves(a, best, self.threshold * self.scale)

    # torch renamed the comparison (public before 2.6 or so, private since);
    # both names are overridden so that every supported torch uses this one.
    _is_better = is_better


def _adaptive(optimizer, *, factor, patience, tol, floor):
    # eps=0: every cut down to the floor is made, however small the rates,
    # so that the floor is always reached (the stopping rule waits for it).
    # Each group of parameters (a wide layer trains at a lower rate, see
    # skae._learning_rates.fan_in_param_groups) has its floor at the same fraction of
    # its starting rate.
    return _ScaledPlateau(
        optimizer, mode="min", factor=factor, patience=patience, threshold=tol,
        min_lr=[floor * group["lr"] for group in optimizer.param_groups], eps=0.0)


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
        return partial(_adaptive, factor=decay, patience=PLATEAU_EPOCHS - 1,
                       tol=estimator.tol,
                       floor=ADAPTIVE_FLOOR)
    return None
