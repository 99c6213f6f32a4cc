"""The epoch loop: stopping rule, best weights, and training that fails cleanly.

A run trains a :class:`~skae._net.TrainingNet` one epoch at a time, so that
the stopping rule ends it without exceptions. After every complete epoch it
keeps a :class:`Snapshot` of the training state (weights, optimiser,
schedule, generator, history); when anything interrupts an epoch — the
user's Ctrl-C, a divergence, an error — the net goes back to that snapshot,
so it never holds a half-trained epoch. The number of epochs a run reports
is the snapshot's, so that it always matches what the net holds.
"""

from dataclasses import dataclass

import torch
from skorch.helper import predefined_split

from ._interrupts import deferred
from ._net import learning_rate_schedule, restore_history


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


class Snapshot:
    """Everything an epoch changes in a net, and the generator it draws from.

    Weights, buffers, the optimiser's state, the learning-rate schedule's
    state, the history and the generator's state are copied into new
    objects, and a snapshot is never changed once taken: replacing the
    reference to one is how a run moves its checkpoint on, a step that an
    interrupt cannot split. Restoring one holds interrupts back until the
    net is whole again.
    """

    def __init__(self, net, generator):
        state = weights(net)
        self.module, self.criterion = state["module"], state["criterion"]
        self.optimizer = _clone(net.optimizer_.state_dict())
        # Rows of complete epochs are not written to again.
        self.history = list(net.history)
        self.reference_loss = net.reference_loss_
        self.generator = generator.get_state()
        schedule = learning_rate_schedule(net)
        self.schedule = None if schedule is None else (
            schedule.state_dict(net), schedule.lowered_on_plateau_)

    @property
    def epochs(self):
        return len(self.history)

    def weights(self):
        """The module's and the criterion's state, to load with :func:`load_weights`."""
        return {"module": self.module, "criterion": self.criterion}

    def restore(self, net, generator):
        with deferred():
            load_weights(net, self.weights())
            # The optimiser may keep the tensors it loads: it gets copies,
            # so that training on does not write into this snapshot.
            net.optimizer_.load_state_dict(_clone(self.optimizer))
            restore_history(net, self.history)
            net.reference_loss_ = self.reference_loss
            generator.set_state(self.generator)
            if self.schedule is not None:
                schedule = learning_rate_schedule(net)
                # Loading the schedule's state sets the rates back too.
                schedule.load_state_dict(net, self.schedule[0])
                schedule.lowered_on_plateau_ = self.schedule[1]


def load_weights(net, state):
    net.module_.load_state_dict(state["module"])
    net.criterion_.load_state_dict(state["criterion"])


def run_epochs(net, dataset, *, max_epochs, generator, valid=None, stopping=None,
               keep_best=False, allow_interrupt=True, monitor=None, ranks=None,
               tasks=None, start=None):
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
    start : Snapshot or None
        The net's state as the run begins, when the caller has taken it
        already (to roll back more than the run); None takes one.

    Returns
    -------
    RunOutcome
    """
    net.train_split = None if valid is None else predefined_split(valid)
    if monitor is None:
        monitor = "train_loss" if valid is None else "valid_loss"
    last = Snapshot(net, generator) if start is None else start
    first_epoch = last.epochs
    schedule = learning_rate_schedule(net)
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
            improved = stopping is not None and stopping.update(net.history[-1, monitor])
            snapshot = Snapshot(net, generator)
            with deferred():
                last = snapshot
                if keep_best and improved:
                    best = snapshot.weights()
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
        last.restore(net, generator)
        outcome.epochs = last.epochs - first_epoch
        if not allow_interrupt or outcome.epochs == 0:
            raise
        outcome.interrupted = True
    except BaseException:
        last.restore(net, generator)
        raise
    finally:
        # The validation split and the process group must not stay
        # referenced by the net.
        net.train_split = None
        net.ranks_ = None
    outcome.epochs = last.epochs - first_epoch
    net.notify("on_train_end", X=dataset, y=None)
    if best is not None:
        with deferred():
            load_weights(net, best)
    if tasks is not None:
        tasks.close()
    return outcome
