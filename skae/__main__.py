"""``python -m skae``: compare skae's autoencoders with scikit-learn's reducers on digits."""

import argparse

from .comparison import compare, compare_classifiers, format_classifier_table, format_table


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m skae",
        description="Fit skae's autoencoders beside PCA, NMF, FastICA and KMeans on "
        "scikit-learn's digits and print held-out reconstruction error (squared "
        "error summed over pixels scaled to [0, 1]), the accuracy of a logistic "
        "regression on the codes, the adjusted Rand index of KMeans on the codes, "
        "and the fit time; then skae's classifier beside scikit-learn's, trained "
        "with every label and with 5% of them.",
    )
    parser.add_argument("--n-components", type=int, default=16)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--plots", metavar="FOLDER",
                        help="also write reconstructions, loss curves and VAE samples "
                        "there as PNG files (needs matplotlib)")
    args = parser.parse_args(argv)
    print(f"digits: 1797 images of 8x8 pixels, 75% train / 25% test, "
          f"{args.n_components} components")
    print(format_table(compare(n_components=args.n_components,
                               random_state=args.random_state, plot_dir=args.plots)))
    print()
    print("classifiers, test accuracy with every training label and with 5% of "
          "them (the rest unlabelled)")
    print(format_classifier_table(compare_classifiers(random_state=args.random_state)))
    if args.plots:
        print(f"figures written to {args.plots}")


if __name__ == "__main__":
    main()
