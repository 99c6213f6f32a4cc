"""
====================================
Anomaly detection with score_samples
====================================

``score_samples`` is minus each sample's reconstruction error: images like
the training data score high, others low. Here an autoencoder learns the
digits 0 to 8; unseen 9s and images with a block of pixels wiped out are
the anomalies. PCA's ``score_samples`` (a Gaussian log-likelihood) is the
baseline; the area under the ROC curve measures how well each score
separates normal from anomalous images.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer

X, y = load_digits(return_X_y=True)
X = X / 16.0
normal = y != 9
X_train, X_normal = train_test_split(X[normal], test_size=0.3, random_state=0)

rng = np.random.default_rng(0)
wiped = X_normal[:150].copy().reshape(-1, 8, 8)
for image in wiped:
    row, col = rng.integers(0, 5, size=2)
    image[row : row + 4, col : col + 4] = 1.0
X_anomalous = np.vstack([X[~normal], wiped.reshape(-1, 64)])

X_test = np.vstack([X_normal, X_anomalous])
is_anomaly = np.r_[np.zeros(len(X_normal)), np.ones(len(X_anomalous))]

# %%
models = {
    "PCA (log-likelihood)": PCA(n_components=16).fit(X_train),
    "autoencoder": AutoencoderTransformer(
        n_components=16, hidden_layer_sizes=(128,), max_iter=150, random_state=0,
    ).fit(X_train),
}
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for ax, (name, model) in zip(axes, models.items(), strict=True):
    anomaly_score = -model.score_samples(X_test)
    auc = roc_auc_score(is_anomaly, anomaly_score)
    print(f"{name:22s} ROC AUC {auc:.3f}")
    bins = np.linspace(anomaly_score.min(), np.quantile(anomaly_score, 0.99), 40)
    ax.hist(anomaly_score[is_anomaly == 0], bins=bins, alpha=0.6, label="normal")
    ax.hist(anomaly_score[is_anomaly == 1], bins=bins, alpha=0.6, label="anomalous")
    ax.set_title(f"{name}: AUC {auc:.3f}")
    ax.set_xlabel("-score_samples")
    ax.legend()
fig.tight_layout()
