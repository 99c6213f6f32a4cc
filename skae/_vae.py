"""VAETransformer: a variational autoencoder scored by its log-likelihood bound."""

import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from . import _parameters as params
from ._base import BaseAutoencoder
from ._chunks import head
from ._inference import INFERENCE_BUDGET
from ._likelihood import likelihood_class
from ._net import LinearWarmup
from ._random import seed_from
from ._stacklevel import user_stacklevel
from .exceptions import PosteriorCollapseWarning
from .nn import (
    Bernoulli,
    DynamicBinarization,
    ELBOObjective,
    GaussianMLPVAE,
    IWAEObjective,
    importance_weighted_bound,
)
from .nn.inputs import InputDropout, normalize_encoder_input
from .nn.vae_bounds import elbo

#: Bytes a decoded value takes while it is scored: about six float64 copies
#: (the decoder's output, its float64 copy, the likelihood's terms).
_BYTES_PER_DECODED_VALUE = 6 * 8
#: Decoded values one scoring step holds, so that scoring stays near
#: :data:`~skae._inference.INFERENCE_BUDGET` whatever the width and the
#: number of draws.
DECODED_VALUES = INFERENCE_BUDGET // _BYTES_PER_DECODED_VALUE

#: Rows of the training data used to measure latent activity: enough for a
#: variance estimate, few enough to cost a fraction of one epoch.
_ACTIVITY_ROWS = 10_000


