"""CPU inference throughput of an exported ONNX model (onnxruntime) against skae.

For a digits-sized autoencoder (64-100-16) and an MNIST-sized one
(784-256-32), and an MNIST-sized VAE: rows per second of
``transform`` in skae, of the same network called directly in torch (no
input validation), and of onnxruntime on the model ``skae.export.to_onnx``
writes, at batch 1 and batch 4,096, each on the same number of threads
(``--threads``, default 1). The ratio is onnxruntime's throughput over
skae's ``transform``; all three run in this one process, alternately.

Run: ``python benchmarks/bench_onnx.py``
"""

import statistics
import time

import numpy as np
import onnxruntime
import torch

from _common import argument_parser, pin_threads, results_stem, write_results
from skae import AutoencoderTransformer, VAETransformer
from skae.export import to_onnx

BATCHES = (1, 4096)
#: Seconds each timing block lasts at least; the median of the blocks is kept.
BLOCK_SECONDS = 0.3
BLOCKS = 5


def _rows_per_second(fn, rows):
    """Median over blocks of rows per second, each block repeating ``fn`` for a while."""
    fn()  # warm-up: first-call allocations and lazy initialisation
    rates = []
    for _ in range(BLOCKS):
        calls, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < BLOCK_SECONDS:
            fn()
            calls += 1
        rates.append(calls * rows / elapsed)
    return statistics.median(rates)


def measure(model, X, threads):
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(to_onnx(model).SerializeToString(), options,
                                           providers=["CPUExecutionProvider"])
    module = model.net_.module_.eval()
    rows = {}
    for batch in BATCHES:
        xb = np.ascontiguousarray(X[:batch])
        tb = torch.from_numpy(xb)

        def direct(tb=tb):
            with torch.inference_mode():
                return module.encode(tb)

        rates = {
            "skae": _rows_per_second(lambda xb=xb: model.transform(xb), batch),
            "torch": _rows_per_second(direct, batch),
            "onnxruntime": _rows_per_second(lambda xb=xb: session.run(None, {"X": xb}), batch),
        }
        rows[batch] = {**rates, "onnxruntime_over_skae": rates["onnxruntime"] / rates["skae"]}
        print(batch, rows[batch], flush=True)
    return rows


def main():
    parser = argument_parser(__doc__, threads=1)
    args = parser.parse_args()
    pin_threads(args.threads)
    rng = np.random.default_rng(0)
    models = {
        "AutoencoderTransformer 64-100-16": (
            AutoencoderTransformer(16, hidden_layer_sizes=(100,), max_iter=2, random_state=0),
            rng.random((4096, 64), dtype=np.float32)),
        "AutoencoderTransformer 784-256-32": (
            AutoencoderTransformer(32, hidden_layer_sizes=(256,), max_iter=2, random_state=0),
            rng.random((4096, 784), dtype=np.float32)),
        "VAETransformer 784-256-32": (
            VAETransformer(32, hidden_layer_sizes=(256,), likelihood="bernoulli", max_iter=2,
                           random_state=0),
            rng.random((4096, 784), dtype=np.float32)),
    }
    results, lines = {}, []
    for name, (model, X) in models.items():
        model.fit(X)
        results[name] = result = measure(model, X, args.threads)
        for batch, row in result.items():
            lines.append(f"| {name} | {batch:,} | {row['skae']:,.0f} | {row['torch']:,.0f} | "
                         f"{row['onnxruntime']:,.0f} | {row['onnxruntime_over_skae']:.2f}x |")
    body = (f"`transform` of float32 rows on {args.threads} thread(s); rows per second, median "
            f"of {BLOCKS} blocks of at least {BLOCK_SECONDS} s. \"torch\" calls the encoder "
            "directly, without skae's input validation.\n\n"
            "| model | batch | skae rows/s | torch rows/s | onnxruntime rows/s | "
            "onnxruntime / skae |\n|---|---:|---:|---:|---:|---:|\n" + "\n".join(lines) + "\n")
    write_results(results_stem("onnx", False, args.out), results,
                  "Inference throughput: onnxruntime against skae", body)


if __name__ == "__main__":
    main()
