"""A grid search over an autoencoder: serial, joblib's processes, and a Dask cluster.

``GridSearchCV`` over ``AutoencoderTransformer`` (``n_components`` and
``learning_rate_init``, 3-fold, a logistic regression on the codes) on
scikit-learn's digits, run three ways in one process: ``n_jobs=1``,
``n_jobs=2`` (joblib's loky workers), and joblib's Dask backend on a
``dask.distributed.LocalCluster`` of 2 worker processes with one thread
each. Reported: wall time of each, and whether their ``cv_results_`` scores
agree (they must: each candidate is fitted from its own ``random_state``).

On 2 cores neither parallel run can beat the serial one by more than 2x,
and the cluster pays for starting its processes and shipping the data; the
point is that the results are the same and the cost of the machinery.

Run: ``python benchmarks/bench_search.py [--quick]`` (needs ``dask`` and
``distributed``: ``pip install "skae[distributed]"``).
"""

import time

import numpy as np
from joblib import parallel_config
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from _common import argument_parser, digits, results_stem, write_results
from skae import AutoencoderTransformer

SCORES = ("mean_test_score", "split0_test_score", "split1_test_score", "split2_test_score")


def search(quick):
    grid = {"autoencodertransformer__n_components": [4, 8] if quick else [4, 8, 16],
            "autoencodertransformer__learning_rate_init": [1e-3, 1e-2]}
    pipe = make_pipeline(AutoencoderTransformer(max_iter=20 if quick else 60, random_state=0),
                         LogisticRegression(max_iter=2000))
    return GridSearchCV(pipe, grid, cv=3)


def timed(run):
    start = time.perf_counter()
    fitted = run()
    return fitted, time.perf_counter() - start


def main():
    parser = argument_parser(__doc__, quick="a smaller grid and fewer epochs")
    args = parser.parse_args()
    import distributed

    X, y = digits()
    runs = {}
    runs["n_jobs=1"] = timed(lambda: search(args.quick).set_params(n_jobs=1).fit(X, y))
    runs["n_jobs=2"] = timed(lambda: search(args.quick).set_params(n_jobs=2).fit(X, y))
    start = time.perf_counter()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        started = time.perf_counter() - start
        with parallel_config(backend="dask"):
            runs["Dask LocalCluster, 2 workers"] = timed(lambda: search(args.quick).fit(X, y))
    serial = runs["n_jobs=1"][0].cv_results_
    results, lines = {}, []
    for name, (fitted, seconds) in runs.items():
        same = all(np.allclose(fitted.cv_results_[k], serial[k], rtol=1e-5, atol=0)
                   for k in SCORES)
        results[name] = {"seconds": seconds, "same_cv_results_as_serial": same,
                         "best_score": float(fitted.best_score_)}
        lines.append(f"| {name} | {seconds:.1f} s | {runs['n_jobs=1'][1] / seconds:.2f}x | "
                     f"{'yes' if same else 'no'} | {fitted.best_score_:.3f} |")
    results["cluster_start_seconds"] = started
    n = len(runs["n_jobs=1"][0].cv_results_["params"])
    body = (f"GridSearchCV, {n} candidates x 3 folds, on digits; the cluster took "
            f"{started:.1f} s to start (not counted above).\n\n"
            "| run | wall time | speed-up | same cv_results_ as n_jobs=1 | best score |\n"
            "|---|---:|---:|---|---:|\n" + "\n".join(lines) + "\n")
    write_results(results_stem("search", args.quick, args.out), results,
                  "Grid search: serial, joblib processes, Dask cluster", body)


if __name__ == "__main__":
    main()
