"""The deep autoencoder of Hinton & Salakhutdinov (2006) against PCA on MNIST.

Architecture 784-1000-500-250-30 (mirrored decoder), trained on the 60,000
MNIST training images, measured on the 10,000 test images: average squared
error per image, summed over the 784 pixels in [0, 1]. Published figures:
deep autoencoder 3.00, 30-d PCA 13.87 (logistic PCA 8.01).

Training runs one epoch per ``partial_fit`` call until ``--minutes`` of
training time have passed, so the error is reported against wall-clock time.

Run: ``python benchmarks/bench_deep_mnist.py [--minutes 30] [--quick]``
"""

import time

from sklearn.decomposition import PCA

from _common import argument_parser, load, results_stem, squared_error, timed_fit, write_results
from skae import AutoencoderTransformer


def train(X_train, X_test, minutes, pca_error):
    """Train epoch by epoch for ``minutes``: the test error after each epoch."""
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
    return curve


def main():
    parser = argument_parser(__doc__, quick="10,000 training images and a 1-minute budget")
    parser.add_argument("--minutes", type=float, default=30.0,
                        help="training-time budget for the autoencoder")
    args = parser.parse_args()
    mnist = load("MNIST")
    if mnist is None:
        print("MNIST not found, nothing to do.")
        return
    X_train, X_test = mnist[:2]
    minutes = 1.0 if args.quick else args.minutes
    if args.quick:
        X_train = X_train[:10_000]

    pca, pca_seconds = timed_fit(PCA(30, random_state=0), X_train)
    pca_error = squared_error(X_test, pca.inverse_transform(pca.transform(X_test)))
    print(f"PCA(30): test error {pca_error:.2f} per image, fit {pca_seconds:.1f} s")
    curve = train(X_train, X_test, minutes, pca_error)
    last = curve[-1]
    result = {
        "n_train": len(X_train), "n_test": len(X_test),
        "pca_error": pca_error, "pca_fit_seconds": pca_seconds,
        "autoencoder_error": last["test_error"],
        "ratio_to_pca": last["test_error"] / pca_error,
        "curve": curve,
    }
    write_results(
        results_stem("deep_mnist", args.quick, args.out), result,
        "Deep autoencoder (784-1000-500-250-30) against PCA on MNIST",
        "Average squared error per test image, summed over 784 pixels in [0, 1].\n\n"
        "| model | test error | / PCA | training time |\n|---|---:|---:|---:|\n"
        f"| PCA, 30 components | {pca_error:.2f} | 1.00 | {pca_seconds:.1f} s |\n"
        f"| skae, {last['epoch']} epochs | {last['test_error']:.2f} | "
        f"{result['ratio_to_pca']:.2f} | {last['minutes']:.1f} min |\n"
        "| published autoencoder (Hinton & Salakhutdinov 2006) | 3.00 | 0.22 | |\n"
        "| published PCA | 13.87 | | |\n")


if __name__ == "__main__":
    main()
