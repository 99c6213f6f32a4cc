"""
========================================
Reconstructions: autoencoder against PCA
========================================

An autoencoder and PCA both compress each image to the same number of
values and decode it back. PCA's decoder is linear; the autoencoder's is a
neural network, so it can follow the curved shape of the data and lose less.
"""

# %%
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer
from skae.plotting import plot_reconstructions

X, y = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X / 16.0, test_size=0.25, random_state=0)

models = {
    "PCA": PCA(n_components=8).fit(X_train),
    "autoencoder": AutoencoderTransformer(
        n_components=8, hidden_layer_sizes=(256, 128), learning_rate_init=2e-3,
        batch_size=64, max_iter=300, early_stopping=True, n_iter_no_change=15,
        random_state=0,
    ).fit(X_train),
}

# %%
# Held-out reconstruction error: squared error summed over the 64 pixels,
# averaged over test images. For the autoencoder this is ``-score``.
for name, model in models.items():
    recon = model.inverse_transform(model.transform(X_test))
    print(f"{name:12s} {np.mean(np.sum((X_test - recon) ** 2, axis=1)):.3f}")

# %%
fig = plot_reconstructions(X_test, models, (8, 8), n_images=10)
