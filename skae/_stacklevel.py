"""Warnings that point at the user's line, however deep in skae they are raised."""

import os
import sys

import joblib
import sklearn

#: The folders of skae (this file's), of scikit-learn, and of joblib, through
#: which scikit-learn's searches and cross-validation call fit.
_INTERNAL = tuple(os.path.dirname(path) + os.sep
                  for path in (__file__, sklearn.__file__, joblib.__file__))


def user_stacklevel():
    """``stacklevel`` for a ``warnings.warn`` in the caller: the first frame outside
    skae, scikit-learn and joblib.

    Counting frames by hand breaks whenever a call is wrapped, and
    scikit-learn wraps ``fit`` (``_fit_context``), a search calls it, and
    so on; walking the stack does not.
    """
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_INTERNAL):
        frame, level = frame.f_back, level + 1
    return level
