"""The only place that touches skorch: the net that trains a module on batches.

The net is built from an initialised module and objective; it batches with
:class:`~skae._data.Batches` and compares the module's output with each
batch's target. It uses skorch's public hooks only (``get_loss``,
``train_step_single``, ``train_step``, ``notify``, ``fit_loop``); the epoch
loop and the stopping rule live in :mod:`skae._fitting`.
"""

import copy
import math
import re
import sys

import torch
import tqdm
from skorch import NeuralNet
from skorch.callbacks import Callback, ProgressBar
from skorch.utils import TeeGenerator

from ._data import Batches
from ._learning_rates import fan_in_param_groups
from ._progress import EpochTable, LineProgress
from .exceptions import TrainingDivergedError

#: How far above the first batch's loss a batch's loss may rise before the
#: run counts as diverged: far beyond what noise or a learning-rate warm
#: start produce, far below the overflow of float32.
EXPLOSION_FACTOR = 1e4

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
}


def resolve_device(device):
    """Turn the ``device`` parameter into a device torch accepts.

    ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"`` (CUDA when available).
    """
    if not re.fullmatch(r"cpu|auto|cuda(:\d+)?", device):
        raise ValueError(
            f"device must be 'cpu', 'cuda', 'cuda:N' (N a GPU's index) or 'auto', "
            f"got {device!r}."
        )
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available on this "
            "machine; use device='cpu' or device='auto'."
        )
    if device.startswith("cuda:") and int(device[5:]) >= torch.cuda.device_count():
        raise ValueError(
            f"device={device!r} names GPU {device[5:]}, but this machine has "
            f"{torch.cuda.device_count()}; use an index below that."
        )
    return device


def check_mixed_precision(device):
    """Raise if training on ``device`` (as :func:`resolve_device` gives it) cannot
    autocast to bfloat16.

    Every CPU can, if slowly without bfloat16 units. On a GPU that cannot,
    :class:`torch.autocast` would turn itself off with a warning and train in
    float32: the parameter would be silently ignored.
    """
    device = torch.device(device)
    if device.type != "cuda":
        return
    with torch.cuda.device(device):
        supported = torch.cuda.is_bf16_supported()
    if not supported:
        raise ValueError(
            f"mixed_precision=True trains in bfloat16, which {device} "
            f"({torch.cuda.get_device_name(device)}) does not support; set "
            "mixed_precision=False."
        )


def as_float32(output):
    """``output`` (a tensor, or dicts, lists and tuples of them) with every tensor of
    a lower floating precision cast to float32."""
    if torch.is_tensor(output):
        lower = output.is_floating_point() and output.dtype not in (torch.float32,
                                                                    torch.float64)
        return output.float() if lower else output
    if isinstance(output, dict):
        return {k: as_float32(v) for k, v in output.items()}
    if isinstance(output, (list, tuple)):
        return type(output)(as_float32(v) for v in output)
    return output


