"""Training from a memory-mapped file larger than the memory it may use.

A 1,000,000 x 784 float32 ``np.memmap`` (about 3 GiB of uniform random
values, written to a temporary folder and deleted afterwards) is passed to
``fit`` as ``skae.ChunkedData`` and trained on for one epoch, then encoded
with ``transform``, each run in a fresh process whose peak resident memory
(VmHWM, file pages mapped into it included) is reported. The same model is
fitted on the first 100,000 rows loaded into memory, for the time per row
of the in-memory fit; out-of-core fits of 100,000 and 300,000 rows give the
growth with the number of rows. The 100,000-row fits, in memory and out of
core, run ``--repeats`` times, interleaved, and the fastest counts: on a
shared machine one fit's time varies by more than the difference sought.

Run: ``python benchmarks/bench_out_of_core.py [--quick] [--threads 1]``
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import argument_parser, pin_threads, results_stem, timed_fit, write_results
from skae import AutoencoderTransformer, ChunkedData

SPEC = "AutoencoderTransformer(32, hidden_layer_sizes=(256,), max_iter=1, batch_size=200)"


def model():
    return AutoencoderTransformer(32, hidden_layer_sizes=(256,), max_iter=1, batch_size=200,
                                  random_state=0)


def write_memmap(path, rows, features, block=50_000):
    out = np.memmap(path, dtype=np.float32, mode="w+", shape=(rows, features))
    rng = np.random.default_rng(0)
    for start in range(0, rows, block):
        stop = min(start + block, rows)
        out[start:stop] = rng.random((stop - start, features), dtype=np.float32)
    out.flush()
    del out


def peak_mib():
    # VmHWM belongs to this process; ru_maxrss would carry the parent's peak.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def child(args):
    """Fit (and encode) in this fresh process; print the figures as JSON."""
    pin_threads(args.threads)
    data = np.memmap(args.path, dtype=np.float32, mode="r", shape=(args.rows, args.features))
    baseline = peak_mib()
    if args.mode == "memory":
        start = time.perf_counter()
        X = np.array(data)  # read whole, as an in-memory fit needs
        load = time.perf_counter() - start
        fitted, seconds = timed_fit(model(), X)
        figures = {"load_seconds": load}
    else:
        fitted, seconds = timed_fit(model(), ChunkedData(data))
        figures = {"fit_peak_mib": peak_mib()}
        if args.transform:
            start = time.perf_counter()
            codes = fitted.transform(ChunkedData(data))
            figures["transform_seconds"] = time.perf_counter() - start
            figures["codes_shape"] = list(codes.shape)
    print(json.dumps({"mode": args.mode, "rows": args.rows, "fit_seconds": seconds,
                      "us_per_row": 1e6 * seconds / args.rows, "baseline_mib": baseline,
                      "peak_mib": peak_mib(), "train_loss": fitted.loss_curve_[-1],
                      **figures}))


def run_child(args, path, rows, mode, transform=False):
    command = [sys.executable, __file__, "--child", "--path", str(path), "--rows", str(rows),
               "--features", str(args.features), "--mode", mode,
               "--threads", str(args.threads)]
    if transform:
        command.append("--transform")
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    result = json.loads(out.stdout.splitlines()[-1])
    print(result, flush=True)
    return result


def main():
    parser = argument_parser(__doc__, quick="200,000 rows instead of 1,000,000", threads=1)
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--features", type=int, default=784)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=["memory", "memmap"], help=argparse.SUPPRESS)
    parser.add_argument("--transform", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    rows = args.rows or (200_000 if args.quick else 1_000_000)
    reference = min(100_000, rows)
    scaling = sorted({reference, min(300_000, rows), rows})
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "X.f32"
        start = time.perf_counter()
        write_memmap(path, rows, args.features)
        print(f"wrote {path.stat().st_size / 2**30:.2f} GiB in "
              f"{time.perf_counter() - start:.1f} s", flush=True)
        pairs = [(run_child(args, path, reference, "memory"),
                  run_child(args, path, reference, "memmap")) for _ in range(args.repeats)]
        in_memory = min((p[0] for p in pairs), key=lambda r: r["fit_seconds"])
        fastest = min((p[1] for p in pairs), key=lambda r: r["fit_seconds"])
        by_rows = [fastest if n == reference and n != rows else
                   run_child(args, path, n, "memmap", transform=n == rows) for n in scaling]
    largest = by_rows[-1]
    ratio = largest["us_per_row"] / in_memory["us_per_row"]
    data_mib = rows * args.features * 4 / 2**20
    lines = [
        f"Model: `{SPEC}`, one epoch, batch 200; data: uniform random float32 in a "
        f"`np.memmap` of {rows:,} x {args.features} ({data_mib:,.0f} MiB), in the page "
        "cache (written just before). Each line is a fresh process; peak = VmHWM "
        "(resident memory, file pages included), baseline = VmHWM after importing skae.",
        "",
        f"Fastest of {args.repeats} interleaved runs for {reference:,} rows.",
        "",
        "| input | rows | fit (s) | us per row | baseline (MiB) | peak (MiB) |",
        "|---|---:|---:|---:|---:|---:|",
        f"| in memory (`np.array` of the memmap) | {in_memory['rows']:,} | "
        f"{in_memory['fit_seconds']:.1f} | {in_memory['us_per_row']:.1f} | "
        f"{in_memory['baseline_mib']:.0f} | {in_memory['peak_mib']:.0f} |",
    ]
    lines += [f"| `ChunkedData(memmap)` | {r['rows']:,} | {r['fit_seconds']:.1f} | "
              f"{r['us_per_row']:.1f} | {r['baseline_mib']:.0f} | {r['fit_peak_mib']:.0f} |"
              for r in by_rows]
    exponent = float(np.polyfit(np.log([r["rows"] for r in by_rows]),
                                np.log([r["fit_seconds"] for r in by_rows]), 1)[0])
    lines += [
        "",
        f"Time per row, {largest['rows']:,} rows out of core against {reference:,} in "
        f"memory: {ratio:.2f}x. Log-log slope of fit time against rows: {exponent:.2f} "
        "(1 = linear).",
        f"`transform` of all {largest['rows']:,} rows from the memmap: "
        f"{largest['transform_seconds']:.1f} s, peak of the process {largest['peak_mib']:.0f} "
        "MiB.",
    ]
    write_results(results_stem("out_of_core", args.quick, args.out),
                  {"spec": SPEC, "features": args.features, "rows": rows,
                   "repeats": args.repeats, "all_reference_runs": pairs,
                   "in_memory": in_memory, "out_of_core": by_rows,
                   "time_per_row_ratio": ratio, "rows_exponent": exponent},
                  "Training from a memory-mapped file (out of core)", "\n".join(lines))


if __name__ == "__main__":
    main()
