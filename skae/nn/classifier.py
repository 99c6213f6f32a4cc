"""A classifier on an autoencoder's encoder, and the objective that trains it."""

import torch
from torch import nn
from torch.nn import functional as F

#: The class index of a row without a label (scikit-learn's semi-supervised
#: convention, after encoding the classes as 0, 1, ...).
UNLABELED = -1


class EncoderClassifier(nn.Module):
    """A softmax head on the code of an autoencoder's encoder.

    The autoencoder is kept whole, so that it can be pretrained on its own
    (its parameters are the classifier's) and so that fine-tuning may keep
    reconstructing.

    Parameters
    ----------
    autoencoder : Autoencoder
        Its ``encode`` gives the features the head classifies.
    code_width : int
        Width of the code.
    n_classes : int
        Number of classes: the head's width.
    reconstruct : bool, default=False
        Also decode every code in ``forward`` (for an objective with a
        reconstruction term).

    Notes
    -----
    ``forward`` returns a dict with the ``"code"``, the class ``"logits"``
    and, with ``reconstruct``, the decoder's raw output ``"recon"`` and the
    ``"input"`` it reconstructs.
    """

    def __init__(self, autoencoder, code_width, n_classes, *, reconstruct=False):
        super().__init__()
        self.autoencoder = autoencoder
        self.head = nn.Linear(code_width, n_classes)
        self.reconstruct = bool(reconstruct)

    def set_output_bias(self, bias):
        """Start the decoder's output at ``bias`` (see :class:`Autoencoder`)."""
        self.autoencoder.set_output_bias(bias)

    def encode(self, x):
        """Map inputs to codes."""
        return self.autoencoder.encode(x)

    def decode(self, z):
        """Map codes to the decoder's raw output."""
        return self.autoencoder.decode(z)

    def logits(self, x):
        """Unnormalised class log-probabilities."""
        return self.head(self.encode(x))

    def forward(self, x, generator=None):
        # ``generator`` is accepted for the uniform call signature of skae's
        # modules; this one draws nothing.
        code = self.encode(x)
        out = {"code": code, "logits": self.head(code)}
        if self.reconstruct:
            out["recon"] = self.decode(code)
            out["input"] = x
        return out


class CountsErrors:
    """Gives an objective ``count_errors``: what a net records as ``valid_error``."""

    def count_errors(self, output, target):
        """Misclassified and labelled rows of a batch, as a tensor of two counts."""
        labelled = target != UNLABELED
        wrong = (output["logits"].argmax(dim=1) != target) & labelled
        return torch.stack([wrong.sum(), labelled.sum()])


class ClassificationObjective(CountsErrors, nn.Module):
    """Cross-entropy on the labelled rows, plus an optional reconstruction term.

    Parameters
    ----------
    likelihood : Likelihood
        Scores reconstructions (with :meth:`Likelihood.mean_loss`).
    reconstruction_weight : float, default=0.0
        Weight of the reconstruction term, the mean loss over every row of
        the batch, labelled or not.

    Notes
    -----
    The target is each row's class index, :data:`UNLABELED` for a row
    without a label. The cross-entropy is the mean over the batch's
    labelled rows (zero for a batch without any), in nats.
    """

    def __init__(self, likelihood, reconstruction_weight=0.0):
        super().__init__()
        self.likelihood = likelihood
        self.reconstruction_weight = float(reconstruction_weight)

    def forward(self, output, target):
        logits = output["logits"]
        labelled = (target != UNLABELED).sum().clamp(min=1)
        loss = F.cross_entropy(logits, target, ignore_index=UNLABELED,
                               reduction="sum") / labelled
        if self.reconstruction_weight > 0 and "recon" in output:
            reconstruction = self.likelihood.mean_loss(output["recon"], output["input"])
            loss = loss + self.reconstruction_weight * reconstruction
        return loss
