"""
=====================================
Autoencoder features for a classifier
=====================================

An autoencoder is a transformer, so it sits in a
:class:`~sklearn.pipeline.Pipeline` in front of a classifier and is
cross-validated with it. Its codes are learned without the labels; the
classifier only sees ``n_components`` numbers per image.
"""

# %%
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer

X, y = load_digits(return_X_y=True)
X = X / 16.0
sizes = [2, 8, 16]
accuracy = {"PCA": [], "autoencoder": []}
for k in sizes:
    for name, reducer in [
        ("PCA", PCA(k)),
        ("autoencoder", AutoencoderTransformer(k, hidden_layer_sizes=(128,), max_iter=40,
                                               random_state=0)),
    ]:
        pipe = make_pipeline(reducer, StandardScaler(), LogisticRegression(max_iter=2000))
        accuracy[name].append(cross_val_score(pipe, X, y, cv=3).mean())
    print(f"{k:2d} components: PCA {accuracy['PCA'][-1]:.3f}, "
          f"autoencoder {accuracy['autoencoder'][-1]:.3f}")

# %%
for name, values in accuracy.items():
    plt.plot(sizes, values, marker="o", label=name)
plt.xlabel("n_components")
plt.ylabel("3-fold accuracy of logistic regression")
plt.legend()
