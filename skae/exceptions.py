"""Exceptions raised by skae."""


class TrainingDivergedError(FloatingPointError):
    """Training produced a non-finite loss.

    Raised as soon as a batch's loss is NaN or infinite, before the
    optimiser takes a step, so the network keeps its last finite weights.
    A smaller ``learning_rate_init`` or scaled input (for example with
    :class:`~sklearn.preprocessing.StandardScaler`) usually helps.
    """


class PosteriorCollapseWarning(UserWarning):
    """A variational autoencoder's codes carry no information about the data.

    Issued by :meth:`VAETransformer.fit` when its stopping rule ended training
    and no latent dimension is active (see ``latent_activity_``): every
    posterior mean is (nearly) the same whatever the input, so the
    posterior has collapsed to the prior and the decoder reconstructs every
    sample alike. A KL warm-up (``kl_warmup``), a smaller ``beta`` or a longer
    ``n_iter_no_change`` with early stopping usually lets training escape.
    """


class CollapsedCodesWarning(UserWarning):
    """A deterministic autoencoder's codes are constant over its training data.

    Issued by ``fit`` of :class:`AutoencoderTransformer`,
    :class:`DenoisingAE` and :class:`SparseCoder` when the stopping rule
    ended training and some codes (or all) do not vary across the
    training rows: the decoder can read nothing from them, and with all of
    them dead the model reconstructs every row as the same mean row.
    Hidden ReLU units that no longer respond to any row usually cause it;
    centred input (``standardize_input=True``), a smaller
    ``learning_rate_init`` or ``activation="tanh"`` avoid it.
    """


class CollapsedClassesWarning(UserWarning):
    """A classifier learned nothing from its labels.

    Issued by ``fit`` of :class:`AutoencoderClassifier` and
    :class:`VAEClassifier` when, after training, the classifier's accuracy
    on its labelled training rows is no better than always predicting the
    most common label (within a tenth of what is left to gain). In a
    semi-supervised model the usual cause is a reconstruction term so large
    (a likelihood that does not fit the data's scale) that the labelled
    rows' cross-entropy hardly counts.
    """


class ScoreUnitsWarning(UserWarning):
    """Scores of different units were computed on the same data.

    Issued by ``score``, when scikit-learn's model selection calls it, if the
    data it scores was scored before, in this process and also under model
    selection, by a model whose score has other units: minus a squared error
    (a Gaussian autoencoder), a log-probability in nats (the other
    likelihoods), or an evidence lower bound (:class:`VAETransformer`). A
    model search with the default scorer over ``likelihood``, or over
    different estimators, would rank such numbers against each other. Pass
    ``scoring=skae.metrics.neg_reconstruction_error``, or a downstream metric,
    to compare them.
    """


class InvalidFileError(ValueError):
    """A file given to :func:`skae.io.load` is not a valid skae model file.

    Raised for every way a file can be malformed or inconsistent: not a
    safetensors file, a header that is not the JSON :func:`skae.io.dump`
    writes, parameters that the estimator refuses, attributes that no skae
    model has, or weights whose names, shapes or dtypes do not match the
    network the parameters describe. These checks run before anything
    large is built from the file, so that a crafted file cannot make
    loading allocate much more memory than its own size.
    """
