"""DenoisingAE: an autoencoder trained to undo input corruption."""

from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import Interval, StrOptions

from . import _parameters as params
from ._chunks import ChunkedRows
from ._deterministic import DeterministicAutoencoder
from .nn import Corruption
from .nn.noise import NOISE_KINDS


class DenoisingAE(DeterministicAutoencoder):
    """Denoising autoencoder as a scikit-learn transformer.

    Trained like :class:`AutoencoderTransformer`, except that the encoder
    sees a corrupted copy of each training batch while the loss compares
    the reconstruction with the clean batch, so the network learns to undo
    the corruption. Fresh noise is drawn for every batch, from the
    estimator's own generator (seeded by ``random_state``). ``transform``
    and ``inverse_transform`` never corrupt: ``inverse_transform(transform(X))``
    is the denoised X.

    Parameters
    ----------
    n_components : int or None, default=None
        Size of the code (the bottleneck). None gives ``min(16, n_features //
        2)`` codes (at least one): narrower than the data, so that the code
        must summarise it, whatever the width (see ``n_components_``).
    noise : {"gaussian", "masking", "salt_pepper"} or "auto", default="auto"
        Corruption applied while training:

        - ``"gaussian"``: adds ``N(0, noise_level^2)`` to every value;
        - ``"masking"``: sets each value to 0 with probability
          ``noise_level``;
        - ``"salt_pepper"``: with probability ``noise_level`` sets a value
          to its feature's training minimum or maximum (each with
          probability one half).

        ``"auto"`` is ``"masking"`` with ``likelihood="multinomial"`` or
        ``"poisson"`` (Mult-DAE), else ``"gaussian"``.
    noise_level : float or "auto", default="auto"
        Standard deviation in data units for ``"gaussian"`` (>= 0); the
        fraction of corrupted values for ``"masking"`` (in [0, 1)) and
        ``"salt_pepper"`` (in [0, 1]). ``"auto"`` is 0.5 with
        ``likelihood="multinomial"`` or ``"poisson"``, else 0.1.
    hidden_layer_sizes : array-like of int or "auto", default="auto"
        Widths of the encoder's hidden layers; the decoder mirrors them.
        ``"auto"`` is ``()`` (one affine map each way, which ranks best on
        clicks) with ``likelihood="multinomial"`` or ``"poisson"`` and no
        ``image_shape``, else ``(256,)`` (see ``hidden_layer_sizes_``).
        With ``image_shape``, the number of feature maps of each
        convolutional layer.
    image_shape : tuple of int or None, default=None
        ``(height, width)`` or ``(channels, height, width)``: treat each row
        as an image flattened in that order and use a convolutional network
        (:class:`skae.nn.ConvAutoencoder`): 3x3 convolutions of stride 2,
        one per entry of ``hidden_layer_sizes``, then a linear map to the
        code, and a mirrored decoder of transposed convolutions. None uses
        fully connected layers.
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation of the hidden layers. The code and the output are linear.
    likelihood : {"gaussian", "bernoulli", "multinomial", "poisson"} or Likelihood \
subclass, default="gaussian"
        The distribution of the clean data given the decoder output, which
        sets the training loss (see :class:`AutoencoderTransformer`).
    loss : {"squared_error", "binary_crossentropy"}
        Deprecated spelling of ``likelihood``; it will be removed in 0.4.
    input_norm : {"l1", "l2"}, None or "auto", default="auto"
        Scale each row, once corrupted, to unit norm before the encoder
        (see :class:`AutoencoderTransformer`). With ``noise="masking"`` and
        ``likelihood="multinomial"`` this is Mult-DAE (Liang et al., 2018),
        whose dropout of the input is the masking noise. ``"auto"`` is
        ``"l2"`` with ``likelihood="multinomial"`` or ``"poisson"`` (None
        with ``pretrain="greedy"``), else None.
    standardize_input : bool, default=True
        Centre what the encoder reads on the training data's mean and divide
        it by one overall scale, the root mean square of the centred data
        (:class:`skae.nn.CenterScale`), in training and ``transform``
        alike; the loss still compares the reconstruction with the raw row.
        On wide non-negative data (pixels) it keeps the first steps from
        switching off every ReLU unit at once, which leaves constant codes.
        Not applied with ``input_norm``, whose rows have a scale of their
        own. False feeds the encoder the rows as they are.
    solver : {"adam", "adamw", "sgd"}, default="adam"
        Optimiser (``"sgd"`` uses momentum 0.9).
    learning_rate_init : float, default=1e-2
        Step size of the optimiser at the first epoch.
    learning_rate : {"constant", "step", "exponential", "cosine", "adaptive"}, \
default="adaptive"
        How the step size changes from epoch to epoch, starting at
        ``learning_rate_init``, whatever the solver. ``"constant"`` keeps it.
        ``"step"`` multiplies it by ``learning_rate_decay`` every
        ``decay_epochs`` epochs; ``"exponential"`` by the same factor over
        the same epochs, a little every epoch. ``"cosine"`` lowers it
        towards 0 along a half cosine over ``max_iter`` epochs (Loshchilov
        & Hutter, 2017); ``partial_fit`` beyond them starts a new cycle.
        ``"adaptive"``, as in MLPRegressor, multiplies it by
        ``learning_rate_decay`` each time two epochs in a row fail to lower
        the loss by ``tol`` (the validation loss with ``early_stopping``),
        down to a thousandth of ``learning_rate_init``; training stops only
        once the rate is there.
        Each ``partial_fit`` call is one epoch of the schedule, which a
        pickled model continues.
    learning_rate_decay : float, default=0.2
        Factor by which ``"step"``, ``"exponential"`` and ``"adaptive"``
        lower the learning rate; in (0, 1).
    decay_epochs : int, default=50
        Epochs over which ``"step"`` and ``"exponential"`` lower the learning
        rate by ``learning_rate_decay``.
    weight_decay : float, default=0.0
        L2 penalty on the weights, applied by the optimiser.
    contractive : float, default=0.0
        Weight of the contractive penalty, the batch mean of
        ``||d code / d x||_F^2`` at the corrupted input, computed exactly.
    pretrain : {"greedy"} or None, default=None
        ``"greedy"`` trains one layer pair at a time before the whole
        network, as in :class:`AutoencoderTransformer`. The first stage, on
        the data, is trained on corrupted input; later stages on clean codes.
    principal_codes : bool, default=True
        After training, express the codes the way PCA does: centred on the
        training data's mean code, in the data's units (a unit step along any
        code moves ``inverse_transform``'s output by a unit distance, on
        average over the training data), uncorrelated, and ordered by
        decreasing variance, so that the first codes carry most of the
        variation. This re-expresses the same model: reconstructions and
        scores are unchanged, and a linear autoencoder's codes are PCA's
        scores of its reconstruction. False returns the network's own code
        layer, whose basis and scale training leaves arbitrary.
    batch_size : int or "auto", default="auto"
        Mini-batch size; ``"auto"`` means ``min(200, ceil(n_samples / 8))``,
        so that an epoch, which the stopping rule and the schedule count, is
        at least 8 steps even on a small table.
    max_iter : int, default=200
        Maximum number of epochs.
    shuffle : bool, default=True
        Reshuffle the samples every epoch.
    tol : float, default=1e-4
        An epoch improves on the best loss only if it lowers it by more than
        ``tol`` times the first epoch's loss (a tolerance relative to the
        loss's scale, which means the same on any scale of the data).
    early_stopping : bool, default=False
        Stop when the loss on a held-out ``validation_fraction`` stops
        improving; the validation data are not corrupted.
    validation_fraction : float, default=0.1
        Share of the training data held out when ``early_stopping=True``.
    n_iter_no_change : int, default=10
        Training ends once more than this many epochs in a row fail to improve
        the loss by ``tol``, as in MLPRegressor.
    device : {"cpu", "cuda", "cuda:N", "auto"}, default="cpu"
        Where the network runs.
    mixed_precision : bool, default=False
        Run the forward pass of training under bfloat16 autocast
        (:class:`torch.autocast`), for throughput and memory on GPUs with
        bfloat16 units; the loss, the gradients, the weights and the
        optimiser's state stay float32. The validation loss, ``transform``
        and the scores are computed in float32 (float64 for float64 input).
        On a CPU without bfloat16 units it is usually slower. See
        :ref:`mixed-precision`.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling and the corruption noise, without
        touching global random state.
    verbose : int, default=0
        0 is silent, 1 prints a table with one row per epoch, 2 adds each
        epoch's progress: a bar on a terminal, elsewhere (a log file, a
        notebook) a line every 30 seconds of a long epoch. With
        scikit-learn 1.9 or later, ``set_callbacks`` takes
        :mod:`sklearn.callback`'s callbacks, which see each epoch and may
        stop training after it (see :ref:`callbacks`).
    n_processes : int or None, default=None
        Processes that train the model together, each on its share of every
        batch of ``batch_size`` rows, their gradients averaged before every
        step, so that they train the model one process trains (to float
        rounding; a VAE's codes are drawn by each process for its own share,
        so its fit is an equally good one, not the same). An int above 1
        starts that many processes on this machine (one per GPU with
        ``device="cuda"``) and hands them the data once, in shared memory.
        None trains in the calling process, or, when it is one of an
        initialised :mod:`torch.distributed` process group (started by
        ``torchrun``), as one of the group's processes; 1 always trains
        alone. Unlike ``n_jobs``, which runs independent jobs, this splits
        one job (see the user guide, "Training on several processes").

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained network; ``net_.module_`` is the torch module.
    n_iter_ : int
        Number of epochs trained.
    loss_curve_ : list of float
        Mean training loss per sample after each epoch, measured on
        corrupted input.
    pretrain_loss_curves_ : list of list of float
        Loss per epoch of each greedy pretraining stage; empty without.
    best_loss_ : float or None
        Lowest training loss; None with early stopping.
    validation_scores_ : list of float or None
        Negated validation loss after each epoch when ``early_stopping``.
    best_validation_score_ : float or None
        Best of ``validation_scores_``.
    n_components_ : int
        Width of the code: ``n_components``, or what None gave for this data.
    hidden_layer_sizes_, input_norm_, noise_, noise_level_ : object
        The values the network was built with: the parameter's own, or
        what ``"auto"`` stood for (see the user guide, "Count data bring
        their own defaults").
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when X has string
        feature names.

    See Also
    --------
    AutoencoderTransformer : The same network trained on clean input.
    sklearn.decomposition.KernelPCA : Denoises through ``inverse_transform``.

    Notes
    -----
    ``score_samples`` returns minus the per-sample reconstruction loss of
    clean input (summed over features).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skae import DenoisingAE
    >>> X, _ = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> dae = DenoisingAE(n_components=16, noise="masking", noise_level=0.3,
    ...                   max_iter=5, random_state=0).fit(X)
    >>> X_noisy = X + np.random.default_rng(0).normal(scale=0.2, size=X.shape)
    >>> denoised = dae.inverse_transform(dae.transform(X_noisy))
    >>> denoised.shape
    (1797, 64)
    """

    _parameters = (
        params.n_components(None),
        params.Param("noise", "auto", [StrOptions(set(NOISE_KINDS) | {"auto"})],
                     legacy="gaussian"),
        params.Param("noise_level", "auto", [Interval(Real, 0, None, closed="left"),
                                             StrOptions({"auto"})], legacy=0.1),
        *params.AUTOENCODER_NETWORK,
        *params.DETERMINISTIC,
        params.INPUT_NORM,
        params.STANDARDIZE_INPUT,
        params.PRINCIPAL_CODES,
        *params.AUTOENCODER_TRAINING,
        params.N_PROCESSES,
    )

    def _check_params(self, n_features):
        super()._check_params(n_features)
        level = self.noise_level_
        if self.noise_ == "masking" and not level < 1:
            raise ValueError(
                f"noise='masking' needs noise_level in [0, 1), got {level}: it is "
                "the fraction of values set to 0, and masking every value leaves "
                "nothing to reconstruct from."
            )
        if self.noise_ == "salt_pepper" and not level <= 1:
            raise ValueError(
                f"noise='salt_pepper' needs noise_level in [0, 1], got {level}: it "
                "is the fraction of values replaced."
            )

    def _setup(self, X, seed=None):
        # Salt-and-pepper noise writes each feature's training extremes.
        if isinstance(X, ChunkedRows):
            self.__dict__.pop("_noise_range", None)
            if self.noise_ == "salt_pepper":
                # One more pass over the data; the other noises never read them.
                self._noise_range = tuple(np.asarray(v, dtype=np.float32).ravel()
                                          for v in X.column_range())
            super()._setup(X, seed=seed)
            return
        low, high = X.min(axis=0), X.max(axis=0)
        if sp.issparse(X):
            low, high = low.toarray(), high.toarray()
        self._noise_range = (np.asarray(low, dtype=np.float32).ravel(),
                             np.asarray(high, dtype=np.float32).ravel())
        super()._setup(X, seed=seed)

    def _input_noise(self):
        noise = Corruption(self.noise_, self.noise_level_, self.n_features_in_)
        if hasattr(self, "_noise_range"):
            noise.set_range(*self._noise_range)
        return noise
