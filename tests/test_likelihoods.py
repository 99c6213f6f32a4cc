"""Likelihoods are objects: one vocabulary, and new ones without touching skae."""

import numpy as np
import pytest
import torch

from skae import AutoencoderTransformer, DenoisingAE, SparseCoder, VAETransformer
from skae.nn import LIKELIHOODS, Bernoulli, Gaussian, Likelihood

FAST = {"hidden_layer_sizes": (16,), "max_iter": 5, "random_state": 0}

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


# A new likelihood, defined here and used by both kinds of estimator.
class Laplace(Likelihood):
    """Laplace with the decoder output as location and one learned scale per feature."""

    name = "laplace"

    def __init__(self, n_features):
        super().__init__(n_features)
        self.log_scale = torch.nn.Parameter(torch.zeros(n_features))

    def after_reset(self):
        with torch.no_grad():
            self.log_scale.zero_()

    def link(self, raw):
        return raw

    def inverse_link(self, mean):
        return torch.as_tensor(mean)

    def log_prob(self, raw, x):
        log_scale = self.log_scale.to(raw.dtype)
        return -((x - raw).abs() * torch.exp(-log_scale) + log_scale + np.log(2)).sum(-1)

    def sample(self, raw, generator):
        u = torch.rand(raw.shape, generator=generator, dtype=raw.dtype) - 0.5
        return raw - torch.exp(self.log_scale) * u.sign() * torch.log1p(-2 * u.abs())


@pytest.mark.parametrize("make", [AutoencoderTransformer, VAETransformer])
def test_a_likelihood_defined_outside_the_package_trains(digits, make):
    X = digits[0][:300]
    model = make(4, likelihood=Laplace, **{**FAST, "max_iter": 30}).fit(X)
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    likelihood = model.net_.criterion_.likelihood
    assert isinstance(likelihood, Laplace)
    # Its parameter is trained with the network.
    assert not torch.equal(likelihood.log_scale.detach(), torch.zeros(64))
    assert np.isfinite(model.score_samples(X)).all()
    assert model.inverse_transform(model.transform(X)).shape == X.shape


def test_a_vae_with_a_new_likelihood_samples_from_it(digits):
    vae = VAETransformer(2, likelihood=Laplace, **FAST).fit(digits[0][:200])
    assert vae.sample(3).shape == (3, 64)


def test_one_vocabulary_for_every_estimator(digits):
    X = digits[0][:200]
    for make in (AutoencoderTransformer, DenoisingAE, SparseCoder, VAETransformer):
        model = make(4, likelihood="bernoulli", **FAST).fit(X)
        assert isinstance(model.net_.criterion_.likelihood, Bernoulli)
    assert set(LIKELIHOODS) == {"gaussian", "bernoulli", "multinomial", "poisson"}


def test_not_a_likelihood_is_refused(digits):
    with pytest.raises(ValueError, match="subclass of skae.nn.Likelihood"):
        AutoencoderTransformer(likelihood=dict, **FAST).fit(digits[0][:50])


@pytest.mark.parametrize("make", [AutoencoderTransformer, DenoisingAE, SparseCoder])
def test_loss_is_the_deprecated_spelling_of_likelihood(digits, make):
    X = digits[0][:200]
    with pytest.warns(FutureWarning, match="likelihood='bernoulli' instead of"):
        old = make(4, loss="binary_crossentropy", **FAST).fit(X)
    new = make(4, likelihood="bernoulli", **FAST).fit(X)
    np.testing.assert_array_equal(old.transform(X), new.transform(X))
    with pytest.raises(ValueError, match="disagree"):
        make(4, loss="squared_error", likelihood="bernoulli", **FAST).fit(X)


def test_bernoulli_range_message_does_not_round(digits):
    X = digits[0][:50].copy()
    X[0, 0] = 1.00001
    with pytest.raises(ValueError, match=r"ranges from 0\.0 to 1\.00001"):
        AutoencoderTransformer(likelihood="bernoulli", **FAST).fit(X)


def test_log_probs_keep_leading_dimensions():
    gen = torch.Generator().manual_seed(0)
    raw = torch.randn(5, 3, 4, generator=gen)
    x = torch.rand(5, 3, 4, generator=gen)
    for likelihood in (Gaussian(4), Gaussian(4, variance="learned"), Bernoulli(4)):
        assert likelihood.log_prob(raw, x).shape == (5, 3)
        assert likelihood.sample(raw, gen).shape == raw.shape


def test_gaussian_log_prob_is_the_normal_density():
    gen = torch.Generator().manual_seed(0)
    raw, x = torch.randn(6, 4, generator=gen), torch.randn(6, 4, generator=gen)
    expected = torch.distributions.Normal(raw, 0.5).log_prob(x).sum(-1)
    torch.testing.assert_close(Gaussian(4, variance=0.25).log_prob(raw, x), expected)


def test_data_in_the_units_of_each_likelihoods_mean():
    import torch

    from skae.nn import Gaussian, Multinomial

    x = torch.tensor([[1.0, 3.0], [0.0, 0.0]])
    # A multinomial's mean is each row's shares; the other means are the data's units.
    torch.testing.assert_close(Multinomial(2).in_mean_units(x),
                               torch.tensor([[0.25, 0.75], [0.0, 0.0]]))
    assert Gaussian(2).in_mean_units(x) is x
