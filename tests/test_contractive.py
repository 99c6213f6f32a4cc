"""The contractive penalty: exact, matching finite differences, and effective."""

import numpy as np
import pytest
import torch
from torch import nn

from skae import AutoencoderTransformer, DenoisingAE, SparseCoder
from skae.nn import TopK, UnrolledThresholding, build, contractive_penalty, make_mlp
from skae.nn.contractive import jacobian_norm_autograd, jacobian_norm_closed_form

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def finite_difference_penalty(encoder, x, eps=1e-6):
    """Batch mean of ||J||_F^2 from central differences, in float64."""
    x = x.double()
    total = torch.zeros(x.shape[0], dtype=torch.float64)
    with torch.no_grad():
        for i in range(x.shape[1]):
            step = torch.zeros_like(x)
            step[:, i] = eps
            column = (encoder(x + step) - encoder(x - step)) / (2 * eps)
            total += column.pow(2).sum(dim=1)
    return total.mean().item()


def make_encoder(sizes, activation, last=None, seed=0):
    def factory():
        encoder = make_mlp(sizes, activation)
        if last is not None:
            encoder.append(last)
        return encoder

    return build(factory, torch.Generator().manual_seed(seed)).double()


@pytest.fixture
def x():
    return torch.randn(16, 7, generator=torch.Generator().manual_seed(1), dtype=torch.float64)


@pytest.mark.parametrize("last", [nn.Sigmoid(), nn.Tanh(), nn.Identity()])
def test_closed_form_single_layer_matches_finite_differences(x, last):
    encoder = make_encoder([7, 5], "relu", last)
    expected = finite_difference_penalty(encoder, x)
    assert contractive_penalty(encoder, x).item() == pytest.approx(expected, rel=1e-6)


def test_closed_form_is_the_classic_sigmoid_formula(x):
    encoder = make_encoder([7, 5], "relu", nn.Sigmoid())
    h = encoder(x)
    w = encoder[0].weight
    classic = ((h * (1 - h)).pow(2) @ w.pow(2).sum(dim=1)).mean()
    torch.testing.assert_close(contractive_penalty(encoder, x), classic)


@pytest.mark.parametrize("sizes", [[7, 9, 3], [7, 12, 20]], ids=["rows", "columns"])
@pytest.mark.parametrize("activation", ["tanh", "logistic"])
def test_deep_encoder_matches_finite_differences(x, sizes, activation):
    # Undercomplete codes build the Jacobian a row at a time, overcomplete
    # ones a column at a time.
    encoder = make_encoder(sizes, activation)
    expected = finite_difference_penalty(encoder, x)
    assert contractive_penalty(encoder, x).item() == pytest.approx(expected, rel=1e-6)


def test_the_columns_path_has_the_gradient_of_the_rows_path(x):
    from torch.func import jacrev, vmap

    from skae.nn.contractive import _jacobian_by_columns

    encoder = make_encoder([7, 12, 20], "tanh")

    def one(sample):
        return encoder(sample.unsqueeze(0)).squeeze(0)

    gradients = []
    for jacobian in (jacrev(one), _jacobian_by_columns(one)):
        penalty = vmap(jacobian)(x).pow(2).sum()
        gradients.append(torch.autograd.grad(penalty, encoder[0].weight)[0])
    torch.testing.assert_close(gradients[0], gradients[1])


@pytest.mark.parametrize("last", [nn.ReLU(), nn.Softshrink(0.1), TopK(2)])
def test_piecewise_linear_codes_agree_with_autograd(x, last):
    encoder = make_encoder([7, 6], "relu", last)
    closed = jacobian_norm_closed_form(encoder[0], list(encoder)[1:], x)
    torch.testing.assert_close(closed, jacobian_norm_autograd(encoder, x))
    assert contractive_penalty(encoder, x).item() == pytest.approx(
        finite_difference_penalty(encoder, x), rel=1e-6
    )


def test_gradients_of_both_paths_agree(x):
    # The penalty trains the weights, so its gradient must be exact too.
    encoder = make_encoder([7, 5], "relu", nn.Sigmoid())
    closed = jacobian_norm_closed_form(encoder[0], [encoder[1]], x).mean()
    (g_closed,) = torch.autograd.grad(closed, encoder[0].weight)
    auto = jacobian_norm_autograd(encoder, x).mean()
    (g_auto,) = torch.autograd.grad(auto, encoder[0].weight)
    torch.testing.assert_close(g_closed, g_auto)


def test_unrolled_encoder_matches_finite_differences(x):
    # A feedback loop through a smooth non-linearity: the autograd path.
    encoder = build(lambda: UnrolledThresholding(nn.Linear(7, 6), nn.Tanh(), 3),
                    torch.Generator().manual_seed(0)).double()
    with torch.no_grad():
        encoder.feedback.weight.normal_(0, 0.3, generator=torch.Generator().manual_seed(2))
    assert contractive_penalty(encoder, x).item() == pytest.approx(
        finite_difference_penalty(encoder, x), rel=1e-6
    )


def jacobian_norm(estimator, X):
    encoder = estimator.net_.module_.encoder
    with torch.no_grad():
        return contractive_penalty(encoder, torch.tensor(X, dtype=torch.float32)).item()


@pytest.mark.parametrize("cls, params", [
    (AutoencoderTransformer, {"hidden_layer_sizes": (32,)}),
    (SparseCoder, {"sparsity": "l1"}),
    (DenoisingAE, {"hidden_layer_sizes": (32,)}),
])
def test_contractive_weight_shrinks_the_jacobian(digits, cls, params):
    X = digits[0][:500]
    # A constant, small rate: the last epoch's training loss then estimates
    # the fitted model's loss, which the last assertion compares with score.
    fits = [cls(16, contractive=c, max_iter=15, learning_rate="constant",
                learning_rate_init=1e-3, random_state=0, **params).fit(X)
            for c in (0.0, 1.0)]
    plain, contracted = (jacobian_norm(f, X) for f in fits)
    assert contracted < 0.5 * plain
    # The penalty is a training term: it shows in the loss, not in score.
    assert fits[1].loss_curve_[-1] > -fits[1].score(X)
    np.testing.assert_allclose(fits[0].loss_curve_[-1], -fits[0].score(X), rtol=0.2)
