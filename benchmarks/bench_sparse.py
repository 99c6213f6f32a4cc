"""SparseCoder against scikit-learn's dictionary learners at matched sparsity.

On two data sets, the digits (8x8 images, 1,347 training / 450 test) and
8x8 patches of MNIST (cut from training images for fitting, from test
images for evaluation; blank patches dropped), three models learn 100 atoms:

* ``SparseCoder(sparsity="topk", n_nonzero_coefs=k)``: an amortised encoder,
  ``transform`` is one affine map and a top-k; the same with
  ``refit_codes=True``, whose ``transform`` then re-solves the k kept codes
  by least squares on their atoms; and 2- and 3-step unrolled encoders
  (``encoder_steps``) with ``refit_codes=True``;
* ``MiniBatchDictionaryLearning`` and ``DictionaryLearning`` (L1 penalty
  ``alpha`` while fitting), whose ``transform`` runs orthogonal matching
  pursuit with ``transform_n_nonzero_coefs=k``. Their fit does not depend
  on k, so each is fitted once per data set and its transform set to each k.

All codes then have exactly k non-zeros out of 100 per sample, so the
sparsity (fraction of zero codes) is 1 - k/100 for every model. The
dictionary learners are fitted and evaluated on data centred with the
training mean, which is added back (SparseCoder learns its own offset).

Reported per model: the reconstruction error on held-out data (squared
error summed over the 64 pixels, averaged over samples, pixels in [0, 1]),
the measured fraction of zero codes, fit time, and the median wall-clock
time of ``transform`` on the held-out data over ``--repeats`` runs, with
the ratio of each model's transform time to the one-pass SparseCoder's.
All timings are taken in one process with the same number of threads for
torch and BLAS (``--threads``); the transforms of all models are
timed in turn, round after round.

Data: MNIST in ``SKAE_DATA`` (default ``../shared/data`` beside the
repository) for the patches; without it only the digits are run, with a
message.

Run: ``python benchmarks/bench_sparse.py [--quick] [--threads 1] [--repeats 15]``
"""

import statistics
import time

import numpy as np
from sklearn.decomposition import DictionaryLearning, MiniBatchDictionaryLearning
from sklearn.feature_extraction.image import extract_patches_2d

from _common import (
    argument_parser,
    load,
    pin_threads,
    results_stem,
    squared_error,
    timed_fit,
    write_results,
)
from skae import SparseCoder

N_ATOMS = 100
ALPHA = 0.1
SPARSE_CODERS = {
    "SparseCoder": {},
    "SparseCoder, refit codes": {"refit_codes": True},
    "SparseCoder, 2 steps, refit codes": {"encoder_steps": 2, "refit_codes": True},
    "SparseCoder, 3 steps, refit codes": {"encoder_steps": 3, "refit_codes": True},
}
LEARNERS = ("MiniBatchDictionaryLearning", "DictionaryLearning")


def patches(images, per_image, seed):
    rng = np.random.RandomState(seed)
    out = np.vstack([extract_patches_2d(img.reshape(28, 28), (8, 8), max_patches=per_image,
                                        random_state=rng)
                     for img in images]).reshape(-1, 64).astype(np.float64)
    return out[out.sum(axis=1) > 0]


