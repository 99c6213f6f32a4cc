"""A search over likelihoods with the default scorer and with a comparable one.

``GridSearchCV`` over ``likelihood=["gaussian", "bernoulli"]`` for
``AutoencoderTransformer()`` and ``VAETransformer()`` with default
parameters on digits scaled to [0, 1] (3 folds): the default scorer ranks
numbers of different units (and skae warns, ``ScoreUnitsWarning``);
``scoring=skae.metrics.neg_reconstruction_error`` ranks the same
candidates by the squared reconstruction error in the data's units, and
PCA with as many components is scored the same way beside them.

Run: ``python benchmarks/bench_score_units.py [--threads 1]``
"""

import warnings

from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score

from _common import argument_parser, digits, pin_threads, results_stem, write_results
from skae import AutoencoderTransformer, ScoreUnitsWarning, VAETransformer
from skae.metrics import neg_reconstruction_error

GRID = {"likelihood": ["gaussian", "bernoulli"]}


def search(model, X, scoring):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always", ScoreUnitsWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = GridSearchCV(model, GRID, cv=3, scoring=scoring).fit(X)
    warned = sum(issubclass(w.category, ScoreUnitsWarning) for w in record)
    scores = dict(zip(GRID["likelihood"], result.cv_results_["mean_test_score"].tolist(),
                      strict=True))
    return {"scores": scores, "best": result.best_params_["likelihood"],
            "units_warnings": warned}


def main():
    args = argument_parser(__doc__, threads=1).parse_args()
    pin_threads(args.threads)
    X, _ = digits()
    results = {}
    for name, model in [("AutoencoderTransformer()", AutoencoderTransformer(random_state=0)),
                        ("VAETransformer()", VAETransformer(random_state=0))]:
        for scorer_name, scorer in [("default (score)", None),
                                    ("neg_reconstruction_error", neg_reconstruction_error)]:
            results[f"{name} | {scorer_name}"] = search(model, X, scorer)
            print(name, scorer_name, results[f"{name} | {scorer_name}"], flush=True)
    pca = {k: float(cross_val_score(PCA(k), X, cv=3, scoring=neg_reconstruction_error).mean())
           for k in (10, 16)}
    rows = ["| model | scorer | gaussian | bernoulli | best | ScoreUnitsWarnings |",
            "|---|---|---:|---:|---|---:|"]
    for key, r in results.items():
        model, scorer = key.split(" | ")
        rows.append(f"| {model} | {scorer} | {r['scores']['gaussian']:.3f} | "
                    f"{r['scores']['bernoulli']:.3f} | {r['best']} | {r['units_warnings']} |")
    body = "\n".join(rows) + "\n\nPCA scored with neg_reconstruction_error: " + ", ".join(
        f"{k} components {v:.3f}" for k, v in pca.items()) + (
        ".\n\nThe searches run in one process on the same folds, so the VAE's default-scorer "
        "search also warns where its Gaussian candidates score folds the autoencoder's "
        "Bernoulli candidates scored before it: 3 of its warnings are those.\n")
    write_results(results_stem("score_units", folder=args.out), {"searches": results,
                  "pca": pca}, "Searching over likelihoods: default scorer vs a comparable one",
                  body)


if __name__ == "__main__":
    main()
