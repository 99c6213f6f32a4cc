"""Greedy layer-wise pretraining: one encoder/decoder layer pair at a time."""

import torch
from torch import nn

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


def greedy_pretrain(estimator, dataset):
    """Train ``estimator.net_.module_`` one encoder/decoder layer pair at a time.

    Stage ``i`` trains the ``i``-th encoder layer and its mirror decoder
    layer to reconstruct the codes of stage ``i - 1`` (the data for the first
    stage), computed once with the layers already trained. Each stage runs
    like ``fit``: the estimator's optimiser settings and batch size, up to
    ``max_iter`` epochs, stopping by the same rule on the training loss. The
    first stage uses the estimator's likelihood and input noise, later ones
    the squared error on clean codes. Temporary layers are drawn from the
    estimator's generator. An interrupt propagates: the caller's ``fit``
    then leaves the estimator as it was.

    Returns
    -------
    list of list of float
        Training loss per epoch, one list per stage.
    """
    net, generator = estimator.net_, estimator._rng.generator

    def make_linear(n_in, n_out):
        return build(lambda: nn.Linear(n_in, n_out), generator, device=net.device)

    stages = greedy_stages(net.module_, make_linear)
    curves = []
    for i, stage in enumerate(stages):
        first = i == 0
        likelihood = (net.criterion_.likelihood if first
                      else Gaussian(stage.encoder[0].in_features))
        stage_net = build_net(
            stage, ReconstructionObjective(likelihood),
            solver=estimator.solver, learning_rate=estimator.learning_rate_init,
            weight_decay=estimator.weight_decay, batch_size=net.batch_size,
            shuffle=estimator.shuffle, generator=generator, device=net.device,
            verbose=estimator.verbose,
            input_noise=estimator._input_noise() if first else None,
        )
        run_epochs(stage_net, dataset, max_epochs=estimator.max_iter, generator=generator,
                   stopping=NoImprovementStopping(estimator.tol, estimator.n_iter_no_change),
                   allow_interrupt=False)
        curves.append([float(row["train_loss"]) for row in stage_net.history])
        if i < len(stages) - 1:
            dataset = _encode_all(stage.encoder, dataset)
    net.module_.train()
    return curves
