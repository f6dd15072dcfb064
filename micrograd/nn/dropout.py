"""`Dropout`: during training, zero random inputs (Keras's inverted dropout)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..checks import check_number, check_seed
from ..engine import Value, scope
from .initializers import RandomSource
from .layers import SequentialLayer, file_number


class Dropout(SequentialLayer):
    """During `fit`, set each input to 0 with probability `rate` and scale the rest by 1/(1 - rate).

    Scaling the kept inputs ("inverted dropout", as in Keras) keeps their expected sum, so nothing
    changes when dropout is off: in `evaluate` and `predict` the layer passes its input through.
    Without `seed`, the layer's random generator is seeded from the model's.
    """

    type_name = "Dropout"
    name_prefix = "D"
    CONFIG_KEYS = ("rate", "seed")

    def __init__(self, rate: float, seed: int | None = None) -> None:
        self.rate = check_number("Dropout", "rate", rate, 0.0, 1.0, high_open=True)
        self.seed = check_seed("Dropout", seed, allow_none=True)
        self.name = ""
        self.rng: random.Random | None = None

    def build(self, nin: int, rng: RandomSource) -> None:
        self.rng = random.Random(self.seed if self.seed is not None else rng.getrandbits(64))

    def __call__(self, x: Sequence[Value], training: bool = False) -> list[Value]:
        if not training or self.rate == 0.0:
            return list(x)
        with scope(self.name):
            return [xi * m for xi, m in zip(x, self.draw_mask(len(x)))]

    def draw_mask(self, n: int) -> list[float]:
        """The multipliers for one sample's n inputs: 0 (dropped) or 1/(1 - rate) (kept).

        The one place dropout draws random numbers: one per input, in order, from the layer's
        generator. The scalar engine draws one sample's mask as it builds that sample's graph; the
        tape draws the batch's masks sample after sample: the same numbers either way.
        """
        if self.rng is None:
            raise RuntimeError(f"{self!r} has no random generator yet: the model builds it")
        scale, draw = 1.0 / (1.0 - self.rate), self.rng.random
        return [0.0 if draw() < self.rate else scale for _ in range(n)]

    def record(self, x: list[Value], last: bool) -> tuple[list[Value], list[Value]]:
        """The mask becomes input leaves of the tape, drawn at every step by `feed`."""
        if self.rate == 0.0:
            return list(x), []
        leaves = [Value(1.0, f"{self.name}.mask{j}") for j in range(len(x))]
        with scope(self.name):
            return [xi * m for xi, m in zip(x, leaves)], leaves

    def feed(self, leaves: list[Value], n: int, training: bool) -> dict[Value, Any]:
        if not training:  # no dropout: every mask is 1, and x * 1.0 is x exactly
            return {leaf: 1.0 for leaf in leaves}
        mask = np.array([self.draw_mask(len(leaves)) for _ in range(n)])
        return {leaf: mask[:, j] for j, leaf in enumerate(leaves)}

    def get_config(self) -> dict[str, Any]:
        return {"type": "Dropout", "rate": self.rate, "seed": self.seed}

    @classmethod
    def check_config(cls, config: dict[str, Any]) -> str | None:
        rate, seed = config["rate"], config["seed"]
        if not file_number(rate) or not 0 <= rate < 1:
            return f"rate must be a number in [0, 1), got {rate!r:.60}"
        if seed is not None and type(seed) is not int:
            return f"seed must be an int or null, got {seed!r:.60}"
        return None

    def __repr__(self) -> str:
        return f"Dropout({self.rate})"


__all__ = ["Dropout"]
