"""Training on a GPU: skae against a hand-written CUDA loop and against the CPU.

Every estimator is also fitted, used and pickled with ``device="cuda"``;
the pickles are written beside the results so that loading them on a
machine without a GPU can be checked (``--check-pickles FOLDER`` does that
and compares the outputs with those recorded on the GPU).

The throughput comparison trains the same module (``skae.nn.MLPAutoencoder``,
784-256-32-256-784, ReLU, Adam with fused kernels) on the same rows with the
same batch size: once through ``AutoencoderTransformer.fit`` and once in a
plain loop with the data already on the GPU, as a careful hand-written loop
would hold it. Rows are MNIST's when it is in ``SKAE_DATA`` (default
``../shared/data`` beside the repository), otherwise a synthetic low-rank
matrix of the same shape. Ratios are measured in one
process; a ratio above 1 means skae is faster.

Both timings cover everything from the call to the trained module: building
the module, moving the data to the device, and, for skae, the input checks
every scikit-learn estimator makes; ``epoch_only`` compares the epochs alone
(skorch's epoch timer against the hand-written loop's).

``--mixed-precision`` times every configuration twice, in float32 and with
``mixed_precision=True`` (the hand-written loop then runs its forward pass
under ``torch.autocast(dtype=torch.bfloat16)`` and its loss in float32, as
skae does), and records skae's final training loss and, on the GPU, its
peak memory, so that the speed-up is read beside what it costs.

Results: ``gpu.json`` and ``gpu.md`` in ``--out`` (default
``benchmarks/results/gpu``), beside the pickles.

Run: ``python benchmarks/bench_gpu.py [--epochs 20] [--rows 60000] [--mixed-precision]
[--out DIR]``
"""

import contextlib
import pickle
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from _common import RESULTS, argument_parser, load, write_results
from skae import AutoencoderTransformer, DenoisingAE, SparseCoder, VAETransformer
from skae.nn import MLPAutoencoder, build


def _rows(n_rows):
    mnist = load("MNIST")
    if mnist is not None:
        return mnist[0][:n_rows], "MNIST train"
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(32, 784)).astype(np.float32)
    codes = rng.normal(size=(n_rows, 32)).astype(np.float32)
    noise = 0.1 * rng.normal(size=(n_rows, 784)).astype(np.float32)
    return codes @ basis / 8 + noise, "synthetic rank-32"


def _sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _autocast(device, mixed_precision):
    if not mixed_precision:
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)


def hand_written(X, *, epochs, batch_size, device, seed=0, mixed_precision=False):
    """The loop a user would write: data on the device, one randperm per epoch."""
    # Timed like skae's fit: building the module and moving the data count.
    _sync(device)
    start = time.perf_counter()
    generator = torch.Generator().manual_seed(seed)
    module = build(lambda: MLPAutoencoder(X.shape[1], 32, [256]), generator).to(device)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3, fused=True)
    data = torch.tensor(X, device=device)
    _sync(device)
    loop_start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(data), device=device)
        for i in range(0, len(data), batch_size):
            xb = data[order[i : i + batch_size]]
            optimizer.zero_grad(set_to_none=True)
            with _autocast(device, mixed_precision):
                recon = module(xb)["recon"]
            loss = torch.nn.functional.mse_loss(recon.float(), xb, reduction="sum")
            (loss / len(xb)).backward()
            optimizer.step()
    _sync(device)
    end = time.perf_counter()
    return end - start, (end - loop_start) / epochs


def through_skae(X, *, epochs, batch_size, device, mixed_precision=False):
    """Seconds of the fit, of one epoch, the final training loss and the peak GPU memory."""
    model = AutoencoderTransformer(32, hidden_layer_sizes=(256,), batch_size=batch_size,
                                   max_iter=epochs, tol=0.0, n_iter_no_change=epochs,
                                   device=device, random_state=0,
                                   mixed_precision=mixed_precision)
    gpu = device.startswith("cuda")
    if gpu:
        torch.cuda.reset_peak_memory_stats()
    _sync(device)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X)
    _sync(device)
    # skorch's epoch timer: the epochs alone, without the fit's set-up.
    durations = [row["dur"] for row in model.net_.history]
    peak = torch.cuda.max_memory_allocated() / 2**20 if gpu else None
    return (time.perf_counter() - start, float(np.mean(durations[1:] or durations)),
            model.loss_curve_[-1], peak)