class VAETransformer(BaseAutoencoder):
    """Variational autoencoder as a scikit-learn transformer and density model.

    The encoder maps each sample to a diagonal Gaussian posterior
    q(z|x) = N(mu(x), diag sigma^2(x)) over ``n_components`` latent
    variables with prior N(0, I); the decoder maps a code z to the
    parameters of p(x|z). Training maximises the evidence lower bound
    (ELBO) with the reparameterisation trick and the KL term in closed form.
    ``transform`` returns the posterior mean, ``inverse_transform`` the
    decoder's mean, :meth:`sample` generates new rows, and ``score`` is the
    mean ELBO per sample in nats, so that models can be compared and tuned
    on held-out data like :class:`~sklearn.decomposition.PCA` or
    :class:`~sklearn.decomposition.FactorAnalysis`.

    Parameters
    ----------
    n_components : int or None, default=None
        Dimension of the latent code. None gives ``min(16, n_features //
        2)`` (at least one; see ``n_components_``); unused dimensions
        collapse to the prior (see ``latent_activity_``).
    hidden_layer_sizes : array-like of int or "auto", default="auto"
        Widths of the encoder's hidden layers; the decoder mirrors them.
        ``"auto"`` is ``()`` (one affine map each way, which ranks best on
        clicks) with ``likelihood="multinomial"`` or ``"poisson"`` and no
        ``image_shape``, else ``(100,)`` (see ``hidden_layer_sizes_``).
        With ``image_shape``, the number of feature maps of each
        convolutional layer.
    image_shape : tuple of int or None, default=None
        ``(height, width)`` or ``(channels, height, width)``: read each row
        as an image flattened in that order, and use a convolutional encoder
        (3x3 convolutions of stride 2, then linear maps to the posterior's
        mean and log-variance) and a mirrored transposed-convolutional
        decoder. None uses fully connected layers.
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation of the hidden layers.
    likelihood : {"gaussian", "bernoulli", "multinomial", "poisson"} or Likelihood \
subclass, default="gaussian"
        The decoder's distribution p(x|z). ``"gaussian"`` models real-valued
        data with a diagonal Gaussian (see ``decoder_variance``);
        ``"bernoulli"`` models data in [0, 1] (e.g. binary or grey-level
        pixels) as Bernoulli means, computing the cross-entropy from logits;
        only on binary data is the score a log-probability of the data.
        ``"multinomial"`` models rows of non-negative counts as draws from a
        softmax over the features with the row's own total (Mult-VAE, and
        the topic models of Srivastava & Sutton, 2017): ``inverse_transform``
        returns each row's share of every feature, :meth:`sample` draws rows
        with the training rows' mean total. ``"poisson"`` models independent
        counts, ``inverse_transform`` returning their expected values.
    input_norm : {"l1", "l2"}, None or "auto", default="auto"
        Scale each row to unit norm before the encoder
        (:class:`skae.nn.RowNormalize`), in training and inference alike;
        the likelihood still scores the raw row. For counts, ``"l2"``
        (Liang et al., 2018) makes the code depend on what a row holds
        rather than on its total. ``"auto"`` is ``"l2"`` with
        ``likelihood="multinomial"`` or ``"poisson"``, else None.
    input_dropout : float or "auto", default="auto"
        In training, zero each value of the encoder's input with this
        probability and scale the others by ``1 / (1 - input_dropout)``
        (:class:`skae.nn.InputDropout`), with fresh draws for every batch;
        the likelihood still scores the clean row, and ``transform`` and
        the scores never drop anything. It acts before ``input_norm``, so
        with a norm the encoder sees the kept values scaled to unit norm.
        Must be in [0, 1). ``"auto"`` is 0.5 with
        ``likelihood="multinomial"`` or ``"poisson"`` (a recommender is
        asked for the clicks it was not shown), else 0.
    dynamic_binarization : bool, default=False
        With ``likelihood="bernoulli"``, train on a fresh binarisation of
        the data in every batch: each value ``p`` in [0, 1] (a grey level)
        becomes 1 with probability ``p``, drawn from the estimator's own
        generator, and the encoder's input and the likelihood's target are
        the same binary row. This is how binarised MNIST is usually trained
        (Burda et al., 2015): the model sees a new binary image of each
        digit every epoch, which overfits less than one fixed binarisation.
        Validation rows (``early_stopping``) and the scores use the data as
        given, so score binary data to get log-probabilities.
    decoder_variance : "shared", "learned" or float, default="shared"
        Variance of the Gaussian likelihood (ignored by the others).
        ``"shared"``: one variance for all features, the isotropic noise of
        probabilistic PCA, started at the data's mean variance and learned
        with the network. ``"learned"``: one variance per feature, started
        at each feature's variance (the noise model of factor analysis); a
        feature that hardly varies (a border pixel) then gets a tiny
        variance and dominates the bound, so the codes serve a classifier
        or an anomaly score worse (on digits, 10 codes give a logistic
        regression 0.71 accuracy against 0.89 shared). Learned variances
        are kept within [1e-6, 1e6], so scale the data to unit order (e.g.
        with :class:`~sklearn.preprocessing.StandardScaler`). A float fixes
        the variance of every feature.
    beta : float or "auto", default="auto"
        Weight of the KL term in the training loss (beta-VAE); 1 is the
        ELBO. ``score`` always reports the ELBO, whatever ``beta``.
        ``"auto"`` is 0.2, the cap of Liang et al. (2018), with
        ``likelihood="multinomial"`` or ``"poisson"`` and
        ``objective="elbo"``, else 1.
    kl_warmup : int, default=0
        Number of epochs over which the KL weight rises linearly from
        ``beta / kl_warmup`` to ``beta``, where it stays; 0 trains with
        ``beta`` from the start. With ``beta`` below 1 this is the KL
        annealing to a cap of Liang et al. (2018): ``beta=0.2`` and
        ``kl_warmup`` the number of epochs to reach it.
    objective : {"elbo", "iwae"}, default="elbo"
        The bound training maximises. ``"elbo"``: the evidence lower bound,
        its expected log-likelihood estimated with ``n_mc_samples`` draws
        of z and its KL term in closed form. ``"iwae"``: the
        importance-weighted bound of Burda et al. (2015) with
        K = ``n_mc_samples`` draws, ``log (1/K) sum_k p(x, z_k) / q(z_k|x)``,
        which is the ELBO for K=1 and approaches ``log p(x)`` as K grows;
        a step costs about K times an ELBO step with one draw. It has no KL
        term to weight, so it takes ``beta=1`` and ``kl_warmup=0``. Either
        way ``score``, ``score_samples`` and the early-stopping validation
        loss are the ELBO, and :meth:`importance_weighted_bound` evaluates
        the importance-weighted bound.
    n_mc_samples : int, default=1
        Draws of z per sample and training step: with ``objective="elbo"``
        (L) to estimate the expected log-likelihood, with
        ``objective="iwae"`` the number K of importance samples.
    n_eval_samples : int, default=16
        Draws of z per sample to estimate the ELBO in ``score_samples``,
        ``score`` and the early-stopping validation loss.
    solver : {"adam", "adamw", "sgd"}, default="adam"
        Optimiser (``"sgd"`` uses momentum 0.9).
    learning_rate_init : float, default=3e-3
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
    max_iter : int, default=500
        Maximum number of epochs. A variational bound settles more slowly
        than a reconstruction error (on digits a default fit stops by its
        rule after about 260 epochs).
    shuffle : bool, default=True
        Reshuffle the samples every epoch.
    tol : float, default=1e-4
        An epoch improves on the best loss only if it lowers it by more than
        ``tol`` times the first epoch's loss (a tolerance relative to the
        loss's scale, which means the same on any scale of the data).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data and stop when
        its negative ELBO stops improving; the best epoch's weights are kept.
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
        Seeds weight initialisation, shuffling, the validation split and
        every draw of z. An int gives identical results on every fit,
        without reading or changing torch's or numpy's global random state.
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
        The trained network; ``net_.module_`` is a
        :class:`skae.nn.GaussianMLPVAE`.
    n_iter_ : int
        Number of epochs trained (``partial_fit`` calls included).
    loss_curve_ : list of float
        Mean training loss per sample after each epoch: the negative ELBO
        with the KL term weighted by ``beta`` (and the warm-up), or with
        ``objective="iwae"`` the negative importance-weighted bound.
    best_loss_ : float or None
        Lowest training loss; None with early stopping.
    validation_scores_ : list of float or None
        Validation ELBO per sample after each epoch when ``early_stopping``.
    best_validation_score_ : float or None
        Best of ``validation_scores_``.
    latent_activity_ : ndarray of shape (n_components,)
        Variance, over the rows passed to the last ``fit`` or
        ``partial_fit`` call (at most the first 10,000, validation rows
        included), of each latent dimension's posterior mean. A dimension
        is active when it exceeds 0.01 (Burda et al., 2015); inactive ones
        stay at the prior whatever the input and carry no information.
        When none is active at the end of a ``fit`` that converged, ``fit``
        issues a :class:`~skae.PosteriorCollapseWarning`.
    n_components_ : int
        Width of the code: ``n_components``, or what None gave for this data.
    hidden_layer_sizes_, input_norm_, input_dropout_, beta_ : object
        The values the network and the objective were built with: the
        parameter's own, or what ``"auto"`` stood for (see the user guide,
        "Count data bring their own defaults").
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when X has string
        feature names.

    See Also
    --------
    AutoencoderTransformer : The deterministic autoencoder.
    sklearn.decomposition.FactorAnalysis : A linear Gaussian latent model.

    Notes
    -----
    Every score is in nats per sample, summed over features. With the
    Gaussian likelihood it is a log-density and can be positive; it is then
    directly comparable with ``PCA.score`` and ``FactorAnalysis.score`` on
    the same data. With the Bernoulli likelihood on binary data it is a log
    probability.

    ``score_samples`` estimates each row's ELBO with ``n_eval_samples``
    draws of z = mu + sigma * eps. The standard-normal eps of a row come from
    a generator seeded by a seed fixed at fit and by the row's own values:
    each row's estimate is unbiased and independent of the other rows', and
    it is the same whichever rows are scored with it and however often it
    is scored (as scikit-learn's conventions require). :meth:`importance_weighted_bound`
    gives the tighter bound of Burda et al. (2015), which rises towards
    the log-likelihood as its number of draws grows.

    A VAE can settle where its posterior equals the prior for every input:
    the codes carry nothing and ``score`` stays at the value of a model that
    reconstructs the mean sample (posterior collapse). Deep or convolutional
    decoders, which can model the data well without the code, are prone to
    it from the first epochs on. The collapse can also take some latent
    dimensions and leave others: ``fit`` warns with
    :class:`~skae.PosteriorCollapseWarning` when more than half of them
    carry nothing (see ``latent_activity_``), naming how many are active.
    Raising the KL weight gradually with ``kl_warmup`` (e.g. over 10 epochs)
    is the usual cure, or fewer components.

    For clicks and other counts, ``likelihood="multinomial"`` alone brings
    ``input_norm="l2"``, ``input_dropout=0.5``, ``beta=0.2`` and no hidden
    layer (the parameters' ``"auto"``); Mult-VAE (Liang et al., 2018) is
    ``likelihood="multinomial"``, ``input_norm="l2"``, ``input_dropout=0.5``,
    ``hidden_layer_sizes=(600,)``, ``n_components=200``,
    ``activation="tanh"``, ``batch_size=500`` and the KL weight annealed to
    ``beta=0.2`` with ``kl_warmup``; :func:`skae.recommendation.recommend`
    then lists each user's best unseen items. With
    ``hidden_layer_sizes=()`` the decoder is one affine map, whose columns
    (``net_.module_.decoder[-1].weight``) read as topics over the
    features' log-probabilities, as in ProdLDA (Srivastava & Sutton,
    2017).

    To train on data that is resampled every epoch in other ways than
    ``dynamic_binarization``, call :meth:`partial_fit` once per epoch with
    a fresh draw; ``kl_warmup`` and the learning-rate schedule follow the
    epochs counted so far.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import VAETransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> vae = VAETransformer(n_components=8, likelihood="bernoulli", max_iter=5,
    ...                      random_state=0)
    >>> codes = vae.fit_transform(X / 16)
    >>> codes.shape
    (1797, 8)
    >>> vae.inverse_transform(codes).shape
    (1797, 64)
    >>> vae.sample(3).shape
    (3, 64)
    >>> bool(vae.score(X / 16) < 0)
    True

    A Mult-VAE on clicks, annealing the KL weight to 0.2 over 10 epochs,
    and the five best unseen items of three users:

    >>> from skae.datasets import make_implicit_feedback
    >>> from skae.recommendation import recommend
    >>> clicks, _ = make_implicit_feedback(n_users=300, n_items=50, random_state=0)
    >>> mult_vae = VAETransformer(16, hidden_layer_sizes=(32,), activation="tanh",
    ...                           likelihood="multinomial", input_norm="l2",
    ...                           input_dropout=0.5, beta=0.2, kl_warmup=10,
    ...                           max_iter=20, random_state=0).fit(clicks)
    >>> recommend(mult_vae, clicks[:3], n=5).shape
    (3, 5)
    """

    _parameters = (
        params.n_components(None),
        *params.NETWORK,
        params.LIKELIHOOD,
        params.INPUT_NORM,
        params.INPUT_DROPOUT,
        params.Param("dynamic_binarization", False, ["boolean"]),
        params.DECODER_VARIANCE,
        params.Param("beta", "auto", [Interval(Real, 0, None, closed="left"),
                                      StrOptions({"auto"})], legacy=1.0),
        params.Param("kl_warmup", 0, [Interval(Integral, 0, None, closed="left")]),
        params.Param("objective", "elbo", [StrOptions({"elbo", "iwae"})]),
        params.Param("n_mc_samples", 1, [Interval(Integral, 1, None, closed="left")]),
        params.Param("n_eval_samples", 16, [Interval(Integral, 1, None, closed="left")]),
        *params.VAE_TRAINING,
        params.N_PROCESSES,
    )

    #: A latent dimension is active when its posterior mean varies across the
    #: data with a variance above this (Burda et al., 2015); the prior's
    #: variance is 1, so an active dimension moves by a tenth of the prior's
    #: spread or more.
    activity_threshold = 0.01

    # Every row is decoded n_eval_samples times: smaller batches than the
    # base's keep that within a few tens of megabytes.
    _inference_batch_size = 512

    # ------------------------------------------------------------ base hooks
    def _make_module(self, n_features):
        module = GaussianMLPVAE(
            n_features,
            self.n_components_,
            self._hidden_sizes(),
            self.activation,
            n_mc_samples=self.n_mc_samples,
            n_eval_samples=self.n_eval_samples,
            image_shape=self._image_shape(n_features),
        )
        return normalize_encoder_input(module, self.input_norm_)

    def _input_noise(self):
        return InputDropout(self.input_dropout_) if self.input_dropout_ else None

    def _resampling(self):
        return DynamicBinarization() if self.dynamic_binarization else None

    def _make_objective(self, likelihood):
        if self.objective == "iwae":
            return IWAEObjective(likelihood)
        return ELBOObjective(likelihood, beta=self.beta_)

    def _check_params(self, n_features):
        super()._check_params(n_features)
        if self.dynamic_binarization and not issubclass(likelihood_class(self), Bernoulli):
            raise ValueError(
                f"dynamic_binarization=True draws binary rows, which only "
                f"likelihood='bernoulli' models, not likelihood={self.likelihood!r}. Set "
                "likelihood='bernoulli' or dynamic_binarization=False."
            )
        if self.objective == "iwae" and (self.beta_ != 1 or self.kl_warmup):
            raise ValueError(
                f"objective='iwae' with beta={self.beta_} and kl_warmup={self.kl_warmup}: the "
                "importance-weighted bound has no separate KL term to weight or warm up. "
                "Set beta=1 and kl_warmup=0, or use objective='elbo'."
            )

    def _likelihood_options(self):
        return {"variance": self.decoder_variance}

    def _warmup_epochs(self):
        return self.kl_warmup

    def _extra_callbacks(self):
        if self.kl_warmup:
            return [("kl_warmup", LinearWarmup("kl_weight", self.beta_, self.kl_warmup))]
        return []

    def _start(self, X):
        # Fixed for the fitted model: with each row's values it seeds the
        # row's evaluation noise (see Notes), so scores are reproducible.
        seed = torch.randint(0, np.iinfo(np.int32).max, (1,), generator=self._rng.generator)
        self.net_.module_.eval_seed.fill_(int(seed))

    def _divergence_hint(self):
        if isinstance(self.decoder_variance, Real) and self.decoder_variance < 1e-3:
            return (
                f"decoder_variance={self.decoder_variance} is very small: the Gaussian "
                "likelihood scales squared errors by its inverse, so the loss and its "
                "gradients are huge. Use a larger value (of the order of the data's "
                "noise variance) or decoder_variance='shared'."
            )
        return None

    def _row_bytes(self, n_features):
        # Scoring decodes at least one draw of each row of a batch at once.
        return max(super()._row_bytes(n_features), _BYTES_PER_DECODED_VALUE * n_features)

    def _score_rows(self, module, criterion, x):
        return elbo(module, criterion.likelihood, x, chunk_values=DECODED_VALUES)

    def _valid_batch_size(self, n_features, batch_size):
        # Validation decodes every draw of every row at once.
        per_row = 4 * 3 * n_features * self.n_eval_samples
        return int(min(batch_size, max(1, INFERENCE_BUDGET // per_row)))

    def _inspect(self, X, *, converged):
        codes = self._map(self._encode, head(X, _ACTIVITY_ROWS), "codes")
        self.latent_activity_ = np.var(codes, axis=0, dtype=np.float64)
        n_active = int((self.latent_activity_ > self.activity_threshold).sum())
        # Warn when most dimensions collapsed, not only all: codes of which
        # a few columns carry everything are a trap for what uses them.
        if not converged or n_active > self.n_components_ / 2:
            return
        warmup = (f"a longer KL warm-up than kl_warmup={self.kl_warmup}" if self.kl_warmup
                  else "a KL warm-up (e.g. kl_warmup=10)")
        if n_active == 0:
            what = (
                f"No latent dimension of this {type(self).__name__} is active: the "
                "posterior means vary across the training data with variance at most "
                f"{self.latent_activity_.max():.2g} (active: > {self.activity_threshold}), so "
                "the posterior collapsed to the prior and the codes carry no information "
                "about X."
            )
        else:
            what = (
                f"Only {n_active} of the {self.n_components_} latent dimensions of this "
                f"{type(self).__name__} are active (their posterior means vary across the "
                f"training data with variance above {self.activity_threshold}; see "
                "latent_activity_): the posterior of the others collapsed to the prior, "
                "and their codes carry no information about X. "
                f"n_components={n_active} would give codes as informative."
            )
        warnings.warn(
            f"{what} Train with {warmup}, a smaller beta, a larger n_iter_no_change "
            "if early stopping ended training early, or a likelihood that fits the "
            "data better.",
            PosteriorCollapseWarning,
            stacklevel=user_stacklevel(),
        )

    # ------------------------------------------------------------- inference
    def score_samples(self, X):
        """Evidence lower bound (ELBO) of each sample, in nats.

        Higher is better; a low value marks a sample the model finds
        unlikely, so ``-score_samples(X)`` serves as an anomaly score.
        The KL term has weight 1 whatever ``beta``, so the value is a lower
        bound on ``log p(x)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        elbo : ndarray of shape (n_samples,)
            Per-sample ELBO, summed over features, estimated with
            ``n_eval_samples`` draws of z per sample.
        """
        return super().score_samples(X)

    def _score_units(self):
        likelihood = self.net_.criterion_.likelihood
        name = likelihood.name or type(likelihood).__name__
        kind = "log-density" if name == "gaussian" else "log-probability"
        return f"an evidence lower bound on the {name} {kind}, in nats"

    def _noise_generator(self, random_state):
        seed = seed_from(self.random_state if random_state is None else random_state)
        return torch.Generator().manual_seed(seed)

    def importance_weighted_bound(self, X, n_samples=100, *, random_state=None):
        """Importance-weighted lower bound on log p(x) of each sample, in nats.

        The bound of Burda et al. (2015) with ``K = n_samples`` draws of z
        from q(z|x): ``log (1/K) sum_k p(x, z_k) / q(z_k|x)``. It equals the
        ELBO in expectation for K=1, rises with K and approaches
        ``log p(x)`` from below; with K in the thousands it is the usual
        estimate of a VAE's test log-likelihood.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples_X, n_features)
            Data to score.
        n_samples : int, default=100
            Number of importance samples K. The work grows linearly with it;
            memory does not.
        random_state : int, RandomState instance or None, default=None
            Seeds the draws. None uses the estimator's ``random_state``, as
            :meth:`sklearn.mixture.GaussianMixture.sample` does: with an int
            there, repeated calls give identical results. Each row's draws
            are seeded by the seed and the row's values, so a row's bound
            does not depend on the rows scored with it.

        Returns
        -------
        bound : ndarray of shape (n_samples_X,)
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or isinstance(n_samples, bool) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
        X = self._validate_input(X, reset=False)
        seed = seed_from(self.random_state if random_state is None else random_state)
        bound = self._map(
            lambda module, criterion, xb: importance_weighted_bound(
                module, criterion.likelihood, xb, int(n_samples), seed,
                chunk_size=max(1, DECODED_VALUES // max(1, xb.numel()))),
            X, "importance-weighted bounds",
        )
        return bound.astype(np.float64)

    def sample(self, n_samples=1, random_state=None, *, return_mean=False):
        """Generate rows: draw z from the prior N(0, I), then x from p(x|z).

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to generate.
        random_state : int, RandomState instance or None, default=None
            Seeds the draws. None uses the estimator's ``random_state``, as
            :meth:`sklearn.mixture.GaussianMixture.sample` does: with an int
            there, repeated calls return the same rows.
        return_mean : bool, default=False
            Return the decoder's mean for each z (probabilities for the
            Bernoulli likelihood) instead of a draw from p(x|z).

        Returns
        -------
        X : ndarray of shape (n_samples, `n_features_in_`)
            Generated rows, in float64.
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or isinstance(n_samples, bool) or n_samples < 1:
            raise ValueError(
                f"Invalid value for 'n_samples': {n_samples!r}. The sampling requires at "
                "least one sample."
            )
        gen = self._noise_generator(random_state)
        module, likelihood = self.net_.module_, self.net_.criterion_.likelihood
        module.eval()
        with torch.inference_mode():
            z = torch.randn(int(n_samples), self.n_components_, generator=gen)
            raw = module.decode(z.to(self.net_.device)).double()
            out = likelihood.link(raw) if return_mean else likelihood.sample(raw, gen)
            out = out.cpu()
        out = out.numpy()
        if not np.isfinite(out).all():
            raise ValueError(
                "The decoder produced non-finite samples; the weights were damaged, refit."
            )
        return out
