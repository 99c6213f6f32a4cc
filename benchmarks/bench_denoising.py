"""DenoisingAE against PCA and KernelPCA denoising on USPS.

The set-up is scikit-learn's "Image denoising using kernel PCA" example:
USPS digits in [0, 1], a stratified split of 1,000 training and 100 test
images (``random_state`` 0), Gaussian noise of standard deviation 0.25 added
to both, every model fitted on the *noisy* training images only, and the
mean squared error (per pixel) between the denoised noisy test images and
the clean ones. PCA keeps 32 components; KernelPCA is the example's RBF
model (400 components, gamma 1e-3, alpha 5e-3).

DenoisingAE is fitted on the same noisy training images, adding its own
Gaussian corruption during training. A second row fits it on the clean
training images (the usual way to train a denoiser, which needs clean
data the other models do not get); it is reported for information only.

Because the DenoisingAE settings were chosen by trying a few on the
example's split, the benchmark repeats the comparison on further splits
(``random_state`` 1, 2, ...), with fresh noise, that played no part in that
choice.

Data: ``usps/usps.h5`` in ``SKAE_DATA`` (default ``../shared/data`` beside
the repository; HDF5, needs h5py); the benchmark skips with a message when
it is absent.

Run: ``python benchmarks/bench_denoising.py [--quick] [--splits 5] [--threads 1]``
"""

import sys

import numpy as np
from sklearn.decomposition import PCA, KernelPCA
from sklearn.model_selection import train_test_split

from _common import argument_parser, load, pin_threads, results_stem, timed_fit, write_results
from skae import DenoisingAE

SIGMA = 0.25

DAE_PARAMS = {
    "n_components": 64,
    "hidden_layer_sizes": (256,),
    "noise": "gaussian",
    "noise_level": 0.5,
    "max_iter": 100,
    "random_state": 0,
}
DAE_CLEAN_PARAMS = {**DAE_PARAMS, "noise_level": SIGMA}


def load_usps():
    usps = load("USPS")
    if usps is None:
        sys.exit("Skipping the USPS benchmark.")
    X_train, X_test, y_train, y_test = usps
    return np.vstack([X_train, X_test]).astype(np.float64), np.concatenate([y_train, y_test])


def split(X, y, seed):
    X_train, X_test, _, _ = train_test_split(
        X, y, stratify=y, random_state=seed, train_size=1_000, test_size=100)
    rng = np.random.RandomState(seed)
    # The example draws the test noise first, then the training noise.
    X_test_noisy = X_test + rng.normal(scale=SIGMA, size=X_test.shape)
    X_train_noisy = X_train + rng.normal(scale=SIGMA, size=X_train.shape)
    return X_train, X_train_noisy, X_test, X_test_noisy


def models(quick):
    epochs = {"max_iter": 20} if quick else {}
    return {
        "PCA (32)": (lambda: PCA(n_components=32, random_state=42), "noisy"),
        "KernelPCA (rbf, 400)": (lambda: KernelPCA(
            n_components=400, kernel="rbf", gamma=1e-3, fit_inverse_transform=True,
            alpha=5e-3, random_state=42), "noisy"),
        "DenoisingAE": (lambda: DenoisingAE(**{**DAE_PARAMS, **epochs}), "noisy"),
        "DenoisingAE, clean training data": (
            lambda: DenoisingAE(**{**DAE_CLEAN_PARAMS, **epochs}), "clean"),
    }


def run(X, y, seeds, quick):
    rows = []
    for seed in seeds:
        X_train, X_train_noisy, X_test, X_test_noisy = split(X, y, seed)
        row = {"split": seed, "noisy input": float(np.mean((X_test_noisy - X_test) ** 2))}
        for name, (make, data) in models(quick).items():
            model, fit_time = timed_fit(make(), X_train if data == "clean" else X_train_noisy)
            denoised = model.inverse_transform(model.transform(X_test_noisy))
            row[name] = float(np.mean((denoised - X_test) ** 2))
            row[name + " fit (s)"] = fit_time
        rows.append(row)
        print(f"split {seed}: " + ", ".join(
            f"{k} {v:.5f}" for k, v in row.items() if k != "split" and "fit" not in k))
    return rows


NAMES = ["noisy input", "PCA (32)", "KernelPCA (rbf, 400)", "DenoisingAE",
         "DenoisingAE, clean training data"]


def table(rows):
    lines = ["| split | " + " | ".join(NAMES) + " |", "|---:|" + "---:|" * len(NAMES)]
    for r in rows:
        label = f"{r['split']} (example's)" if r["split"] == 0 else str(r["split"])
        lines.append(f"| {label} | " + " | ".join(f"{r[n]:.5f}" for n in NAMES) + " |")
    if len(rows) > 1:
        lines.append("| mean | " + " | ".join(
            f"{np.mean([r[n] for r in rows]):.5f}" for n in NAMES) + " |")
    return "\n".join(lines)


def main():
    parser = argument_parser(__doc__, quick="one split and 20 epochs: a smoke run, not a result",
                             threads=1)
    parser.add_argument("--splits", type=int, default=5,
                        help="number of train/test splits (the first is the example's)")
    args = parser.parse_args()
    pin_threads(args.threads)
    X, y = load_usps()
    rows = run(X, y, [0] if args.quick else list(range(args.splits)), args.quick)
    beats = {n: all(r["DenoisingAE"] < r[n] for r in rows)
             for n in ("PCA (32)", "KernelPCA (rbf, 400)")}
    fit_times = {n: float(np.mean([r[n + " fit (s)"] for r in rows])) for n in NAMES[1:]}
    body = "\n".join([
        "scikit-learn's kernel PCA denoising example: 1,000 training and 100 test "
        f"images, Gaussian noise sigma = {SIGMA}, models fitted on the noisy training "
        "images; figures are the mean squared error per pixel between the denoised "
        "noisy test images and the clean ones (lower is better).",
        "",
        table(rows),
        "",
        f"DenoisingAE parameters: `{DAE_PARAMS}`; the clean-data row uses "
        f"noise_level={SIGMA}.",
        "Mean fit time (s): " + ", ".join(f"{n} {t:.2f}" for n, t in fit_times.items()) + ".",
        "",
        "Target (lower error than both PCA and KernelPCA, on every split): "
        + ("met" if all(beats.values()) else "NOT met")
        + f" (beats PCA on every split: {beats['PCA (32)']}, beats KernelPCA: "
        f"{beats['KernelPCA (rbf, 400)']}).",
    ])
    write_results(
        results_stem("denoising", args.quick, args.out),
        {"sigma": SIGMA, "dae_params": DAE_PARAMS, "dae_clean_params": DAE_CLEAN_PARAMS,
         "rows": rows, "target_met": beats},
        "DenoisingAE against PCA and KernelPCA denoising (USPS)", body)


if __name__ == "__main__":
    main()
