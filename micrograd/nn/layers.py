"""What a layer of a `Sequential` model must provide, and the registry of layer types.

`Sequential`, its `summary()`, the tape that `fit` records and the model file all talk to a layer
only through `SequentialLayer`, so a new layer type is one subclass in one file: give it a
`type_name` (the "type" of its config in a model file) and it is registered, saved and loaded.
(micrograd's own `nn.Layer(nin, nout)`, a row of neurons, is a different thing: `Dense` uses one.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

from ..engine import Parameter, Value
from .initializers import RandomSource
from .mlp import Module

#: Every layer type by its "type" name, filled as the classes are defined.
LAYER_TYPES: dict[str, type[SequentialLayer]] = {}


class SequentialLayer(Module):
    """The contract of a layer in `Sequential`; each method's default suits a layer without weights.

    A layer is made from its settings, then named by the model ("L1", "D1": `name_prefix` and a
    count per type), then built once its input size is known.
    """

    type_name: ClassVar[str] = ""  # the "type" in configs and model files; "" for an abstract class
    name_prefix: ClassVar[str] = "X"  # the model names the layers of this type prefix1, prefix2, ...
    CONFIG_KEYS: ClassVar[tuple[str, ...]] = ()  # the settings `get_config` writes besides "type"
    WEIGHT_KEYS: ClassVar[tuple[str, ...]] = ()  # its entry in a model file's weights (none: no entry)

    input_dim: int | None = None  # a first layer may be told the model's input size, as in Keras
    activation: str | None = None  # what its outputs are (e.g. "softmax"); None: those of its input
    name: str = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.type_name:
            LAYER_TYPES[cls.type_name] = cls

    # -- building -------------------------------------------------------------------------------

    def build(self, nin: int, rng: RandomSource) -> None:
        """Make the weights for inputs of size `nin`, drawing from the model's generator."""

    def output_size(self, nin: int | None) -> int | None:
        """The size of the output for an input of size `nin` (None where not yet known)."""
        return nin

    def count_params(self, nin: int) -> tuple[int, int]:
        """(weights, biases), for `summary()`."""
        return 0, 0

    def parameters(self) -> list[Parameter]:
        return []

    def kernel_parameters(self) -> list[Parameter]:
        """Its weights without its biases (Keras's `kernel`), whose gradient `GradientFlow` records."""
        return []

    # -- running --------------------------------------------------------------------------------

    def __call__(self, x: Sequence[Value], training: bool = False) -> list[Value]:
        """One sample's outputs, in training mode (dropout on) or not."""
        return list(x)

    def fits_tape(self, last: bool) -> bool:
        """True when this layer's graph is the same for every sample (so one recording serves all)."""
        return True

    def record(self, x: list[Value], last: bool) -> tuple[list[Value], list[Value]]:
        """The layer as recorded on the tape: (its outputs, new input leaves it adds to the tape).

        Input leaves are for numbers drawn afresh at every step, such as dropout masks (see `feed`).
        """
        return self(x, training=True), []

    def feed(self, leaves: list[Value], n: int, training: bool) -> dict[Value, Any]:
        """The numbers for this layer's input leaves on a batch of `n` samples."""
        return {}

    def after_tape(self, outputs: list[Value]) -> list[Value]:
        """What the last layer computes per sample after the tape (what `record` left out)."""
        return outputs

    # -- configs and files ----------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """The settings that make this layer again (with its "type"), as a model file stores them."""
        return {"type": self.type_name}

    @classmethod
    def check_config(cls, config: dict[str, Any]) -> str | None:
        """What is wrong with a config read from a file (keys already checked), or None.

        The answer reads after the config's place in the file: "units must be a positive int, got 0".
        """
        return None

    @classmethod
    def upgrade_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        """A config as a version-1 model file wrote it, in today's keys (the same dict if it needs nothing)."""
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SequentialLayer:
        """A new layer from `get_config()`'s dict (the layer's own checks apply)."""
        return cls(**{key: value for key, value in config.items() if key != "type"})

    def weights_to_file(self) -> dict[str, Any]:
        """This layer's entry in a model file's "weights", with the keys `WEIGHT_KEYS` (if any)."""
        return {}

    def weights_from_file(self, entry: Any, nin: int, where: str) -> list[float]:
        """Check this layer's entry (at `where`, e.g. "weights.L1") and return its parameters in order.

        Raises ValueError saying what is wrong; nothing is changed.
        """
        return []

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def layer_type_names() -> str:
    """The registered layer types in words: "Dense and Dropout"."""
    names = list(LAYER_TYPES)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def file_number(x: Any) -> bool:
    """True for a number a model file may hold: a finite float or an int that fits in one."""
    if type(x) is int:
        return abs(x) <= 1e300  # a huge int would overflow the float it becomes
    return type(x) is float and math.isfinite(x)


def file_numbers(where: str, values: Any, n: int) -> list[float]:
    """A JSON list of exactly `n` finite numbers, as floats."""
    if not isinstance(values, list) or len(values) != n:
        got = f"{len(values)} values" if isinstance(values, list) else type(values).__name__
        raise ValueError(f"{where} must list {n} numbers, got {got}")
    for j, x in enumerate(values):
        if not file_number(x):
            raise ValueError(f"{where}[{j}] must be a finite number, got {x!r:.60}")
    return [float(x) for x in values]


__all__ = ["LAYER_TYPES", "SequentialLayer", "file_number", "file_numbers", "layer_type_names"]
