"""Ctrl-C held back while training state is swapped, so that it never lands half-way.

Python raises KeyboardInterrupt between any two bytecodes of the main
thread. Code that replaces several references that must change together (a
checkpoint and its epoch count, an estimator's attributes on rollback) runs
inside :class:`deferred`: a SIGINT that arrives there is recorded, and
raised as KeyboardInterrupt when the section ends. :class:`allowed` lets
interrupts through again for the long work inside such a section
(training), where they must stop the work at once.

Whether a signal is let through is one flag, set only by the sections'
entries and exits and by the handler: the handler closes it before it
raises, so that code handling a KeyboardInterrupt (putting state back) is
never cut short by a second one, even when the interrupt lands in the exit
of an :class:`allowed` section.

Only the main thread receives signals; in other threads both are no-ops.
"""

import signal
import threading

# Main-thread state: whether a SIGINT is let through now, whether one waits
# to be raised, and the handler to restore when the outermost section ends.
_open = False
_pending = False
_previous = None


def _handler(signum, frame):
    global _open, _pending
    if not _open:
        _pending = True
        return
    previous = _previous
    if previous == signal.SIG_IGN:
        return
    _open = False
    if callable(previous) and previous is not signal.default_int_handler:
        # A handler of the caller's own: when it does not raise, work goes on.
        previous(signum, frame)
        _open = True
        return
    raise KeyboardInterrupt


def _active():
    """Whether this thread receives signals and the handler is in place."""
    return (threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is _handler)


def _raise_pending():
    global _open, _pending
    if _pending:
        _open = _pending = False
        raise KeyboardInterrupt


def _reopen():
    global _open
    _open = True
    # A signal recorded just before the flag was set is raised now.
    _raise_pending()


class deferred:
    """Hold SIGINT back for the duration of the block; raise it at the end.

    Nests: a signal held back by an inner section inside an :class:`allowed`
    one is raised when the inner section ends.
    """

    def __enter__(self):
        global _open, _pending, _previous
        self.outermost = self.was_open = False
        if threading.current_thread() is not threading.main_thread():
            return self
        if signal.getsignal(signal.SIGINT) is _handler:
            # A signal before the next statement is raised by the handler
            # with the flag closed, outside this section.
            self.was_open = _open
            _open = False
        else:
            # Whatever an earlier section left unraised (a signal in its
            # exit) is not this section's.
            _open = _pending = False
            _previous = signal.signal(signal.SIGINT, _handler)
            self.outermost = True
        return self

    def __exit__(self, *exc):
        global _open, _pending, _previous
        if self.outermost:
            signal.signal(signal.SIGINT, _previous if _previous is not None
                          else signal.default_int_handler)
            # The handler no longer runs: nothing changes these from here on.
            _previous, _open = None, False
            _raise_pending()
        elif self.was_open:
            _raise_pending()
            _reopen()
        return False


class allowed:
    """Let SIGINT interrupt the block, inside a :class:`deferred` section.

    A signal held back before the block is raised as it begins; when the
    block ends, by an exception or not, signals are held back again.
    """

    def __enter__(self):
        self.active = _active()
        if self.active:
            _raise_pending()
            _reopen()
        return self

    def __exit__(self, *exc):
        global _open
        if self.active:
            _open = False
        return False
