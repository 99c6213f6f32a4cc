"""Figures are drawn headless and show what they claim to."""

import numpy as np
import pytest
from sklearn.decomposition import PCA

from skae import AutoencoderTransformer
from skae.plotting import plot_images, plot_latent, plot_loss_curve, plot_reconstructions

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_plot_images_draws_each_image(digits):
    X, _ = digits
    fig = plot_images(X[:7], (8, 8), n_cols=4)
    shown = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(shown) == 7
    np.testing.assert_array_equal(shown[5], X[5].reshape(8, 8))


def test_plot_reconstructions_rows_are_originals_then_models(digits):
    X, _ = digits
    pca = PCA(4).fit(X)
    ae = AutoencoderTransformer(4, hidden_layer_sizes=(16,), max_iter=3, random_state=0).fit(X)
    fig = plot_reconstructions(X, {"PCA": pca, "AE": ae}, (8, 8), n_images=3)
    assert len(fig.axes) == 9
    grid = np.array(fig.axes).reshape(3, 3)
    assert [row[0].get_ylabel() for row in grid] == ["original", "PCA", "AE"]
    np.testing.assert_allclose(grid[1, 2].images[0].get_array(),
                               pca.inverse_transform(pca.transform(X[2:3])).reshape(8, 8))


def test_plot_latent_colours_by_label():
    codes = np.arange(12, dtype=float).reshape(6, 2)
    fig = plot_latent(codes, labels=[0, 1, 2, 0, 1, 2], title="codes")
    ax = fig.axes[0]
    assert len(ax.collections) == 3
    np.testing.assert_array_equal(ax.collections[0].get_offsets(), codes[[0, 3]])
    assert ax.get_title() == "codes"
    with pytest.raises(ValueError, match="at least 2 columns"):
        plot_latent(np.zeros((3, 1)))


def test_plot_loss_curve_shows_training_and_validation(digits):
    X, _ = digits
    ae = AutoencoderTransformer(2, hidden_layer_sizes=(8,), max_iter=4, early_stopping=True,
                                random_state=0).fit(X)
    ax = plot_loss_curve(ae).axes[0]
    train, valid = ax.lines
    np.testing.assert_allclose(train.get_ydata(), ae.loss_curve_)
    np.testing.assert_allclose(valid.get_ydata(), -np.asarray(ae.validation_scores_))
