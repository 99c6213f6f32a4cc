"""Quality of every reducer at the same code size, on several image data sets.

For each data set: held-out reconstruction error (squared error summed over
pixels in [0, 1], averaged over test images), accuracy of a logistic
regression on the codes, adjusted Rand index of KMeans on the test codes
(labels permitting) and fit time, for scikit-learn's PCA, NMF, FastICA,
KMeans, DictionaryLearning and KernelPCA and for skae's estimators.

Digits is built in; MNIST, Frey Face and USPS are read from ``SKAE_DATA``
(default here: ``../shared/data`` beside the repository) and skipped with a
message when absent. Training and test sets longer than ``--max-train``
rows are cut to a random subset of that size, because KernelPCA and
DictionaryLearning grow quadratically or worse with rows.

Run: ``python benchmarks/bench_quality.py [--quick] [--out benchmarks/results]``
"""

import numpy as np
from sklearn.decomposition import DictionaryLearning, KernelPCA

from _common import argument_parser, load, results_stem, write_results
from skae.comparison import default_models, evaluate


def load_all(max_rows, quick):
    """Yield (name, X_train, X_test, y_train, y_test) for every available data set.

    Sets longer than ``max_rows`` are cut to a random subset of that size.
    """
    rng = np.random.default_rng(0)

    def cap(X, y):
        if len(X) <= max_rows:
            return X, y
        keep = rng.choice(len(X), size=max_rows, replace=False)
        return X[keep], (None if y is None else y[keep])

    for name in ("digits", "MNIST", "Frey Face", "USPS"):
        if quick and name != "digits":
            return
        data = load(name, stratify=True)
        if data is not None:
            X_train, X_test, y_train, y_test = data
            X_train, y_train = cap(X_train, y_train)
            X_test, y_test = cap(X_test, y_test)
            yield name, X_train, X_test, y_train, y_test


def models(n_components, random_state, quick):
    all_models = default_models(n_components, random_state)
    # alpha=0.1 rather than the default 1: with 16 atoms, codes shrunk by an
    # L1 weight of 1 reconstruct digits with almost 4 times PCA's error,
    # which would make a crippled baseline.
    all_models["DictionaryLearning"] = DictionaryLearning(
        n_components, alpha=0.1, max_iter=20 if quick else 100,
        transform_algorithm="lasso_lars", transform_alpha=0.1, random_state=random_state)
    all_models["KernelPCA (rbf)"] = KernelPCA(
        n_components, kernel="rbf", fit_inverse_transform=True, alpha=1e-2,
        random_state=random_state)
    return all_models


def _fmt(value):
    return "-" if value is None else f"{value:.3f}"


def table(results):
    lines = ["| data | model | train / test rows | held-out error | accuracy | ARI | fit (s) |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['data']} | {r['model']} | {r['n_train']} / {r['n_test']} | "
                     f"{r['reconstruction_error']:.3f} | {_fmt(r['accuracy'])} | "
                     f"{_fmt(r['adjusted_rand'])} | {r['fit_seconds']:.2f} |")
    return "\n".join(lines)


def main():
    parser = argument_parser(__doc__,
                             quick="digits and small caps only; a few minutes on 2 cores")
    parser.add_argument("--n-components", type=int, default=16)
    parser.add_argument("--max-train", type=int, default=None)
    args = parser.parse_args()
    max_train = args.max_train or (1500 if args.quick else 5000)
    results = []
    for name, X_train, X_test, y_train, y_test in load_all(max_train, args.quick):
        for label, model in models(args.n_components, 0, args.quick).items():
            row = evaluate(model, X_train, X_test, y_train, y_test, random_state=0)
            row.update(data=name, model=label, n_train=len(X_train), n_test=len(X_test))
            results.append(row)
            print(f"{name:10s} {label:24s} error {row['reconstruction_error']:9.3f}  "
                  f"acc {_fmt(row['accuracy'])}  ARI {_fmt(row['adjusted_rand'])}  "
                  f"fit {row['fit_seconds']:7.2f}s", flush=True)
    write_results(results_stem("quality", args.quick, args.out),
                  {"n_components": args.n_components, "results": results},
                  f"Quality at {args.n_components} components", table(results))


if __name__ == "__main__":
    main()
