"""The semi-supervised variational autoencoder M2 of Kingma et al. (2014).

The label is a latent variable beside z: a classifier q(y | x), an encoder
q(z | x, y) and a decoder p(x | y, z). A labelled row is explained with its
label; an unlabelled one with every label, weighted by the classifier.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

from .classifier import UNLABELED, CountsErrors
from .functional import gaussian_kl
from .mlp import make_mlp
from .vae import LOGVAR_BOUND


class LabelledVAE(nn.Module):
    """Classifier q(y|x), encoder q(z|x, y) and decoder p(x|y, z) (Kingma's M2).

    Parameters
    ----------
    n_features : int
        Width of the input.
    n_components : int
        Dimension of z.
    n_classes : int
        Number of classes of y.
    hidden_layer_sizes : sequence of int, default=(100,)
        Widths of the hidden layers of the classifier and of the encoder;
        the decoder uses them in reverse order.
    activation : str, default="relu"
        Hidden activation (see :data:`skae.nn.ACTIVATIONS`).

    Notes
    -----
    ``forward`` returns the class ``"logits"`` of shape ``(n, n_classes)``
    and, for every row and every class, the posterior's ``"mu"`` and
    ``"logvar"`` (``(n, n_classes, n_components)``) and the decoder's raw
    output for one draw of z, ``"recon"`` (``(n, n_classes, n_features)``).
    In training mode the draws come from the ``generator`` passed to
    ``forward``; in evaluation mode z is the posterior mean, so that outputs
    are deterministic.
    """

    def __init__(self, n_features, n_components, n_classes, hidden_layer_sizes=(100,),
                 activation="relu"):
        super().__init__()
        hidden = list(hidden_layer_sizes)
        self.n_classes = n_classes
        self.n_components = n_components
        self.classifier = make_mlp([n_features, *hidden, n_classes], activation)
        self.trunk = make_mlp([n_features + n_classes, *hidden], activation, activate_last=True)
        width = hidden[-1]
        self.mu_head = nn.Linear(width, n_components)
        self.logvar_head = nn.Linear(width, n_components)
        self.decoder = make_mlp([n_components + n_classes, *hidden[::-1], n_features],
                                activation)

    def set_output_bias(self, bias):
        """Start the decoder at a given raw output, e.g. the data mean."""
        out = self.decoder[-1].bias
        with torch.no_grad():
            out.copy_(torch.as_tensor(bias, device=out.device))

    def logits(self, x):
        """Unnormalised log q(y | x)."""
        return self.classifier(x)

    def _one_hot(self, n, dtype, device):
        """Every class for each of ``n`` rows: ``(n, n_classes, n_classes)``."""
        eye = torch.eye(self.n_classes, dtype=dtype, device=device)
        return eye.expand(n, -1, -1)

    def encode_stats(self, x, labels):
        """Mean and log-variance of q(z | x, y) for one-hot ``labels`` ``(n, k, n_classes)``."""
        inputs = torch.cat([x.unsqueeze(1).expand(-1, labels.shape[1], -1), labels], dim=-1)
        h = self.trunk(inputs)
        logvar = LOGVAR_BOUND * torch.tanh(self.logvar_head(h) / LOGVAR_BOUND)
        return self.mu_head(h), logvar

    def encode(self, x):
        """Posterior mean of z given x and its most probable class."""
        labels = F.one_hot(self.logits(x).argmax(dim=1), self.n_classes).to(x.dtype)
        return self.encode_stats(x, labels.unsqueeze(1))[0][:, 0]

    def decode(self, z, labels):
        """Decoder's raw output for codes ``z`` and one-hot ``labels`` (same leading shape)."""
        return self.decoder(torch.cat([z, labels], dim=-1))

    def forward(self, x, generator=None):
        labels = self._one_hot(x.shape[0], x.dtype, x.device)
        mu, logvar = self.encode_stats(x, labels)
        z = mu
        if self.training:
            eps = torch.randn(mu.shape, generator=generator).to(mu.device, mu.dtype)
            z = mu + torch.exp(0.5 * logvar) * eps
        return {"logits": self.logits(x), "mu": mu, "logvar": logvar,
                "recon": self.decode(z, labels), "input": x}


class LabelledELBOObjective(CountsErrors, nn.Module):
    """Kingma et al.'s (2014) M2 objective, per row, in nats.

    For a labelled row, the negative ELBO of ``(x, y)`` plus ``alpha``
    times the classifier's cross-entropy; for an unlabelled row, the
    negative ELBO of each class weighted by q(y | x), minus the entropy of
    q(y | x). The prior on y is uniform, which adds ``log n_classes``. The
    loss is the mean over the batch.

    Parameters
    ----------
    likelihood : Likelihood
        The decoder's distribution p(x | y, z).
    alpha : float, default=1.0
        Weight of the cross-entropy of the labelled rows.
    """

    def __init__(self, likelihood, alpha=1.0):
        super().__init__()
        self.likelihood = likelihood
        self.alpha = float(alpha)

    def class_bounds(self, output):
        """Negative ELBO of each row under each class: ``(n, n_classes)``."""
        x = output["input"]
        raw = output["recon"]
        log_px = self.likelihood.log_prob(raw, x.unsqueeze(1).to(raw.dtype).expand_as(raw))
        kl = gaussian_kl(output["mu"].flatten(0, 1), output["logvar"].flatten(0, 1))
        return kl.view(log_px.shape) - log_px + math.log(raw.shape[1])

    def per_sample(self, output, target):
        bounds = self.class_bounds(output)
        logits = output["logits"]
        log_q = torch.log_softmax(logits, dim=1)
        q = log_q.exp()
        unlabelled = (q * bounds).sum(dim=1) + (q * log_q).sum(dim=1)
        labelled = target != UNLABELED
        index = target.clamp(min=0).unsqueeze(1)
        labelled_loss = (bounds.gather(1, index).squeeze(1)
                         - self.alpha * log_q.gather(1, index).squeeze(1))
        return torch.where(labelled, labelled_loss, unlabelled)

    def forward(self, output, target):
        return self.per_sample(output, target).mean()
