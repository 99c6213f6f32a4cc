"""VAEClassifier: the semi-supervised variational autoencoder M2 of Kingma et al. (2014)."""

from dataclasses import replace
from numbers import Real

from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if

from . import _parameters as params
from ._classification import BaseNetworkClassifier
from ._inference import INFERENCE_BUDGET
from .nn.labelled_vae import LabelledELBOObjective, LabelledVAE


def _never(estimator):
    return False


class VAEClassifier(BaseNetworkClassifier):
    """Semi-supervised variational autoencoder (Kingma et al.'s M2) as a classifier.

    The class is a latent variable beside a continuous code z: a classifier
    q(y | x), an encoder q(z | x, y) and a decoder p(x | y, z), trained
    together. A labelled row adds its negative evidence lower bound (ELBO)
    and ``alpha`` times the classifier's cross-entropy to the loss; an
    unlabelled row (labelled -1, as in :mod:`sklearn.semi_supervised`) adds
    the bound of every class weighted by q(y | x), minus the entropy of
    q(y | x). The unlabelled rows thus teach the classifier which classes
    explain the data well. ``predict`` uses q(y | x).

    For "M1+M2", put a :class:`VAETransformer` before it in a pipeline: the
    classifier then models the first VAE's codes.

    Parameters
    ----------
    n_components : int, default=16
        Dimension of z, the code beside the class.
    hidden_layer_sizes : array-like of int, default=(100,)
        Widths of the hidden layers of the classifier and of the encoder (at
        least one); the decoder mirrors them.
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation of the hidden layers.
    likelihood : {"gaussian", "bernoulli", "multinomial", "poisson"} or Likelihood \
subclass, default="gaussian"
        The distribution p(x | y, z) (see :class:`VAETransformer`).
    decoder_variance : "shared", "learned" or float, default="shared"
        Variance of the Gaussian likelihood (ignored by the others), as in
        :class:`VAETransformer`: ``"shared"``, one variance for all features,
        learned; ``"learned"``, one per feature; a float fixes it. With one
        variance per feature, features that hardly vary (border pixels) get
        tiny variances, and the bound, in thousands of nats, swamps the
        classifier's cross-entropy: on digits with 5% of the labels the
        classifier then predicts one class for every row.
    alpha : float or "auto", default="auto"
        Weight of the labelled rows' cross-entropy. ``"auto"`` is 0.1 times
        the number of labelled rows (Kingma et al. weigh it with 0.1 times
        the size of the data).
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
        L2 penalty on the weights, applied by the optimiser.
    batch_size : int or "auto", default="auto"
        Mini-batch size; ``"auto"`` means ``min(200, n_samples)``.
    max_iter : int, default=200
        Maximum number of epochs.
    shuffle : bool, default=True
        Reshuffle the samples every epoch.
    tol : float, default=1e-4
        An epoch improves on the best loss only if it lowers it by more than
        ``tol`` times the first epoch's loss (a tolerance relative to the
        loss's scale, which means the same on any scale of the data).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the labelled rows and stop when
        their error rate stops improving; the weights of the best epoch are
        kept.
    validation_fraction : float, default=0.1
        Share of the labelled rows held out when ``early_stopping=True``.
    n_iter_no_change : int, default=10
        Training ends once more than this many epochs in a row fail to
        improve by ``tol``.
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
        Seeds weight initialisation, shuffling, the draws of z and the
        validation split, without reading or changing global random state.
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
    alpha_ : float
        The weight of the cross-entropy used.
    net_ : skorch.NeuralNet
        The trained network; ``net_.module_`` is a
        :class:`skae.nn.LabelledVAE`.
    n_iter_ : int
        Epochs trained (``partial_fit`` calls included).
    loss_curve_ : list of float
        Mean training loss per row after each epoch, in nats.
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
    AutoencoderClassifier : Pretrains an autoencoder, then fine-tunes its
        encoder on the labels.
    sklearn.semi_supervised.LabelSpreading : A graph-based use of
        unlabelled rows.

    Notes
    -----
    The prior on y is uniform and that on z standard normal; in training
    one draw of z per row and class estimates each bound (the
    reparameterisation trick), and every class is decoded for every row, so
    a step costs about ``n_classes`` times an ordinary VAE's.
    ``transform`` returns the posterior mean of z given x and its most
    probable class.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skae import VAEClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> y_few = np.where(np.arange(len(y)) < 300, y, -1)
    >>> clf = VAEClassifier(likelihood="bernoulli", max_iter=10, random_state=0)
    >>> clf.fit(X / 16, y_few).predict(X[:5] / 16).shape
    (5,)
    """

    _parameters = (
        params.n_components(16),
        params.HIDDEN_LAYER_SIZES,
        params.ACTIVATION,
        params.LIKELIHOOD,
        # A model saved before the parameter existed learned one variance per feature.
        replace(params.DECODER_VARIANCE, legacy="learned"),
        params.Param("alpha", "auto", [StrOptions({"auto"}), Interval(Real, 0, None,
                                                                     closed="left")]),
        *params.TRAINING,
    )

    def _check_params(self, n_features):
        super()._check_params(n_features)
        if not self._hidden_sizes():
            raise ValueError(
                "VAEClassifier needs at least one hidden layer in hidden_layer_sizes, "
                "got (); use for example hidden_layer_sizes=(100,)."
            )

    def _make_module(self, n_features):
        return LabelledVAE(n_features, self.n_components_, len(self.classes_),
                           self._hidden_sizes(), self.activation)

    def _make_objective(self, likelihood):
        return LabelledELBOObjective(likelihood, alpha=self.alpha_)

    def _likelihood_options(self):
        return {"variance": self.decoder_variance}

    def _uses_unlabelled(self):
        return True

    def _valid_batch_size(self, n_features, batch_size):
        # Validation decodes every class of every row at once.
        per_row = 4 * 3 * n_features * len(self.classes_)
        return int(min(batch_size, max(1, INFERENCE_BUDGET // per_row)))

    def _setup(self, X, seed=None):
        self.alpha_ = self._alpha(self._labelled_count)
        super()._setup(X, seed=seed)

    def _alpha(self, n_labelled):
        if self.alpha == "auto":
            return 0.1 * n_labelled
        return float(self.alpha)

    @available_if(_never)
    def inverse_transform(self, X):
        """Not available: decoding needs a class as well as a code."""
