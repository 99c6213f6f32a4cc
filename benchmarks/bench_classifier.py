"""AutoencoderClassifier against scikit-learn's classifiers, with all labels and with few.

Tasks (``--task``):

* ``digits``: scikit-learn's digits, 25% test split. With 5% of the
  training labels (the rest marked -1), averaged over 5 random label draws:
  AutoencoderClassifier with its defaults, without pretraining and with a
  reconstruction term, VAEClassifier (M2) and a VAETransformer followed by
  a VAEClassifier (M1+M2), against ``LabelSpreading``,
  ``SelfTrainingClassifier(LogisticRegression())`` on 30 PCA components and
  ``LogisticRegression`` on the labelled rows alone. With every label:
  against ``MLPClassifier`` and ``LogisticRegression``.
* ``mnist``: all 60,000 MNIST labels, the 784-500-500-2000-10 network of
  Hinton & Salakhutdinov (2006), greedy layer-wise pretraining (denoising,
  masking 20% of the pixels) then fine-tuning, against the same network from
  random weights and ``MLPClassifier`` with the same layers. Each model
  trains epoch by epoch (``partial_fit``) until ``--minutes`` of training
  time have passed, pretraining included; the test error is recorded after
  every epoch. Each model writes ``results/classifier_mnist/<model>.json``,
  so that the models may run in separate processes (``--models``);
  ``--report`` writes the table from the files there.

* ``mnist100``: MNIST with 100 labels (10 per class), the rest unlabelled:
  VAEClassifier (M2) on the pixels and on the codes of a VAETransformer
  (M1+M2), each for ``--minutes`` of training time (M1+M2: half for each
  part), against ``LabelSpreading(kernel="knn")``,
  ``SelfTrainingClassifier(LogisticRegression())`` on 50 PCA components and
  ``LogisticRegression`` on the labelled rows. Results in
  ``results/classifier_mnist100/``, as for ``mnist``.

Run: ``python benchmarks/bench_classifier.py --task digits``,
``python benchmarks/bench_classifier.py --task mnist --minutes 30 --threads 2`` and
``python benchmarks/bench_classifier.py --task mnist100 --minutes 60 --threads 2``
"""

import json
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.semi_supervised import LabelSpreading, SelfTrainingClassifier

from _common import argument_parser, load, metadata, pin_threads, results_stem, write_results
from skae import AutoencoderClassifier, VAEClassifier, VAETransformer
from skae.comparison import keep_labels

SEEDS = range(5)


# ---------------------------------------------------------------------- digits


def _semi_supervised_models(seed):
    return {
        "AutoencoderClassifier()": AutoencoderClassifier(random_state=seed),
        "AutoencoderClassifier(pretrain=None)": AutoencoderClassifier(pretrain=None,
                                                                      random_state=seed),
        "AutoencoderClassifier(reconstruction_weight=1)": AutoencoderClassifier(
            reconstruction_weight=1.0, random_state=seed),
        "VAEClassifier() (M2)": VAEClassifier(random_state=seed),
        "VAEClassifier(likelihood='bernoulli') (M2)": VAEClassifier(likelihood="bernoulli",
                                                                    random_state=seed),
        "VAETransformer(16) + VAEClassifier() (M1+M2)": make_pipeline(
            VAETransformer(16, hidden_layer_sizes=(128,), likelihood="bernoulli",
                           random_state=seed),
            VAEClassifier(random_state=seed)),
        "LabelSpreading()": LabelSpreading(),
        "SelfTrainingClassifier(LogisticRegression()) on PCA(30)": make_pipeline(
            PCA(30, random_state=seed),
            SelfTrainingClassifier(LogisticRegression(max_iter=2000))),
        "LogisticRegression() on the labelled rows": "labelled only",
    }


