"""File size and save/load time of skae.io against pickle and joblib.

For a digits-sized model (64-100-16) and an MNIST-sized one (784-256-32),
each trained for 2 epochs: the size of the file written by ``skae.io.dump``
(with and without the optimiser's state), by ``pickle`` and by ``joblib``,
and of the encoder's ONNX model (``skae.export.to_onnx``; loaded into an
onnxruntime session),
against the size of the weights themselves (float32), and the median time
of 5 saves and 5 loads.

Run: ``python benchmarks/bench_io.py``
"""

import pickle
import statistics
import tempfile
import time
from pathlib import Path

import joblib
import numpy as np
import onnxruntime

from _common import argument_parser, pin_threads, results_stem, write_results
from skae import AutoencoderTransformer
from skae.export import to_onnx
from skae.io import dump, load

REPEATS = 5


def _median_seconds(fn):
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(model, folder):
    weights = sum(p.numel() * 4 for p in model.net_.module_.parameters())
    formats = {
        "skae.io.dump": (lambda p: dump(model, p), load),
        "skae.io.dump(optimizer=False)": (lambda p: dump(model, p, optimizer=False), load),
        "pickle": (lambda p: p.write_bytes(pickle.dumps(model)),
                   lambda p: pickle.loads(p.read_bytes())),
        "joblib": (lambda p: joblib.dump(model, p), joblib.load),
        # Not a copy of the estimator: the encoder alone, for serving.
        "ONNX of transform": (lambda p: to_onnx(model, "transform", path=p),
                              lambda p: onnxruntime.InferenceSession(str(p))),
    }
    rows = {}
    for name, (save, read) in formats.items():
        path = Path(folder) / name
        save_seconds = _median_seconds(lambda save=save, path=path: save(path))
        load_seconds = _median_seconds(lambda read=read, path=path: read(path))
        rows[name] = {"bytes": path.stat().st_size, "ratio_to_weights":
                      path.stat().st_size / weights, "save_ms": 1000 * save_seconds,
                      "load_ms": 1000 * load_seconds}
        print(name, rows[name], flush=True)
    return {"weights_bytes": weights, "formats": rows}


def main():
    parser = argument_parser(__doc__, threads=1)
    args = parser.parse_args()
    pin_threads(args.threads)
    rng = np.random.default_rng(0)
    models = {
        "64-100-16": (AutoencoderTransformer(16, hidden_layer_sizes=(100,), max_iter=2,
                                             random_state=0), rng.random((2000, 64))),
        "784-256-32": (AutoencoderTransformer(32, hidden_layer_sizes=(256,), max_iter=2,
                                              random_state=0), rng.random((2000, 784))),
    }
    results, lines = {}, []
    with tempfile.TemporaryDirectory() as folder:
        for name, (model, X) in models.items():
            model.fit(X)
            results[name] = result = measure(model, folder)
            for fmt, row in result["formats"].items():
                lines.append(f"| {name} | {fmt} | {row['bytes'] / 1024:,.0f} KiB | "
                             f"{row['ratio_to_weights']:.2f} | {row['save_ms']:.1f} ms | "
                             f"{row['load_ms']:.1f} ms |")
    body = ("AutoencoderTransformer, Adam's state included unless said otherwise; "
            "\"/ weights\" is the file's size over the float32 weights' size.\n\n"
            "| model | format | file | / weights | save | load |\n"
            "|---|---|---:|---:|---:|---:|\n" + "\n".join(lines) + "\n")
    write_results(results_stem("io", False, args.out), results,
                  "Saving and loading: skae.io against pickle and joblib, and ONNX", body)


if __name__ == "__main__":
    main()
