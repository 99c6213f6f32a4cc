"""How AutoencoderTransformer's fit time grows with rows and with code size.

Fit time of a fixed number of epochs on MNIST training images (random
784-wide data when MNIST is absent) for 1,000 to 60,000 rows at 32
components, and for code sizes 2 to 256 at 10,000 rows. A least-squares fit
of log(time) on log(rows) gives the growth exponent: 1 means linear.

Run: ``python benchmarks/bench_scaling.py [--quick]``
"""

import numpy as np

from _common import argument_parser, load, results_stem, timed_fit, write_results
from skae import AutoencoderTransformer


def fit_seconds(X, n_components, epochs):
    model = AutoencoderTransformer(n_components, hidden_layer_sizes=(256,), max_iter=epochs,
                                   batch_size=200, random_state=0)
    return timed_fit(model, X)[1]


def main():
    parser = argument_parser(__doc__, quick="up to 10,000 rows and three code sizes")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    mnist = load("MNIST")
    if mnist is None:
        X = np.random.default_rng(0).random((60_000, 784), dtype=np.float32)
        source = "uniform random"
    else:
        X = mnist[0]
        source = "MNIST"
    rows = [1_000, 5_000, 10_000] if args.quick else [1_000, 5_000, 10_000, 30_000, 60_000]
    sizes = [2, 32, 256] if args.quick else [2, 8, 32, 128, 256]
    fit_seconds(X[:1000], 32, 1)  # warm-up
    by_rows = [{"rows": n, "seconds": fit_seconds(X[:n], 32, args.epochs)} for n in rows]
    by_size = [{"n_components": k, "seconds": fit_seconds(X[:10_000], k, args.epochs)}
               for k in sizes]
    exponent = float(np.polyfit(np.log([r["rows"] for r in by_rows]),
                                np.log([r["seconds"] for r in by_rows]), 1)[0])
    lines = ["| rows | fit (s) | s per 1,000 rows |", "|---:|---:|---:|"]
    lines += [f"| {r['rows']:,} | {r['seconds']:.2f} | {1000 * r['seconds'] / r['rows']:.3f} |"
              for r in by_rows]
    lines += ["", f"log-log slope of time against rows: {exponent:.2f} (1 = linear)", "",
              "| n_components (10,000 rows) | fit (s) |", "|---:|---:|"]
    lines += [f"| {r['n_components']} | {r['seconds']:.2f} |" for r in by_size]
    write_results(results_stem("scaling", args.quick, args.out),
                  {"data": source, "epochs": args.epochs, "by_rows": by_rows,
                   "by_n_components": by_size, "rows_exponent": exponent},
                  f"Fit time scaling ({source}, 784-256-k, {args.epochs} epochs)",
                  "\n".join(lines))


if __name__ == "__main__":
    main()
