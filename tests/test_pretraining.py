"""Greedy layer-wise pretraining on the deterministic autoencoders."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from skae import AutoencoderTransformer, DenoisingAE, SparseCoder, _base, _fitting, _pretraining

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_each_stage_trains_its_own_layer_pair_then_all_are_fine_tuned(digits, monkeypatch):
    X = digits[0][:400]
    runs = []
    original_run = _fitting.run_epochs
    ae = AutoencoderTransformer(4, hidden_layer_sizes=(32, 16), pretrain="greedy",
                                max_iter=8, random_state=0)
    original_setup = type(ae)._setup

    def setup(self, X, **kwargs):
        original_setup(self, X, **kwargs)
        module = self.net_.module_

        def spy(net, dataset, **kwargs):
            before = {k: v.detach().clone() for k, v in module.named_parameters()}
            result = original_run(net, dataset, **kwargs)
            runs.append({k for k, v in module.named_parameters()
                         if not torch.equal(v.detach(), before[k])})
            return result

        # Pretraining and the base's fine-tuning both run epochs through it.
        monkeypatch.setattr(_pretraining, "run_epochs", spy)
        monkeypatch.setattr(_base, "run_epochs", spy)

    monkeypatch.setattr(type(ae), "_setup", setup)
    ae.fit(X)
    # encoder: CenterScale 0, Linear 1, ReLU 2, Linear 3, ReLU 4, Linear 5
    # decoder: Linear 0, ReLU 1, Linear 2, ReLU 3, Linear 4
    layer = {name: {f"{name}.weight", f"{name}.bias"} for name in (
        "encoder.1", "encoder.3", "encoder.5", "decoder.0", "decoder.2", "decoder.4")}
    assert runs == [
        layer["encoder.1"] | layer["decoder.4"],
        layer["encoder.3"] | layer["decoder.2"],
        layer["encoder.5"] | layer["decoder.0"],
        set().union(*layer.values()),
    ]


def test_history_shows_each_stage(digits):
    X = digits[0][:400]
    # A constant, small rate, so that the first fine-tuning epoch's mean loss
    # reflects where it started rather than how fast it learns.
    slow = {"learning_rate": "constant", "learning_rate_init": 1e-3}
    ae = AutoencoderTransformer(4, hidden_layer_sizes=(32, 16), pretrain="greedy",
                                max_iter=10, random_state=0, **slow).fit(X)
    assert len(ae.pretrain_loss_curves_) == 3
    for curve in ae.pretrain_loss_curves_:
        assert len(curve) == 10
        assert curve[-1] < curve[0]
    assert ae.n_iter_ == len(ae.loss_curve_) == 10
    # Fine-tuning starts from the stacked layers, which already reconstruct
    # better than a network that was not pretrained.
    plain = AutoencoderTransformer(4, hidden_layer_sizes=(32, 16), max_iter=10,
                                   random_state=0, **slow).fit(X)
    assert ae.loss_curve_[0] < plain.loss_curve_[0]
    assert plain.pretrain_loss_curves_ == []


def test_first_stage_uses_the_estimators_loss_later_ones_squared_error(digits):
    X = digits[0][:300]
    # The encoder reads the pixels as they are, so that its hidden units stay
    # on the pixels' scale.
    ae = AutoencoderTransformer(4, hidden_layer_sizes=(16,), likelihood="bernoulli",
                                pretrain="greedy", max_iter=3, random_state=0,
                                standardize_input=False).fit(X)
    # Bernoulli negative log-likelihood of 64 pixels is far above the squared
    # error of reconstructing 16 hidden units.
    first, second = ae.pretrain_loss_curves_
    assert first[0] > 10 and second[0] < first[0]


def test_linear_decoder_pretrains_hidden_layers_with_temporary_decoders(digits):
    X = digits[0][:300]
    coder = SparseCoder(20, hidden_layer_sizes=(32,), sparsity="topk", pretrain="greedy",
                        max_iter=4, random_state=0).fit(X)
    assert len(coder.pretrain_loss_curves_) == 1
    # The temporary decoder is not part of the fitted network.
    assert [type(m).__name__ for m in coder.net_.module_.decoder] == ["UnitNormLinear"]
    np.testing.assert_array_equal((coder.transform(X) != 0).sum(axis=1), 2)


def test_pretraining_is_reproducible_and_leaves_global_state_alone(digits):
    X = digits[0][:300]
    state = torch.get_rng_state()
    fits = [DenoisingAE(4, hidden_layer_sizes=(16,), noise="masking", noise_level=0.3,
                        pretrain="greedy", max_iter=4, random_state=0).fit(X)
            for _ in range(2)]
    assert torch.equal(torch.get_rng_state(), state)
    assert fits[0].pretrain_loss_curves_ == fits[1].pretrain_loss_curves_
    np.testing.assert_array_equal(fits[0].transform(X), fits[1].transform(X))


def test_partial_fit_does_not_pretrain(digits):
    X = digits[0][:300]
    ae = AutoencoderTransformer(4, hidden_layer_sizes=(16,), pretrain="greedy",
                                random_state=0).partial_fit(X)
    assert ae.pretrain_loss_curves_ == [] and ae.n_iter_ == 1


VARIANTS = [
    SparseCoder(sparsity="topk", positive_code=True, contractive=0.1, pretrain="greedy",
                hidden_layer_sizes=(8,), max_iter=3, random_state=0),
    DenoisingAE(noise="salt_pepper", noise_level=0.2, contractive=0.1, pretrain="greedy",
                hidden_layer_sizes=(8,), max_iter=3, random_state=0),
]


# float64 input is computed in float64, so a row's output does not depend on
# the batch it is computed in: no check is expected to fail.
@parametrize_with_checks(VARIANTS)
def test_penalised_and_pretrained_variants_pass_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def test_sparse_input_pretrains_like_dense(digits):
    import scipy.sparse as sp

    X = digits[0][:300]
    params = dict(hidden_layer_sizes=(16,), pretrain="greedy", max_iter=3, random_state=0)
    dense = AutoencoderTransformer(4, **params).fit(X)
    csr = AutoencoderTransformer(4, **params).fit(sp.csr_matrix(X))
    np.testing.assert_allclose(dense.pretrain_loss_curves_, csr.pretrain_loss_curves_,
                               rtol=1e-5)
    np.testing.assert_allclose(dense.transform(X), csr.transform(X), rtol=1e-5, atol=1e-5)
