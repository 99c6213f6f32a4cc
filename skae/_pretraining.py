"""What every deterministic autoencoder adds to the base: the contractive
penalty and greedy layer-wise pretraining."""

from numbers import Real

import torch
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from . import _training
from ._base import BaseAutoencoder
from .nn import ConvAutoencoder, MLPAutoencoder, ReconstructionObjective, build

#: Parameters shared by the deterministic autoencoders.
DETERMINISTIC_CONSTRAINTS = {
    "contractive": [Interval(Real, 0, None, closed="left")],
    "pretrain": [StrOptions({"greedy"}), None],
}


class DeterministicAutoencoder(BaseAutoencoder):
    """Base of the deterministic autoencoders.

    Subclasses accept ``contractive`` (passed to their module, an
    :class:`~skae.nn.MLPAutoencoder`) and ``pretrain``.

    Warning: This class should not be used directly. Use derived classes
    instead.
    """

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        **DETERMINISTIC_CONSTRAINTS,
    }

    def _initialize(self, X):
        super()._initialize(X)
        self.pretrain_loss_curves_ = []

    def _network(self, n_features, **kwargs):
        """The MLP autoencoder, or the convolutional one when ``image_shape`` is set."""
        sizes = self._check_hidden_layer_sizes()
        if getattr(self, "image_shape", None) is None:
            return MLPAutoencoder(n_features, self.n_components, sizes, self.activation,
                                  **kwargs)
        shape = self._check_image_shape(n_features)
        if self.pretrain == "greedy":
            raise ValueError(
                "pretrain='greedy' stacks fully connected layers and does not apply to "
                "the convolutional network of image_shape; use pretrain=None."
            )
        return ConvAutoencoder(shape, self.n_components, sizes, self.activation, **kwargs)

    def _pretrain(self, dataset):
        if self.pretrain != "greedy":
            return
        self.pretrain_loss_curves_ = greedy_pretrain(self.net_, dataset, self)


def _stage_net(estimator, net, module, objective):
    return _training.build_net(
        module,
        objective,
        solver=estimator.solver,
        learning_rate=estimator.learning_rate_init,
        weight_decay=estimator.weight_decay,
        batch_size=net.batch_size,
        shuffle=estimator.shuffle,
        rng=net.iterator_train__rng,
        device=net.device,
        verbose=estimator.verbose,
        tol=estimator.tol,
        patience=estimator.n_iter_no_change,
        early_stopping=False,
    )


def _encode_all(encoder, dataset, batch_size=4096):
    encoder.eval()
    # no_grad rather than inference_mode: the codes are the next stage's
    # training input, which inference tensors may not become.
    with torch.no_grad():
        parts = [
            encoder(dataset.rows(start, start + batch_size))
            for start in range(0, len(dataset), batch_size)
        ]
    return _training.ArrayDataset._from_parts(torch.cat(parts), None, dataset.device)


def greedy_pretrain(net, dataset, estimator):
    """Train ``net.module_`` one encoder/decoder layer pair at a time.

    Stage ``i`` trains the ``i``-th encoder layer and its mirror decoder
    layer to reconstruct the codes of stage ``i - 1`` (the data for the first
    stage), computed once with the layers already trained. Each stage runs
    like ``fit``: the estimator's optimiser settings and batch size, up to
    ``max_iter`` epochs, stopping when the training loss stops improving by
    ``tol`` for ``n_iter_no_change`` epochs. The first stage uses the
    estimator's loss, later ones the squared error. Temporary layers are
    drawn from the estimator's generator.

    Returns
    -------
    list of list of float
        Training loss per epoch, one list per stage.
    """
    module = net.module_
    rng = net.iterator_train__rng

    def make_linear(n_in, n_out):
        return build(lambda: nn.Linear(n_in, n_out), rng.generator, device=net.device)

    stages = module.greedy_stages(make_linear)
    n_stages = len(stages)
    curves = []
    for i, stage in enumerate(stages):
        objective = net.criterion_ if i == 0 else ReconstructionObjective("squared_error")
        stage_net = _stage_net(estimator, net, stage, objective)
        _training.train(stage_net, dataset, epochs=estimator.max_iter)
        curves.append([float(row["train_loss"]) for row in stage_net.history])
        if i < n_stages - 1:
            dataset = _encode_all(stage.encoder, dataset)
    module.train()
    return curves
