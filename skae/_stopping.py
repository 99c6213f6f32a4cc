"""The stopping rule of scikit-learn's multi-layer perceptrons."""

import math


class NoImprovementStopping:
    """Stop when a loss has not improved by ``tol`` for too many epochs.

    The rule is :class:`sklearn.neural_network.MLPRegressor`'s, to the
    epoch: an epoch whose loss is above the best so far minus ``tol`` counts
    as no improvement, any other resets the count, and training ends once
    the count exceeds ``n_iter_no_change`` (so after ``n_iter_no_change + 1``
    such epochs in a row).

    Parameters
    ----------
    tol : float
        Decrease of the loss that counts as an improvement.
    n_iter_no_change : int
        Epochs without improvement that are tolerated.
    """

    def __init__(self, tol, n_iter_no_change):
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.best_ = math.inf
        self.count_ = 0

    def update(self, loss):
        """Record an epoch's loss; return True when it is the best so far."""
        self.count_ = self.count_ + 1 if loss > self.best_ - self.tol else 0
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
