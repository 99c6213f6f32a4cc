"""
===========================
Two-dimensional latent maps
===========================

With two components, the codes can be drawn. PCA keeps the two directions
of largest variance; an autoencoder with a two-number bottleneck is free to
arrange the classes along curved directions. MNIST is used when it is on
disk (``SKAE_DATA``), scikit-learn's digits otherwise.
"""

# %%
import matplotlib.pyplot as plt
from _data import mnist_or_digits
from sklearn.decomposition import PCA

from skae import AutoencoderTransformer
from skae.plotting import plot_latent

X, y, image_shape, name = mnist_or_digits(n_samples=5_000)

models = {
    "PCA": PCA(n_components=2),
    "autoencoder": AutoencoderTransformer(
        n_components=2, hidden_layer_sizes=(256, 64), learning_rate_init=2e-3,
        max_iter=30, random_state=0,
    ),
}

fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 5))
for ax, (label, model) in zip(axes, models.items(), strict=True):
    plot_latent(model.fit_transform(X), y, ax=ax, title=f"{label} on {name}")
fig.tight_layout()
