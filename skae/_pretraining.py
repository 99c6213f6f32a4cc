"""Greedy layer-wise pretraining: one encoder/decoder layer pair at a time."""

import torch
from torch import nn

from ._callbacks import end_task, pretraining_stages, stage_epochs
from ._data import ArrayDataset
from ._fitting import run_epochs
from ._net import build_net
from ._stopping import NoImprovementStopping
from .nn import Gaussian, ReconstructionObjective, build, greedy_stages


def _encode_all(encoder, dataset, batch_size=4096):
    encoder.eval()
    # no_grad rather than inference_mode: the codes are the next stage's
    # training input, which inference tensors may not become.
    with torch.no_grad():
        parts = [encoder(dataset.rows(start, start + batch_size))
                 for start in range(0, len(dataset), batch_size)]
    return ArrayDataset.from_tensor(torch.cat(parts))


def _train_stage(estimator, stage, likelihood, dataset, *, input_noise, pretraining=None):
    """Train the autoencoder ``stage`` to reconstruct ``dataset`` like ``fit`` would."""
    net = estimator.net_
    stage_net = build_net(
        stage, ReconstructionObjective(likelihood),
        solver=estimator.solver, learning_rate=estimator.learning_rate_init,
        weight_decay=estimator.weight_decay, batch_size=net.batch_size,
        shuffle=estimator.shuffle, generator=estimator._rng.generator, device=net.device,
        verbose=estimator.verbose, input_noise=input_noise,
        mixed_precision=estimator.mixed_precision,
        rates_by_fan_in=estimator._rates_by_fan_in,
    )
    run_epochs(stage_net, dataset, max_epochs=estimator.max_iter,
               generator=estimator._rng.generator,
               stopping=NoImprovementStopping(estimator.tol, estimator.n_iter_no_change),
               allow_interrupt=False, tasks=stage_epochs(estimator, pretraining))
    return [float(row["train_loss"]) for row in stage_net.history]


def joint_pretrain(estimator, dataset, autoencoder, likelihood):
    """Train ``autoencoder`` whole on ``dataset``, like ``fit`` trains an autoencoder.

    Uses the estimator's optimiser settings, batch size, input noise and
    stopping rule, up to ``max_iter`` epochs. An interrupt propagates.

    Returns
    -------
    list of list of float
        The training loss per epoch, as the one stage.
    """
    pretraining = pretraining_stages(estimator, 1)
    curve = _train_stage(estimator, autoencoder, likelihood, dataset,
                         input_noise=estimator._pretraining_noise(), pretraining=pretraining)
    end_task(estimator, pretraining)
    autoencoder.train()
    return [curve]


def greedy_pretrain(estimator, dataset, autoencoder=None, likelihood=None):
    """Train an autoencoder one encoder/decoder layer pair at a time.

    Stage ``i`` trains the ``i``-th encoder layer and its mirror decoder
    layer to reconstruct the codes of stage ``i - 1`` (the data for the first
    stage), computed once with the layers already trained. Each stage runs
    like ``fit``: the estimator's optimiser settings and batch size, up to
    ``max_iter`` epochs, stopping by the same rule on the training loss. The
    first stage uses the likelihood and the estimator's input noise, later
    ones the squared error on clean codes. Temporary layers are drawn from
    the estimator's generator. An interrupt propagates: the caller's ``fit``
    then leaves the estimator as it was.

    Parameters
    ----------
    estimator : estimator
        Gives the training settings, the generator and the device.
    dataset : ArrayDataset
    autoencoder : Autoencoder or None, default=None
        The network to pretrain; None means ``estimator.net_.module_``.
    likelihood : Likelihood or None, default=None
        Of the first stage; None means the estimator's net's.

    Returns
    -------
    list of list of float
        Training loss per epoch, one list per stage.
    """
    net, generator = estimator.net_, estimator._rng.generator
    autoencoder = net.module_ if autoencoder is None else autoencoder
    likelihood = net.criterion_.likelihood if likelihood is None else likelihood

    def make_linear(n_in, n_out):
        return build(lambda: nn.Linear(n_in, n_out), generator, device=net.device)

    stages = greedy_stages(autoencoder, make_linear)
    pretraining = pretraining_stages(estimator, len(stages))
    curves = []
    for i, stage in enumerate(stages):
        first = i == 0
        curves.append(_train_stage(
            estimator, stage,
            likelihood if first else Gaussian(stage.encoder[0].in_features), dataset,
            input_noise=estimator._pretraining_noise() if first else None,
            pretraining=pretraining,
        ))
        if i < len(stages) - 1:
            dataset = _encode_all(stage.encoder, dataset)
    end_task(estimator, pretraining)
    autoencoder.train()
    return curves
