"""Checks on data values that a likelihood can or cannot model."""

import scipy.sparse as sp


def check_unit_interval(X, estimator, parameter, alternative="loss='squared_error'"):
    """Raise unless every value of X lies in [0, 1].

    ``parameter`` names the setting that requires it and ``alternative`` the
    setting that models real values, so the message can say what to change.
    """
    values = X.data if sp.issparse(X) else X
    if values.size and (values.min() < 0 or values.max() > 1):
        raise ValueError(
            f"{type(estimator).__name__} with {parameter} models values in "
            f"[0, 1], but X ranges from {values.min():.4g} to {values.max():.4g}. "
            "Rescale it (for example with sklearn.preprocessing.MinMaxScaler) "
            f"or use {alternative} for real-valued data."
        )
