"""AutoencoderClassifier: an autoencoder's encoder, pretrained, then fine-tuned on labels."""

from dataclasses import replace
from numbers import Real

from sklearn.utils._param_validation import Interval, StrOptions

from . import _parameters as params
from ._classification import BaseNetworkClassifier
from ._pretraining import greedy_pretrain, joint_pretrain
from .nn import ACTIVATIONS, Corruption, MLPAutoencoder, SparsityPenalty
from .nn.classifier import ClassificationObjective, EncoderClassifier


class AutoencoderClassifier(BaseNetworkClassifier):
    """Classifier on an autoencoder's encoder: pretrained without labels, then fine-tuned.

    An MLP encoder with a mirrored decoder is first trained as an
    autoencoder on every row of X, labelled or not ("autoencoders as an
    initialization method"); then a softmax layer is put on the code and the
    encoder and that layer are trained together on the labelled rows to
    minimise the cross-entropy, as :class:`~sklearn.neural_network.MLPClassifier`
    trains. Rows labelled ``-1`` are unlabelled, as in
    :mod:`sklearn.semi_supervised`: they serve in pretraining and in the
    optional reconstruction term, so that a few labels and many unlabelled
    rows train one classifier.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int, default=(100,)
        Widths of the encoder's layers; the last is the code, on which the
        softmax layer sits and which ``transform`` returns. The decoder
        mirrors them.
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation of every encoder layer (the code included) and of the
        decoder's hidden layers.
    pretrain : {"autoencoder", "greedy"} or None, default="autoencoder"
        How the encoder is trained before it sees a label:
        ``"autoencoder"`` trains the whole autoencoder to reconstruct X;
        ``"greedy"`` trains one encoder/decoder layer pair at a time, each
        on the codes of the previous one (a stacked autoencoder, see
        :class:`AutoencoderTransformer`); None starts fine-tuning from
        random weights, which makes the model an ``MLPClassifier``. Each
        stage runs like ``fit``: up to ``max_iter`` epochs with the same
        optimiser and stopping rule on its training loss.
    reconstruction_weight : float, default=0.0
        Keep reconstructing while fine-tuning: the loss becomes the
        cross-entropy on the labelled rows plus this weight times the
        reconstruction loss on all rows. With unlabelled rows, each epoch
        then visits every row once, and the labelled rows as often as it
        takes them to make up about half of the epoch.
    likelihood : {"gaussian", "bernoulli", "multinomial", "poisson"} or Likelihood \
subclass, default="gaussian"
        The distribution of the data given the decoder's output, which sets
        the reconstruction loss of pretraining and of the reconstruction
        term (see :class:`AutoencoderTransformer`).
    noise : {"gaussian", "masking"} or None, default=None
        Corrupt the inputs of pretraining (of its first stage with
        ``"greedy"``) as :class:`DenoisingAE` does: ``"gaussian"`` adds
        ``N(0, noise_level^2)``, ``"masking"`` zeroes a fraction
        ``noise_level`` of the values. Fine-tuning sees clean inputs.
    noise_level : float, default=0.1
        Standard deviation (``"gaussian"``) or fraction of masked values
        (``"masking"``, below 1).
    contractive : float, default=0.0
        Weight of the contractive penalty in pretraining (see
        :class:`AutoencoderTransformer`).
    sparsity : float, default=0.0
        Weight of an L1 penalty on the code in pretraining, the mean
        absolute activation of the code's units.
    solver : {"adam", "adamw", "sgd"}, default="adam"
        Optimiser (``"sgd"`` uses momentum 0.9).
    learning_rate_init : float, default=1e-3
        Step size of the optimiser at the first epoch.
    learning_rate : {"constant", "step", "exponential", "cosine", "adaptive"}, \
default="constant"
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
        ``alpha`` in :class:`~sklearn.neural_network.MLPClassifier`).
    batch_size : int or "auto", default="auto"
        Mini-batch size; ``"auto"`` means ``min(200, n_samples)``.
    max_iter : int, default=200
        Maximum number of epochs of fine-tuning, and of each pretraining
        stage.
    shuffle : bool, default=True
        Reshuffle the samples every epoch.
    tol : float, default=1e-4
        An epoch improves on the best loss only if it lowers it by more than
        ``tol`` times the first epoch's loss (a tolerance relative to the
        loss's scale, which means the same on any scale of the data).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the labelled rows and stop
        fine-tuning when their error rate stops improving; the weights of
        the best epoch are kept.
    validation_fraction : float, default=0.1
        Share of the labelled rows held out when ``early_stopping=True``.
    n_iter_no_change : int, default=10
        Training ends once more than this many epochs in a row fail to
        improve by ``tol``, as in MLPClassifier.
    device : {"cpu", "cuda", "cuda:N", "auto"}, default="cpu"
        Where the network runs; ``"auto"`` picks CUDA when available.
    mixed_precision : bool, default=False
        Run the forward pass of training under bfloat16 autocast
        (:class:`torch.autocast`), for throughput and memory on GPUs with
        bfloat16 units; the loss, the gradients, the weights and the
        optimiser's state stay float32. The validation loss, the predictions
        and ``transform`` are computed in float32 (float64 for float64 input).
        On a CPU without bfloat16 units it is usually slower. See
        :ref:`mixed-precision`.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, noise and the validation
        split, without reading or changing global random state.
    verbose : int, default=0
        0 is silent, 1 prints a table with one row per epoch, 2 adds each
        epoch's progress: a bar on a terminal, elsewhere (a log file, a
        notebook) a line every 30 seconds of a long epoch. With
        scikit-learn 1.9 or later, ``set_callbacks`` takes
        :mod:`sklearn.callback`'s callbacks, which see each epoch and may
        stop training after it (see :ref:`callbacks`).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, -1 (unlabelled) excluded.
    net_ : skorch.NeuralNet
        The trained network; ``net_.module_`` is a
        :class:`skae.nn.EncoderClassifier`.
    n_iter_ : int
        Epochs of fine-tuning (``partial_fit`` calls included).
    loss_curve_ : list of float
        Mean training loss per row after each fine-tuning epoch.
    pretrain_loss_curves_ : list of list of float
        Training loss per epoch of each pretraining stage (one stage for
        ``"autoencoder"``, one per layer for ``"greedy"``); empty without
        pretraining.
    best_loss_ : float or None
        Lowest training loss; None with early stopping.
    validation_scores_ : list of float or None
        Accuracy on the held-out rows after each epoch when
        ``early_stopping``.
    best_validation_score_ : float or None
        Best of ``validation_scores_``.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when X has string
        feature names.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : The same network without
        pretraining or unlabelled rows.
    sklearn.semi_supervised.SelfTrainingClassifier : Another way to use
        unlabelled rows.

    Notes
    -----
    Greedy layer-wise pretraining followed by supervised fine-tuning is
    the method of Bengio et al. (2007) and Hinton & Salakhutdinov (2006).
    ``transform`` returns the fine-tuned code (the last encoder layer's
    activations), and ``inverse_transform`` decodes codes with the decoder,
    which fine-tuning leaves as pretraining left it unless
    ``reconstruction_weight > 0``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> clf = AutoencoderClassifier(random_state=0).fit(X[:1500], y[:1500])
    >>> clf.predict(X[1500:]).shape
    (297,)
    >>> bool(clf.score(X[1500:], y[1500:]) > 0.9)
    True

    A few labels and many unlabelled rows (marked -1):

    >>> y_few = np.where(np.arange(1500) < 150, y[:1500], -1)
    >>> clf.fit(X[:1500], y_few).classes_
    array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    """

    _parameters = (
        # Positional, as in MLPClassifier.
        replace(params.HIDDEN_LAYER_SIZES, positional=True),
        params.ACTIVATION,
        params.Param("pretrain", "autoencoder",
                     [StrOptions({"autoencoder", "greedy"}), None]),
        params.Param("reconstruction_weight", 0.0, [Interval(Real, 0, None, closed="left")]),
        params.LIKELIHOOD,
        params.Param("noise", None, [StrOptions({"gaussian", "masking"}), None]),
        params.Param("noise_level", 0.1, [Interval(Real, 0, None, closed="left")]),
        params.CONTRACTIVE,
        params.Param("sparsity", 0.0, [Interval(Real, 0, None, closed="left")]),
        *params.TRAINING,
    )

    # -------------------------------------------------------------- hooks
    def _code_width(self):
        return self._hidden_sizes()[-1]

    def _check_params(self, n_features):
        super()._check_params(n_features)
        if not self._hidden_sizes():
            raise ValueError(
                "AutoencoderClassifier needs at least one hidden layer, whose "
                "activations are the code the classifier sits on; got "
                "hidden_layer_sizes=(). Use LogisticRegression for a linear model."
            )
        if self.noise == "masking" and not self.noise_level < 1:
            raise ValueError(
                f"noise='masking' needs noise_level in [0, 1), got {self.noise_level}: "
                "it is the fraction of values set to 0."
            )

    def _make_module(self, n_features):
        hidden = self._hidden_sizes()
        autoencoder = MLPAutoencoder(
            n_features, hidden[-1], hidden[:-1], self.activation,
            code_layer=ACTIVATIONS[self.activation](),
            contractive=self.contractive,
            code_penalty=SparsityPenalty("l1", self.sparsity) if self.sparsity > 0 else None,
        )
        return EncoderClassifier(autoencoder, hidden[-1], len(self.classes_),
                                 reconstruct=self.reconstruction_weight > 0)

    def _make_objective(self, likelihood):
        return ClassificationObjective(likelihood, self.reconstruction_weight)

    def _pretraining_noise(self):
        if self.noise is None:
            return None
        return Corruption(self.noise, self.noise_level, self.n_features_in_)

    def _uses_unlabelled(self):
        return self.reconstruction_weight > 0

    def _before_training(self, inputs):
        autoencoder = self.net_.module_.autoencoder
        likelihood = self.net_.criterion_.likelihood
        self.pretrain_loss_curves_ = []
        if self.pretrain == "autoencoder":
            self.pretrain_loss_curves_ = joint_pretrain(self, inputs, autoencoder, likelihood)
        elif self.pretrain == "greedy":
            self.pretrain_loss_curves_ = greedy_pretrain(self, inputs, autoencoder, likelihood)
