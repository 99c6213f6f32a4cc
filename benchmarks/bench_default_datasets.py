"""Default deterministic autoencoders against PCA on real data sets of many shapes.

Each data set is split 75% / 25% (``random_state=0``; USPS keeps its
published split). Every estimator is built with only ``n_components`` and
``random_state`` set: 10 codes for images, ``None`` (``min(16,
n_features // 2)``) for tables and counts. For each of three seeds the
script records the held-out squared error summed over features and
averaged over rows, how many principal codes vary over the held-out rows
(more than a thousandth of the first code's spread), the
``CollapsedCodesWarning``\\ s and ConvergenceWarnings ``fit`` issued, and the
fit's time. PCA with the same number of components is the baseline;
``SparseCoder``, whose 100 codes are not comparable with PCA's, is set
against PCA with as many components as its non-zero codes per row (10),
where the data have more than 10 features.

Data: scikit-learn's digits (64 pixels), breast cancer, wine, diabetes and
iris (standardised on the training rows), the Reuters word counts shipped
with the ``lda`` package (``pip install lda``), and, from ``SKAE_DATA``,
USPS (256 pixels), MNIST and Fashion-MNIST (the 10,000 test images, 784
pixels), statically binarised MNIST and Frey Face (560 pixels). Data sets
that are not there are skipped with a message.

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_default_datasets.py``
(``--quick``: one seed, at most 2,000 training rows; ``--datasets``: some).
"""

import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris, load_wine
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from _common import argument_parser, pin_threads, results_stem, squared_error, write_results
from skae import AutoencoderTransformer, CollapsedCodesWarning, DenoisingAE, SparseCoder, datasets


def _split(X):
    return train_test_split(np.asarray(X, dtype=np.float32), test_size=0.25, random_state=0)


def _standardised(loader):
    def load():
        X_train, X_test = _split(loader(return_X_y=True)[0])
        scaler = StandardScaler().fit(X_train)
        return scaler.transform(X_train), scaler.transform(X_test)
    return load


def _reuters():
    import lda.datasets

    return _split(lda.datasets.load_reuters())


def _usps():
    X_train, _ = datasets.load_usps("train")
    X_test, _ = datasets.load_usps("test")
    return X_train, X_test


#: name -> (loader of (X_train, X_test), n_components, kind)
DATA = {
    "digits": (lambda: _split(load_digits().data / 16), 10, "images, 64 pixels"),
    "USPS": (_usps, 10, "images, 256 pixels"),
    "MNIST": (lambda: _split(datasets.load_mnist("test")[0]), 10, "images, 784 pixels"),
    "Fashion-MNIST": (lambda: _split(datasets.load_fashion_mnist()[0]), 10,
                      "images, 784 pixels"),
    "binarised MNIST": (lambda: _split(datasets.load_binarized_mnist()), 10,
                        "binary images, 784 pixels"),
    "Frey Face": (lambda: _split(datasets.load_frey_face()), 10, "faces, 560 pixels"),
    "breast cancer": (_standardised(load_breast_cancer), None, "standardised table"),
    "wine": (_standardised(load_wine), None, "standardised table"),
    "diabetes": (_standardised(load_diabetes), None, "standardised table"),
    "iris": (_standardised(load_iris), None, "standardised table"),
    "digits, raw": (lambda: _split(load_digits().data), 10, "counts 0-16, 64 pixels"),
    "Reuters": (_reuters, None, "word counts, 4,258 words"),
}

MODELS = {
    "AutoencoderTransformer": AutoencoderTransformer,
    "DenoisingAE": DenoisingAE,
    "SparseCoder": SparseCoder,
}


def _as_rows(X):
    X = np.asarray(X, dtype=np.float32)
    return X.reshape(len(X), -1)


def _pca_error(X_train, X_test, n_components):
    pca = PCA(n_components).fit(X_train)
    return squared_error(X_test, pca.inverse_transform(pca.transform(X_test)))