def throughput(X, epochs, batch_sizes, devices, precisions=(False,)):
    rows = []
    for device in devices:
        # The CPU is far slower; fewer epochs measure its rate.
        epochs = epochs if device.startswith("cuda") else max(2, epochs // 4)
        for batch_size in batch_sizes:
            for mixed in precisions:
                run = dict(batch_size=batch_size, device=device, mixed_precision=mixed)
                # One short run of each first, so that kernel selection and
                # allocator warm-up stay out of the timings.
                hand_written(X[:4096], epochs=1, **run)
                through_skae(X[:4096], epochs=1, **run)
                hand, hand_epoch = hand_written(X, epochs=epochs, **run)
                ours, our_epoch, loss, peak = through_skae(X, epochs=epochs, **run)
                rows.append({"device": device, "batch_size": batch_size, "epochs": epochs,
                             "precision": "bfloat16 autocast" if mixed else "float32",
                             "hand_rows_per_s": epochs * len(X) / hand,
                             "skae_rows_per_s": epochs * len(X) / ours,
                             "skae_over_hand": hand / ours,
                             "epoch_only_skae_over_hand": hand_epoch / our_epoch,
                             "skae_final_loss": loss, "skae_peak_gpu_mib": peak})
                print(rows[-1], flush=True)
    return rows


SMOKE = {
    "AutoencoderTransformer": lambda device: AutoencoderTransformer(
        8, max_iter=3, device=f"{device}:0" if device == "cuda" else device,
        random_state=0),
    "AutoencoderTransformer_conv": lambda device: AutoencoderTransformer(
        8, image_shape=(28, 28), hidden_layer_sizes=(8, 16), max_iter=2, device=device,
        random_state=0),
    "DenoisingAE": lambda device: DenoisingAE(
        8, noise="salt_pepper", pretrain="greedy", max_iter=2, device=device, random_state=0),
    "SparseCoder": lambda device: SparseCoder(
        50, sparsity="topk", encoder_steps=2, refit_codes=True, max_iter=2, device=device,
        random_state=0),
    "VAETransformer": lambda device: VAETransformer(
        8, likelihood="bernoulli", kl_warmup=2, max_iter=3, early_stopping=True,
        device=device, random_state=0),
}


def smoke(X, out, device):
    """Fit, use and pickle every estimator on ``device``; record the outputs."""
    X = np.clip(X[:2000], 0, 1)
    report = {}
    for name, make in SMOKE.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = make(device).fit(X)
            model.partial_fit(X)
        outputs = {"codes": model.transform(X[:100]),
                   "recon": model.inverse_transform(model.transform(X[:100])),
                   "scores": model.score_samples(X[:100])}
        report[name] = {"device": str(model.net_.device), "n_iter": model.n_iter_,
                        "finite": bool(all(np.isfinite(v).all() for v in outputs.values()))}
        (out / f"{name}.pkl").write_bytes(pickle.dumps(model))
        np.savez(out / f"{name}.npz", X=X[:100], **outputs)
        print(name, report[name], flush=True)
    return report


def check_pickles(folder):
    """Load the GPU pickles here and compare their outputs with the recorded ones."""
    worst = {}
    for path in sorted(Path(folder).glob("*.pkl")):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = pickle.loads(path.read_bytes())
        recorded = np.load(path.with_suffix(".npz"))
        X = recorded["X"]
        got = {"codes": model.transform(X),
               "recon": model.inverse_transform(model.transform(X)),
               "scores": model.score_samples(X)}
        worst[path.stem] = {
            "device_here": str(model.net_.device),
            "warned": [str(w.message)[:80] for w in caught],
            "max_rel_diff": max(float(np.max(np.abs(got[k] - recorded[k]))
                                      / (np.max(np.abs(recorded[k])) + 1e-12)) for k in got),
        }
        print(path.stem, worst[path.stem])
    return worst


def tables(result):
    """Markdown of the throughput and smoke results."""
    def peak(r):
        # Results written before the precision was recorded have no peak.
        value = r.get("skae_peak_gpu_mib")
        return "" if value is None else f"{value:,.0f}"

    lines = [f"Data: {result['data']}.", "",
             "| device | batch size | epochs | precision | hand-written loop (rows/s) "
             "| skae (rows/s) | skae / hand-written | epochs only | skae's final loss "
             "| skae's peak GPU memory (MiB) |",
             "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['device']} | {r['batch_size']} | {r['epochs']} "
              f"| {r.get('precision', 'float32')} "
              f"| {r['hand_rows_per_s']:,.0f} | {r['skae_rows_per_s']:,.0f} "
              f"| {r['skae_over_hand']:.2f}x | {r['epoch_only_skae_over_hand']:.2f}x "
              f"| {r.get('skae_final_loss', float('nan')):.4g} | {peak(r)} |"
              for r in result["throughput"]]
    lines += ["", "Every estimator fitted, used and pickled on the GPU:", "",
              "| estimator | device | epochs | outputs finite |", "|---|---|---:|---|"]
    lines += [f"| {name} | {r['device']} | {r['n_iter']} | {r['finite']} |"
              for name, r in result["smoke"].items()]
    return "\n".join(lines)


def main():
    parser = argument_parser(__doc__, out=False)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--rows", type=int, default=60000)
    parser.add_argument("--out", default=str(RESULTS / "gpu"),
                        help="folder of the results and the pickles")
    parser.add_argument("--check-pickles", metavar="FOLDER")
    parser.add_argument("--mixed-precision", action="store_true",
                        help="time every configuration with mixed_precision=True too")
    args = parser.parse_args()
    if args.check_pickles:
        check_pickles(args.check_pickles)
        return
    if not torch.cuda.is_available():
        raise SystemExit("bench_gpu.py needs a CUDA device.")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    X, source = _rows(args.rows)
    result = {
        "data": f"{source}, {X.shape[0]} x {X.shape[1]} float32",
        "epochs": args.epochs,
        "smoke": smoke(X, out, "cuda"),
        "throughput": throughput(X, args.epochs, [200, 4096], ["cuda", "cpu"],
                                 (False, True) if args.mixed_precision else (False,)),
    }
    write_results(out / "gpu", result, "skae on a GPU", tables(result))


if __name__ == "__main__":
    main()
