"""What a pickled estimator holds of its network: the weights once, on the CPU."""

import warnings

import torch

from ._fitting import map_tensors
from ._net import resolve_device, restore_history


def _to_cpu(obj):
    return map_tensors(lambda t: t.detach().cpu(), obj)


class NetState:
    """The trained state of a net, without the net: weights, optimiser, history.

    Pickling this instead of the skorch net stores each weight once, on the
    CPU, so that a model trained on a GPU loads where there is none; the net
    is rebuilt from the estimator's parameters when the estimator is loaded.
    """

    def __init__(self, module, criterion, optimizer, history, reference_loss):
        self.module = module
        self.criterion = criterion
        self.optimizer = optimizer
        self.history = history
        self.reference_loss = reference_loss

    @classmethod
    def of(cls, net):
        return cls(
            _to_cpu(net.module_.state_dict()),
            _to_cpu(net.criterion_.state_dict()),
            _to_cpu(net.optimizer_.state_dict()),
            [dict(row) for row in net.history],
            net.reference_loss_,
        )

    def restore(self, estimator):
        """Rebuild ``estimator``'s net and load this state into it."""
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
        net.module_.load_state_dict(self.module)
        net.criterion_.load_state_dict(self.criterion)
        net.optimizer_.load_state_dict(self.optimizer)
        restore_history(net, self.history)
        net.reference_loss_ = self.reference_loss
        return net
