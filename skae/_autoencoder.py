"""AutoencoderTransformer: a deterministic deep autoencoder."""

from . import _parameters as params
from ._deterministic import DeterministicAutoencoder


class AutoencoderTransformer(DeterministicAutoencoder):
    """Deep autoencoder (MLP or convolutional) as a scikit-learn transformer.

    An encoder maps each sample to ``n_components`` numbers and a mirrored
    decoder maps them back; both are trained together to reconstruct the
    input. ``transform`` runs the encoder, ``inverse_transform`` the decoder.
    With ``hidden_layer_sizes=()`` and ``activation="identity"`` the model is
    a linear autoencoder, whose code spans the same subspace as
    :class:`~sklearn.decomposition.PCA` with the same ``n_components``.
    With ``image_shape``, rows are read as images and the network is
    convolutional.

    Parameters
    ----------
    n_components : int or None, default=None
        Size of the code (the bottleneck). None gives ``min(16, n_features //
        2)`` codes (at least one): narrower than the data, so that the code
        must summarise it, whatever the width (see ``n_components_``).
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
        The distribution of the data given the decoder output, which sets
        the training loss: ``"gaussian"`` trains on the squared error;
        ``"bernoulli"`` models data in [0, 1] (e.g. pixel intensities) as
        Bernoulli means, training on the cross-entropy: the decoder outputs
        logits and ``inverse_transform`` returns their sigmoid.
        ``"multinomial"`` models rows of non-negative counts (clicks, words)
        as draws from a softmax over the features, each row with its own
        total (:class:`skae.nn.Multinomial`): ``inverse_transform`` returns
        each row's share of every feature. ``"poisson"`` models independent
        counts (:class:`skae.nn.Poisson`): ``inverse_transform`` returns
        expected counts. A subclass of :class:`skae.nn.Likelihood` trains on
        its :meth:`~skae.nn.Likelihood.loss`.
    loss : {"squared_error", "binary_crossentropy"}
        Deprecated spelling of ``likelihood`` (``"gaussian"`` and
        ``"bernoulli"``); it will be removed in 0.4.
    input_norm : {"l1", "l2"}, None or "auto", default="auto"
        Scale each row to unit norm before the encoder
        (:class:`skae.nn.RowNormalize`), in training and in ``transform``
        alike; the loss still compares the reconstruction with the raw row.
        For counts, ``"l2"`` (Liang et al., 2018) makes the code depend on
        what a row holds rather than on its total. Not with
        ``pretrain="greedy"``. ``"auto"`` is ``"l2"`` with
        ``likelihood="multinomial"`` or ``"poisson"`` (None with
        ``pretrain="greedy"``), else None.
    standardize_input : bool, default=True
        Centre what the encoder reads on the training data's mean and divide
        it by one overall scale, the root mean square of the centred data
        (:class:`skae.nn.CenterScale`), in training and ``transform``
        alike; the loss still compares the reconstruction with the raw row.
        On wide non-negative data (pixels) it keeps the first steps from
        switching off every ReLU unit at once, which leaves constant codes.
        Not applied with ``input_norm``, whose rows have a scale of their
        own. False feeds the encoder the rows as they are.
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
        L2 penalty on the weights, applied by the optimiser (the role of
        ``alpha`` in :class:`~sklearn.neural_network.MLPRegressor`).
    contractive : float, default=0.0
        Weight of the contractive penalty: the batch mean of the squared
        Frobenius norm of the encoder's Jacobian, ``||d code / d x||_F^2``,
        computed exactly. It makes the code insensitive to small changes of
        the input.
    pretrain : {"greedy"} or None, default=None
        ``"greedy"`` first trains one encoder/decoder layer pair at a time,
        each on the codes of the previous one, then trains the whole network
        (see ``pretrain_loss_curves_``). Each stage runs like ``fit``: up to
        ``max_iter`` epochs with the same optimiser and stopping rule.
        Only ``fit`` pretrains, not ``partial_fit``.
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
        Hold out ``validation_fraction`` of the training data and stop when
        its loss stops improving; the best epoch's weights are kept.
    validation_fraction : float, default=0.1
        Share of the training data held out when ``early_stopping=True``.
    n_iter_no_change : int, default=10
        Training ends once more than this many epochs in a row fail to improve
        the loss by ``tol``, as in MLPRegressor.
    device : {"cpu", "cuda", "cuda:N", "auto"}, default="cpu"
        Where the network runs; ``"auto"`` picks CUDA when available.
    mixed_precision : bool, default=False
        Run the forward pass of training under bfloat16 autocast
        (:class:`torch.autocast`), for throughput and memory on GPUs with
        bfloat16 units; the loss, the gradients, the weights and the
        optimiser's state stay float32. The validation loss, ``transform``
        and the scores are computed in float32 (float64 for float64 input).
        On a CPU without bfloat16 units it is usually slower. See
        :ref:`mixed-precision`.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and the validation split.
        An int gives identical results on every fit, without reading or
        changing torch's or numpy's global random state.
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
        Number of epochs trained (``partial_fit`` calls included).
    loss_curve_ : list of float
        Mean training loss per sample after each epoch (penalties included).
    pretrain_loss_curves_ : list of list of float
        With ``pretrain="greedy"``, the training loss per epoch of each
        pretraining stage, input side first; ``loss_curve_`` is then the
        fine-tuning curve. Empty without pretraining.
    best_loss_ : float or None
        Lowest training loss; None with early stopping.
    validation_scores_ : list of float or None
        Negated validation loss after each epoch when ``early_stopping``.
    best_validation_score_ : float or None
        Best of ``validation_scores_``.
    n_components_ : int
        Width of the code: ``n_components``, or what None gave for this data.
    hidden_layer_sizes_, input_norm_ : object
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
    sklearn.decomposition.PCA : The linear, closed-form counterpart.
    VAETransformer : A probabilistic autoencoder.

    Notes
    -----
    ``score_samples`` returns minus the per-sample loss, summed over
    features: the sum of squared errors for ``"gaussian"``, and the
    Bernoulli log-likelihood in nats for ``"bernoulli"``.
    ``score`` is its mean, so model selection with
    :class:`~sklearn.model_selection.GridSearchCV` needs no scorer as long
    as every candidate has the same likelihood; across likelihoods ``score``
    warns (:class:`~skae.ScoreUnitsWarning`), and
    :func:`skae.metrics.neg_reconstruction_error` compares them.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> ae = AutoencoderTransformer(n_components=8, max_iter=5, random_state=0)
    >>> codes = ae.fit_transform(X / 16)
    >>> codes.shape
    (1797, 8)
    >>> ae.inverse_transform(codes).shape
    (1797, 64)

    The same rows read as 8x8 images, with two convolutional layers:

    >>> conv = AutoencoderTransformer(n_components=8, image_shape=(8, 8),
    ...                               hidden_layer_sizes=(16, 32), max_iter=5,
    ...                               random_state=0)
    >>> conv.fit_transform(X / 16).shape
    (1797, 8)
    """

    _parameters = (
        params.n_components(None),
        *params.AUTOENCODER_NETWORK,
        *params.DETERMINISTIC,
        params.INPUT_NORM,
        params.STANDARDIZE_INPUT,
        params.PRINCIPAL_CODES,
        *params.AUTOENCODER_TRAINING,
        params.N_PROCESSES,
    )
