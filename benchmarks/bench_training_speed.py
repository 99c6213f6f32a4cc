"""Training throughput of AutoencoderTransformer against two baselines.

Measured in one process, interleaved, on the same module, optimiser (Adam,
learning rate 1e-3), batch size and number of epochs:

* a hand-written PyTorch loop over an in-memory tensor, shuffled each epoch;
* skorch's ``NeuralNetRegressor`` fitted the documented way, ``fit(X, X)``:
  once with no validation split, so that it trains on as many rows as the
  others, and once with its default internal split (80% train, 20% scored
  every epoch), which is what ``fit`` does when nothing is changed.

Throughput is rows x epochs / wall-clock seconds of the whole ``fit`` (set-up
included). Each contender runs ``--repeats`` times; the median is reported,
with the ratios skae / baseline (higher is better for skae).

Run: ``python benchmarks/bench_training_speed.py [--repeats 5] [--json PATH]``;
with ``--json``, the table is also written beside it, as markdown.
"""

import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from _common import argument_parser, digits, markdown, metadata, write_results
from skae import AutoencoderTransformer
from skae.losses import squared_error
from skae.nn import MLPAutoencoder


class _ReconstructionOnly(torch.nn.Module):
    """skorch's regressor wants a tensor, not the module's dict output."""

    def __init__(self, n_features, n_components, hidden):
        super().__init__()
        self.ae = MLPAutoencoder(n_features, n_components, hidden)

    def forward(self, x):
        return self.ae(x)["recon"]


def fit_hand_written(X, cfg):
    generator = torch.Generator().manual_seed(0)
    module = MLPAutoencoder(X.shape[1], cfg["n_components"], cfg["hidden"])
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    data = torch.tensor(X)
    n, batch = len(data), cfg["batch_size"]
    for _ in range(cfg["epochs"]):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch):
            xb = data[order[start : start + batch]]
            optimizer.zero_grad()
            loss = squared_error(module(xb)["recon"], xb).mean()
            loss.backward()
            optimizer.step()
            loss.item()


def fit_skorch(X, cfg, **overrides):
    from skorch import NeuralNetRegressor

    kwargs = {"train_split": None, **overrides}
    net = NeuralNetRegressor(
        _ReconstructionOnly,
        module__n_features=X.shape[1],
        module__n_components=cfg["n_components"],
        module__hidden=cfg["hidden"],
        optimizer=torch.optim.Adam,
        lr=1e-3,
        batch_size=cfg["batch_size"],
        max_epochs=cfg["epochs"],
        iterator_train__shuffle=True,
        verbose=0,
        **kwargs,
    )
    net.fit(X, X)


def fit_skae(X, cfg):
    AutoencoderTransformer(
        cfg["n_components"],
        hidden_layer_sizes=cfg["hidden"],
        batch_size=cfg["batch_size"],
        max_iter=cfg["epochs"],
        tol=0.0,
        n_iter_no_change=cfg["epochs"] + 1,
        random_state=0,
    ).fit(X)


def fit_skorch_default_split(X, cfg):
    from skorch.dataset import ValidSplit

    fit_skorch(X, cfg, train_split=ValidSplit(5))


CONTENDERS = {
    "skae": fit_skae,
    "hand-written loop": fit_hand_written,
    "skorch NeuralNetRegressor": fit_skorch,
    "skorch, default split": fit_skorch_default_split,
}


def problems():
    """The data sets, each with its network and training settings."""
    pixels = digits()[0].astype(np.float32)
    wide = np.random.default_rng(0).random((20_000, 784), dtype=np.float32)
    return {
        "digits 1797x64, 64-100-8": (
            pixels, {"n_components": 8, "hidden": [100], "batch_size": 200, "epochs": 30}),
        "20000x784, 784-256-32": (
            wide, {"n_components": 32, "hidden": [256], "batch_size": 200, "epochs": 3}),
    }


def run(repeats):
    results = []
    for name, (X, cfg) in problems().items():
        times = {k: [] for k in CONTENDERS}
        fit_skae(X[:400], {**cfg, "epochs": 1})  # warm-up: thread pools, allocator
        for _ in range(repeats):
            for label, fit in CONTENDERS.items():
                start = time.perf_counter()
                fit(X, cfg)
                times[label].append(time.perf_counter() - start)
        rows = X.shape[0] * cfg["epochs"]
        throughput = {k: rows / statistics.median(v) for k, v in times.items()}
        results.append({
            "data": name,
            "epochs": cfg["epochs"],
            "rows_per_second": throughput,
            "ratio_vs_hand_written": throughput["skae"] / throughput["hand-written loop"],
            "ratio_vs_skorch": throughput["skae"] / throughput["skorch NeuralNetRegressor"],
            "ratio_vs_skorch_default_split":
                throughput["skae"] / throughput["skorch, default split"],
        })
    return results


def table(results):
    """Markdown table of throughputs (rows/s) and ratios."""
    lines = ["| data | skae | hand-written loop | skorch, no split | skorch, default split "
             "| skae / hand | skae / skorch | skae / skorch default |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        t = r["rows_per_second"]
        lines.append(
            f"| {r['data']} | {t['skae']:,.0f} | {t['hand-written loop']:,.0f} | "
            f"{t['skorch NeuralNetRegressor']:,.0f} | {t['skorch, default split']:,.0f} | "
            f"{r['ratio_vs_hand_written']:.2f}x | {r['ratio_vs_skorch']:.2f}x | "
            f"{r['ratio_vs_skorch_default_split']:.2f}x |")
    return "\n".join(lines)


def main():
    parser = argument_parser(__doc__, out=False)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", help="also write the results to this file (and a .md beside)")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    results = run(args.repeats)
    title = "Training throughput (rows x epochs per second)"
    body = f"Median of {args.repeats} interleaved fits of each contender.\n\n{table(results)}"
    if args.json:
        write_results(Path(args.json).with_suffix(""), {"repeats": args.repeats,
                                                        "results": results}, title, body)
    else:
        print(markdown(title, body, metadata()))


if __name__ == "__main__":
    main()
