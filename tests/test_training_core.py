"""The training core: batches with targets, MLP's stopping rule, runs that fail cleanly."""

import inspect

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

from skae._data import ArrayDataset
from skae._fitting import run_epochs
from skae._net import build_net
from skae._stopping import NoImprovementStopping
from skae.nn import Gaussian, ReconstructionObjective, build, make_mlp


class _Regressor(torch.nn.Module):
    """A module whose output is compared with a target other than its input."""

    def __init__(self):
        super().__init__()
        self.net = make_mlp([3, 16, 2], "tanh")

    def forward(self, x, generator=None):
        return {"recon": self.net(x)}


def _net(module, generator, **kwargs):
    return build_net(module, ReconstructionObjective(Gaussian(2)), solver="adam",
                     learning_rate=1e-2, weight_decay=0.0, batch_size=32, shuffle=True,
                     generator=generator, device="cpu", verbose=0, **kwargs)


def test_the_core_trains_a_model_whose_target_is_not_its_input():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3)).astype(np.float32)
    Y = np.stack([np.sin(X[:, 0]), X[:, 1] * X[:, 2]], axis=1).astype(np.float32)
    generator = torch.Generator().manual_seed(0)
    net = _net(build(_Regressor, generator), generator)
    outcome = run_epochs(net, ArrayDataset(X, targets=Y), max_epochs=60, generator=generator)
    assert outcome.epochs == 60
    with torch.no_grad():
        pred = net.module_(torch.from_numpy(X))["recon"].numpy()
    # Far better than predicting the mean of Y: the loss compared with Y, not X.
    assert np.mean((pred - Y) ** 2) < 0.2 * np.mean((Y - Y.mean(0)) ** 2)


def test_batches_carry_the_input_as_target_by_default():
    X = np.arange(12, dtype=np.float32).reshape(6, 2)
    net = _net(build(_Regressor, torch.Generator()), torch.Generator())
    for x, target in net.get_iterator(ArrayDataset(X), training=True):
        assert torch.equal(x, target)


# With tol=0 the relative tolerance and MLPRegressor's absolute one agree.
@pytest.mark.parametrize("losses, tol, patience", [
    ([5.0, 4.0, 4.5, 4.2, 4.1, 3.0, 3.5, 3.4, 3.3, 3.2, 3.1], 0.0, 3),
    ([3.0] * 8, 0.0, 1),
    ([9.0, 8.0, 7.0, 6.0, 5.0], 0.0, 1),
    ([2.0, 2.0, 1.0, 1.5, 1.5, 1.5], 0.0, 2),
])
def test_stopping_rule_is_mlpregressors_to_the_epoch(losses, tol, patience):
    # MLPRegressor's own bookkeeping, fed the scripted losses, as its
    # training loop runs it after every epoch.
    mlp = MLPRegressor(tol=tol, n_iter_no_change=patience, early_stopping=False)
    mlp.loss_curve_, mlp.best_loss_, mlp._no_improvement_count = [], np.inf, 0
    update = mlp._update_no_improvement_count
    # (early_stopping, X, y[, sample_weight]): the data go unused without
    # early stopping, and the arity varies across scikit-learn versions.
    unused = [None] * (len(inspect.signature(update).parameters) - 1)
    mlp_epochs = len(losses)
    for epoch, loss in enumerate(losses, start=1):
        mlp.loss_curve_.append(loss)
        update(False, *unused)
        if mlp._no_improvement_count > mlp.n_iter_no_change:
            mlp_epochs = epoch
            break
    rule = NoImprovementStopping(tol, patience)
    ours = len(losses)
    for epoch, loss in enumerate(losses, start=1):
        rule.update(loss)
        if rule.should_stop:
            ours = epoch
            break
    assert ours == mlp_epochs
    assert rule.best_ == mlp.best_loss_


def _stopping_epoch(losses, tol, patience):
    rule = NoImprovementStopping(tol, patience)
    for epoch, loss in enumerate(losses, start=1):
        rule.update(loss)
        if rule.should_stop:
            return epoch
    return None


