"""One model trained by several new processes of this machine (``n_processes``).

The calling process validates the data and the parameters, puts the data in
shared memory once, and starts the processes with
:mod:`torch.multiprocessing` (the ``spawn`` method, which works from a script,
a notebook and pytest alike). They form a :mod:`torch.distributed` group
(gloo on the CPU, NCCL on GPUs, met through a file in a temporary folder, so
that no port is needed) and each trains as one rank of it, as under
``torchrun``. Rank 0 writes its fitted estimator to that folder; the caller
takes its fitted state. A process that fails writes its exception instead:
the caller raises the first one, and the estimator's transaction leaves it as
it was.
"""

import pickle
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import clone
from torch import distributed as dist
from torch import multiprocessing

from ._chunks import ChunkedRows, is_chunked
from ._distributed import current_group
from ._likelihood import check_values, likelihood_class, make_likelihood
from ._net import resolve_device
from ._random import seed_from


class SharedRows:
    """A validated array or CSR matrix in shared memory, passed to new processes once.

    Pickled for a new process, the tensors hand over their shared memory,
    not their values.
    """

    def __init__(self, X):
        self.shape = X.shape
        arrays = (X.data, X.indices, X.indptr) if sp.issparse(X) else (X,)
        self.sparse = sp.issparse(X)
        self.tensors = []
        for array in arrays:
            dtype = torch.from_numpy(np.empty(0, array.dtype)).dtype
            tensor = torch.empty(array.shape, dtype=dtype)
            tensor.share_memory_()
            tensor.numpy()[...] = array
            self.tensors.append(tensor)

    def restore(self):
        """The rows, as the caller validated them, without a copy."""
        arrays = [t.numpy() for t in self.tensors]
        if self.sparse:
            return sp.csr_matrix(tuple(arrays), shape=self.shape)
        return arrays[0]


def check_processes(estimator, X, n_processes):
    """Raise, before any process starts, what would stop them training together."""
    if not dist.is_available():
        raise ValueError(
            f"n_processes={n_processes} needs torch.distributed, which this build of "
            "torch lacks; use n_processes=None."
        )
    if is_chunked(X) or isinstance(X, ChunkedRows):
        raise ValueError(
            f"n_processes={n_processes} hands the data to new processes in shared memory, "
            "which data read a chunk at a time (ChunkedData, h5py, zarr or dask) cannot "
            "be. Load it in memory, or start the processes with torchrun and fit with "
            "n_processes=None: each process then reads the chunks itself."
        )
    if current_group() is not None:
        raise ValueError(
            f"n_processes={n_processes} starts its own processes, but this process is "
            "already one of a torch.distributed process group (torchrun). Set "
            "n_processes=None to train with the group's processes, or 1 to train alone."
        )
    device = resolve_device(estimator.device)
    if device.startswith("cuda:"):
        raise ValueError(
            f"device={estimator.device!r} names one GPU, but n_processes={n_processes} "
            "puts process i on GPU i; use device='cuda'."
        )
    if device == "cuda" and torch.cuda.device_count() < n_processes:
        raise ValueError(
            f"n_processes={n_processes} with device='cuda' needs one GPU per process, but "
            f"this machine has {torch.cuda.device_count()}; use fewer processes."
        )


