"""How AutoencoderTransformer's fit time grows with rows and with code size.

Fit time of a fixed number of epochs on MNIST training images (random
784-wide data when MNIST is absent) for 1,000 to 60,000 rows at 32
components, and for code sizes 2 to 256 at 10,000 rows. A least-squares fit
of log(time) on log(rows) gives the growth exponent: 1 means linear.

Run: ``python benchmarks/bench_scaling.py [--quick]``
"""

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
import torch
from sklearn.exceptions import ConvergenceWarning

from skae import AutoencoderTransformer, datasets

os.environ.setdefault("SKAE_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "data"))


def fit_seconds(X, n_components, epochs):
    model = AutoencoderTransformer(n_components, hidden_layer_sizes=(256,), max_iter=epochs,
                                   batch_size=200, random_state=0)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args()
    try:
        X, _ = datasets.load_mnist("train")
        source = "MNIST"
    except FileNotFoundError:
        X = np.random.default_rng(0).random((60_000, 784), dtype=np.float32)
        source = "uniform random"
    rows = [1_000, 5_000, 10_000] if args.quick else [1_000, 5_000, 10_000, 30_000, 60_000]
    sizes = [2, 32, 256] if args.quick else [2, 8, 32, 128, 256]
    fit_seconds(X[:1000], 32, 1)  # warm-up
    by_rows = [{"rows": n, "seconds": fit_seconds(X[:n], 32, args.epochs)} for n in rows]
    by_size = [{"n_components": k, "seconds": fit_seconds(X[:10_000], k, args.epochs)}
               for k in sizes]
    exponent = float(np.polyfit(np.log([r["rows"] for r in by_rows]),
                                np.log([r["seconds"] for r in by_rows]), 1)[0])
    result = {"date": time.strftime("%Y-%m-%d"), "data": source, "epochs": args.epochs,
              "machine": {"cores": os.cpu_count(), "threads": torch.get_num_threads(),
                          "torch": torch.__version__, "scikit-learn": sklearn.__version__},
              "command": "python benchmarks/bench_scaling.py" + (" --quick" if args.quick else ""),
              "by_rows": by_rows, "by_n_components": by_size, "rows_exponent": exponent}
    lines = [f"# Fit time scaling ({source}, 784-256-k, {args.epochs} epochs)", "",
             f"{result['date']}, {os.cpu_count()} cores, torch {torch.__version__}. "
             f"Command: `{result['command']}`.", "",
             "| rows | fit (s) | s per 1,000 rows |", "|---:|---:|---:|"]
    lines += [f"| {r['rows']:,} | {r['seconds']:.2f} | {1000 * r['seconds'] / r['rows']:.3f} |"
              for r in by_rows]
    lines += ["", f"log-log slope of time against rows: {exponent:.2f} (1 = linear)", "",
              "| n_components (10,000 rows) | fit (s) |", "|---:|---:|"]
    lines += [f"| {r['n_components']} | {r['seconds']:.2f} |" for r in by_size]
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = "scaling_quick" if args.quick else "scaling"
    (out / f"{stem}.json").write_text(json.dumps(result, indent=2))
    (out / f"{stem}.md").write_text(text)


if __name__ == "__main__":
    main()
