"""
========================================
Choosing the code size with GridSearchCV
========================================

``score`` is minus the mean reconstruction error, so ``GridSearchCV`` can
tune an autoencoder without a scorer, exactly as it tunes PCA (whose
``score`` is a log-likelihood). Held-out error falls as the code grows; the
search reports by how much.
"""

# %%
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV

from skae import AutoencoderTransformer

X = load_digits().data / 16.0
grid = GridSearchCV(
    AutoencoderTransformer(hidden_layer_sizes=(64,), max_iter=60, random_state=0),
    {"n_components": [2, 4, 8, 16]},
    cv=3,
)
grid.fit(X)
print("best:", grid.best_params_)

# %%
sizes = grid.cv_results_["param_n_components"].data.astype(int)
plt.errorbar(sizes, -grid.cv_results_["mean_test_score"],
             yerr=grid.cv_results_["std_test_score"], marker="o")
plt.xlabel("n_components")
plt.ylabel("held-out squared error per image")
plt.title("3-fold cross-validation")