def fit_in_processes(estimator, X, n_processes):
    """Fit ``estimator`` on X in ``n_processes`` new processes; return rank 0's outcome.

    The estimator gets rank 0's fitted state; the others are identical.
    """
    check_processes(estimator, X, n_processes)
    X = estimator._training_input(X, reset=True)
    estimator._check_width(X.shape[1])
    with warnings.catch_warnings():
        # The deprecated spelling warns once, from the process that trains.
        warnings.simplefilter("ignore", FutureWarning)
        likelihood = make_likelihood(likelihood_class(estimator), X.shape[1],
                                     **estimator._likelihood_options())
    # Data outside the likelihood's range is refused before processes start.
    check_values(estimator, likelihood, X)
    # Drawn here, as a fit in this process would, and handed to every process.
    seed = seed_from(estimator.random_state)
    # Each process gets a share of this process's threads, so that together
    # they use the cores a fit in one process would.
    threads = max(1, torch.get_num_threads() // n_processes)
    folder = Path(tempfile.mkdtemp(prefix="skae-"))
    try:
        context = multiprocessing.start_processes(
            _train_as_rank,
            args=(n_processes, clone(estimator), SharedRows(X), seed, threads, str(folder)),
            nprocs=n_processes, join=False, start_method="spawn",
        )
        try:
            while not context.join():
                pass
        except (multiprocessing.ProcessRaisedException,
                multiprocessing.ProcessExitedException) as failure:
            raise _first_error(folder, n_processes, failure) from None
        except BaseException:
            # An interrupt here: the processes must not outlive the call.
            for process in context.processes:
                if process.is_alive():
                    process.terminate()
            for process in context.processes:
                process.join()
            raise
        with open(folder / "result.pkl", "rb") as file:
            fitted, outcome, caught = pickle.load(file)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    params = set(estimator.get_params(deep=False))
    estimator.__dict__.update(
        {k: v for k, v in vars(fitted).items() if k not in params})
    for category, message in caught:
        # fit_in_processes <- _train <- transaction <- fit <- fit's wrapper <- the caller
        warnings.warn(message, category, stacklevel=6)
    return outcome


def _train_as_rank(rank, world, estimator, rows, seed, threads, folder):
    """What each new process runs: join the group, train, hand over the result."""
    torch.set_num_threads(threads)
    folder = Path(folder)
    try:
        cuda = resolve_device(estimator.device) == "cuda"
        if cuda:
            torch.cuda.set_device(rank)
        dist.init_process_group("nccl" if cuda else "gloo",
                                init_method=(folder / "group").as_uri(),
                                rank=rank, world_size=world)
        try:
            if rank:
                # One table of epochs, from rank 0.
                estimator.verbose = 0
            with warnings.catch_warnings(record=True) as caught:
                outcome = estimator._fit(rows.restore(), ranks=current_group(), seed=seed)
            if rank == 0:
                caught = [(w.category, str(w.message)) for w in caught]
                partial = folder / "result.part"
                with open(partial, "wb") as file:
                    pickle.dump((estimator, outcome, caught), file)
                partial.rename(folder / "result.pkl")
        finally:
            dist.destroy_process_group()
    except BaseException as error:
        _record_error(folder, rank, error)
        # Not 0, which torch.multiprocessing takes for an interrupt it sent.
        raise SystemExit(1) from None


def _record_error(folder, rank, error):
    try:
        payload = pickle.dumps(error)
        pickle.loads(payload)
    except Exception:
        payload = pickle.dumps(RuntimeError(f"{type(error).__name__}: {error}"))
    # The first process to fail caused the others' failures.
    with open(folder / f"error-{rank}.pkl", "wb") as file:
        pickle.dump((time.time(), payload), file)


def _first_error(folder, world, failure):
    """The exception of the process that failed first, or one that says how it ended."""
    errors = []
    for rank in range(world):
        path = folder / f"error-{rank}.pkl"
        if path.exists():
            with open(path, "rb") as file:
                when, payload = pickle.load(file)
            errors.append((when, rank, payload))
    if not errors:
        code = getattr(failure, "exit_code", None)
        how = (f"was killed by signal {-code}" if code is not None and code < 0
               else f"exited with status {code}")
        return RuntimeError(
            f"Training process {failure.error_index} of {world} {how} before it could "
            "report an error; the system may have run out of memory. Try fewer "
            "processes (n_processes) or a smaller batch_size."
        )
    _, rank, payload = min(errors)
    error = pickle.loads(payload)
    if isinstance(error, BaseException) and not isinstance(error, KeyboardInterrupt):
        error.add_note(f"(raised in training process {rank} of {world})")
    return error

