"""Warnings that point at the user's line, however deep in skae they are raised."""

import os
import sys

import sklearn

#: Where skae's and scikit-learn's files are (this file is in skae's folder).
_INTERNAL = (os.path.dirname(__file__) + os.sep, os.path.dirname(sklearn.__file__) + os.sep)


def user_stacklevel():
    """``stacklevel`` for a ``warnings.warn`` in the caller: the first frame outside
    skae and scikit-learn.

    Counting frames by hand breaks whenever a call is wrapped, and
    scikit-learn wraps ``fit`` (``_fit_context``), a search calls it, and
    so on; walking the stack does not.
    """
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_INTERNAL):
        frame, level = frame.f_back, level + 1
    return level
