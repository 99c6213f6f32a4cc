"""The log-gamma function in ONNX operators, which have none of their own.

The count likelihoods' log-probabilities (multinomial coefficient, Poisson
normaliser) need ``lgamma``; torch's ONNX exporter takes this function
as its translation.
"""

import math

import numpy as np
from onnx import numpy_helper
from onnxscript import opset18 as op

#: Stirling's series for lgamma(w), the coefficients of 1/w, 1/w^3, 1/w^5
#: and 1/w^7. With w >= 6 the first term left out is below 1e-10.
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680)
_SHIFT = 6


def _constant(value, like):
    # A float64 constant cast to the input's type: float32 constants would
    # cost six digits in a float64 computation.
    return op.CastLike(op.Constant(value=numpy_helper.from_array(np.array(value, np.float64))),
                       like)


def lgamma(x):
    """``lgamma(x)`` for ``x > 0``, within about 1e-11 of torch's, relative.

    ``lgamma(x) = lgamma(x + 6) - log(x (x + 1) ... (x + 5))``, and
    Stirling's series at ``w = x + 6``.
    """
    shifted = op.Add(x, _constant(_SHIFT, x))
    logs = op.Log(x)
    for k in range(1, _SHIFT):
        logs = op.Add(logs, op.Log(op.Add(x, _constant(k, x))))
    inverse = op.Reciprocal(shifted)
    inverse_squared = op.Mul(inverse, inverse)
    series = _constant(_STIRLING[-1], x)
    for coefficient in reversed(_STIRLING[:-1]):
        series = op.Add(_constant(coefficient, x), op.Mul(inverse_squared, series))
    main = op.Sub(op.Mul(op.Sub(shifted, _constant(0.5, x)), op.Log(shifted)), shifted)
    main = op.Add(main, _constant(0.5 * math.log(2 * math.pi), x))
    return op.Sub(op.Add(main, op.Mul(inverse, series)), logs)
