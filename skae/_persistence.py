"""What a pickled estimator holds of its network: the weights once, on the CPU.

Tensors are stored as numpy arrays. joblib writes those straight to the file
and reads them back into fresh arrays, and pickle protocol 5 keeps them in
buffers that the loaded arrays use as they are; either way a loaded model
takes about its own size in memory, where pickled tensors take twice that
until loading ends (the unpickler keeps every tensor's serialised bytes).
Loading then hands the arrays to the rebuilt net without copying them.
"""

import warnings

import numpy as np
import torch

from ._fitting import map_tensors
from ._net import learning_rate_schedule, resolve_device, restore_history


def _to_numpy(tensor):
    tensor = tensor.detach().cpu()
    try:
        return tensor.numpy()
    except TypeError:  # a dtype numpy lacks (bfloat16): kept as a tensor
        return tensor


def _from_numpy(value):
    if isinstance(value, np.ndarray):
        if not value.flags.writeable:
            # A memory-mapped load: training must not write into the file.
            value = value.copy()
        return torch.from_numpy(value)
    return value


def _tensors(obj):
    """``obj`` (nested dicts and lists) with its numpy arrays as tensors."""
    if isinstance(obj, dict):
        return {k: _tensors(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_tensors(v) for v in obj]
    return _from_numpy(obj)


class NetState:
    """The trained state of a net, without the net: weights, optimiser, history.

    ``schedule`` is the learning-rate schedule's state (None when the rate
    is constant), so that a loaded model continues its schedule.

    Pickling this instead of the skorch net stores each weight once, on the
    CPU, so that a model trained on a GPU loads where there is none; the net
    is rebuilt from the estimator's parameters when the estimator is loaded.
    """

    # Pickles from versions without schedules hold no such attribute.
    schedule = None

    def __init__(self, module, criterion, optimizer, history, reference_loss, schedule=None):
        self.module = module
        self.criterion = criterion
        self.optimizer = optimizer
        self.history = history
        self.reference_loss = reference_loss
        self.schedule = schedule

    @classmethod
    def of(cls, net):
        schedule = learning_rate_schedule(net)
        return cls(
            map_tensors(_to_numpy, net.module_.state_dict()),
            map_tensors(_to_numpy, net.criterion_.state_dict()),
            map_tensors(_to_numpy, net.optimizer_.state_dict()),
            [dict(row) for row in net.history],
            net.reference_loss_,
            None if schedule is None else schedule.state_dict(net),
        )

    def restore(self, estimator, check=None):
        """Rebuild ``estimator``'s net and load this state into it.

        ``check(net)``, when given, is called on the new net before anything
        is loaded into it.
        """
        try:
            device = resolve_device(estimator.device)
        except ValueError:
            warnings.warn(
                f"This {type(estimator).__name__} was trained with "
                f"device={estimator.device!r}, which is not available here; it is "
                "loaded on the CPU. Set device='cpu' to silence this warning.",
                UserWarning,
                stacklevel=3,
            )
            device = "cpu"
        # The draws of a throwaway generator are overwritten by the weights
        # loaded below; the estimator's own generator is left as it was.
        net = estimator._build(estimator.n_features_in_, estimator._batch_size,
                               torch.Generator(), device=device)
        if check is not None:
            check(net)
        # On the CPU the loaded arrays become the weights and the optimiser's
        # state without a copy (assign; the optimiser is then rebuilt around
        # the new parameters); on a GPU they are copied to the device.
        assign = str(net.device) == "cpu"
        net.module_.load_state_dict(_tensors(self.module), assign=assign)
        net.criterion_.load_state_dict(_tensors(self.criterion), assign=assign)
        if assign:
            net.initialize_optimizer()
        # A state saved without the optimiser's (see skae.io.dump) starts a
        # fresh one.
        if self.optimizer is not None:
            saved_groups = len(self.optimizer["param_groups"])
            if saved_groups != len(net.optimizer_.param_groups):
                # Saved before wide layers had groups of their own: train on
                # as that model did, with one rate for every parameter.
                net.optimizer__param_groups = []
                net.initialize_optimizer()
            net.optimizer_.load_state_dict(_tensors(self.optimizer))
        restore_history(net, self.history)
        net.reference_loss_ = self.reference_loss
        schedule = learning_rate_schedule(net)
        if schedule is not None and self.schedule is not None:
            schedule.load_state_dict(net, self.schedule)
        return net
