"""Progress within an epoch written as plain lines, for logs and notebooks."""

import sys
import time


class LineProgress:
    """The progress of one epoch as a line every ``interval`` seconds.

    Stands in for a tqdm bar (``update``, ``set_postfix``, ``close``) where
    standard error is not a terminal: a log file or a notebook shows a bar's
    carriage returns as clutter or not at all, but shows a line such as
    ``epoch 3: 120/500 batches (24%), 30 s``.

    Parameters
    ----------
    epoch : int
        The epoch's number (from 1), as the table of ``verbose`` numbers it.
    total : int or None
        Batches in the epoch, None when unknown.
    interval : float
        Seconds between lines; the first comes once the epoch has lasted
        that long, so that short epochs write none.
    """

    def __init__(self, epoch, total, *, interval):
        self.epoch, self.total, self.interval = epoch, total, interval
        self.done = 0
        self.start = self._last = time.monotonic()

    def set_postfix(self, postfix, refresh=False):
        # skorch's bar shows batch losses, which the net records per epoch only.
        pass

    def update(self, n=1):
        self.done += n
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self._write(now)

    def close(self):
        pass

    def _write(self, now):
        if self.total:
            where = f"{self.done}/{self.total} batches ({100 * self.done / self.total:.0f}%)"
        else:
            where = f"{self.done} batches"
        # sys.stderr as it is now: a notebook or a test may have replaced it.
        print(f"epoch {self.epoch}: {where}, {now - self.start:.0f} s",
              file=sys.stderr, flush=True)
