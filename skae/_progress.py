"""What ``verbose`` writes: the table of epochs, and progress within an epoch."""

import sys
import time

from skorch.callbacks import PrintLog


class EpochTable(PrintLog):
    """skorch's table of epochs, one row per epoch, in the columns of its first row.

    skorch tabulates each row on its own, from the keys the row has: after
    a ``fit`` with early stopping, ``partial_fit`` (which holds no data out)
    records no ``valid_loss``, and its rows shifted the later columns left,
    under the wrong headers. Here a value a row lacks is left blank, and a
    column that appears later is left out, as the header is already written.
    """

    def initialize(self):
        super().initialize()
        self.keys_ = None
        return self

    def table(self, row):
        if self.keys_ is None:
            self.keys_ = list(row)
        return super().table({key: row.get(key, "") for key in self.keys_})


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
