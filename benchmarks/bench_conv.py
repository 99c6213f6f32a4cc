"""Convolutional against fully connected autoencoders on image data sets.

At 16 components, on digits (8x8, built in) and on MNIST (28x28), Frey
Face (28x20) and USPS (16x16) from ``SKAE_DATA`` (skipped with a message
when absent): held-out reconstruction error (squared error summed over
pixels in [0, 1], mean over test images), number of trained parameters and
fit time of

* ``PCA(16)``;
* ``AutoencoderTransformer`` with fully connected layers 256-128, the
  network of ``python -m skae``;
* ``AutoencoderTransformer(image_shape=..., hidden_layer_sizes=(32, 64))``:
  two 3x3 stride-2 convolutions of 32 and 64 feature maps;
* ``VAETransformer(likelihood="bernoulli", kl_warmup=10)`` with the same two
  networks, for which the held-out ELBO (nats per image) and the number of
  active latent dimensions (``latent_activity_`` above 0.01) are reported
  as well. Without the KL warm-up the convolutional VAE's posterior
  collapses to the prior in the first epochs on MNIST and early stopping
  ends training there (``fit`` then issues a ``PosteriorCollapseWarning``).

Both networks train with the same optimiser settings (Adam at 2e-3, batch
64, early stopping on 10% of the training rows, at most ``--max-iter``
epochs). Training sets are capped at 5,000 rows.

Run: ``python benchmarks/bench_conv.py [--quick] [--out benchmarks/results]``
"""

from sklearn.decomposition import PCA

from _common import argument_parser, load, results_stem, squared_error, timed_fit, write_results
from skae import AutoencoderTransformer, VAETransformer

IMAGE_SHAPES = {"digits": (8, 8), "MNIST": (28, 28), "Frey Face": (28, 20), "USPS": (16, 16)}


def image_sets(max_train, max_test, quick):
    """Yield (name, image shape, X_train, X_test) for every available data set."""
    for name, shape in IMAGE_SHAPES.items():
        if quick and name != "digits":
            return
        data = load(name)
        if data is not None:
            X_train, X_test = data[:2]
            yield name, shape, X_train[:max_train], X_test[:max_test]


def models(shape, max_iter):
    trainer = {"n_components": 16, "learning_rate_init": 2e-3, "batch_size": 64,
               "max_iter": max_iter, "early_stopping": True, "n_iter_no_change": 15,
               "random_state": 0}
    vae = {**trainer, "likelihood": "bernoulli", "kl_warmup": 10}
    return {
        "PCA": PCA(16, random_state=0),
        "fully connected 256-128": AutoencoderTransformer(hidden_layer_sizes=(256, 128),
                                                          **trainer),
        "convolutional 32-64": AutoencoderTransformer(image_shape=shape,
                                                      hidden_layer_sizes=(32, 64), **trainer),
        "VAE, fully connected 256-128": VAETransformer(hidden_layer_sizes=(256, 128), **vae),
        "VAE, convolutional 32-64": VAETransformer(
            image_shape=shape, hidden_layer_sizes=(32, 64), **vae),
    }


def n_parameters(model):
    if hasattr(model, "net_"):
        return sum(p.numel() for p in model.net_.module_.parameters())
    return model.components_.size + model.mean_.size


def measure(name, label, model, X_train, X_test):
    model, seconds = timed_fit(model, X_train)
    vae = isinstance(model, VAETransformer)
    return {"data": name, "model": label, "n_train": len(X_train), "n_test": len(X_test),
            "error": squared_error(X_test, model.inverse_transform(model.transform(X_test))),
            "elbo": float(model.score(X_test)) if vae else None,
            "active": (int((model.latent_activity_ > VAETransformer.activity_threshold).sum())
                       if vae else None),
            "parameters": int(n_parameters(model)),
            "epochs": getattr(model, "n_iter_", None), "fit_s": seconds}


def table(rows):
    lines = ["| data | model | train / test rows | held-out error | held-out ELBO (nats) "
             "| active latents | parameters | epochs | fit (s) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        epochs = "-" if r["epochs"] is None else r["epochs"]
        elbo = "-" if r["elbo"] is None else f"{r['elbo']:.2f}"
        active = "-" if r["active"] is None else r["active"]
        lines.append(f"| {r['data']} | {r['model']} | {r['n_train']} / {r['n_test']} | "
                     f"{r['error']:.3f} | {elbo} | {active} | {r['parameters']:,} | {epochs} | "
                     f"{r['fit_s']:.1f} |")
    return "\n".join(lines)


def main():
    parser = argument_parser(__doc__, quick="digits only, few epochs: a smoke run, not a result")
    parser.add_argument("--max-iter", type=int, default=None)
    args = parser.parse_args()
    max_iter = args.max_iter or (10 if args.quick else 200)
    rows = []
    for name, shape, X_train, X_test in image_sets(5000, 5000, args.quick):
        for label, model in models(shape, max_iter).items():
            rows.append(measure(name, label, model, X_train, X_test))
            r = rows[-1]
            print(f"{name:10s} {label:30s} error {r['error']:8.3f}  "
                  f"params {r['parameters']:8d}  fit {r['fit_s']:6.1f} s", flush=True)
    write_results(results_stem("conv", args.quick, args.out), {"rows": rows},
                  "Convolutional against fully connected autoencoders, 16 components",
                  table(rows))


if __name__ == "__main__":
    main()
