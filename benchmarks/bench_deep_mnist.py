"""The deep autoencoder of Hinton & Salakhutdinov (2006) against PCA on MNIST.

Architecture 784-1000-500-250-30 (mirrored decoder), trained on the 60,000
MNIST training images, measured on the 10,000 test images: average squared
error per image, summed over the 784 pixels in [0, 1]. Published figures:
deep autoencoder 3.00, 30-d PCA 13.87 (logistic PCA 8.01).

Training is one ``fit`` call with the learning-rate schedule ``--schedule``
(default cosine over ``max_iter`` epochs). ``--minutes`` sets ``max_iter``:
a one-epoch fit times an epoch and the rest of the budget is divided by
that time (``--epochs`` sets it directly); the reported training time
includes both fits.

Run: ``python benchmarks/bench_deep_mnist.py [--minutes 30] [--schedule cosine]
[--lr 1e-3] [--epochs N] [--name deep_mnist] [--quick]``
"""


from sklearn.decomposition import PCA

from _common import (
    argument_parser,
    load,
    results_stem,
    squared_error,
    timed_fit,
    write_results,
)
from skae import AutoencoderTransformer


def autoencoder(args, max_iter):
    # A fixed budget of epochs: the stopping rule is off.
    return AutoencoderTransformer(30, hidden_layer_sizes=(1000, 500, 250), batch_size=128,
                                  learning_rate_init=args.lr, learning_rate=args.schedule,
                                  max_iter=max_iter, tol=0.0, n_iter_no_change=max_iter,
                                  random_state=0)


def train(args, X_train, minutes):
    """One ``fit``, its ``max_iter`` chosen so that training takes about ``minutes``.

    A one-epoch fit times an epoch; the rest of the budget, divided by that
    time, is ``max_iter``, so that a schedule over ``max_iter`` epochs
    (cosine) ends with the budget. Returns the model and the minutes spent
    on both fits.
    """
    _, probe = timed_fit(autoencoder(args, 1), X_train)
    max_iter = args.epochs or max(1, int((60 * minutes - probe) / probe))
    print(f"{probe:.1f} s per epoch: {max_iter} epochs, learning_rate={args.schedule}",
          flush=True)
    ae, seconds = timed_fit(autoencoder(args, max_iter), X_train)
    return ae, (probe + seconds) / 60


def main():
    parser = argument_parser(__doc__, quick="10,000 training images and a 1-minute budget")
    parser.add_argument("--minutes", type=float, default=30.0,
                        help="training-time budget for the autoencoder")
    parser.add_argument("--schedule", default="cosine",
                        choices=["constant", "step", "exponential", "cosine", "adaptive"],
                        help="AutoencoderTransformer's learning_rate")
    parser.add_argument("--lr", type=float, default=1e-3, help="learning_rate_init")
    parser.add_argument("--epochs", type=int, default=None,
                        help="max_iter, instead of the one --minutes gives")
    parser.add_argument("--name", default="deep_mnist", help="stem of the result files")
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
    ae, train_minutes = train(args, X_train, minutes)
    error = -ae.score(X_test)
    print(f"{ae.n_iter_} epochs, {train_minutes:.1f} min: test error {error:.2f} "
          f"({error / pca_error:.2f}x PCA)", flush=True)
    result = {
        "n_train": len(X_train), "n_test": len(X_test),
        "pca_error": pca_error, "pca_fit_seconds": pca_seconds,
        "autoencoder_error": error, "ratio_to_pca": error / pca_error,
        "epochs": ae.n_iter_, "train_minutes": train_minutes,
        "learning_rate": args.schedule, "learning_rate_init": args.lr,
        "loss_curve": ae.loss_curve_,
    }
    write_results(
        results_stem(args.name, args.quick, args.out), result,
        "Deep autoencoder (784-1000-500-250-30) against PCA on MNIST",
        "Average squared error per test image, summed over 784 pixels in [0, 1].\n\n"
        "| model | test error | / PCA | training time |\n|---|---:|---:|---:|\n"
        f"| PCA, 30 components | {pca_error:.2f} | 1.00 | {pca_seconds:.1f} s |\n"
        f"| skae, {ae.n_iter_} epochs, learning_rate={args.schedule!r} | {error:.2f} | "
        f"{result['ratio_to_pca']:.2f} | {train_minutes:.1f} min |\n"
        "| published autoencoder (Hinton & Salakhutdinov 2006) | 3.00 | 0.22 | |\n"
        "| published PCA | 13.87 | | |\n")


if __name__ == "__main__":
    main()
