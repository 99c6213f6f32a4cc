"""Training objectives: map a module's output and its input to a loss."""

from torch import nn

from ..losses import RECONSTRUCTION_LOSSES


class ReconstructionObjective(nn.Module):
    """Per-sample reconstruction loss plus any penalty the module reports.

    Parameters
    ----------
    loss : {"squared_error", "binary_crossentropy"}
        ``"squared_error"`` treats the decoder output as the reconstruction;
        ``"binary_crossentropy"`` treats it as Bernoulli logits.
    """

    def __init__(self, loss="squared_error"):
        super().__init__()
        self.loss = loss
        (self._per_sample, self._batch_mean, self._link,
         self._inverse_link) = RECONSTRUCTION_LOSSES[loss]

    def link(self, raw):
        """Map the decoder's raw output to the data-space mean."""
        return self._link(raw)

    def inverse_link(self, mean):
        """Map a data-space mean to the decoder's raw output."""
        return self._inverse_link(mean)

    def per_sample(self, output, x):
        """Loss of each sample: what ``score_samples`` reports, negated.

        Summed in float64, so that a row's score does not depend on which
        other rows share its batch.
        """
        return self._per_sample(output["recon"].double(), x.double())

    def forward(self, output, x):
        loss = self._batch_mean(output["recon"], x)
        penalty = output.get("penalty")
        return loss if penalty is None else loss + penalty
