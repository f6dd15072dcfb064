"""Training: losses (built from `Value` operations) and what each needs (`losses.Loss`),
optimizers and schedules, metrics, callbacks, and the training loop that `Sequential.fit` runs
(`loop.py`, which knows a model only through a small protocol and so imports no `micrograd.nn`)."""

from .descent import Descent, descend

__all__ = ["Descent", "descend"]
