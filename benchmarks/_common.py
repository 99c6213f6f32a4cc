"""What every benchmark script shares: data, threads, metadata, result files.

Only public names of skae are used here and in the scripts, so that any
figure in ``results/`` can be reproduced with the installed package.

* Data: the image data sets are read with :mod:`skae.datasets` from
  ``SKAE_DATA``, which defaults here to ``../shared/data`` beside the
  repository; a missing data set is skipped with a message, and scikit-learn's
  digits (built in) always remain.
* Threads: :func:`pin_threads` sets torch's and the BLAS/OpenMP thread pools.
* Metadata: :func:`metadata` (date, command line, machine and versions) heads
  every result file, and :func:`write_results` writes it with the figures
  as ``<stem>.json`` and ``<stem>.md``.
"""

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
import skorch
import threadpoolctl
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

import skae
from skae import datasets

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
os.environ.setdefault("SKAE_DATA", str(ROOT.parent / "shared" / "data"))


# ---------------------------------------------------------------- command line


def argument_parser(doc, *, quick=None, threads=None, out=True):
    """An argument parser described by the script's docstring.

    ``quick``: the help of a ``--quick`` flag (none when None); ``threads``:
    the default of a ``--threads`` option (none when None); ``out``: whether
    to offer ``--out``, the folder of the result files.
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    if quick is not None:
        parser.add_argument("--quick", action="store_true", help=quick)
    if threads is not None:
        parser.add_argument("--threads", type=int, default=threads,
                            help="torch and BLAS threads, the same for every model")
    if out:
        parser.add_argument("--out", default=str(RESULTS), help="folder of the result files")
    return parser


def results_stem(name, quick=False, folder=RESULTS):
    """Path, without extension, of a benchmark's result files: ``name_quick`` when quick."""
    return Path(folder) / (f"{name}_quick" if quick else name)


def pin_threads(n):
    """Use ``n`` threads in torch and in the BLAS and OpenMP pools of the process."""
    torch.set_num_threads(n)
    threadpoolctl.threadpool_limits(n)


# -------------------------------------------------------------------- metadata


def command():
    """The command line that started this script, with the script's path from the repository."""
    script = Path(sys.argv[0]).resolve()
    if script.is_relative_to(ROOT):
        script = script.relative_to(ROOT)
    return "python " + shlex.join([script.as_posix(), *sys.argv[1:]])


def _skae_commit():
    """The git commit of the skae imported, when it is imported from a checkout."""
    package = Path(skae.__file__).resolve().parent

    def git(*args):
        return subprocess.run(["git", *args], cwd=package, capture_output=True, text=True,
                              check=True).stdout.strip()

    try:
        git("ls-files", "--error-unmatch", "__init__.py")  # tracked: a checkout, not a copy
        return git("rev-parse", "--short", "HEAD")
    except (OSError, subprocess.CalledProcessError):
        return None


def machine():
    """The machine and software the figures were measured with."""
    blas = [pool["num_threads"] for pool in threadpoolctl.threadpool_info()
            if pool["user_api"] == "blas"]
    return {
        "machine": platform.machine(),
        "platform": platform.platform(),
        "cores": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "blas_threads": max(blas, default=None),
        "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "scikit-learn": sklearn.__version__,
        "skorch": skorch.__version__,
        "skae": skae.__version__,
        "skae_commit": _skae_commit(),
    }


def metadata():
    """Date (UTC), machine and command line, the head of every result file."""
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return {"date": date, "machine": machine(), "command": command()}


def markdown(title, body, meta, note=None):
    """A result file's markdown: title, metadata list and ``body``.

    ``note`` is added to the machine line.
    """
    m = meta["machine"]
    commit = f" (commit {m['skae_commit']})" if m.get("skae_commit") else ""
    return "\n".join([
        f"# {title}",
        "",
        f"- date: {meta['date']}",
        f"- machine: {m['machine']}, {m['cores']} cores, {m['threads']} torch thread(s), "
        f"{m['blas_threads']} BLAS thread(s)" + (f", GPU {m['gpu']}" if m.get("gpu") else "")
        + (f"; {note}" if note else ""),
        f"- software: python {m['python']}, numpy {m['numpy']}, torch {m['torch']}, "
        f"scikit-learn {m['scikit-learn']}, skorch {m['skorch']}, skae {m['skae']}{commit}",
        f"- command: `{meta['command']}`",
        "",
        body.rstrip("\n"),
        "",
    ])


def write_results(stem, results, title, body, *, note=None, meta=None):
    """Write ``stem.json`` (metadata, then ``results``) and ``stem.md``, and print the latter.

    ``body`` is the markdown below the metadata; ``meta`` defaults to
    :func:`metadata` now.
    """
    meta = metadata() if meta is None else meta
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    text = markdown(title, body, meta, note)
    stem.with_name(stem.name + ".json").write_text(
        json.dumps({**meta, **results}, indent=2, default=str) + "\n")
    stem.with_name(stem.name + ".md").write_text(text)
    print(text)


# ------------------------------------------------------------------------ data


def digits():
    """scikit-learn's digits: pixels / 16, in [0, 1], and labels."""
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


_LOADERS = {
    "MNIST": lambda: (*datasets.load_mnist("train"), *datasets.load_mnist("test")),
    "USPS": lambda: (*datasets.load_usps("train"), *datasets.load_usps("test")),
    "Frey Face": lambda: (datasets.load_frey_face(),),
}


def load(name, *, test_size=0.25, stratify=False):
    """``(X_train, X_test, y_train, y_test)`` of a data set, pixels in [0, 1].

    ``name`` is "digits" (built in), or "MNIST", "USPS" or "Frey Face", read
    from ``SKAE_DATA``: None, with a message, when it is not there. MNIST and
    USPS come with their published train/test split; digits and Frey Face
    are split with ``test_size`` and ``random_state=0`` (digits stratified by
    label with ``stratify``). Frey Face has no labels: ``y`` is None.
    """
    if name == "digits":
        X, y = digits()
        return train_test_split(X, y, test_size=test_size, random_state=0,
                                stratify=y if stratify else None)
    try:
        parts = _LOADERS[name]()
    except (FileNotFoundError, ImportError) as exc:
        print(f"skipping {name}: {exc}", flush=True)
        return None
    if len(parts) == 1:
        return (*train_test_split(parts[0], test_size=test_size, random_state=0), None, None)
    X_train, y_train, X_test, y_test = parts
    return X_train, X_test, y_train, y_test


# ------------------------------------------------------------------ measuring


def timed_fit(model, X):
    """Fit ``model`` on X, ignoring ConvergenceWarning: the model and the seconds taken."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    return model, time.perf_counter() - start


def squared_error(X, recon):
    """Squared error summed over features, averaged over rows."""
    return float(np.mean(np.sum((X - recon) ** 2, axis=1)))