def digits_task(args):
    X_train, X_test, y_train, y_test = load("digits", stratify=True)
    few = {}
    seeds = range(1) if args.quick else SEEDS
    for seed in seeds:
        y_few = keep_labels(y_train, 0.05, seed)
        for name, model in _semi_supervised_models(seed).items():
            start = time.perf_counter()
            if model == "labelled only":
                labelled = y_few != -1
                model = LogisticRegression(max_iter=2000).fit(X_train[labelled], y_few[labelled])
            else:
                model.fit(X_train, y_few)
            seconds = time.perf_counter() - start
            few.setdefault(name, []).append(
                {"accuracy": model.score(X_test, y_test), "seconds": seconds})
            print(f"5% labels, draw {seed}: {name}: {few[name][-1]['accuracy']:.4f}", flush=True)
    full = {}
    for name, model in {
        "AutoencoderClassifier()": AutoencoderClassifier(random_state=0),
        "AutoencoderClassifier(pretrain=None)": AutoencoderClassifier(pretrain=None,
                                                                      random_state=0),
        "VAEClassifier(likelihood='bernoulli') (M2)": VAEClassifier(likelihood="bernoulli",
                                                                    random_state=0),
        "MLPClassifier()": MLPClassifier(random_state=0),
        "LogisticRegression()": LogisticRegression(max_iter=2000),
    }.items():
        start = time.perf_counter()
        model.fit(X_train, y_train)
        full[name] = {"accuracy": model.score(X_test, y_test),
                      "seconds": time.perf_counter() - start}
        print(f"all labels: {name}: {full[name]['accuracy']:.4f}", flush=True)
    n_labelled = int((keep_labels(y_train, 0.05, 0) != -1).sum())
    rows = []
    for name, runs in few.items():
        acc = np.array([r["accuracy"] for r in runs])
        secs = np.mean([r["seconds"] for r in runs])
        rows.append(f"| {name} | {acc.mean():.4f} ± {acc.std():.4f} | {secs:.1f} s |")
    body = (
        f"Digits, {len(X_train)} training and {len(X_test)} test rows.\n\n"
        f"## 5% of the labels ({n_labelled} rows), the rest unlabelled\n\n"
        f"Test accuracy, mean ± standard deviation over {len(seeds)} label draws.\n\n"
        "| model | accuracy | fit time |\n|---|---:|---:|\n" + "\n".join(rows) + "\n\n"
        "## Every label\n\n| model | accuracy | fit time |\n|---|---:|---:|\n"
        + "\n".join(f"| {name} | {r['accuracy']:.4f} | {r['seconds']:.1f} s |"
                    for name, r in full.items()) + "\n")
    write_results(results_stem("classifier_digits", args.quick, args.out),
                  {"few_labels": few, "all_labels": full},
                  "AutoencoderClassifier on digits", body)


# ----------------------------------------------------------------------- MNIST

HIDDEN = (500, 500, 2000)


#: Epochs of each greedy pretraining stage, and of the fine-tuning that ``fit`` then runs.
PRETRAIN_EPOCHS = 10


def _train_by_epochs(model, X, y, X_test, y_test, minutes, first=None):
    """Train until ``minutes`` have passed: the test error after each call.

    ``first(X, y)`` is called first when given (``fit``); then ``partial_fit``
    trains one epoch a call.
    """
    curve, trained, classes = [], 0.0, np.unique(y[y != -1])
    while trained < 60 * minutes:
        start = time.perf_counter()
        if first is not None and not curve:
            first(X, y)
            epoch = model.n_iter_
        else:
            model.partial_fit(X, y, classes=classes)
            # Counted here: MLPClassifier's n_iter_ does not count partial_fit calls.
            epoch = curve[-1]["epoch"] + 1 if curve else 1
        trained += time.perf_counter() - start
        curve.append({"epoch": epoch, "minutes": trained / 60,
                      "test_error": 1 - model.score(X_test, y_test)})
        print(f"epoch {epoch:3d}  {trained / 60:6.1f} min  test error "
              f"{curve[-1]['test_error']:.4f}", flush=True)
    return curve


