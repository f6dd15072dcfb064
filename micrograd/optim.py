"""`from micrograd.optim import Adam`, as in PyTorch's `torch.optim`: the optimizers live in
`micrograd.training.optim`."""

from .training.optim import *  # noqa: F403
from .training.optim import __all__  # noqa: F401
