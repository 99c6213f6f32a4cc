"""Random state: one seeded torch generator per estimator, never the global one."""

import numpy as np
import torch
from sklearn.utils import check_random_state


class TorchRNG:
    """A seeded CPU :class:`torch.Generator` that survives pickling.

    ``torch.Generator`` objects cannot be pickled; this wrapper stores the
    generator's state instead, so a fitted estimator that is pickled and
    trained further with ``partial_fit`` draws the same numbers as one that
    was not.
    """

    def __init__(self, seed):
        self.generator = torch.Generator().manual_seed(int(seed))

    def get_state(self):
        return self.generator.get_state()

    def set_state(self, state):
        self.generator.set_state(state)

    def __getstate__(self):
        # A numpy array rather than the ByteTensor torch returns, so that
        # formats that store arrays but not tensors (skops) can hold it.
        return {"state": self.generator.get_state().numpy()}

    def __setstate__(self, state):
        self.generator = torch.Generator()
        self.generator.set_state(torch.as_tensor(np.asarray(state["state"], dtype=np.uint8)))


def seed_from(random_state):
    """Draw one 31-bit seed from a scikit-learn ``random_state`` value.

    An int or a ``RandomState`` is used as is; ``None`` draws from numpy's
    global generator, as every scikit-learn estimator does.
    """
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