def _run(Model, n_components, seed, X_train, X_test):
    model = Model(random_state=seed) if Model is SparseCoder else Model(n_components,
                                                                       random_state=seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        model.fit(X_train)
        seconds = time.perf_counter() - start
    codes = model.transform(X_test)
    spread = codes.std(axis=0)
    return {
        "error": squared_error(X_test, model.inverse_transform(codes)),
        "live_codes": int((spread > 1e-3 * spread.max()).sum()) if spread.max() > 0 else 0,
        "codes": int(codes.shape[1]),
        "collapsed_warnings": sum(issubclass(w.category, CollapsedCodesWarning)
                                  for w in caught),
        "convergence_warnings": sum(issubclass(w.category, ConvergenceWarning)
                                    for w in caught),
        "epochs": int(model.n_iter_),
        "seconds": seconds,
    }


def run_dataset(name, seeds, max_rows):
    load, n_components, kind = DATA[name]
    try:
        X_train, X_test = (_as_rows(part) for part in load())
    except (FileNotFoundError, ImportError) as exc:
        print(f"skipping {name}: {exc}", flush=True)
        return None
    X_train = X_train[:max_rows]
    k = min(16, X_train.shape[1] // 2) if n_components is None else n_components
    result = {"kind": kind, "shape": list(X_train.shape), "n_components": k,
              "pca_error": _pca_error(X_train, X_test, k),
              # PCA with as many components as SparseCoder's non-zero codes,
              # where that is fewer than the features.
              "pca_error_10": (_pca_error(X_train, X_test, 10) if X_train.shape[1] > 10
                               else None),
              "models": {}}
    for model_name, Model in MODELS.items():
        runs = [_run(Model, n_components, seed, X_train, X_test) for seed in seeds]
        result["models"][model_name] = runs
        print(name, model_name, [round(r["error"], 3) for r in runs], flush=True)
    return result


def _row(name, model_name, result):
    runs = result["models"][model_name]
    errors = np.array([r["error"] for r in runs])
    baseline = result["pca_error_10"] if model_name == "SparseCoder" else result["pca_error"]
    live = "/".join(str(r["live_codes"]) for r in runs)
    versus = ("— | —" if baseline is None
              else f"{baseline:.3f} | {errors.max() / baseline:.2f}")
    return (f"| {name} | {result['shape'][0]}x{result['shape'][1]} | {model_name} | "
            f"{errors.mean():.3f} ± {errors.std():.3f} | {versus} | "
            f"{live} of {runs[0]['codes']} | "
            f"{sum(r['collapsed_warnings'] for r in runs)} | "
            f"{sum(r['convergence_warnings'] for r in runs)} | "
            f"{np.mean([r['seconds'] for r in runs]):.1f} s |")


def main():
    parser = argument_parser(__doc__, quick="one seed, at most 2,000 training rows", threads=1)
    parser.add_argument("--datasets", nargs="+", choices=sorted(DATA), default=list(DATA))
    args = parser.parse_args()
    pin_threads(args.threads)
    seeds = [0] if args.quick else [0, 1, 2]
    max_rows = 2000 if args.quick else None
    results, lines = {}, []
    for name in args.datasets:
        result = run_dataset(name, seeds, max_rows)
        if result is None:
            continue
        results[name] = result
        lines += [_row(name, model_name, result) for model_name in MODELS]
    body = (
        "Held-out squared error per row (mean ± spread over seeds "
        f"{', '.join(map(str, seeds))}), against PCA with the same number of components "
        "(SparseCoder: PCA with 10); \"worst / PCA\" is the worst seed's error over "
        "PCA's; live codes per seed; warnings summed over the seeds; mean fit time.\n\n"
        "| data | train rows x features | model | held-out error | PCA | worst / PCA | "
        "live codes | CollapsedCodesWarning | ConvergenceWarning | fit |\n"
        "|---|---|---|---:|---:|---:|---|---:|---:|---:|\n" + "\n".join(lines)
    )
    write_results(results_stem("default_datasets", args.quick, args.out), {"datasets": results},
                  "Default autoencoders against PCA on real data sets", body)


if __name__ == "__main__":
    main()
