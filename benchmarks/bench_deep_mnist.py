"""The deep autoencoder of Hinton & Salakhutdinov (2006) against PCA on MNIST.

Architecture 784-1000-500-250-30 (mirrored decoder), trained on the 60,000
MNIST training images, measured on the 10,000 test images: average squared
error per image, summed over the 784 pixels in [0, 1]. Published figures:
deep autoencoder 3.00, 30-d PCA 13.87 (logistic PCA 8.01).

Training runs one epoch per ``partial_fit`` call until ``--minutes`` of
training time have passed, so the error is reported against wall-clock time.

Run: ``python benchmarks/bench_deep_mnist.py [--minutes 30] [--quick]``
"""

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import sklearn
import torch
from sklearn.decomposition import PCA

from skae import AutoencoderTransformer, datasets

os.environ.setdefault("SKAE_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "data"))


def squared_error_per_image(X, recon):
    return float(np.mean(np.sum((X - recon) ** 2, axis=1)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0,
                        help="training-time budget for the autoencoder")
    parser.add_argument("--quick", action="store_true",
                        help="10,000 training images and a 1-minute budget")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args()
    try:
        X_train, _ = datasets.load_mnist("train")
        X_test, _ = datasets.load_mnist("test")
    except FileNotFoundError as exc:
        print(f"MNIST not found, nothing to do: {exc}")
        return
    minutes = 1.0 if args.quick else args.minutes
    if args.quick:
        X_train = X_train[:10_000]

    start = time.perf_counter()
    pca = PCA(30, random_state=0).fit(X_train)
    pca_seconds = time.perf_counter() - start
    pca_error = squared_error_per_image(X_test, pca.inverse_transform(pca.transform(X_test)))
    print(f"PCA(30): test error {pca_error:.2f} per image, fit {pca_seconds:.1f} s")

    ae = AutoencoderTransformer(30, hidden_layer_sizes=(1000, 500, 250),
                                batch_size=128, learning_rate_init=1e-3, random_state=0)
    curve = []
    trained = 0.0
    while trained < 60 * minutes:
        start = time.perf_counter()
        ae.partial_fit(X_train)
        trained += time.perf_counter() - start
        error = -ae.score(X_test)
        curve.append({"epoch": ae.n_iter_, "minutes": trained / 60, "test_error": error})
        print(f"epoch {ae.n_iter_:3d}  {trained / 60:6.1f} min  test error {error:.2f} "
              f"({error / pca_error:.2f}x PCA)", flush=True)

    result = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": {"cores": os.cpu_count(), "threads": torch.get_num_threads(),
                    "torch": torch.__version__, "scikit-learn": sklearn.__version__},
        "command": "python benchmarks/bench_deep_mnist.py"
        + (" --quick" if args.quick else f" --minutes {args.minutes:g}"),
        "n_train": len(X_train), "n_test": len(X_test),
        "pca_error": pca_error, "pca_fit_seconds": pca_seconds,
        "autoencoder_error": curve[-1]["test_error"],
        "ratio_to_pca": curve[-1]["test_error"] / pca_error,
        "curve": curve,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = "deep_mnist_quick" if args.quick else "deep_mnist"
    (out / f"{stem}.json").write_text(json.dumps(result, indent=2))
    (out / f"{stem}.md").write_text(
        "# Deep autoencoder (784-1000-500-250-30) against PCA on MNIST\n\n"
        f"{result['date']}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"scikit-learn {sklearn.__version__}. Command: `{result['command']}`.\n\n"
        "Average squared error per test image, summed over 784 pixels in [0, 1].\n\n"
        "| model | test error | / PCA | training time |\n|---|---:|---:|---:|\n"
        f"| PCA, 30 components | {pca_error:.2f} | 1.00 | {pca_seconds:.1f} s |\n"
        f"| skae, {curve[-1]['epoch']} epochs | {curve[-1]['test_error']:.2f} | "
        f"{result['ratio_to_pca']:.2f} | {curve[-1]['minutes']:.1f} min |\n"
        "| published autoencoder (Hinton & Salakhutdinov 2006) | 3.00 | 0.22 | |\n"
        "| published PCA | 13.87 | | |\n"
    )


if __name__ == "__main__":
    main()
