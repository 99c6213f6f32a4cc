"""Every estimator with its defaults against its linear counterpart, on a user's first tasks.

Only ``n_components`` is set, where the task needs it; nothing else is tuned.
Tasks (``--tasks``, all by default):

- ``pipeline``: scikit-learn's example "Pipelining: chaining a PCA and a
  logistic regression" (digits, ``StandardScaler``, ``GridSearchCV`` over
  ``n_components`` in [5, 15, 30, 45, 60] and ``C`` in logspace(-4, 4, 4),
  5-fold) with each estimator in place of ``PCA``: best CV accuracy, wall
  time against PCA's, and the ConvergenceWarnings the search printed.
- ``features``: 10 components from each estimator as the features of a
  logistic regression, 3-fold CV accuracy on digits (pixels / 16).
- ``anomaly``: ROC AUC of ``-score_samples`` against IsolationForest and
  probabilistic PCA keeping 90% of the variance: digits with the 7s unseen
  in training, and scikit-learn's tables, standardised on the normal
  training rows: breast cancer (malignant as anomalies), and wine and iris
  with each class in turn unseen in training.
- ``convergence``: each estimator's default ``fit`` on digits (pixels / 16,
  raw pixels, standardised): epochs and whether it warned.
- ``sparsity``: ``SparseCoder()``'s share of zero codes and its held-out
  reconstruction error against ``MiniBatchDictionaryLearning()``'s default,
  on digits.

Run: ``python benchmarks/bench_defaults.py`` (``--quick``: 2-fold searches
on a smaller grid; ``--models``: only some estimators).
"""

import tempfile
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.decomposition import PCA, MiniBatchDictionaryLearning
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from _common import argument_parser, pin_threads, results_stem, squared_error, write_results
from skae import AutoencoderTransformer, DenoisingAE, SparseCoder, VAETransformer

SEED = 0
TRANSFORMERS = {
    "PCA": lambda **p: PCA(**p),
    "AutoencoderTransformer": lambda **p: AutoencoderTransformer(**p, random_state=SEED),
    "DenoisingAE": lambda **p: DenoisingAE(**p, random_state=SEED),
    "VAETransformer": lambda **p: VAETransformer(**p, random_state=SEED),
    "SparseCoder": lambda **p: SparseCoder(**p, random_state=SEED),
}


