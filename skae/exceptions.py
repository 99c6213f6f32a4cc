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
