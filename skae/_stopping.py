"""The stopping rule: scikit-learn's multi-layer perceptrons', with a tolerance relative to
the loss's scale."""

import math


class NoImprovementStopping:
    """Stop when a loss has not improved by ``tol`` of its scale for too many epochs.

    The rule is :class:`sklearn.neural_network.MLPRegressor`'s, to the
    epoch, but for the tolerance, which is relative to the loss's scale, the
    magnitude of the first epoch's loss: an epoch whose loss is above the
    best so far minus ``tol * scale`` counts as no improvement, any other
    resets the count, and training ends once the count exceeds
    ``n_iter_no_change`` (so after ``n_iter_no_change + 1`` such epochs in a
    row). Such a tolerance means the same on every scale of the data (an
    autoencoder's loss is summed over features: an absolute one ends
    training on wide or large-valued data long before narrow or small-valued
    data), and, unlike one relative to the best loss, it lets a fit whose
    loss heads for 0 (a code nearly as wide as the data) end.

    Parameters
    ----------
    tol : float
        Decrease of the loss, as a fraction of the first epoch's loss, that
        counts as an improvement.
    n_iter_no_change : int
        Epochs without improvement that are tolerated.
    warmup : int, default=0
        Epochs over which the objective itself changes (a KL weight rising
        to its value): each counts as the best so far, and the rule starts
        afresh after them. Losses of a warm-up are not comparable with the
        losses that follow, so a rule that compared them would stop training
        at the end of the warm-up, or before.
    """

    def __init__(self, tol, n_iter_no_change, warmup=0):
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.warmup = warmup
        self.best_ = math.inf
        self.scale_ = None
        self.count_ = 0
        self.epochs_ = 0

    def update(self, loss):
        """Record an epoch's loss; return True when it is the best so far."""
        self.epochs_ += 1
        if self.epochs_ <= self.warmup:
            return True
        if self.scale_ is None:
            self.scale_ = abs(loss)
        self.count_ = 0 if improves(loss, self.best_, self.tol * self.scale_) else self.count_ + 1
        improved = loss < self.best_
        if improved:
            self.best_ = loss
        return improved

    def restart(self):
        """Forget the epochs without improvement counted so far.

        Called when the learning rate was lowered on a plateau: as in
        MLPRegressor with ``learning_rate="adaptive"``, the lower rate gets
        ``n_iter_no_change`` epochs of its own.
        """
        self.count_ = 0

    @property
    def should_stop(self):
        return self.count_ > self.n_iter_no_change


def improves(loss, best, margin):
    """Whether ``loss`` lowers ``best`` by more than ``margin``."""
    return best == math.inf or loss <= best - margin
