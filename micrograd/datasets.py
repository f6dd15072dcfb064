"""`from micrograd.datasets import make_moons, load_digits`: the datasets live in `micrograd.data`."""

from .data import *  # noqa: F403
from .data import __all__  # noqa: F401
