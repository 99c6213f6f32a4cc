"""The gate of skae's numpy fast paths for inference on the CPU."""

import torch

#: Tensor dtypes numpy can view; others (bfloat16) stay in torch.
_NUMPY_FLOATS = (torch.float32, torch.float64)


def numpy_view(tensor):
    """The numpy array sharing ``tensor``'s memory, or None.

    Some inference steps (top-k selection, least-squares refits) are
    several times faster in numpy than in torch on small CPU arrays. They
    may only take that path for a plain CPU tensor of a dtype numpy has,
    that needs no gradient: integer index tensors pass as well. Everything
    else (GPU tensors, tensors that need gradients, bfloat16, tensors wrapped
    by torch.func transforms) gets None and the caller's torch path.
    """
    if (tensor.requires_grad or tensor.device.type != "cpu"
            or (tensor.is_floating_point() and tensor.dtype not in _NUMPY_FLOATS)):
        return None
    try:
        return tensor.numpy()
    except RuntimeError:  # a torch.func wrapper (vmap, jacfwd) has no numpy view
        return None