def _counting_warnings(fn):
    """``fn()``'s result, and the number of ConvergenceWarnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        result = fn()
    return result, sum(issubclass(w.category, ConvergenceWarning) for w in caught)


def pipeline_task(quick):
    X, y = load_digits(return_X_y=True)
    grid = {"reduce__n_components": [5, 15, 30, 45, 60],
            "logistic__C": np.logspace(-4, 4, 4)}
    if quick:
        grid = {"reduce__n_components": [15, 45], "logistic__C": [1.0]}
    rows = {}
    runs = [(name, make, None) for name, make in TRANSFORMERS.items()]
    if "AutoencoderTransformer" in TRANSFORMERS:
        # The fitted autoencoder cached, so that the 4 values of C reuse one fit.
        runs.append(("AutoencoderTransformer, Pipeline(memory=...)",
                     TRANSFORMERS["AutoencoderTransformer"], "cache"))
    for name, make, memory in runs:
        with tempfile.TemporaryDirectory() as cache:
            pipe = Pipeline([("scaler", StandardScaler()), ("reduce", make()),
                             ("logistic", LogisticRegression(max_iter=10000, tol=0.1))],
                            memory=cache if memory else None)
            search = GridSearchCV(pipe, grid, cv=2 if quick else 5)
            start = time.perf_counter()
            _, n_warnings = _counting_warnings(lambda search=search: search.fit(X, y))
            seconds = time.perf_counter() - start
        rows[name] = {"best_cv_accuracy": search.best_score_, "seconds": seconds,
                      "best_params": {k: float(v) for k, v in search.best_params_.items()},
                      "convergence_warnings": n_warnings}
        print(name, rows[name], flush=True)
    for row in rows.values():
        row["time_over_pca"] = row["seconds"] / rows["PCA"]["seconds"]
    lines = [f"| {name} | {r['best_cv_accuracy']:.3f} | {r['seconds']:.1f} s | "
             f"{r['time_over_pca']:.1f}x | {r['convergence_warnings']} |"
             for name, r in rows.items()]
    return rows, ("### Pipelining example (digits, StandardScaler, GridSearchCV)\n\n"
                  "| in place of PCA | best CV accuracy | search time | / PCA's | "
                  "ConvergenceWarnings |\n|---|---:|---:|---:|---:|\n" + "\n".join(lines))


def features_task(quick):
    X, y = load_digits(return_X_y=True)
    X = X / 16
    rows = {}
    for name, make in TRANSFORMERS.items():
        pipe = make_pipeline(make(n_components=10), LogisticRegression(max_iter=2000))
        scores, _ = _counting_warnings(
            lambda pipe=pipe: cross_val_score(pipe, X, y, cv=2 if quick else 3))
        rows[name] = {"cv_accuracy": float(scores.mean())}
        print(name, rows[name], flush=True)
    lines = [f"| {name} | {r['cv_accuracy']:.3f} |" for name, r in rows.items()]
    return rows, ("### 10 components as a logistic regression's features (digits / 16, "
                  "3-fold)\n\n| features | CV accuracy |\n|---|---:|\n" + "\n".join(lines))


#: The tables of the anomaly task; their mean is the figure compared with IsolationForest.
TABULAR = ("breast cancer, malignant", "wine, class 0 unseen", "wine, class 1 unseen",
           "wine, class 2 unseen", "iris, setosa unseen", "iris, versicolor unseen",
           "iris, virginica unseen")


def _anomaly_sets():
    """(name, X, anomalous, standardise): the anomalies are kept out of training."""
    X, y = load_digits(return_X_y=True)
    yield "digits, 7 unseen", X / 16, y == 7, False
    X, y = load_breast_cancer(return_X_y=True)
    yield "breast cancer, malignant", X, y == 0, True
    X, y = load_wine(return_X_y=True)
    for label in range(3):
        yield f"wine, class {label} unseen", X, y == label, True
    X, y = load_iris(return_X_y=True)
    for label, name in enumerate(("setosa", "versicolor", "virginica")):
        yield f"iris, {name} unseen", X, y == label, True


def anomaly_task(quick):
    models = {name: make for name, make in TRANSFORMERS.items()}
    # All components make probabilistic PCA's covariance singular on
    # constant pixels: keep 90% of the variance.
    models["PCA"] = lambda: PCA(n_components=0.9)
    models["IsolationForest"] = lambda: IsolationForest(random_state=SEED)
    rows = {}
    for data_name, X, anomalous, standardise in _anomaly_sets():
        train, test = train_test_split(np.arange(len(X)), test_size=0.5, random_state=SEED,
                                       stratify=anomalous)
        train = train[~anomalous[train]]  # trained on normal rows only
        X_train, X_test = X[train], X[test]
        if standardise:
            scaler = StandardScaler().fit(X_train)
            X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
        rows[data_name] = {}
        for name, make in models.items():
            model, _ = _counting_warnings(lambda make=make, X=X_train: make().fit(X))
            auc = roc_auc_score(anomalous[test], -model.score_samples(X_test))
            rows[data_name][name] = auc
        print(data_name, rows[data_name], flush=True)
    names = list(models)
    lines = [f"| {d} | " + " | ".join(f"{r[n]:.3f}" for n in names) + " |"
             for d, r in rows.items()]
    mean = {n: float(np.mean([rows[d][n] for d in TABULAR])) for n in names}
    lines.append("| mean of the tables (all but digits) | "
                 + " | ".join(f"{mean[n]:.3f}" for n in names) + " |")
    rows["tabular mean"] = mean
    return rows, ("### Anomaly detection: ROC AUC of -score_samples, trained on normal "
                  "rows\n\n| data | " + " | ".join(names) + " |\n|---|"
                  + "---:|" * len(names) + "\n" + "\n".join(lines))


def convergence_task(quick):
    X, _ = load_digits(return_X_y=True)
    inputs = {"pixels / 16": X / 16, "raw pixels": X,
              "standardised": StandardScaler().fit_transform(X)}
    rows = {}
    for data_name, data in inputs.items():
        for name, make in TRANSFORMERS.items():
            if name == "PCA":
                continue
            model = make()
            start = time.perf_counter()
            _, n_warnings = _counting_warnings(lambda model=model, data=data: model.fit(data))
            rows[f"{name}, {data_name}"] = {"epochs": model.n_iter_, "warned": bool(n_warnings),
                                            "seconds": time.perf_counter() - start}
    lines = [f"| {k} | {r['epochs']} | {'yes' if r['warned'] else 'no'} | {r['seconds']:.1f} s |"
             for k, r in rows.items()]
    return rows, ("### Default fits on digits\n\n| estimator, input | epochs | "
                  "ConvergenceWarning | time |\n|---|---:|---|---:|\n" + "\n".join(lines))


def sparsity_task(quick):
    X, _ = load_digits(return_X_y=True)
    X_train, X_test = train_test_split(X / 16, test_size=0.25, random_state=SEED)
    coder, _ = _counting_warnings(lambda: SparseCoder(random_state=SEED).fit(X_train))
    learner = MiniBatchDictionaryLearning(random_state=SEED).fit(X_train)
    codes = coder.transform(X_test)
    dl_codes = learner.transform(X_test)
    rows = {
        "SparseCoder": {"zero_share": float(np.mean(codes == 0)),
                        "error": squared_error(X_test, coder.inverse_transform(codes))},
        "MiniBatchDictionaryLearning": {
            "zero_share": float(np.mean(dl_codes == 0)),
            "error": squared_error(X_test, dl_codes @ learner.components_)},
    }
    lines = [f"| {n} | {r['zero_share']:.2f} | {r['error']:.3f} |" for n, r in rows.items()]
    return rows, ("### Sparse codes with defaults (digits / 16, held-out quarter)\n\n"
                  "| model | share of zero codes | squared error per image |\n"
                  "|---|---:|---:|\n" + "\n".join(lines))


TASKS = {"pipeline": pipeline_task, "features": features_task, "anomaly": anomaly_task,
         "convergence": convergence_task, "sparsity": sparsity_task}


def main():
    parser = argument_parser(__doc__, quick="2-fold searches on a smaller grid", threads=1)
    parser.add_argument("--tasks", nargs="+", choices=sorted(TASKS), default=list(TASKS))
    parser.add_argument("--models", nargs="+", choices=sorted(TRANSFORMERS),
                        help="only these estimators (PCA, the reference, always runs)")
    args = parser.parse_args()
    if args.models:
        for name in set(TRANSFORMERS) - {"PCA", *args.models}:
            del TRANSFORMERS[name]
    pin_threads(args.threads)
    results, sections = {}, []
    for task in args.tasks:
        results[task], section = TASKS[task](args.quick)
        sections.append(section)
    write_results(results_stem("defaults", args.quick, args.out), results,
                  "Defaults against their linear counterparts", "\n\n".join(sections) + "\n")


if __name__ == "__main__":
    main()
