"""Processes that train one model together: their ranks and what they exchange.

Every process of a :mod:`torch.distributed` process group holds the whole
model and the whole data, and draws the same shuffled order from the same
seed. Each training batch of ``batch_size`` rows is cut into one contiguous
share per process (:meth:`Ranks.share`); after the backward pass the
gradients are summed over the processes, weighted by their rows, so that
every process takes the step that one process would take on the whole batch
(:meth:`Ranks.reduce_gradients`). Each epoch's loss is summed over the
processes too (:meth:`Ranks.sum`), so that the stopping rule and the
learning-rate schedule see the same numbers everywhere and decide alike.

The gradients are reduced explicitly, in one message per step, rather than by
:class:`torch.nn.parallel.DistributedDataParallel`: the parameters trained
span the module and the objective (a learned decoder variance), the
contractive penalty differentiates the code with :func:`torch.autograd.grad`,
which DistributedDataParallel does not support, and the net, its pickles and
inference keep working with the plain module.
"""

import hashlib

import torch
from torch import distributed as dist


class Ranks:
    """This process's place among those that train one model together.

    Parameters
    ----------
    rank : int
        This process's index, from 0.
    world : int
        The number of processes.
    device : torch.device
        Where the messages are exchanged: the GPU with NCCL, else the CPU.
    group : ProcessGroup or None, default=None
        None means the default group.
    """

    def __init__(self, rank, world, device, group=None):
        self.rank = rank
        self.world = world
        self.device = torch.device(device)
        self.group = group

    def __repr__(self):
        return f"Ranks(rank={self.rank}, world={self.world}, device={self.device})"

    def share(self, n_rows):
        """``(start, stop)``: the rows of a batch of ``n_rows`` this process trains on."""
        return (n_rows * self.rank // self.world, n_rows * (self.rank + 1) // self.world)

    def sum(self, values):
        """``values`` (a float64 tensor) summed over the processes."""
        values = values.to(self.device)
        dist.all_reduce(values, op=dist.ReduceOp.SUM, group=self.group)
        return values

    def broadcast_seed(self, seed):
        """Rank 0's ``seed``, so that every process draws the same numbers."""
        value = torch.tensor([seed], dtype=torch.int64, device=self.device)
        dist.broadcast(value, src=0, group=self.group)
        return int(value.item())

    def reduce_gradients(self, params, loss, rows):
        """Replace each parameter's gradient by the whole batch's, and return its loss.

        ``loss`` is this process's mean loss over its ``rows`` rows, and the
        gradients are those of that mean. Weighting both by the rows before
        summing them over the processes gives the mean over the whole batch,
        as one process would compute it, even when the shares are unequal
        (the last batch). A parameter no process computed a gradient for
        keeps none, so that the optimiser skips it as it would alone.
        """
        grads = [p.grad for p in params]
        flat = torch.cat([
            torch.zeros(p.numel(), device=p.device, dtype=p.dtype) if g is None
            else g.reshape(-1)
            for p, g in zip(params, grads, strict=True)
        ] + [
            loss.detach().reshape(1).to(params[0].dtype),
            # Which parameters have a gradient, then the rows.
            torch.tensor([float(g is not None) for g in grads] + [1.0],
                         device=params[0].device, dtype=params[0].dtype),
        ])
        flat[:-1 - len(params)].mul_(rows)
        flat[-1] = rows
        dist.all_reduce(flat, op=dist.ReduceOp.SUM, group=self.group)
        total_rows = flat[-1]
        used = flat[-1 - len(params):-1]
        flat = flat[:-1 - len(params)] / total_rows
        offset = 0
        for i, p in enumerate(params):
            n = p.numel()
            p.grad = flat[offset:offset + n].view_as(p) if used[i] > 0 else None
            offset += n
        return flat[offset]

    def local_generator(self, shared):
        """A generator of this process's own, for draws the shares do not share.

        A variational autoencoder draws its codes for the rows it encodes:
        each process draws for its own share, from a generator seeded by
        the shared generator's state and the rank, so that the draws differ
        between processes and the shared generator's stream (the shuffling)
        stays the same in all of them.
        """
        digest = hashlib.blake2b(shared.get_state().numpy().tobytes(), digest_size=8,
                                 key=self.rank.to_bytes(4, "little"))
        seed = int.from_bytes(digest.digest(), "little") >> 1
        return torch.Generator().manual_seed(seed)


def current_group():
    """The initialised default process group of more than one process, as :class:`Ranks`.

    None when :mod:`torch.distributed` is not initialised (or holds this
    process alone).
    """
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
        return None
    backend = dist.get_backend()
    device = (torch.device("cuda", torch.cuda.current_device()) if backend == "nccl"
              else torch.device("cpu"))
    return Ranks(dist.get_rank(), dist.get_world_size(), device)
