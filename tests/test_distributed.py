"""Training one model on several processes together (``n_processes``, torchrun).

Starting processes costs seconds (each imports torch), so the processes of a
torch.distributed group are started once for the module and train every
model of :data:`GROUP_MODELS` as ranks of it, as under torchrun; a few tests
start processes through ``n_processes`` itself.
"""

import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from torch import distributed as dist
from torch import multiprocessing

from skae import (
    AutoencoderTransformer,
    ChunkedData,
    DenoisingAE,
    TrainingDivergedError,
    VAETransformer,
)

pytestmark = [
    pytest.mark.skipif(not dist.is_available(), reason="needs torch.distributed"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]

# 300 rows in batches of 45: six whole batches and a short one of 30, and
# shares of 22 and 23 rows, so that unequal shares are weighted right.
X = load_digits().data[:300] / 16
SMALL = dict(n_components=4, hidden_layer_sizes=(16,), batch_size=45, random_state=0)

GROUP_MODELS = {
    "autoencoder": lambda: AutoencoderTransformer(max_iter=4, **SMALL),
    # A tolerance this large makes the adaptive schedule lower the rate and
    # the stopping rule end training within a few dozen epochs.
    "adaptive": lambda: AutoencoderTransformer(max_iter=60, tol=0.05, n_iter_no_change=2,
                                               **SMALL),
    "early_stopping": lambda: AutoencoderTransformer(max_iter=4, early_stopping=True,
                                                     validation_fraction=0.2, **SMALL),
    "contractive": lambda: AutoencoderTransformer(max_iter=3, contractive=0.1, **SMALL),
    "denoising": lambda: DenoisingAE(noise="masking", noise_level=0.3, max_iter=3, **SMALL),
    "vae": lambda: VAETransformer(max_iter=3, **SMALL),
    "unseeded": lambda: AutoencoderTransformer(max_iter=2, **{**SMALL, "random_state": None}),
}
#: Fitted on three chunks of X: every process reads every chunk.
CHUNKED = dict(max_iter=3, principal_codes=False, **SMALL)


def summary(model):
    """What two fits must agree on: weights, losses, epochs, learning rates."""
    return {
        "weights": {k: v.numpy().copy() for k, v in model.net_.module_.state_dict().items()},
        "loss_curve": model.loss_curve_,
        "n_iter": model.n_iter_,
        "learning_rates": [row.get("learning_rate") for row in model.net_.history],
        "validation_scores": model.validation_scores_,
    }


def _failures():
    """Fit, then fail a second fit; whether the first fit's model is left as it was."""
    outcomes = {}
    model = AutoencoderTransformer(max_iter=2, **SMALL).fit(X)
    before = summary(model)
    try:
        model.set_params(solver="sgd", learning_rate_init=1e6).fit(X * 100)
    except TrainingDivergedError as error:
        outcomes["diverged"] = (str(error), _same(summary(model), before))
    from skae._net import TrainingNet

    original, calls = TrainingNet.train_step, {"n": 0}

    def train_step(self, batch, **kwargs):
        calls["n"] += 1
        if calls["n"] == 9:  # in the second epoch, in every process
            raise KeyboardInterrupt
        return original(self, batch, **kwargs)

    TrainingNet.train_step = train_step
    try:
        model.set_params(solver="adam", learning_rate_init=1e-2).fit(X)
    except KeyboardInterrupt:
        outcomes["interrupted"] = _same(summary(model), before)
    finally:
        TrainingNet.train_step = original
    return outcomes


def _same(a, b):
    return (a["n_iter"] == b["n_iter"] and a["loss_curve"] == b["loss_curve"]
            and all(np.array_equal(a["weights"][k], b["weights"][k]) for k in a["weights"]))


class StopAfterSecondEpoch:
    """A callback of scikit-learn's (sklearn.callback) that stops training after 2 epochs."""

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        return context.task_name == "epoch" and context.task_id == 1


def _train_in_group(rank, world, folder):
    """One rank of a gloo group, as torchrun would start it: fit every model."""
    torch.set_num_threads(1)
    folder = Path(folder)
    dist.init_process_group("gloo", init_method=(folder / "group").as_uri(), rank=rank,
                            world_size=world)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            results = {name: summary(make().fit(X)) for name, make in GROUP_MODELS.items()}
            model = AutoencoderTransformer(**SMALL)
            for _ in range(2):
                model.partial_fit(X)
            results["partial_fit"] = summary(model)
            results["chunked"] = summary(
                AutoencoderTransformer(**CHUNKED).fit(ChunkedData(X, chunk_rows=100)))
            results["failures"] = _failures()
            alone = AutoencoderTransformer(max_iter=2, n_processes=1, **SMALL).fit(X[rank::2])
            results["alone"] = summary(alone)
            if hasattr(AutoencoderTransformer, "set_callbacks"):
                model = AutoencoderTransformer(max_iter=4, **SMALL)
                if rank == 0:
                    model.set_callbacks(StopAfterSecondEpoch())
                results["stopped"] = summary(model.fit(X))
    finally:
        dist.destroy_process_group()
    with open(folder / f"rank-{rank}.pkl", "wb") as file:
        pickle.dump(results, file)


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    """What each of two ranks of a torch.distributed group fitted."""
    folder = tmp_path_factory.mktemp("group")
    multiprocessing.start_processes(_train_in_group, args=(2, str(folder)), nprocs=2,
                                    start_method="spawn")
    results = []
    for rank in range(2):
        with open(folder / f"rank-{rank}.pkl", "rb") as file:
            results.append(pickle.load(file))
    return results


def fit_alone(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return summary(GROUP_MODELS[name]().fit(X))


def assert_close(together, alone):
    assert together["n_iter"] == alone["n_iter"]
    assert together["learning_rates"] == alone["learning_rates"]
    np.testing.assert_allclose(together["loss_curve"], alone["loss_curve"], rtol=1e-5)
    if alone["validation_scores"] is not None:
        np.testing.assert_allclose(together["validation_scores"], alone["validation_scores"],
                                   rtol=1e-5)
    for key, value in alone["weights"].items():
        np.testing.assert_allclose(together["weights"][key], value, rtol=1e-4, atol=1e-5,
                                   err_msg=key)


@pytest.mark.parametrize("name", ["autoencoder", "adaptive", "early_stopping",
                                  "contractive", "denoising", "partial_fit", "chunked"])
def test_ranks_train_the_model_one_process_trains(ranks, name):
    if name == "chunked":
        alone = summary(AutoencoderTransformer(**CHUNKED).fit(ChunkedData(X, chunk_rows=100)))
    elif name == "partial_fit":
        model = AutoencoderTransformer(**SMALL)
        for _ in range(2):
            model.partial_fit(X)
        alone = summary(model)
    else:
        alone = fit_alone(name)
    for rank in ranks:
        assert_close(rank[name], alone)


@pytest.mark.parametrize("name", [*GROUP_MODELS, "partial_fit", "chunked"])
def test_ranks_end_with_identical_models(ranks, name):
    first, second = (rank[name] for rank in ranks)
    assert first["loss_curve"] == second["loss_curve"]
    assert first["learning_rates"] == second["learning_rates"]
    for key, value in first["weights"].items():
        np.testing.assert_array_equal(second["weights"][key], value, err_msg=key)


def test_a_callback_of_one_rank_stops_every_rank(ranks):
    if "stopped" not in ranks[0]:
        pytest.skip("needs sklearn.callback (scikit-learn >= 1.9)")
    assert ranks[0]["stopped"]["n_iter"] == ranks[1]["stopped"]["n_iter"] == 2
    assert _same(ranks[0]["stopped"], ranks[1]["stopped"])


def test_adaptive_schedule_and_stopping_rule_end_training_together(ranks):
    together = ranks[0]["adaptive"]
    assert together["n_iter"] < 60  # the stopping rule ended it
    assert len(set(together["learning_rates"])) > 1  # the schedule lowered the rate


def test_vae_trains_on_shares_of_each_batch(ranks):
    # Each process draws the codes of its own share: the bound is estimated
    # with other draws than one process's, so it is close, not equal.
    together, alone = ranks[0]["vae"], fit_alone("vae")
    assert together["n_iter"] == alone["n_iter"]
    assert np.all(np.isfinite(together["loss_curve"]))
    np.testing.assert_allclose(together["loss_curve"], alone["loss_curve"], rtol=0.05)


def test_n_processes_1_trains_alone_in_a_group(ranks):
    # Each rank fitted other rows: a fit with n_processes=1 exchanges nothing.
    first, second = (rank["alone"] for rank in ranks)
    assert first["loss_curve"] != second["loss_curve"]


def test_failures_leave_every_rank_as_before(ranks):
    for rank in ranks:
        message, unchanged = rank["failures"]["diverged"]
        assert "Training diverged" in message and unchanged
        assert rank["failures"]["interrupted"]


# ------------------------------------------------------- n_processes=2


def test_n_processes_trains_the_model_one_process_trains():
    params = dict(max_iter=3, **SMALL)
    alone = AutoencoderTransformer(**params).fit(X)
    model = AutoencoderTransformer(n_processes=2, **params)
    with pytest.warns(ConvergenceWarning, match="max_iter=3") as caught:
        model.fit(X)
    # Reissued where fit was called, as in one process.
    assert caught[0].filename == __file__
    assert_close(summary(model), summary(alone))
    assert not dist.is_initialized()
    # An ordinary fitted estimator: it pickles, clones and trains further.
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(loaded.transform(X), model.transform(X))
    assert clone(model).get_params() == model.get_params()
    loaded.set_params(n_processes=None).partial_fit(X)
    assert loaded.n_iter_ == 4


def test_a_failure_in_the_processes_leaves_the_estimator_as_before():
    model = AutoencoderTransformer(max_iter=2, **SMALL).fit(X)
    before = summary(model)
    model.set_params(n_processes=2, solver="sgd", learning_rate_init=1e6)
    with pytest.raises(TrainingDivergedError, match="Training diverged") as raised:
        model.fit(X * 100)
    assert "training process" in str(raised.value.__notes__)
    assert _same(summary(model), before)
    assert model.get_params()["n_processes"] == 2  # parameters are never touched


@pytest.mark.parametrize("fit, match", [
    (lambda m: m.fit(ChunkedData(X)), "ChunkedData"),
    (lambda m: m.partial_fit(X), "partial_fit trains one epoch"),
    (lambda m: m.set_params(pretrain="greedy").fit(X), "pretrain='greedy'"),
    (lambda m: m.set_params(likelihood="bernoulli").fit(X * 2), "bernoulli"),
])
def test_what_cannot_train_together_is_refused_before_processes_start(fit, match):
    model = AutoencoderTransformer(n_processes=2, **SMALL)
    with pytest.raises(ValueError, match=match):
        fit(model)
    assert not hasattr(model, "net_")
