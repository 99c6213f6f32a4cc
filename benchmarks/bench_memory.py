"""Peak memory of inference on a wide sparse click matrix.

A 100,000 x 200,000 CSR matrix with 2,000,000 non-zeros (about 16 MiB of
data) is what a recommender's user-item matrix looks like. Each estimator is
fitted on 2,000 of its rows for one epoch, then ``transform`` (and, for the
VAE, ``score_samples`` on the first 5,000) runs in a fresh process; the script
reports the peak resident memory of that process above what the data and
the model already took, and the peak that loading the model added
(``load_peak_mib``, against the pickle's size). Inference densifies one batch at a time, and the
batch's rows follow the width (``skae._inference.INFERENCE_BUDGET``).

Run: ``python benchmarks/bench_memory.py [--rows 100000] [--features 200000]``
"""

import argparse
import json
import pickle
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp

MODELS = {
    "AutoencoderTransformer": "AutoencoderTransformer(16, hidden_layer_sizes=(64,), max_iter=1)",
    "SparseCoder": "SparseCoder(64, sparsity='topk', max_iter=1)",
    "VAETransformer": "VAETransformer(16, hidden_layer_sizes=(64,), likelihood='bernoulli', "
                      "max_iter=1)",
}


def clicks(rows, features, nnz, seed=0):
    rng = np.random.default_rng(seed)
    row = rng.integers(0, rows, nnz)
    col = rng.integers(0, features, nnz)
    X = sp.csr_matrix((np.ones(nnz, np.float32), (row, col)), shape=(rows, features))
    X.data[:] = 1.0
    return X


def _peak_mib():
    # VmHWM belongs to this process's memory map; ru_maxrss would carry the
    # parent's peak across exec on Linux.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(args):
    """Load data and model, then run inference and report the peak increase."""
    import skae  # noqa: F401  (imported before the baseline is read)

    X = clicks(args.rows, args.features, args.nnz)
    loading = _peak_mib()
    with open(args.model, "rb") as file:
        model = pickle.load(file)
    before = _peak_mib()
    start = time.perf_counter()
    model.transform(X)
    if args.score:
        # Scoring decodes every draw at full width: 5,000 rows show its memory.
        model.score_samples(X[:5000])
    print(json.dumps({"peak_above_mib": _peak_mib() - before, "baseline_mib": before,
                      "load_peak_mib": before - loading,
                      "model_file_mib": Path(args.model).stat().st_size / 2**20,
                      "seconds": time.perf_counter() - start}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=200_000)
    parser.add_argument("--nnz", type=int, default=2_000_000)
    parser.add_argument("--json", default="benchmarks/results/memory.json")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--score", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    import skae

    X = clicks(args.rows, args.features, args.nnz)
    results = {"rows": args.rows, "features": args.features, "nnz": args.nnz,
               "data_mib": (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**20,
               "models": {}}
    with tempfile.TemporaryDirectory() as folder:
        for name, spec in MODELS.items():
            model = eval(spec, {**vars(skae)})  # noqa: S307 (the specs above)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.set_params(random_state=0).fit(X[:2000])
            path = Path(folder) / f"{name}.pkl"
            path.write_bytes(pickle.dumps(model))
            command = [sys.executable, __file__, "--child", "--model", str(path),
                       "--rows", str(args.rows), "--features", str(args.features),
                       "--nnz", str(args.nnz)]
            if name == "VAETransformer":
                command.append("--score")
            out = subprocess.run(command, check=True, capture_output=True, text=True)
            results["models"][name] = {"spec": spec, **json.loads(out.stdout.splitlines()[-1])}
            print(name, results["models"][name], flush=True)
    Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
