"""The epoch loop: stopping rule, best weights, and training that fails cleanly.

A run trains a :class:`~skae._net.TrainingNet` one epoch at a time, so that
the stopping rule ends it without exceptions. After every complete epoch it
keeps a copy of the training state (weights, optimiser, generator,
history); when anything interrupts an epoch — the user's Ctrl-C, a
divergence, an error — the net goes back to that copy, so it never holds a
half-trained epoch.
"""

from dataclasses import dataclass

import torch
from skorch.helper import predefined_split

from ._net import learning_rate_schedule


@dataclass
class RunOutcome:
    """How a run ended.

    Attributes
    ----------
    converged : bool
        The stopping rule ended training.
    interrupted : bool
        A KeyboardInterrupt ended training after at least one complete
        epoch; the net holds the last complete (or best) epoch's state.
    stopped : bool
        A callback asked to stop after an epoch; the net holds that (or
        the best) epoch's state, as after an interrupt.
    epochs : int
        Epochs completed in this run.
    """

    converged: bool = False
    interrupted: bool = False
    stopped: bool = False
    epochs: int = 0


def map_tensors(fn, obj):
    """Apply ``fn`` to every tensor in nested dicts and lists (a state dict)."""
    if torch.is_tensor(obj):
        return fn(obj)
    if isinstance(obj, dict):
        return {k: map_tensors(fn, v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [map_tensors(fn, v) for v in obj]
    return obj


def _clone(obj):
    return map_tensors(lambda t: t.detach().clone(), obj)


def weights(net):
    """A copy of the module's and the criterion's parameters and buffers."""
    return {"module": _clone(net.module_.state_dict()),
            "criterion": _clone(net.criterion_.state_dict())}


def load_weights(net, state):
    net.module_.load_state_dict(state["module"])
    net.criterion_.load_state_dict(state["criterion"])


class Checkpoint:
    """Everything a run changes, as it was after the last complete epoch.

    Weights, buffers and the optimiser's state are copied into tensors kept
    from one epoch to the next, so that refreshing the copy costs one
    ``copy_`` per tensor rather than building state dicts every epoch. The
    learning-rate schedule's state (a few numbers) is copied whole.
    """

    def __init__(self, net, generator):
        self.net, self.generator = net, generator
        self.schedule = learning_rate_schedule(net)
        # Parameters and buffers are the same tensors for the whole run.
        self._fixed = [t.detach() for part in (net.module_, net.criterion_)
                       for t in (*part.parameters(), *part.buffers())]
        self._layout, self._copies = None, None
        self.take()

    def _optimizer_tensors(self):
        state = self.net.optimizer_.state
        layout = tuple((id(p), tuple(sorted(s))) for p, s in state.items())
        tensors = [s[k] for s in state.values() for k in sorted(s) if torch.is_tensor(s[k])]
        return layout, tensors

    def take(self):
        layout, optimizer = self._optimizer_tensors()
        live = self._fixed + optimizer
        if layout != self._layout:
            # The optimiser creates its state on its first step: copy anew.
            self._layout = layout
            self._copies = [t.detach().clone() for t in live]
            self._optimizer_state = _clone(self.net.optimizer_.state_dict())
        else:
            for copy, tensor in zip(self._copies, live, strict=True):
                copy.copy_(tensor)
        self.generator_state = self.generator.get_state()
        self.epochs = len(self.net.history)
        if self.schedule is not None:
            self.schedule_state = self.schedule.state_dict(self.net)

    def restore(self):
        layout, optimizer = self._optimizer_tensors()
        if layout == self._layout:
            targets = self._fixed + optimizer
        else:
            targets = self._fixed
            self.net.optimizer_.load_state_dict(self._optimizer_state)
        with torch.no_grad():
            for tensor, copy in zip(targets, self._copies, strict=False):
                tensor.copy_(copy)
        self.generator.set_state(self.generator_state)
        del self.net.history[self.epochs:]
        # An interrupt may come after the schedule stepped in the epoch's end;
        # loading its state sets the rates back too (only a schedule moves them).
        if self.schedule is not None:
            self.schedule.load_state_dict(self.net, self.schedule_state)


def run_epochs(net, dataset, *, max_epochs, generator, valid=None, stopping=None,
               keep_best=False, allow_interrupt=True, monitor=None, ranks=None,
               tasks=None):
    """Train ``net`` on ``dataset`` for up to ``max_epochs`` epochs.

    Parameters
    ----------
    net : TrainingNet
    dataset : ArrayDataset or ChunkedDataset
    max_epochs : int
    generator : torch.Generator
        Passed to the module's ``forward`` as ``generator`` (the net's
        batches draw from the same one); with ``ranks``, the batches draw
        from it and ``forward`` from a generator of each process's own
        (:meth:`~skae._distributed.Ranks.local_generator`).
    valid : ArrayDataset, ChunkedDataset or None
        Scored after every epoch (``valid_loss``); the stopping rule then
        watches it instead of the training loss.
    stopping : NoImprovementStopping or None
        Ends the run when it says so; None trains ``max_epochs`` epochs.
        With a schedule that lowers the learning rate on a plateau, a
        lowered rate restarts the rule's count, and the rule ends the run
        only once the rate is at its floor (MLPRegressor's
        ``learning_rate="adaptive"``).
    keep_best : bool
        Leave the net with the weights of the epoch the rule found best.
    allow_interrupt : bool
        Turn a KeyboardInterrupt after a complete epoch into an outcome;
        otherwise it propagates, like one before the first complete epoch.
    monitor : str or None
        The history column the stopping rule watches; None means
        ``valid_loss`` with ``valid`` and ``train_loss`` without.
    ranks : Ranks or None
        Train together with the other processes of a process group (see
        :mod:`skae._distributed`): each trains on its share of every batch,
        and all of them record the same losses, so that they stop at the
        same epoch. An interrupt then propagates whatever the epoch, since
        the other processes cannot go on alone.
    tasks : EpochTasks or None
        Each epoch as a task of scikit-learn's callbacks (see
        :mod:`skae._callbacks`); a callback may end the run after an epoch
        (with ``ranks``, the run of every process).

    Returns
    -------
    RunOutcome
    """
    net.train_split = None if valid is None else predefined_split(valid)
    if monitor is None:
        monitor = "train_loss" if valid is None else "valid_loss"
    last = Checkpoint(net, generator)
    schedule = last.schedule
    best = None
    outcome = RunOutcome()
    draws = generator
    if ranks is not None:
        net.ranks_ = ranks
        allow_interrupt = False
        draws = ranks.local_generator(generator)
    net.notify("on_train_begin", X=dataset, y=None)
    try:
        for _ in range(max_epochs):
            if tasks is not None:
                tasks.begin(net)
            net.fit_loop(dataset, epochs=1, generator=draws)
            outcome.epochs += 1
            improved = stopping is not None and stopping.update(net.history[-1, monitor])
            if keep_best and improved:
                best = weights(net)
            last.take()
            if schedule is not None and schedule.lowered_on_plateau_ and stopping is not None:
                stopping.restart()
            stop = tasks is not None and tasks.end(net, best if keep_best else None)
            if ranks is not None:
                # The processes stop together, at the first epoch any of them
                # is asked to stop after, whatever callbacks each one has.
                stop = bool(ranks.sum(torch.tensor([float(stop)], dtype=torch.float64)).item())
            if stop:
                outcome.stopped = True
                break
            if (stopping is not None and stopping.should_stop
                    and not (schedule is not None and schedule.can_lower(net))):
                outcome.converged = True
                break
    except KeyboardInterrupt:
        last.restore()
        if not allow_interrupt or outcome.epochs == 0:
            raise
        outcome.interrupted = True
    except BaseException:
        last.restore()
        raise
    finally:
        # The validation split and the process group must not stay
        # referenced by the net.
        net.train_split = None
        net.ranks_ = None
    net.notify("on_train_end", X=dataset, y=None)
    if best is not None:
        load_weights(net, best)
    if tasks is not None:
        tasks.close()
    return outcome
