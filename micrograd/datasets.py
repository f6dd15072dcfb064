"""`from micrograd.datasets import make_moons`: the datasets live in `micrograd.data.datasets`."""

from .data.datasets import *  # noqa: F403
from .data.datasets import __all__  # noqa: F401
