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

    def in_mean_units(self, x):
        """Rows of data in the units of :meth:`link`'s output (the data themselves)."""
        return x

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
    variance : float, "learned" or "shared", default=1.0
        A float fixes every feature's variance. ``"learned"`` gives one
        variance per feature, ``"shared"`` one variance for all features
        (the isotropic noise of probabilistic PCA); either is independent of
        the code, learned with the network, started at the data's variance
        (per feature, or its mean over features; :meth:`start`) and kept
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
        self.uses_data_variance = variance in ("learned", "shared")
        if self.uses_data_variance:
            width = self.n_features if variance == "learned" else 1
            self.logvar = nn.Parameter(torch.zeros(width))

    def after_reset(self):
        if self.uses_data_variance:
            with torch.no_grad():
                self.logvar.zero_()

    def start(self, mean, variance):
        if self.uses_data_variance:
            variance = np.asarray(variance, dtype=np.float64)
            if self.variance == "shared":
                variance = variance.mean(keepdims=True)
            logvar = np.log(np.maximum(variance, 1e-12))
            with torch.no_grad():
                self.logvar.copy_(torch.as_tensor(logvar).clamp(LOGVAR_MIN, LOGVAR_MAX))

    def log_variance(self, like):
        """Per-feature log-variance, in the dtype and on the device of ``like``."""
        if self.uses_data_variance:
            logvar = self.logvar.clamp(LOGVAR_MIN, LOGVAR_MAX).to(like.dtype)
            return logvar.expand(self.n_features)
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


def count_problem(X, *, integer):
    """Why X cannot be counts (a message completing "likelihood=<name> ..."), or None.

    Negative values are refused; with ``integer``, so are fractional ones.
    Reads only the stored values (``.data`` of a sparse matrix).
    """
    values = stored_values(X).ravel()
    if not values.size:
        return None
    low = float(values.min())
    if low < 0:
        return (
            f"models non-negative counts, but X holds negative values (the smallest is "
            f"{low!r}). Pass the raw counts (clicks, plays, word counts), not centred or "
            "standardised data."
        )
    if integer:
        fractional = values != np.round(values)
        if fractional.any():
            first = float(values[np.argmax(fractional)])
            return (
                f"models counts, which are whole numbers, but X holds {int(fractional.sum())} "
                f"fractional value(s), such as {first!r}. Pass the raw counts, or use "
                "likelihood='multinomial', which accepts non-negative weights."
            )
    return None


