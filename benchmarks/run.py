"""Run every benchmark and collect its results in ``benchmarks/results``.

Each benchmark is a script of its own in this folder (see README.md); this
runner starts them one after the other, in separate processes so that one
benchmark's threads and memory do not colour the next one's timings.
``bench_gpu.py``, which needs a CUDA device, is not among them: run it on
its own.

``--quick`` runs each in its quick mode (about a quarter of an hour in all
on 2 busy cores, half of it the training-speed repeats) and writes
``*_quick.md`` / ``*_quick.json`` files, which git ignores, leaving the
full results alone.

Run: ``python benchmarks/run.py [--quick] [--only NAME ...]``
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def commands(quick):
    """Script arguments per benchmark, for the full or the quick run.

    Paths are relative to the repository, where the scripts run, so that
    the command lines recorded in the results are the ones to type.
    """
    q = ["--quick"] if quick else []
    suffix = "_quick" if quick else ""
    return {
        "training_speed": ["bench_training_speed.py", "--repeats", "3" if quick else "7",
                           "--json", f"benchmarks/results/training_speed{suffix}.json"],
        "quality": ["bench_quality.py", *q],
        "vae": ["bench_vae.py", *(["digits"] if quick else ["digits", "frey", "mnist"]), *q],
        "sparse": ["bench_sparse.py", *q],
        "denoising": ["bench_denoising.py", *q],
        "deep_mnist": ["bench_deep_mnist.py", *q],
        "scaling": ["bench_scaling.py", *q],
        "conv": ["bench_conv.py", *q],
        # The MNIST tasks (30 and 60 minutes a model) are run on their own.
        "classifier": ["bench_classifier.py", "--task", "digits", *q],
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
    failed = []
    for name, argv in plan.items():
        if args.only and name not in args.only:
            continue
        print(f"== {name}: python benchmarks/{' '.join(argv)}", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, f"benchmarks/{argv[0]}", *argv[1:]],
                               cwd=HERE.parent)
        print(f"== {name}: exit {code} after {time.perf_counter() - start:.0f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
