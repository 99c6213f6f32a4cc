"""Run every benchmark and collect its results in ``benchmarks/results``.

Each benchmark is a script of its own in this folder (see README.md); this
runner starts them one after the other, in separate processes so that one
benchmark's threads and memory do not colour the next one's timings.

``--quick`` runs each in its quick mode (a few minutes in all on 2 cores)
and writes ``*_quick.md`` / ``*_quick.json`` files, leaving the full
results alone.

Run: ``python benchmarks/run.py [--quick] [--only NAME ...]``
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def commands(quick):
    """Script arguments per benchmark, for the full or the quick run."""
    q = ["--quick"] if quick else []
    suffix = "_quick" if quick else ""
    return {
        "training_speed": ["bench_training_speed.py", "--repeats", "3" if quick else "7",
                           "--json", str(RESULTS / f"training_speed{suffix}.json")],
        "quality": ["bench_quality.py", *q],
        "vae": ["bench_vae.py", *(["digits"] if quick else ["digits", "frey", "mnist"]), *q,
                "--output", str(RESULTS / f"vae{suffix}")],
        "sparse": ["bench_sparse.py", *q],
        "denoising": ["bench_denoising.py", *q],
        "deep_mnist": ["bench_deep_mnist.py", *q],
        "scaling": ["bench_scaling.py", *q],
        "conv": ["bench_conv.py", *q],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="*", help="names of the benchmarks to run")
    args = parser.parse_args()
    plan = commands(args.quick)
    unknown = set(args.only or ()) - set(plan)
    if unknown:
        parser.error(f"unknown benchmark(s) {sorted(unknown)}; choose from {sorted(plan)}")
    RESULTS.mkdir(exist_ok=True)
    failed = []
    for name, argv in plan.items():
        if args.only and name not in args.only:
            continue
        print(f"== {name}: python benchmarks/{' '.join(argv)}", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, str(HERE / argv[0]), *argv[1:]], cwd=HERE.parent)
        print(f"== {name}: exit {code} after {time.perf_counter() - start:.0f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
