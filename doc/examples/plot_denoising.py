"""
=====================================
Denoising images: autoencoder and PCA
=====================================

A :class:`~skae.DenoisingAE` is trained to rebuild clean images from
corrupted copies, so ``inverse_transform(transform(X_noisy))`` removes
noise. PCA denoises by projecting onto its leading components. Both are
fitted on noisy images here, as in scikit-learn's kernel PCA denoising
example; USPS is used when it is on disk (``SKAE_DATA``), digits otherwise.
"""

# %%
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

from skae import DenoisingAE, datasets
from skae.plotting import plot_image_rows

try:
    X_train, _ = datasets.load_usps("train")
    X_test, _ = datasets.load_usps("test")
    X_train, X_test, shape = X_train[:1000], X_test[:100], (16, 16)
except (FileNotFoundError, ImportError):
    X = load_digits().data / 16.0
    X_train, X_test, shape = X[:1000], X[1000:1100], (8, 8)

rng = np.random.default_rng(0)
noisy_train = X_train + rng.normal(scale=0.25, size=X_train.shape)
noisy_test = X_test + rng.normal(scale=0.25, size=X_test.shape)

pca = PCA(n_components=32, random_state=0).fit(noisy_train)
dae = DenoisingAE(n_components=64, hidden_layer_sizes=(256,), noise="gaussian",
                  noise_level=0.5, max_iter=100, random_state=0).fit(noisy_train)

denoised = {
    "PCA": pca.inverse_transform(pca.transform(noisy_test)),
    "DenoisingAE": dae.inverse_transform(dae.transform(noisy_test)),
}
for name, images in denoised.items():
    print(f"{name:12s} mean squared error {np.mean((images - X_test) ** 2):.4f}")
print(f"{'noisy':12s} mean squared error {np.mean((noisy_test - X_test) ** 2):.4f}")

# %%
fig = plot_image_rows([X_test[:8], noisy_test[:8], *(d[:8] for d in denoised.values())],
                      shape, ["clean", "noisy", *denoised])
