"""Quality of every reducer at the same code size, on several image data sets.

For each data set: held-out reconstruction error (squared error summed over
pixels in [0, 1], averaged over test images), accuracy of a logistic
regression on the codes, adjusted Rand index of KMeans on the test codes
(labels permitting) and fit time, for scikit-learn's PCA, NMF, FastICA,
KMeans, DictionaryLearning and KernelPCA and for skae's estimators.

Digits is built in; MNIST, Frey Face and USPS are read from ``SKAE_DATA``
(default here: ``../shared/data`` beside the repository) and skipped with a
message when absent. Training sets are capped (``--max-train``) because
KernelPCA and DictionaryLearning grow quadratically or worse with rows.

Run: ``python benchmarks/bench_quality.py [--quick] [--out benchmarks/results]``
"""

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import sklearn
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import DictionaryLearning, KernelPCA
from sklearn.model_selection import train_test_split

from skae import datasets
from skae.comparison import default_models, evaluate

os.environ.setdefault("SKAE_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "data"))


def load_all(max_train, max_test):
    """Yield (name, X_train, X_test, y_train, y_test) for every available data set."""
    X, y = load_digits(return_X_y=True)
    yield ("digits", *train_test_split(X / 16.0, y, test_size=0.25, random_state=0,
                                       stratify=y))
    rng = np.random.default_rng(0)

    def cap(X, y, n):
        keep = rng.choice(len(X), size=min(n, len(X)), replace=False)
        return X[keep], (None if y is None else y[keep])

    try:
        Xtr, ytr = cap(*datasets.load_mnist("train"), max_train)
        Xte, yte = cap(*datasets.load_mnist("test"), max_test)
        yield "MNIST", Xtr, Xte, ytr, yte
    except FileNotFoundError as exc:
        print(f"skipping MNIST: {exc}")
    try:
        faces = datasets.load_frey_face()
        Xtr, Xte = train_test_split(faces, test_size=0.25, random_state=0)
        yield "Frey Face", Xtr, Xte, None, None
    except FileNotFoundError as exc:
        print(f"skipping Frey Face: {exc}")
    try:
        Xtr, ytr = cap(*datasets.load_usps("train"), max_train)
        Xte, yte = datasets.load_usps("test")
        yield "USPS", Xtr, Xte, ytr, yte
    except (FileNotFoundError, ImportError) as exc:
        print(f"skipping USPS: {exc}")


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="digits and small caps only; a few minutes on 2 cores")
    parser.add_argument("--n-components", type=int, default=16)
    parser.add_argument("--max-train", type=int, default=None)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args()
    max_train = args.max_train or (1500 if args.quick else 5000)
    results = []
    for name, X_train, X_test, y_train, y_test in load_all(max_train, max_train):
        if args.quick and name != "digits":
            continue
        for label, model in models(args.n_components, 0, args.quick).items():
            row = evaluate(model, X_train, X_test, y_train, y_test, random_state=0)
            row.update(data=name, model=label, n_train=len(X_train), n_test=len(X_test))
            results.append(row)
            print(f"{name:10s} {label:24s} error {row['reconstruction_error']:9.3f}  "
                  f"acc {_fmt(row['accuracy'])}  ARI {_fmt(row['adjusted_rand'])}  "
                  f"fit {row['fit_seconds']:7.2f}s", flush=True)
    write(results, args)


def write(results, args):
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = "quality_quick" if args.quick else "quality"
    machine = {"cores": os.cpu_count(), "threads": torch.get_num_threads(),
               "processor": platform.machine(),
               "torch": torch.__version__, "scikit-learn": sklearn.__version__}
    command = "python benchmarks/bench_quality.py" + (" --quick" if args.quick else "")
    payload = {"date": time.strftime("%Y-%m-%d"), "machine": machine, "command": command,
               "n_components": args.n_components, "results": results}
    (out / f"{stem}.json").write_text(json.dumps(payload, indent=2))
    lines = [f"# Quality at {args.n_components} components", "",
             f"{payload['date']}, {machine['cores']} cores ({machine['threads']} torch "
             f"thread(s)), torch {machine['torch']}, "
             f"scikit-learn {machine['scikit-learn']}. Command: `{command}`.", "",
             "| data | model | train / test rows | held-out error | accuracy | ARI | fit (s) |",
             "|---|---|---:|---:|---:|---:|---:|"]

    for r in results:
        lines.append(f"| {r['data']} | {r['model']} | {r['n_train']} / {r['n_test']} | "
                     f"{r['reconstruction_error']:.3f} | {_fmt(r['accuracy'])} | "
                     f"{_fmt(r['adjusted_rand'])} | {r['fit_seconds']:.2f} |")
    (out / f"{stem}.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