class TrainingNet(NeuralNet):
    """A skorch net whose loss compares the module's output with a batch's target.

    A batch is ``(input, target)`` (see :class:`~skae._data.Batches`); the
    criterion is called as ``criterion(output, target)``. A loss that is not
    finite, or that rises :data:`EXPLOSION_FACTOR` times the first loss's
    scale above it, raises :class:`~skae.exceptions.TrainingDivergedError`:
    on the CPU before the optimiser steps on that batch, on a GPU at the end
    of the epoch (see :meth:`run_single_epoch`).

    With ``autocast_dtype`` (``torch.bfloat16``) the module's forward pass
    on training batches runs under :class:`torch.autocast` in that dtype,
    and its outputs are cast to float32 before the objective: the loss, the
    gradients, the weights and the optimiser's state stay float32. The
    validation pass and inference run in the weights' precision.

    The per-batch path is trimmed so that the net trains as fast as a
    hand-written loop: modes are switched only when they change, callbacks
    are notified only of the events they handle, and the optimiser steps
    without a closure (none of the supported optimisers needs one).
    """

    reference_loss_ = None
    #: With several processes training together, this process's
    #: :class:`~skae._distributed.Ranks` (set by :func:`skae._fitting.run_epochs`
    #: for the run only); None trains alone.
    ranks_ = None

    def __init__(self, *args, autocast_dtype=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.autocast_dtype = autocast_dtype

    @property
    def _check_each_batch(self):
        return str(self.device) == "cpu"

    def get_loss(self, y_pred, y_true, X=None, training=False):
        return self.criterion_(y_pred, y_true)

    def check_loss(self, value):
        """Raise :class:`~skae.exceptions.TrainingDivergedError` for a diverged loss."""
        if self.reference_loss_ is None and math.isfinite(value):
            self.reference_loss_ = value
        reference = self.reference_loss_
        if math.isfinite(value) and (
            reference is None
            or value <= reference + EXPLOSION_FACTOR * max(abs(reference), 1.0)
        ):
            return
        start = "" if reference is None else f" (it started at {reference:.4g})"
        raise TrainingDivergedError(
            f"Training diverged: the loss reached {value:.4g}{start} "
            f"after {max(len(self.history) - 1, 0)} completed epoch(s). Try a smaller "
            "learning_rate_init, or scale the input (for example with StandardScaler "
            "or MinMaxScaler)."
        )

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """One pass over ``iterator``, recording the mean loss per row.

        The losses are summed on the device and read once per epoch, so that
        a GPU is not made to wait for the host after every batch. On the CPU,
        where reading a loss costs nothing, every training batch's loss is
        checked before the optimiser steps; on a GPU the epoch's mean is, and
        a diverged epoch is undone by the caller (:func:`skae._fitting.run_epochs`).
        """
        if iterator is None:
            return
        # An objective that can count errors (a classifier's) has its
        # validation error rate recorded too, as ``valid_error``.
        count_errors = None if training else getattr(self.criterion_, "count_errors", None)
        total, rows, batches, errors = None, 0, 0, None
        for batch in iterator:
            n = len(batch[0])
            if not (n or training):
                # A process's share of a short validation batch can be empty.
                continue
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            weighted = step["loss"].detach() * n
            total = weighted if total is None else total + weighted
            if count_errors is not None:
                counts = count_errors(step["y_pred"], batch[1])
                errors = counts if errors is None else errors + counts
            rows, batches = rows + n, batches + 1
            self.notify("on_batch_end", batch=batch, training=training, **step)
        if self.ranks_ is not None:
            total, rows, errors = self._sum_over_processes(total, rows, errors)
        mean = total.item() / rows
        if training:
            self.check_loss(mean)
        self.history.record(prefix + "_loss", mean)
        self.history.record(prefix + "_batch_count", batches)
        if errors is not None:
            wrong, counted = errors.tolist()
            self.history.record(prefix + "_error", wrong / max(counted, 1))

    def _sum_over_processes(self, total, rows, errors):
        """An epoch's summed loss, rows and error counts over all the processes."""
        counts = [0.0, 0.0] if errors is None else [float(e) for e in errors.tolist()]
        values = torch.tensor([0.0 if total is None else float(total), float(rows), *counts],
                              dtype=torch.float64)
        values = self.ranks_.sum(values).cpu()
        errors = None if errors is None else values[2:]
        return values[0], int(values[1]), errors

    def get_iterator(self, dataset, training=False):
        iterator = super().get_iterator(dataset, training=training)
        iterator.ranks = self.ranks_
        return iterator

    def train_step(self, batch, **fit_params):
        self.optimizer_.zero_grad(set_to_none=True)
        if self.ranks_ is None:
            step = self.train_step_single(batch, **fit_params)
            loss = step["loss"]
        else:
            step = self._train_step_shared(batch, **fit_params)
            loss = step.pop("batch_loss")
        if self._check_each_batch:
            self.check_loss(loss.item())
        self.notify(
            "on_grad_computed",
            named_parameters=TeeGenerator(self.get_all_learnable_params()),
            batch=batch,
            training=True,
        )
        self.optimizer_.step()
        return step

    def _train_step_shared(self, batch, **fit_params):
        """This process's share of a batch, with the whole batch's gradients and loss.

        Every process takes part in the exchange, even one whose share of a
        short last batch is empty.
        """
        rows = len(batch[0])
        if rows:
            step = self.train_step_single(batch, **fit_params)
        else:
            step = {"loss": torch.zeros((), device=self.device), "y_pred": None}
        params = [p for _, p in self.get_all_learnable_params()]
        step["batch_loss"] = self.ranks_.reduce_gradients(params, step["loss"], rows)
        return step

    def train_step_single(self, batch, **fit_params):
        if not self.module_.training:
            self.module_.train()
            self.criterion_.train()
        Xi, yi = batch
        if self.autocast_dtype is None:
            y_pred = self.infer(Xi, **fit_params)
        else:
            with torch.autocast(torch.device(self.device).type, dtype=self.autocast_dtype):
                y_pred = self.infer(Xi, **fit_params)
            # The objective sums over features and rows and takes logarithms:
            # with bfloat16's 8 bits of mantissa those would round away the
            # small differences that the gradients are made of.
            y_pred = as_float32(y_pred)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def notify(self, method_name, **cb_kwargs):
        # Skipping callbacks that do not override an event saves several
        # calls on every batch; the net's own handlers keep the history.
        getattr(self, method_name)(self, **cb_kwargs)
        default = getattr(Callback, method_name)
        for _, cb in self.callbacks_:
            if getattr(type(cb), method_name) is not default:
                getattr(cb, method_name)(self, **cb_kwargs)


class LinearWarmup(Callback):
    """Raise an attribute of the criterion linearly to ``final`` over ``epochs``.

    In epoch ``e`` (counted from 1) the attribute is ``final * min(1, e /
    epochs)``. The count comes from the net's history, so training continued
    with ``partial_fit`` resumes the schedule where it stopped.
    """

    def __init__(self, attribute, final, epochs):
        self.attribute = attribute
        self.final = final
        self.epochs = epochs

    def on_epoch_begin(self, net, **kwargs):
        # The net has already opened this epoch's history row.
        epoch = len(net.history)
        setattr(net.criterion_, self.attribute, self.final * min(1.0, epoch / self.epochs))


class LearningRateSchedule(Callback):
    """Step a :mod:`torch.optim.lr_scheduler` scheduler at the end of every epoch.

    skorch's ``LRScheduler`` builds a new scheduler whenever training
    begins, that is at every ``partial_fit`` call: a plateau's count would
    start again each time, and the scheduler's state belongs to no object
    that a pickle or a checkpoint could keep. This callback keeps one
    scheduler per optimiser (the optimiser is rebuilt when a pickled model
    is loaded) and hands out its state (:meth:`state_dict`,
    :meth:`load_state_dict`), so that a schedule continues across calls,
    pickles and interrupted epochs.

    The rate each epoch trained with is recorded in the history as
    ``learning_rate``.

    Parameters
    ----------
    make_scheduler : callable
        ``make_scheduler(optimizer)`` returns the scheduler.
    """

    def __init__(self, make_scheduler):
        self.make_scheduler = make_scheduler

    def initialize(self):
        self.scheduler_ = None
        self.lowered_on_plateau_ = False
        return self

    def scheduler(self, net):
        """The scheduler of ``net``'s optimiser, made on first use."""
        if self.scheduler_ is None or self.scheduler_.optimizer is not net.optimizer_:
            self.scheduler_ = self.make_scheduler(net.optimizer_)
        return self.scheduler_

    @property
    def watches_loss(self):
        return isinstance(self.scheduler_, torch.optim.lr_scheduler.ReduceLROnPlateau)

    def on_epoch_end(self, net, **kwargs):
        scheduler = self.scheduler(net)
        before = net.optimizer_.param_groups[0]["lr"]
        net.history.record("learning_rate", before)
        if self.watches_loss:
            row = net.history[-1]
            # The validation loss when the run holds data out (fit with
            # early stopping), else the training loss.
            scheduler.step(row["valid_loss"] if "valid_loss" in row else row["train_loss"])
            self.lowered_on_plateau_ = net.optimizer_.param_groups[0]["lr"] < before
        else:
            scheduler.step()

    def can_lower(self, net):
        """Whether a plateau would still lower the rate (False for other schedules)."""
        scheduler = self.scheduler(net)
        return self.watches_loss and any(
            group["lr"] > low
            for group, low in zip(net.optimizer_.param_groups, scheduler.min_lrs, strict=True))

    def state_dict(self, net):
        """A copy of the scheduler's state (plain numbers and lists)."""
        return copy.deepcopy(self.scheduler(net).state_dict())

    def load_state_dict(self, net, state):
        """Continue the schedule from ``state``, learning rates included."""
        scheduler = self.scheduler(net)
        scheduler.load_state_dict(copy.deepcopy(state))
        # A new scheduler has set the rates of its first epoch; a saved
        # optimiser state may be missing (skae.io.dump(optimizer=False)).
        for group, lr in zip(net.optimizer_.param_groups, scheduler.get_last_lr(), strict=True):
            group["lr"] = lr


def learning_rate_schedule(net):
    """``net``'s :class:`LearningRateSchedule`, or None when the rate is constant."""
    return dict(net.callbacks_).get("learning_rate")


class EpochProgressBar(ProgressBar):
    """skorch's per-epoch progress bar, drawn where it can be seen.

    skorch's bar is drawn when an epoch begins and redrawn at most ten times
    a second, then erased: an epoch shorter than that showed ``0/9`` and
    vanished, and a log file got the carriage returns. On a terminal this
    one appears only once an epoch has lasted :attr:`delay` seconds;
    elsewhere (a log file, a pipe, a notebook) an epoch longer than
    :attr:`interval` seconds writes a plain line of its progress every
    :attr:`interval` seconds.
    """

    #: Seconds an epoch runs before its bar appears.
    delay = 0.5
    #: Seconds between the lines written where there is no terminal.
    interval = 30.0

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        total = self._get_batches_per_epoch(net, dataset_train, dataset_valid)
        if sys.stderr is not None and sys.stderr.isatty():
            self.pbar_ = tqdm.tqdm(total=total, leave=False, delay=self.delay)
        else:
            self.pbar_ = LineProgress(len(net.history), total, interval=self.interval)


def build_net(module, objective, *, solver, learning_rate, weight_decay, batch_size,
              shuffle, generator, device, verbose, input_noise=None, resample=None,
              callbacks=(), valid_batch_size=None, mixed_precision=False,
              rates_by_fan_in=False):
    """Make an initialised :class:`TrainingNet` around ``module`` and ``objective``.

    ``generator`` (a CPU :class:`torch.Generator`) shuffles the batches and
    draws the input noise and the training rows' resampling (validation rows
    are used as they are); the caller passes the same one to the module's
    ``forward`` (see :func:`skae._fitting.run_epochs`). ``mixed_precision``
    runs the training forward pass under bfloat16 autocast;
    ``rates_by_fan_in`` lowers the rate of layers with many inputs
    (:func:`skae._learning_rates.fan_in_param_groups`).
    """
    extra = {"optimizer__momentum": 0.9} if solver == "sgd" else {}
    # The fused kernels update all parameters in one call: about a fifth
    # faster per step than the default implementation on CPU and GPU.
    extra["optimizer__fused"] = True
    callbacks = list(callbacks)
    if verbose >= 2:
        callbacks.append(("progress", EpochProgressBar()))
    # PrintLog formats its table every epoch even when it prints nothing.
    extra["callbacks__print_log"] = EpochTable() if verbose else None
    groups = fan_in_param_groups(module, learning_rate) if rates_by_fan_in else []
    if groups:
        extra["optimizer__param_groups"] = groups
    net = TrainingNet(
        module=module,
        criterion=objective,
        optimizer=OPTIMIZERS[solver],
        lr=learning_rate,
        optimizer__weight_decay=weight_decay,
        batch_size=batch_size,
        iterator_train=Batches,
        iterator_train__shuffle=shuffle,
        iterator_train__generator=generator,
        iterator_train__input_noise=input_noise,
        iterator_train__resample=resample,
        iterator_valid=Batches,
        iterator_valid__batch_size=valid_batch_size or batch_size,
        train_split=None,
        callbacks=callbacks,
        device=device,
        verbose=int(verbose >= 1),
        autocast_dtype=torch.bfloat16 if mixed_precision else None,
        **extra,
    )
    return net.initialize()


def restore_history(net, rows):
    """Give ``net`` a history made of ``rows`` (dicts, one per epoch)."""
    from skorch.history import History

    net.history_ = History(rows)