def mnist_model(name, X, y, X_test, y_test, minutes):
    """The test-error curve of one model trained for ``minutes``."""
    if name == "pretrained":
        clf = AutoencoderClassifier(HIDDEN, pretrain="greedy", noise="masking", noise_level=0.2,
                                    batch_size=128, max_iter=PRETRAIN_EPOCHS, random_state=0)
        # fit pretrains each stage for PRETRAIN_EPOCHS epochs, then fine-tunes
        # as many; partial_fit continues the fine-tuning.
        return _train_by_epochs(clf, X, y, X_test, y_test, minutes, first=clf.fit)
    if name == "random":
        clf = AutoencoderClassifier(HIDDEN, pretrain=None, batch_size=128, random_state=0)
    else:
        clf = MLPClassifier(HIDDEN, batch_size=128, random_state=0)
    return _train_by_epochs(clf, X, y, X_test, y_test, minutes)


LABELS = {
    "pretrained": "skae AutoencoderClassifier, greedy denoising pretraining",
    "random": "skae AutoencoderClassifier(pretrain=None)",
    "mlp": "MLPClassifier",
}


def mnist_task(args):
    folder = Path(args.out) / "classifier_mnist"
    folder.mkdir(parents=True, exist_ok=True)
    if not args.report:
        mnist = load("MNIST")
        if mnist is None:
            print("MNIST not found, nothing to do.")
            return
        X_train, X_test, y_train, y_test = mnist
        for name in args.models:
            curve = mnist_model(name, X_train, y_train, X_test, y_test, args.minutes)
            (folder / f"{name}.json").write_text(json.dumps(
                {**metadata(), "model": LABELS[name], "minutes": args.minutes,
                 "pretrain_epochs_per_stage": PRETRAIN_EPOCHS if name == "pretrained"
                 else None, "curve": curve}, indent=2) + "\n")
    rows, results = [], {}
    for name in LABELS:
        path = folder / f"{name}.json"
        if not path.exists():
            continue
        result = json.loads(path.read_text())
        results[name] = result
        curve = result["curve"]
        best = min(curve, key=lambda r: r["test_error"])
        rows.append(f"| {LABELS[name]} | {100 * curve[-1]['test_error']:.2f}% | "
                    f"{100 * best['test_error']:.2f}% (epoch {best['epoch']}) | "
                    f"{curve[-1]['epoch']} | {curve[-1]['minutes']:.1f} min | "
                    f"{result['machine']['threads']} |")
    body = (
        "MNIST, 60,000 training and 10,000 test images, pixels in [0, 1]; a "
        f"784-{'-'.join(map(str, HIDDEN))}-10 network.\n\n"
        "The final error is the result; the lowest error seen along the way was "
        "picked on the test set and shows only how much the error wanders.\n\n"
        "| model | final test error | lowest seen | epochs | training time | threads |\n"
        "|---|---:|---:|---:|---:|---:|\n" + "\n".join(rows) + "\n"
        "| published: pretrained and fine-tuned (Hinton & Salakhutdinov 2006) | 1.2% | | | | |\n"
        "| published: random initialisation, backpropagation | 1.6% | | | | |\n"
        "| published: SVM | 1.4% | | | | |\n")
    write_results(results_stem("classifier_mnist", False, args.out), results,
                  "AutoencoderClassifier on MNIST with every label", body)


# --------------------------------------------------------- MNIST, 100 labels

SEMI_LABELS = {
    "m2": "skae VAEClassifier (M2), 784-500-50",
    "m1m2": "skae VAETransformer(50) + VAEClassifier (M1+M2)",
    "label_spreading": "LabelSpreading(kernel='knn')",
    "self_training": "SelfTrainingClassifier(LogisticRegression()) on PCA(50)",
    "logistic": "LogisticRegression on the 100 labelled rows",
}