@pytest.mark.parametrize("scale", [1e-3, 1.0, 64.0, 1e4])
def test_the_tolerance_is_relative_to_the_first_loss(scale):
    # The loss falls by 1% of the first loss an epoch, then by 0.01%: with
    # tol=1e-3 the second phase counts as no improvement, whatever the
    # loss's scale (an absolute tolerance would stop a small loss at once
    # and never stop a large one).
    losses = [scale * (1 - 0.01 * e) for e in range(5)]
    losses += [losses[-1] - scale * 1e-4 * e for e in range(1, 8)]
    assert _stopping_epoch(losses, tol=1e-3, patience=3) == 9


def test_a_loss_heading_for_zero_stops():
    # Halving every epoch: relative to the best loss each epoch is a large
    # improvement, relative to the first it soon is none.
    assert _stopping_epoch([0.5 ** e for e in range(40)], tol=1e-4, patience=3) == 18


def test_the_rule_waits_out_a_warm_up_and_starts_afresh_after_it():
    from skae._stopping import NoImprovementStopping

    # A KL weight rising over 5 epochs makes the loss rise with it: compared
    # with the warm-up's first epoch, nothing after it would improve.
    losses = [100.0, 110.0, 120.0, 130.0, 140.0] + [150.0 - e for e in range(6)] + [145.0] * 6
    rule = NoImprovementStopping(tol=1e-3, n_iter_no_change=2, warmup=5)
    stopped = None
    for epoch, loss in enumerate(losses, start=1):
        rule.update(loss)
        if rule.should_stop:
            stopped = epoch
            break
    # Improvements run to epoch 11 (loss 145); epochs 12-14 bring none.
    assert stopped == 14
    assert _stopping_epoch(losses, tol=1e-3, patience=2) == 4


def test_a_vae_trains_through_its_kl_warm_up():
    from skae import VAETransformer

    X = np.random.default_rng(0).random((200, 8))
    vae = VAETransformer(2, hidden_layer_sizes=(8,), kl_warmup=30, n_iter_no_change=2,
                         max_iter=60, random_state=0).fit(X)
    assert vae.n_iter_ > 30


def test_a_negative_loss_is_measured_by_its_magnitude():
    # A variational bound's loss can be negative: -100 to -100.05 is 0.05%.
    assert _stopping_epoch([-100.0, -100.05, -100.1, -100.15], tol=1e-3, patience=1) == 3
    assert _stopping_epoch([-100.0, -101.0, -102.0, -103.0], tol=1e-3, patience=1) is None


def test_verbose_table_has_no_colour_codes(capsys):
    from skae import AutoencoderTransformer

    X = np.random.default_rng(0).random((100, 5))
    AutoencoderTransformer(2, max_iter=3, verbose=1, early_stopping=True,
                           random_state=0).fit(X)
    printed = capsys.readouterr().out
    assert "train_loss" in printed and "valid_loss" in printed
    # Logs written to files must not carry terminal escape sequences.
    assert "\x1b" not in printed


def test_verbose_table_keeps_its_columns_when_partial_fit_resumes(capsys):
    from skae import AutoencoderTransformer

    X = np.random.default_rng(0).random((100, 5))
    model = AutoencoderTransformer(2, max_iter=2, verbose=1, early_stopping=True,
                                   random_state=0)
    with pytest.warns(ConvergenceWarning):
        model.fit(X)
    # partial_fit holds no data out: its rows have no valid_loss.
    model.partial_fit(X)
    header, rule, *rows = capsys.readouterr().out.splitlines()
    assert "valid_loss" in header and len(rows) == 3
    # Every value ends where its column's header and rule end.
    assert all(len(row) == len(rule) == len(header) for row in rows)
    ends = [i for i, c in enumerate(rule) if c == "-" and rule[i + 1:i + 2] in ("", " ")]
    assert all(row[end] != " " for row in rows[:2] for end in ends)
    assert [rows[2][end] != " " for end in ends] == [True, True, True, False, True]
