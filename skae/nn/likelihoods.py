"""Observation models p(x | decoder output), one class per likelihood.

A likelihood turns the decoder's raw output into a distribution over the
data: it owns the link from raw output to mean, the log-probability of a
row, the point-estimate training loss, sampling, the check of the values it
can model, and any parameter it learns (a Gaussian's variance). Every
estimator, deterministic or variational, picks one from :data:`LIKELIHOODS`
by name; a new likelihood is one subclass of :class:`Likelihood` and, to be
named by a string, one entry in that table.
"""

import math

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn
from torch.nn import functional as F

from .functional import logit

#: Bounds on a learned Gaussian log-variance, so that a constant feature
#: cannot drive the likelihood to infinity.
LOGVAR_MIN = math.log(1e-6)
LOGVAR_MAX = math.log(1e6)

_LOG_2PI = math.log(2.0 * math.pi)


def stored_values(X):
    """The values of X that are stored: all of a dense array, ``.data`` of a sparse one."""
    return X.data if sp.issparse(X) else np.asarray(X)


class Likelihood(nn.Module):
    """Base class of observation models p(x | raw decoder output).

    Subclasses set :attr:`name` and implement :meth:`link`,
    :meth:`inverse_link`, :meth:`log_prob` and :meth:`sample`; they may
    override :meth:`loss` (the point-estimate training loss, by default the
    negative log-probability), :meth:`check_values` and :meth:`start`.
    A likelihood is a :class:`torch.nn.Module`: parameters it registers are
    trained with the network.

    Every method that returns one value per row sums over the last
    dimension and keeps every leading one, so that several draws per row
    (shape ``(n, draws, n_features)``) are scored in one call.

    Parameters
    ----------
    n_features : int
        Width of the data.
    """

    #: The name the estimators' ``likelihood`` parameter uses.
    name = None

    #: Whether :meth:`start` reads the data's variance (it costs a pass).
    uses_data_variance = False

    def __init__(self, n_features):
        super().__init__()
        self.n_features = int(n_features)

    def link(self, raw):
        """Map the decoder's raw output to the mean of p(x | raw)."""
        raise NotImplementedError

    def inverse_link(self, mean):
        """Map a mean to the raw output that gives it (used to start the decoder)."""
        raise NotImplementedError

    def log_prob(self, raw, x):
        """log p(x | raw) in nats, summed over the last dimension."""
        raise NotImplementedError

    def sample(self, raw, generator):
        """Draw x from p(x | raw), with noise from ``generator`` (a CPU generator)."""
        raise NotImplementedError

    def loss(self, raw, x):
        """Per-row training loss of a point-estimate (deterministic) autoencoder."""
        return -self.log_prob(raw, x)

    def mean_loss(self, raw, x):
        """Batch mean of :meth:`loss`; subclasses may fuse it into one kernel."""
        return self.loss(raw, x).mean()

    def check_values(self, X):
        """Return a message if X holds values this likelihood cannot model, else None.

        ``X`` is a validated numpy array or CSR matrix. The message completes
        ``"likelihood=<name> ..."``.
        """
        return None

    def start(self, mean, variance):
        """Set learned parameters from the data's per-feature mean and variance.

        ``variance`` is None unless :attr:`uses_data_variance` is True.
        """

    def after_reset(self):
        """Re-initialise learned parameters deterministically (see :func:`skae.nn.build`)."""

    def extra_repr(self):
        return f"n_features={self.n_features}"


class Gaussian(Likelihood):
    """Diagonal Gaussian with the decoder's output as mean.

    Parameters
    ----------
    n_features : int
        Width of the data.
    variance : float or "learned", default=1.0
        A float fixes every feature's variance; ``"learned"`` gives one
        variance per feature, independent of the code, learned with the
        network, started at the data's variance (:meth:`start`) and kept
        within [1e-6, 1e6].

    Notes
    -----
    The point-estimate loss is the squared error summed over features,
    the negative log-likelihood at variance 1/2 up to a constant, so
    deterministic models score in the units they always had.
    """

    name = "gaussian"

    def __init__(self, n_features, variance=1.0):
        super().__init__(n_features)
        self.variance = variance
        self.uses_data_variance = variance == "learned"
        if variance == "learned":
            self.logvar = nn.Parameter(torch.zeros(self.n_features))

    def after_reset(self):
        if self.variance == "learned":
            with torch.no_grad():
                self.logvar.zero_()

    def start(self, mean, variance):
        if self.variance == "learned":
            logvar = np.log(np.maximum(np.asarray(variance, dtype=np.float64), 1e-12))
            with torch.no_grad():
                self.logvar.copy_(torch.as_tensor(logvar).clamp(LOGVAR_MIN, LOGVAR_MAX))

    def log_variance(self, like):
        """Per-feature log-variance, in the dtype and on the device of ``like``."""
        if self.variance == "learned":
            return self.logvar.clamp(LOGVAR_MIN, LOGVAR_MAX).to(like.dtype)
        return like.new_full((self.n_features,), math.log(self.variance))

    def link(self, raw):
        return raw

    def inverse_link(self, mean):
        return torch.as_tensor(mean)

    def log_prob(self, raw, x):
        logvar = self.log_variance(raw)
        sq = (x - raw).pow(2) * torch.exp(-logvar)
        return -0.5 * (sq + logvar + _LOG_2PI).sum(dim=-1)

    def loss(self, raw, x):
        return (raw - x).pow(2).sum(dim=-1)

    def mean_loss(self, raw, x):
        return F.mse_loss(raw, x, reduction="sum") / x.shape[0]

    def sample(self, raw, generator):
        std = torch.exp(0.5 * self.log_variance(raw))
        noise = torch.randn(raw.shape, generator=generator, dtype=raw.dtype)
        return raw + std * noise.to(raw.device)

    def extra_repr(self):
        return f"n_features={self.n_features}, variance={self.variance!r}"


class Bernoulli(Likelihood):
    """Independent Bernoulli features; the decoder outputs logits.

    Models data in [0, 1]: binary data, or grey levels read as
    probabilities (then scores are cross-entropies, not log-probabilities of
    the data). The log-probability is computed from the logits, exact and
    stable for any logit.
    """

    name = "bernoulli"

    def link(self, raw):
        return torch.sigmoid(raw)

    def inverse_link(self, mean):
        return logit(mean)

    def log_prob(self, raw, x):
        return -F.binary_cross_entropy_with_logits(raw, x, reduction="none").sum(dim=-1)

    def mean_loss(self, raw, x):
        return F.binary_cross_entropy_with_logits(raw, x, reduction="sum") / x.shape[0]

    def sample(self, raw, generator):
        probs = torch.sigmoid(raw).cpu()
        return torch.bernoulli(probs, generator=generator).to(raw.device)

    def check_values(self, X):
        values = stored_values(X)
        if values.size and (values.min() < 0 or values.max() > 1):
            return (
                f"models values in [0, 1], but X ranges from {float(values.min())!r} to "
                f"{float(values.max())!r}. Rescale it (for example with "
                "sklearn.preprocessing.MinMaxScaler) or use likelihood='gaussian' for "
                "real-valued data."
            )
        return None


#: Likelihoods by the name the estimators' ``likelihood`` parameter takes.
LIKELIHOODS = {cls.name: cls for cls in (Gaussian, Bernoulli)}