def _semi_model(name, X, y_few, X_test, y_test, minutes):
    """Train one model; its test-error curve (one point for the baselines)."""
    start = time.perf_counter()
    if name == "m2":
        clf = VAEClassifier(50, hidden_layer_sizes=(500,), likelihood="bernoulli",
                            random_state=0)
        return _train_by_epochs(clf, X, y_few, X_test, y_test, minutes)
    if name == "m1m2":
        # Half the budget trains M1 on every row, half trains M2 on its codes.
        m1 = VAETransformer(50, hidden_layer_sizes=(600, 600), likelihood="bernoulli",
                            random_state=0)
        trained = 0.0
        while trained < 30 * minutes:
            begin = time.perf_counter()
            m1.partial_fit(X)
            trained += time.perf_counter() - begin
            print(f"M1 epoch {m1.n_iter_:3d}  {trained / 60:6.1f} min", flush=True)
        codes, codes_test = m1.transform(X), m1.transform(X_test)
        m2 = VAEClassifier(50, hidden_layer_sizes=(500,), random_state=0)
        curve = _train_by_epochs(m2, codes, y_few, codes_test, y_test, minutes / 2)
        for point in curve:
            point["minutes"] += trained / 60
        return curve
    labelled = y_few != -1
    if name == "label_spreading":
        model = LabelSpreading(kernel="knn", n_neighbors=10).fit(X, y_few)
    elif name == "self_training":
        model = make_pipeline(PCA(50, random_state=0),
                              SelfTrainingClassifier(LogisticRegression(max_iter=2000)))
        model.fit(X, y_few)
    else:
        model = LogisticRegression(max_iter=2000).fit(X[labelled], y_few[labelled])
    error = 1 - model.score(X_test, y_test)
    print(f"{name}: test error {error:.4f}", flush=True)
    return [{"epoch": None, "minutes": (time.perf_counter() - start) / 60, "test_error": error}]


def mnist100_task(args):
    folder = Path(args.out) / "classifier_mnist100"
    folder.mkdir(parents=True, exist_ok=True)
    if not args.report:
        mnist = load("MNIST")
        if mnist is None:
            print("MNIST not found, nothing to do.")
            return
        X_train, X_test, y_train, y_test = mnist
        y_few = keep_labels(y_train, 100 / len(y_train), 0)
        for name in args.models:
            curve = _semi_model(name, X_train, y_few, X_test, y_test, args.minutes)
            (folder / f"{name}.json").write_text(json.dumps(
                {**metadata(), "model": SEMI_LABELS[name], "minutes": args.minutes,
                 "labelled_rows": int((y_few != -1).sum()), "curve": curve}, indent=2) + "\n")
    rows, results = [], {}
    for name, label in SEMI_LABELS.items():
        path = folder / f"{name}.json"
        if not path.exists():
            continue
        results[name] = result = json.loads(path.read_text())
        last = result["curve"][-1]
        epochs = "" if last["epoch"] is None else last["epoch"]
        rows.append(f"| {label} | {100 * last['test_error']:.2f}% | {epochs} | "
                    f"{last['minutes']:.1f} min | {result['machine']['threads']} |")
    body = (
        "MNIST, 60,000 training images of which 100 labelled (10 per class), "
        "10,000 test images; pixels in [0, 1].\n\n"
        "| model | test error | epochs | training time | threads |\n"
        "|---|---:|---:|---:|---:|\n" + "\n".join(rows) + "\n"
        "| published: M2 (Kingma et al. 2014, Table 1) | 11.97% | | | |\n"
        "| published: M1+M2 | 3.33% | | | |\n")
    write_results(results_stem("classifier_mnist100", False, args.out), results,
                  "Semi-supervised classifiers on MNIST with 100 labels", body)


def main():
    parser = argument_parser(__doc__, threads=2,
                             quick="digits: one label draw; the MNIST tasks are not run")
    parser.add_argument("--task", choices=["digits", "mnist", "mnist100"], default="digits")
    parser.add_argument("--minutes", type=float, default=30.0,
                        help="training-time budget of each MNIST model")
    parser.add_argument("--models", nargs="+", choices=[*LABELS, *SEMI_LABELS],
                        help="the MNIST models to train (default: all of the task's)")
    parser.add_argument("--report", action="store_true",
                        help="only write the MNIST table from the per-model files")
    args = parser.parse_args()
    pin_threads(args.threads)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if args.task == "digits":
            digits_task(args)
        elif args.quick:
            print("--quick runs the digits task only.")
        elif args.task == "mnist":
            args.models = args.models or list(LABELS)
            mnist_task(args)
        else:
            args.models = args.models or list(SEMI_LABELS)
            mnist100_task(args)


if __name__ == "__main__":
    main()
