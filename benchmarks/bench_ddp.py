"""One model trained by one process or by two together (``n_processes``), on this machine.

An AutoencoderTransformer (784-256-32 on MNIST's 60,000 training images;
64-100-8 on scikit-learn's digits when MNIST is absent) trains a fixed
number of epochs with the same global batch of 200 rows three ways: one
process with one thread, one process with ``--threads`` threads, and
``n_processes=2`` with the same threads shared between the two processes.
The time per epoch is the median of skorch's per-epoch durations (the
history's ``dur``, rank 0's with two processes); the start-up is the rest of
the fit's wall time (two processes: starting them, importing torch, handing
over the data). The final training loss and the largest relative difference
between the loss curves say whether the processes trained the same model.

Run: ``python benchmarks/bench_ddp.py [--quick]``
"""

import statistics
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from _common import argument_parser, load, pin_threads, results_stem, squared_error, write_results
from skae import AutoencoderTransformer


def run(X, X_test, hidden, n_components, epochs, n_processes, threads):
    pin_threads(threads)
    model = AutoencoderTransformer(
        n_components, hidden_layer_sizes=hidden, batch_size=200, max_iter=epochs,
        learning_rate="constant", random_state=0, n_processes=n_processes)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    seconds = time.perf_counter() - start
    durations = [row["dur"] for row in model.net_.history]
    return {
        "n_processes": n_processes,
        "threads": threads,
        "fit_seconds": seconds,
        "epoch_seconds": statistics.median(durations),
        "startup_seconds": seconds - sum(durations),
        "loss_curve": model.loss_curve_,
        "final_loss": model.loss_curve_[-1],
        "test_squared_error": squared_error(
            X_test, model.inverse_transform(model.transform(X_test))),
    }


def main():
    parser = argument_parser(__doc__, quick="digits only, 3 epochs", threads=2)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    data = None if args.quick else load("MNIST")
    if data is None:
        name, (X, X_test, _, _), hidden, k = "digits", load("digits"), (100,), 8
    else:
        name, (X, X_test, _, _), hidden, k = "MNIST", data, (256,), 32
    X, X_test = X.astype(np.float32), X_test.astype(np.float32)
    epochs = 3 if args.quick else args.epochs
    run(X[:1000], X_test, hidden, k, 1, 1, args.threads)  # warm-up: torch's first use
    setups = [(1, 1), (1, args.threads), (2, args.threads)]
    rows = [run(X, X_test, hidden, k, epochs, n, t) for n, t in setups]
    alone = rows[1]["loss_curve"]
    for row in rows:
        row["loss_curve_max_rel_diff"] = float(np.max(
            np.abs(np.subtract(row["loss_curve"], alone)) / np.abs(alone)))
    lines = [
        "| processes | threads in all | s per epoch | start-up (s) | fit (s) | final loss "
        "| test squared error | loss curve vs 1 process |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['n_processes']} | {r['threads']} | {r['epoch_seconds']:.2f} "
        f"| {r['startup_seconds']:.1f} | {r['fit_seconds']:.1f} | {r['final_loss']:.4f} "
        f"| {r['test_squared_error']:.4f} | {r['loss_curve_max_rel_diff']:.1e} |"
        for r in rows
    ]
    one, two = rows[1], rows[2]
    lines += [
        "",
        f"Two processes against one with {args.threads} threads: "
        f"{one['epoch_seconds'] / two['epoch_seconds']:.2f}x the epochs per second, "
        f"{two['startup_seconds'] - one['startup_seconds']:.1f} s more to start.",
    ]
    shape = f"{X.shape[1]}-{'-'.join(map(str, hidden))}-{k}"
    write_results(
        results_stem("ddp", args.quick, args.out),
        {"data": name, "shape": shape, "rows": X.shape[0], "epochs": epochs,
         "batch_size": 200, "runs": rows},
        f"One model on one or two processes ({name}, {shape}, {epochs} epochs, batch 200)",
        "\n".join(lines),
    )


if __name__ == "__main__":
    main()
