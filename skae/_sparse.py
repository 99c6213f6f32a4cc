"""SparseCoder: a sparse autoencoder that learns a dictionary."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn

from . import _parameters as params
from ._chunks import ChunkedRows, head
from ._deterministic import DeterministicAutoencoder
from ._likelihood import LOSS_NAMES
from .nn import MLPAutoencoder, SparsityPenalty, TopK, UnitNormLinear, init_dictionary


class SparseCoder(DeterministicAutoencoder):
    """Sparse autoencoder: learns a dictionary and a fast encoder for it.

    An encoder maps each sample to ``n_components`` codes, most of them
    zero or near zero, and a decoder rebuilds the sample from them. With the
    default linear decoder this is dictionary learning with an amortised
    encoder: the decoder's weights are the dictionary (``components_``) and
    ``transform`` is one pass through the encoder, so coding new data costs
    a matrix product instead of an optimisation per sample. The code may be
    overcomplete (``n_components > n_features``).

    Unlike :class:`sklearn.decomposition.SparseCoder`, which solves a sparse
    coding problem against a dictionary the user provides and learns
    nothing, this estimator learns both the dictionary and the encoder from
    data in ``fit``. It is closer to
    :class:`~sklearn.decomposition.DictionaryLearning` and
    :class:`~sklearn.decomposition.MiniBatchDictionaryLearning`, whose
    codes minimise the penalised error exactly but slowly.

    Parameters
    ----------
    n_components : int, default=100
        Number of dictionary atoms, the width of the code.
    sparsity : {"topk", "l1", "kl"}, default="topk"
        How codes are made sparse:

        - ``"topk"``: keeps the ``n_nonzero_coefs`` codes of largest
          magnitude in each sample and sets the others to exactly 0; no
          penalty is added. Atoms are kept at unit norm, so that a code is
          the weight of its atom, as in matching pursuit. The sparsity is
          what you ask for: by default 10 of the 100 codes of each sample
          are non-zero (90% zeros).
        - ``"l1"``: adds ``alpha * mean(|h|)`` (the mean over samples and
          units) to the loss. The codes pass through a soft threshold
          (``torch.nn.Softshrink(0.1)``), or a ReLU with
          ``positive_code=True``, so small codes are exactly 0. The atoms
          are kept at unit norm, as in ``DictionaryLearning``, because
          otherwise shrinking codes and growing atoms would lower the
          penalty without sparsifying anything. The sparsity follows
          ``alpha`` only loosely: on digits (pixels / 16, 100 atoms) 15% of
          the codes are zero with ``alpha=1``, 45% with 5 and 58% with 20.
        - ``"kl"``: codes are sigmoid activations in (0, 1) and the loss
          adds ``beta * sum_j KL(rho || rho_hat_j)``, where ``rho_hat_j`` is
          unit j's mean activation over a batch. Codes are small but not
          exactly 0.

        With ``"l1"`` or ``"topk"`` and the linear decoder, the atoms start
        at randomly drawn training samples (centred), and a single-layer
        encoder starts as their transpose, so that every atom is used from
        the start instead of some never being chosen.
    alpha : float, default=1.0
        Weight of the L1 penalty, for ``sparsity="l1"``.
    rho : float, default=0.05
        Target mean activation, in (0, 1), for ``sparsity="kl"``.
    beta : float, default=1.0
        Weight of the KL penalty, for ``sparsity="kl"``.
    n_nonzero_coefs : int or None, default=None
        Codes kept per sample, for ``sparsity="topk"``; None keeps 10% of
        ``n_components`` (at least one). Must not exceed ``n_components``.
    positive_code : bool, default=False
        Constrain the codes to be non-negative (a ReLU on the code).
    encoder_steps : int, default=1
        Number of thresholding steps of the encoder. 1 is one affine map and
        the sparsifying non-linearity. With more, each step feeds the code
        back through a learned matrix, ``h = T(W x + c + S h)``, so that
        atoms that explain the same part of a sample can suppress each
        other: the encoder learns a few steps of iterative thresholding
        (as in LISTA, Gregor & LeCun, 2010). Codes come closer to those of
        an optimisation per sample, for one ``n_components x n_components``
        product and thresholding per extra step. Needs
        ``hidden_layer_sizes=()`` and ``sparsity="l1"`` or ``"topk"``.
    refit_codes : bool, default=False
        In ``transform`` (and so in ``score`` and ``score_samples``), keep
        the atoms the encoder selects for a sample but replace their codes
        by the least-squares fit of the sample on those atoms, as orthogonal
        matching pursuit does once it has chosen its atoms. The codes keep
        their zeros, the reconstruction error can only go down, and
        ``transform`` costs one small linear solve per sample more. Needs
        the linear decoder, ``likelihood="gaussian"``, ``sparsity="l1"`` or
        ``"topk"`` and ``positive_code=False``. Training is unchanged.
    decoder : {"linear", "mirror"}, default="linear"
        ``"linear"``: a single affine decoder, whose weights are
        ``components_``. ``"mirror"``: an MLP decoder mirroring the encoder's
        hidden layers (then there is no ``components_``).
    hidden_layer_sizes : array-like of int, default=()
        Widths of the encoder's hidden layers; the default encoder is a
        single affine map followed by the sparsifying non-linearity.
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation of the hidden layers.
    likelihood : {"gaussian", "bernoulli"} or Likelihood subclass, default="gaussian"
        The distribution of the data given the decoder output, which sets
        the reconstruction loss (see :class:`AutoencoderTransformer`);
        ``"bernoulli"`` makes the decoder output logits.
    loss : {"squared_error", "binary_crossentropy"}
        Deprecated spelling of ``likelihood``; it will be removed in 0.4.
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
        L2 penalty on the weights, applied by the optimiser (``alpha`` is
        the sparsity weight here, as in ``DictionaryLearning``).
    contractive : float, default=0.0
        Weight of the contractive penalty, the batch mean of
        ``||d code / d x||_F^2``, computed exactly.
    pretrain : {"greedy"} or None, default=None
        ``"greedy"`` pretrains the encoder's hidden layers one at a time,
        each with a temporary linear decoder (or with its mirror layer when
        ``decoder="mirror"``), before training the whole network; see
        :class:`AutoencoderTransformer`.
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
        improving; validation losses measure reconstruction only.
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
        Seeds initialisation and shuffling, without touching global random
        state.
    verbose : int, default=0
        0 is silent, 1 prints a table with one row per epoch, 2 adds each
        epoch's progress: a bar on a terminal, elsewhere (a log file, a
        notebook) a line every 30 seconds of a long epoch. With
        scikit-learn 1.9 or later, ``set_callbacks`` takes
        :mod:`sklearn.callback`'s callbacks, which see each epoch and may
        stop training after it (see :ref:`callbacks`).

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        The dictionary: row ``j`` is the atom code ``j`` adds to the
        reconstruction. Only with ``decoder="linear"``.
    intercept_ : ndarray of shape (n_features,)
        The decoder's bias (initialised at the data mean). With the squared
        error, ``inverse_transform(Z) == Z @ components_ + intercept_``; with
        the binary cross-entropy it is the sigmoid of that. Only with
        ``decoder="linear"``.
    net_ : skorch.NeuralNet
        The trained network; ``net_.module_`` is the torch module.
    n_iter_ : int
        Number of epochs trained.
    loss_curve_ : list of float
        Mean training loss per sample after each epoch, penalty included.
    pretrain_loss_curves_ : list of list of float
        Loss per epoch of each greedy pretraining stage; empty without.
    best_loss_ : float or None
        Lowest training loss; None with early stopping.
    validation_scores_ : list of float or None
        Negated validation loss after each epoch when ``early_stopping``.
    best_validation_score_ : float or None
        Best of ``validation_scores_``.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when X has string
        feature names.

    See Also
    --------
    sklearn.decomposition.DictionaryLearning : Exact sparse codes, slow transform.
    sklearn.decomposition.MiniBatchDictionaryLearning : Its online variant.
    sklearn.decomposition.SparseCoder : Sparse coding with a fixed dictionary.
    AutoencoderTransformer : A dense deep autoencoder.

    Notes
    -----
    ``score_samples`` returns minus the per-sample reconstruction loss
    (summed over features), without the sparsity penalty.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skae import SparseCoder
    >>> X, _ = load_digits(return_X_y=True)
    >>> coder = SparseCoder(n_components=100, sparsity="topk", n_nonzero_coefs=5,
    ...                     max_iter=5, random_state=0)
    >>> codes = coder.fit_transform(X / 16)
    >>> codes.shape
    (1797, 100)
    >>> int((codes != 0).sum(axis=1).max())
    5
    >>> coder.components_.shape
    (100, 64)
    >>> recon = codes @ coder.components_ + coder.intercept_
    >>> bool(np.allclose(recon, coder.inverse_transform(codes), atol=1e-5))
    True

    Codes closer to the best ones for their number of non-zeros, for a
    slower ``transform``: two thresholding steps, then least squares on the
    atoms chosen.

    >>> refined = SparseCoder(100, sparsity="topk", n_nonzero_coefs=5, encoder_steps=2,
    ...                       refit_codes=True, max_iter=5, random_state=0).fit(X / 16)
    >>> def error(model):
    ...     recon = model.inverse_transform(model.transform(X / 16))
    ...     return np.mean(np.sum((X / 16 - recon) ** 2, axis=1))
    >>> bool(error(refined) < error(coder))
    True
    """

    _parameters = (
        params.n_components(100),
        params.Param("sparsity", "topk", [StrOptions({"l1", "kl", "topk"})]),
        params.Param("alpha", 1.0, [Interval(Real, 0, None, closed="left")]),
        params.Param("rho", 0.05, [Interval(Real, 0, 1, closed="neither")]),
        params.Param("beta", 1.0, [Interval(Real, 0, None, closed="left")]),
        params.Param("n_nonzero_coefs", None, [Interval(Integral, 1, None, closed="left"),
                                               None]),
        params.Param("positive_code", False, ["boolean"]),
        params.Param("refit_codes", False, ["boolean"]),
        params.Param("encoder_steps", 1, [Interval(Integral, 1, None, closed="left")]),
        params.Param("decoder", "linear", [StrOptions({"linear", "mirror"})]),
        params.HIDDEN_LAYER_SIZES.with_default(()),
        params.ACTIVATION,
        *params.DETERMINISTIC,
        *params.AUTOENCODER_TRAINING,
    )

    #: Rows per inference batch. Each batch costs a fixed number of small
    #: numpy calls in the top-k and the least-squares refit, whatever its
    #: size, and a sparse coder's layers are narrow, so large batches cost
    #: little memory and spare most of those calls.
    _inference_batch_size = 16384

    #: Soft threshold of signed L1 codes; the encoder's scale is learnt,
    #: so the value only sets where training starts.
    _shrinkage = 0.1

    def _n_nonzero(self):
        if self.n_nonzero_coefs is None:
            return max(1, round(0.1 * self.n_components))
        return self.n_nonzero_coefs

    def _check_params(self, n_features):
        super()._check_params(n_features)
        self._check_encoder_steps()
        self._check_refit()
        if self.n_nonzero_coefs is not None and self.n_nonzero_coefs > self.n_components:
            raise ValueError(
                f"n_nonzero_coefs={self.n_nonzero_coefs} exceeds "
                f"n_components={self.n_components}: top-k sparsity cannot keep "
                "more codes than there are. Lower n_nonzero_coefs or raise "
                "n_components."
            )

    def _code_layer(self):
        if self.sparsity == "kl":
            return nn.Sigmoid()
        layers = [nn.ReLU()] if self.positive_code else []
        if self.sparsity == "topk":
            layers.append(TopK(self._n_nonzero()))
        elif not self.positive_code:
            layers.append(nn.Softshrink(self._shrinkage))
        return layers[0] if len(layers) == 1 else nn.Sequential(*layers)

    def _make_module(self, n_features):
        penalty = None
        if self.sparsity == "l1" and self.alpha > 0:
            penalty = SparsityPenalty("l1", self.alpha)
        elif self.sparsity == "kl" and self.beta > 0:
            penalty = SparsityPenalty("kl", self.beta, self.rho)
        return MLPAutoencoder(
            n_features,
            self.n_components,
            self._hidden_sizes(),
            self.activation,
            code_layer=self._code_layer(),
            decoder=self.decoder,
            unit_norm_atoms=self._dictionary_init(),
            refit_codes=self.refit_codes,
            encoder_steps=self.encoder_steps,
            contractive=self.contractive,
            code_penalty=penalty,
        )

    def _dictionary_init(self):
        # Sparse codes on a linear decoder: a dictionary of unit-norm atoms,
        # started at training samples (see _initialize).
        return self.decoder == "linear" and self.sparsity in ("l1", "topk")

    def _check_encoder_steps(self):
        if self.encoder_steps == 1:
            return
        problems = []
        if self.sparsity == "kl":
            problems.append("sparsity='kl' (its codes are not thresholded)")
        if len(self._hidden_sizes()):
            problems.append(
                f"hidden_layer_sizes={self.hidden_layer_sizes!r} (the unrolled encoder is "
                "a single layer; use hidden_layer_sizes=())"
            )
        if problems:
            raise ValueError(
                f"encoder_steps={self.encoder_steps} unrolls a single-layer thresholding "
                "encoder and cannot be used with " + " or ".join(problems) + "."
            )

    def _check_refit(self):
        if not self.refit_codes:
            return
        problems = []
        if self.sparsity == "kl":
            problems.append("sparsity='kl' (its codes are never exactly 0)")
        if self.decoder != "linear":
            problems.append("decoder='mirror' (there is no dictionary to fit)")
        likelihood = LOSS_NAMES.get(self.loss, self.likelihood)
        if likelihood != "gaussian":
            problems.append(f"likelihood={likelihood!r} (least squares fits the squared error)")
        if self.positive_code:
            problems.append("positive_code=True (least squares can give negative codes)")
        if problems:
            raise ValueError(
                "refit_codes=True re-solves the non-zero codes by least squares "
                "against a linear dictionary and cannot be used with "
                + " or ".join(problems) + "."
            )

    def _dead_codes_hint(self):
        return ("Here they are atoms that no row's code uses; a smaller n_components, "
                "a larger n_nonzero_coefs or a smaller learning_rate_init leaves fewer "
                "of them.")

    def _start(self, X):
        if not self._dictionary_init():
            return
        # Atoms start at randomly chosen centred samples, so that no atom
        # starts far from the data and stays unused ("dead") all training.
        generator = self._rng.generator
        n_samples = X.shape[0]
        if n_samples >= self.n_components:
            rows = torch.randperm(n_samples, generator=generator)[: self.n_components]
        else:
            rows = torch.randint(n_samples, (self.n_components,), generator=generator)
        rows = np.sort(rows.numpy())
        if isinstance(X, ChunkedRows):
            picked, centre = X.take(rows), X.moments(variance=False)[0]
        else:
            picked = X[rows].toarray() if sp.issparse(X) else X[rows]
            centre = np.asarray(X.mean(axis=0), dtype=np.float64).ravel()
        atoms = torch.as_tensor(picked - centre, dtype=torch.float32)
        # A little noise separates atoms drawn from equal rows (or equal to
        # the mean), which would otherwise stay identical.
        scale = float(atoms.square().mean().sqrt()) or 1.0
        atoms += 1e-2 * scale * torch.randn(atoms.shape, generator=generator)
        atoms = torch.nn.functional.normalize(atoms, dim=1)
        sample = head(X, 1000)
        sample = sample.toarray() if sp.issparse(sample) else sample
        init_dictionary(self.net_.module_, atoms, centre.astype(np.float32), sample)

    def _linear_decoder(self):
        check_is_fitted(self)
        if self.decoder != "linear":
            raise AttributeError(
                "components_ and intercept_ exist only with decoder='linear'; "
                f"this SparseCoder has decoder={self.decoder!r}."
            )
        return self.net_.module_.decoder[-1]

    @property
    def components_(self):
        layer = self._linear_decoder()
        weight = (
            layer.normalized_weight() if isinstance(layer, UnitNormLinear) else layer.weight
        )
        return weight.detach().cpu().numpy().T.astype(np.float64)

    @property
    def intercept_(self):
        return self._linear_decoder().bias.detach().cpu().numpy().astype(np.float64)