class Multinomial(Likelihood):
    r"""Multinomial over the features, with each row's own total; the decoder outputs logits.

    A row x of counts (clicks on items, words of a document) with total
    ``N = sum(x)`` is modelled as ``N`` independent draws from the
    categorical distribution ``p = softmax(raw)``: what the decoder learns
    is how a row's total is shared among the features, not the total
    itself. This is the likelihood of Mult-DAE and Mult-VAE (Liang et al.,
    2018) and of neural topic models such as ProdLDA (Srivastava & Sutton,
    2017).

    Parameters
    ----------
    n_features : int
        Width of the data (the number of categories).

    Attributes
    ----------
    total_count : torch.Tensor
        A buffer: the total that :meth:`sample` draws for each row, set by
        :meth:`start` to the training rows' mean total, rounded (at least 1).

    Notes
    -----
    :meth:`log_prob` is the multinomial log-probability in nats,

    .. math::

        \log p(x) = \log \frac{N!}{\prod_j x_j!} + \sum_j x_j \log p_j,

    the sum of the log-softmax weighted by the counts plus the multinomial
    coefficient, so that scores are true log-probabilities of count data
    and agree with :class:`torch.distributions.Multinomial`. The
    coefficient does not depend on the network: it shifts the loss, not its
    gradients. Non-integer weights (tf-idf, ratings) are accepted, with the
    coefficient computed through the gamma function; the score is then a
    weighted cross-entropy rather than a log-probability.

    :meth:`link` returns the probabilities ``p``, so ``inverse_transform``
    gives each row's share of every feature (summing to 1), not counts:
    multiply by a row's total for expected counts. Ranking them ranks the
    items a recommender proposes. :meth:`inverse_link` maps the data's
    per-feature mean to the log of its shares, so the decoder starts at the
    features' popularity.
    """

    name = "multinomial"

    def __init__(self, n_features):
        super().__init__(n_features)
        self.register_buffer("total_count", torch.ones((), dtype=torch.float64))

    def after_reset(self):
        self.total_count.fill_(1.0)

    def start(self, mean, variance):
        total = float(np.sum(np.asarray(mean, dtype=np.float64)))
        self.total_count.fill_(max(1.0, round(total)))

    def link(self, raw):
        return torch.softmax(raw, dim=-1)

    def in_mean_units(self, x):
        # The mean is each row's shares of its total; empty rows stay zero.
        total = x.sum(dim=-1, keepdim=True)
        return x / torch.where(total > 0, total, torch.ones_like(total))

    def inverse_link(self, mean):
        mean = torch.as_tensor(mean, dtype=torch.float64)
        share = mean / mean.sum().clamp_min(torch.finfo(torch.float64).tiny)
        # Features never seen start far down, not at -inf.
        return torch.log(share.clamp_min(1e-8)).to(torch.float32)

    def log_prob(self, raw, x):
        x = x.to(raw.dtype)
        total = x.sum(dim=-1)
        coefficient = torch.lgamma(total + 1) - torch.lgamma(x + 1).sum(dim=-1)
        return coefficient + (x * torch.log_softmax(raw, dim=-1)).sum(dim=-1)

    def sample(self, raw, generator):
        probs = torch.softmax(raw.detach(), dim=-1).cpu().reshape(-1, raw.shape[-1])
        n = int(self.total_count)
        draws = torch.multinomial(probs.float(), n, replacement=True, generator=generator)
        counts = torch.zeros(probs.shape, dtype=raw.dtype)
        counts.scatter_add_(1, draws, torch.ones(draws.shape, dtype=raw.dtype))
        return counts.reshape(raw.shape).to(raw.device)

    def check_values(self, X):
        return count_problem(X, integer=False)

    def extra_repr(self):
        return f"n_features={self.n_features}, total_count={int(self.total_count)}"


class Poisson(Likelihood):
    """Independent Poisson counts; the decoder outputs log-rates.

    Each feature of a row is a count drawn from a Poisson distribution
    whose rate is the exponential of the decoder's output. Unlike
    :class:`Multinomial`, the model predicts each row's total as well as
    how it is shared. Values must be non-negative whole numbers.

    Notes
    -----
    :meth:`log_prob` is the Poisson log-probability in nats,
    ``x * raw - exp(raw) - log(x!)`` summed over features, as
    :class:`torch.distributions.Poisson` gives; :meth:`link` is ``exp``, so
    ``inverse_transform`` returns expected counts, and :meth:`inverse_link`
    starts the decoder at the log of each feature's mean count.
    """

    name = "poisson"

    def link(self, raw):
        return torch.exp(raw)

    def inverse_link(self, mean):
        mean = torch.as_tensor(mean, dtype=torch.float64)
        return torch.log(mean.clamp_min(1e-8)).to(torch.float32)

    def log_prob(self, raw, x):
        x = x.to(raw.dtype)
        return (x * raw - torch.exp(raw) - torch.lgamma(x + 1)).sum(dim=-1)

    def sample(self, raw, generator):
        rate = torch.exp(raw.detach()).cpu()
        return torch.poisson(rate, generator=generator).to(raw.device)

    def check_values(self, X):
        return count_problem(X, integer=True)


#: Likelihoods by the name the estimators' ``likelihood`` parameter takes.
LIKELIHOODS = {cls.name: cls for cls in (Gaussian, Bernoulli, Multinomial, Poisson)}
