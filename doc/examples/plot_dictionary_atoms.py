"""
====================================================
Dictionary atoms: SparseCoder and DictionaryLearning
====================================================

With a linear decoder, a :class:`~skae.SparseCoder` learns a dictionary
(``components_``) like :class:`~sklearn.decomposition.DictionaryLearning`,
plus an encoder that codes new data in one matrix product instead of a
sparse solver per sample.
"""

# %%
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import MiniBatchDictionaryLearning

from skae import SparseCoder
from skae.plotting import plot_images

X = load_digits().data / 16.0
X = X - X.mean(axis=0)
k = 5
models = {
    "SparseCoder": SparseCoder(36, sparsity="topk", n_nonzero_coefs=k, max_iter=100,
                               random_state=0),
    "MiniBatchDictionaryLearning": MiniBatchDictionaryLearning(
        36, transform_algorithm="omp", transform_n_nonzero_coefs=k, random_state=0),
}
for name, model in models.items():
    model.fit(X)
    start = time.perf_counter()
    codes = model.transform(X)
    seconds = time.perf_counter() - start
    recon = model.inverse_transform(codes)
    print(f"{name:28s} error {np.mean(np.sum((X - recon) ** 2, axis=1)):.3f}, "
          f"{np.mean(codes != 0) * 36:.1f} non-zeros per image, transform {seconds * 1e3:.1f} ms")

# %%
fig = plot_images(models["SparseCoder"].components_, (8, 8), n_cols=12, cmap="RdBu_r")
fig.suptitle("SparseCoder atoms")

# %%
fig = plot_images(models["MiniBatchDictionaryLearning"].components_, (8, 8), n_cols=12,
                  cmap="RdBu_r")
fig.suptitle("MiniBatchDictionaryLearning atoms")
