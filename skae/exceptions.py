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


class ScoreUnitsWarning(UserWarning):
    """Scores of different units were computed on the same data.

    Issued by ``score`` when the data it scores was scored before, in this
    process, by a model whose score has other units: minus a squared error
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
