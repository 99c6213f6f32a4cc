"""Exceptions raised by skae."""


class TrainingDivergedError(FloatingPointError):
    """Training produced a non-finite loss.

    Raised as soon as a batch's loss is NaN or infinite, before the
    optimiser takes a step, so the network keeps its last finite weights.
    A smaller ``learning_rate_init`` or scaled input (for example with
    :class:`~sklearn.preprocessing.StandardScaler`) usually helps.
    """
