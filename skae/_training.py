"""Everything that touches skorch: the net, batching, seeding and devices.

Estimators hand this module validated numpy or scipy.sparse arrays, a torch
module and an objective; it hands back a trained skorch net and numpy
results.
"""

import math

import numpy as np
import scipy.sparse as sp
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, ProgressBar
from skorch.helper import predefined_split
from skorch.utils import TeeGenerator

from .exceptions import TrainingDivergedError

_FLOAT32_MAX = float(np.finfo(np.float32).max)


class TorchRNG:
    """A seeded :class:`torch.Generator` that survives pickling.

    ``torch.Generator`` objects cannot be pickled; this wrapper stores the
    generator's state instead, so a fitted estimator that is pickled and
    trained further with ``partial_fit`` draws the same numbers as one that
    was not.
    """

    def __init__(self, seed):
        self.generator = torch.Generator().manual_seed(int(seed))

    def __getstate__(self):
        return {"state": self.generator.get_state()}

    def __setstate__(self, state):
        self.generator = torch.Generator()
        self.generator.set_state(state["state"])


def seed_from(random_state):
    """Draw one 31-bit seed from a scikit-learn ``random_state`` value.

    An int or a ``RandomState`` is used as is; ``None`` draws from numpy's
    global generator, as every scikit-learn estimator does.
    """
    from sklearn.utils import check_random_state

    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def resolve_device(device):
    """Turn the ``device`` parameter into a device torch accepts."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available on this "
            "machine; use device='cpu' or device='auto'."
        )
    return device


def check_float32_range(X, name="X"):
    """Raise if ``X`` holds values that overflow to inf in float32."""
    values = X.data if sp.issparse(X) else X
    if values.size and np.abs(values).max() > _FLOAT32_MAX:
        raise ValueError(
            f"{name} contains values larger in magnitude than {_FLOAT32_MAX:.3g}, "
            "which overflow in float32, the precision the network computes in; "
            "scale the data first, for example with StandardScaler."
        )


class ArrayDataset(torch.utils.data.Dataset):
    """Rows of a dense array or a CSR matrix, served as float32 tensors.

    Dense data is copied to the device once, so a batch is one tensor
    gather rather than one ``__getitem__`` call per sample. Sparse data stays
    sparse and is densified one batch at a time.
    """

    def __init__(self, X, device="cpu"):
        self.device = device
        if sp.issparse(X):
            self.sparse = sp.csr_matrix(X, dtype=np.float32)
            self.dense = None
        else:
            self.sparse = None
            # torch.tensor copies, so read-only or memory-mapped input is safe.
            self.dense = torch.tensor(np.asarray(X, dtype=np.float32), device=device)

    @classmethod
    def _from_parts(cls, dense, sparse, device):
        obj = cls.__new__(cls)
        obj.dense, obj.sparse, obj.device = dense, sparse, device
        return obj

    def __len__(self):
        return self.sparse.shape[0] if self.dense is None else self.dense.shape[0]

    def __getitem__(self, i):
        return self.take(torch.as_tensor([i]))[0]

    def take(self, index):
        """Rows at ``index`` (a CPU ``LongTensor``) as a dense tensor."""
        if self.dense is not None:
            return self.dense[index.to(self.device)]
        rows = self.sparse[index.numpy()].toarray()
        return torch.from_numpy(rows).to(self.device)

    def rows(self, start, stop):
        """Rows ``start:stop`` as a dense tensor."""
        if self.dense is not None:
            return self.dense[start:stop]
        return torch.from_numpy(self.sparse[start:stop].toarray()).to(self.device)

    def subset(self, index):
        """A dataset holding only the rows at ``index``."""
        if self.dense is not None:
            return self._from_parts(self.take(index), None, self.device)
        return self._from_parts(None, self.sparse[index.numpy()], self.device)


class BatchIterator:
    """Iterate over an :class:`ArrayDataset` in mini-batches of tensor slices.

    Yields ``(X_batch, None)``: the autoencoder's target is its input.
    """

    def __init__(self, dataset, batch_size, shuffle=False, rng=None):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.rng = rng

    def __len__(self):
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        n, size = len(self.dataset), self.batch_size
        if self.shuffle:
            order = torch.randperm(n, generator=self.rng.generator)
            for start in range(0, n, size):
                yield self.dataset.take(order[start : start + size]), None
        else:
            for start in range(0, n, size):
                yield self.dataset.rows(start, start + size), None


class AutoencoderNet(NeuralNet):
    """A skorch net whose loss compares the module's output with its input.

    The criterion is called as ``criterion(output, X)``; a non-finite batch
    loss raises :class:`~skae.exceptions.TrainingDivergedError` before the
    optimiser steps.

    The per-batch path is trimmed so that the net trains as fast as a
    hand-written loop: modes are switched only when they change, callbacks
    are notified only of the events they handle, and the optimiser steps
    without a closure (none of the supported optimisers needs one).
    """

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = self.criterion_(y_pred, X)
        # .item() is cheaper than torch.isfinite on small tensors and skorch
        # reads the value anyway.
        if not math.isfinite(loss.item()):
            raise TrainingDivergedError(
                f"Training diverged: the loss became {loss.item()} after "
                f"{len(self.history) - 1} completed epoch(s). Try a smaller "
                "learning_rate_init, or scale the input (for example with "
                "StandardScaler or MinMaxScaler)."
            )
        return loss

    def _set_training(self, training=True):
        for name in self._modules + self._criteria:
            module = getattr(self, name + "_")
            if isinstance(module, torch.nn.Module) and module.training != training:
                module.train(training)

    def notify(self, method_name, **cb_kwargs):
        # Skipping callbacks that do not override an event saves several
        # calls on every batch; the net's own handlers keep the history.
        getattr(self, method_name)(self, **cb_kwargs)
        default = getattr(Callback, method_name)
        for _, cb in self.callbacks_:
            if getattr(type(cb), method_name) is not default:
                getattr(cb, method_name)(self, **cb_kwargs)

    def train_step(self, batch, **fit_params):
        self._zero_grad_optimizer()
        step = self.train_step_single(batch, **fit_params)
        self.notify(
            "on_grad_computed",
            named_parameters=TeeGenerator(self.get_all_learnable_params()),
            batch=batch,
            training=True,
        )
        self._step_optimizer(None)
        return step


class PlateauStopping(Callback):
    """Stop when a monitored loss stops improving by ``tol``.

    The rule is :class:`sklearn.neural_network.MLPRegressor`'s: an epoch
    counts as no improvement when its loss is above the best so far minus
    ``tol``; ``patience`` such epochs in a row end training. With
    ``keep_best`` the weights of the best epoch are kept so they can be
    restored.
    """

    def __init__(self, monitor="train_loss", tol=1e-4, patience=10, keep_best=False):
        self.monitor = monitor
        self.tol = tol
        self.patience = patience
        self.keep_best = keep_best

    def on_train_begin(self, net, **kwargs):
        self.best_ = math.inf
        self.best_state_ = None
        self.misses_ = 0
        self.stopped_ = False

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        if self.monitor not in row:
            return
        loss = row[self.monitor]
        self.misses_ = self.misses_ + 1 if loss > self.best_ - self.tol else 0
        if loss < self.best_:
            self.best_ = loss
            if self.keep_best:
                self.best_state_ = {
                    k: v.detach().clone() for k, v in net.module_.state_dict().items()
                }
        if self.misses_ >= self.patience:
            self.stopped_ = True
            # skorch ends its fit loop cleanly on KeyboardInterrupt.
            raise KeyboardInterrupt


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


def build_net(module, objective, *, solver, learning_rate, weight_decay, batch_size,
              shuffle, rng, device, verbose, tol, patience, early_stopping,
              callbacks=()):
    """Make an initialised :class:`AutoencoderNet` around ``module``."""
    optimizers = {
        "adam": torch.optim.Adam,
        "adamw": torch.optim.AdamW,
        "sgd": torch.optim.SGD,
    }
    extra = {"optimizer__momentum": 0.9} if solver == "sgd" else {}
    # The fused kernels update all parameters in one call: about a fifth
    # faster per step than the default implementation on CPU and GPU.
    extra["optimizer__fused"] = True
    plateau = (
        "plateau",
        PlateauStopping(
            monitor="valid_loss" if early_stopping else "train_loss",
            tol=tol,
            patience=patience,
            keep_best=early_stopping,
        ),
    )
    callbacks = [*callbacks, plateau]
    if verbose >= 2:
        callbacks.append(("progress", ProgressBar()))
    if not verbose:
        # PrintLog formats its table every epoch even when it prints nothing.
        extra["callbacks__print_log"] = None
    net = AutoencoderNet(
        module=module,
        criterion=objective,
        optimizer=optimizers[solver],
        lr=learning_rate,
        optimizer__weight_decay=weight_decay,
        batch_size=batch_size,
        iterator_train=BatchIterator,
        iterator_train__shuffle=shuffle,
        iterator_train__rng=rng,
        iterator_valid=BatchIterator,
        train_split=None,
        callbacks=callbacks,
        device=device,
        verbose=int(verbose >= 1),
        **extra,
    )
    return net.initialize()


def train(net, dataset, *, epochs, dataset_valid=None):
    """Run ``epochs`` epochs of ``net`` on ``dataset``; return the callback state.

    Returns the :class:`PlateauStopping` callback, whose ``stopped_`` says
    whether training converged and whose ``best_state_`` holds the weights of
    the best validation epoch when early stopping was used.
    """
    net.train_split = None if dataset_valid is None else predefined_split(dataset_valid)
    try:
        net.partial_fit(dataset, epochs=epochs)
    finally:
        # The validation split must not stay referenced (and pickled) with the net.
        net.train_split = None
    return dict(net.callbacks_)["plateau"]


def split(dataset, fraction, rng):
    """Shuffle and split ``dataset`` into training and validation parts."""
    n = len(dataset)
    n_valid = int(math.ceil(fraction * n))
    if n_valid < 1 or n - n_valid < 1:
        raise ValueError(
            f"early_stopping=True with validation_fraction={fraction} leaves "
            f"{n - n_valid} training and {n_valid} validation sample(s) out of {n}; "
            "both need at least one. Pass more samples or set early_stopping=False."
        )
    order = torch.randperm(n, generator=rng.generator)
    return dataset.subset(order[n_valid:]), dataset.subset(order[:n_valid])


def map_batches(fn, X, *, batch_size, device):
    """Apply ``fn`` to float32 tensor batches of ``X`` without gradients.

    Returns the concatenated results as a numpy array.
    """
    dataset = ArrayDataset(X, device) if sp.issparse(X) else None
    n = X.shape[0]
    out = []
    with torch.inference_mode():
        for start in range(0, n, batch_size):
            if dataset is not None:
                xb = dataset.rows(start, start + batch_size)
            else:
                xb = torch.tensor(
                    np.asarray(X[start : start + batch_size], dtype=np.float32),
                    device=device,
                )
            out.append(fn(xb).cpu())
    return torch.cat(out).numpy()