def mnist_patch_data(n_images):
    mnist = load("MNIST")
    if mnist is None:
        return None
    X_train, X_test = mnist[:2]
    return patches(X_train[:n_images], 10, 0), patches(X_test[: n_images // 2], 10, 1)


def sparse_coders(k, quick):
    epochs = 20 if quick else 1000
    return {label: (lambda options=options: SparseCoder(
        N_ATOMS, sparsity="topk", n_nonzero_coefs=k, learning_rate_init=3e-3,
        max_iter=epochs, n_iter_no_change=30, random_state=0, **options))
        for label, options in SPARSE_CODERS.items()}


def dictionary_learners(quick):
    iterations = 5 if quick else 20
    return {
        "MiniBatchDictionaryLearning": (lambda: MiniBatchDictionaryLearning(
            N_ATOMS, alpha=ALPHA, batch_size=256, max_iter=iterations,
            transform_algorithm="omp", random_state=0), None),
        "DictionaryLearning": (lambda: DictionaryLearning(
            N_ATOMS, alpha=ALPHA, max_iter=iterations, transform_algorithm="omp",
            random_state=0), 3000),  # its fit is the slowest
    }


def evaluate(name, X_train, X_test, ks, quick, repeats):
    rows = []
    mean = X_train.mean(axis=0)
    learners = {}
    for label, (make, max_rows) in dictionary_learners(quick).items():
        train = X_train[:max_rows] - mean
        learners[label] = (*timed_fit(make(), train), len(train))
    for k in ks:
        # label -> (model, whether it codes centred data, rows fitted on, fit seconds)
        fitted = {}
        for label, make in sparse_coders(k, quick).items():
            model, fit_s = timed_fit(make(), X_train)
            fitted[label] = (model, False, len(X_train), fit_s)
        for label, (model, fit_s, n_fit) in learners.items():
            fitted[label] = (model.set_params(transform_n_nonzero_coefs=k), True, n_fit, fit_s)
        # Transforms are timed round-robin, so that load from other jobs on
        # the machine falls on every model alike.
        times = {label: [] for label in fitted}
        codes = {}
        for _ in range(repeats + 1):  # the first round is a warm-up
            for label, (model, centre, _, _) in fitted.items():
                test = X_test - mean if centre else X_test
                start = time.perf_counter()
                codes[label] = model.transform(test)
                times[label].append(time.perf_counter() - start)
        for label, (model, centre, n_fit, fit_time) in fitted.items():
            recon = codes[label] @ model.components_ + (mean if centre else model.intercept_)
            rows.append({
                "data": name, "k": k, "model": label, "n_fit": n_fit,
                "n_test": len(X_test),
                "error": squared_error(X_test, recon),
                "zero_fraction": float(np.mean(codes[label] == 0)),
                "fit_s": fit_time,
                "transform_s": statistics.median(times[label][1:]),
                "transform_s_all": times[label][1:],
            })
            r = rows[-1]
            print(f"{name} k={k} {label}: error {r['error']:.4f}, zeros "
                  f"{r['zero_fraction']:.3f}, fit {fit_time:.1f} s, "
                  f"transform {r['transform_s'] * 1e3:.2f} ms", flush=True)
    return rows


def table(rows):
    lines = ["| data | k | model | fit rows | error | zero codes | fit (s) | transform (ms) "
             "| transform time / one-pass SparseCoder's |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        ref = next(s for s in rows if s["data"] == r["data"] and s["k"] == r["k"]
                   and s["model"] == "SparseCoder")
        ratio = r["transform_s"] / ref["transform_s"]
        ratio = f"{ratio:.1f}x" if ratio < 10 else f"{ratio:.0f}x"
        lines.append(
            f"| {r['data']} | {r['k']} | {r['model']} | {r['n_fit']} | {r['error']:.4f} | "
            f"{r['zero_fraction']:.3f} | {r['fit_s']:.1f} | {r['transform_s'] * 1e3:.2f} | "
            f"{ratio} |")
    return "\n".join(lines)


def verdict(rows):
    """For each learner, the fastest SparseCoder whose error is not worse."""
    lines = []
    for (data, k) in sorted({(r["data"], r["k"]) for r in rows}):
        group = {r["model"]: r for r in rows if r["data"] == data and r["k"] == k}
        for other in LEARNERS:
            o = group[other]
            good = [group[label] for label in SPARSE_CODERS
                    if group[label]["error"] <= o["error"]]
            if not good:
                best = min((group[label] for label in SPARSE_CODERS), key=lambda r: r["error"])
                lines.append(
                    f"- {data}, k={k}, against {other}: no SparseCoder reaches its error "
                    f"({o['error']:.4f}; the closest, {best['model']}, has {best['error']:.4f} "
                    f"at {o['transform_s'] / best['transform_s']:.0f}x its speed): misses")
                continue
            fastest = min(good, key=lambda r: r["transform_s"])
            speed = o["transform_s"] / fastest["transform_s"]
            lines.append(
                f"- {data}, k={k}, against {other}: {fastest['model']} has error "
                f"{fastest['error']:.4f} <= {o['error']:.4f} with a transform {speed:.0f}x "
                f"faster: {'meets' if speed >= 100 else 'misses'} 100x")
    return "\n".join(lines)


def main():
    parser = argument_parser(__doc__, quick="few epochs and small data: a smoke run, not a result",
                             threads=1)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    pin_threads(args.threads)
    ks = [5] if args.quick else [5, 10, 20]
    digits_train, digits_test = load("digits")[:2]
    rows = evaluate("digits", digits_train, digits_test, ks, args.quick, args.repeats)
    notes = []
    mnist = mnist_patch_data(300 if args.quick else 1000)
    if mnist is None:
        notes.append("MNIST not found; the patch benchmark was skipped.")
    else:
        rows += evaluate("MNIST 8x8 patches", *mnist, ks, args.quick, args.repeats)
    sizes = ", ".join(sorted({f"{r['data']}: {r['n_test']} rows" for r in rows}))
    body = "\n".join([
        f"{N_ATOMS} atoms; every model's codes have exactly k non-zeros per sample "
        "(top-k for SparseCoder, OMP with transform_n_nonzero_coefs=k for the others). "
        "The first two SparseCoder rows are trained alike, from the same seed "
        "(refit_codes changes transform only). The dictionary learners are fitted once "
        "per data set; only their transform's number of non-zeros changes with k. "
        "Error: squared error summed over the 64 pixels, mean over held-out samples. "
        f"Dictionary learners fitted with alpha={ALPHA}; DictionaryLearning on at most "
        "3,000 rows (its fit is the slowest). Transform time: median of "
        f"{args.repeats} runs on all held-out rows ({sizes}).",
        "",
        table(rows),
        "",
        "Target: transform at least 100x faster at equal or better error for equal "
        "sparsity. For each data set, k and dictionary learner, the fastest SparseCoder "
        "with an error no higher than the learner's:",
        "",
        verdict(rows),
        *["", *notes],
    ])
    write_results(
        results_stem("sparse", args.quick, args.out),
        {"n_atoms": N_ATOMS, "alpha": ALPHA, "rows": rows, "notes": notes},
        "SparseCoder against dictionary learning at matched sparsity", body,
        note="transforms were timed round-robin in one process, so that any load from "
        "other jobs falls on every model alike")


if __name__ == "__main__":
    main()
