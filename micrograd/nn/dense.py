"""`Dense`: a fully connected layer of a `Sequential` model, as in Keras."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..checks import check_choice, check_int
from ..engine import Parameter, Value, scope
from ..training.losses import softmax
from .initializers import InitializerLike, RandomSource, get_initializer, initializer_config
from .layers import SequentialLayer, file_numbers
from .mlp import ACTIVATIONS, Layer

#: Activations a `Dense` layer accepts: those of a neuron (`ACTIVATIONS`), plus "softmax" over the whole layer.
DENSE_ACTIVATIONS = (*ACTIVATIONS, "softmax")


class Dense(SequentialLayer):
    """A fully connected layer: `units` neurons, each reading every output of the previous layer.

    Its input size comes from the previous layer, from `Sequential(..., input_dim=)`, or from
    `input_dim` here (first layer only), as in Keras. "softmax" turns the layer's outputs into
    probabilities that sum to 1; every other activation applies to each neuron on its own.

    `kernel_initializer` draws the weights, `bias_initializer` the biases, as in Keras: a name of
    `micrograd.nn.initializers.INITIALIZERS` ("glorot_uniform", "he_normal", "zeros", ...) or an
    initializer (`RandomNormal(stddev=1.0)`). The weights start as micrograd's do, U(−1, 1)
    ("uniform"), and the biases at 0. `init` is micrograd's name for the kernel's (`MLP(init=)`).
    """

    type_name = "Dense"
    name_prefix = "L"  # "L1", "L2", ...: the labels of its parameters ("L1.N0.w2")
    CONFIG_KEYS = ("units", "activation", "kernel_initializer", "bias_initializer")
    WEIGHT_KEYS = ("w", "b")
    activation: str  # always set: "linear", an activation of ACTIVATIONS, or "softmax"

    def __init__(
        self,
        units: int,
        activation: str = "linear",
        kernel_initializer: InitializerLike = "uniform",
        bias_initializer: InitializerLike = "zeros",
        input_dim: int | None = None,
        *,
        init: InitializerLike | None = None,
    ) -> None:
        self.units = check_int("", "units", units)
        self.activation = check_choice("Dense", "activation", activation, DENSE_ACTIVATIONS)
        if init is not None:
            if kernel_initializer != "uniform":
                raise TypeError("Dense: give kernel_initializer or init (its micrograd name), not both")
            kernel_initializer = init
        kernel = get_initializer("Dense", "init" if init is not None else "kernel_initializer", kernel_initializer)
        bias = get_initializer("Dense", "bias_initializer", bias_initializer)
        # kept by name when given one (the config shows "xavier" as written), else as the object
        self.kernel_initializer: InitializerLike = kernel_initializer if isinstance(kernel_initializer, str) else kernel
        self.bias_initializer: InitializerLike = bias_initializer if isinstance(bias_initializer, str) else bias
        if activation == "softmax" and self.units == 1:
            raise ValueError("Dense: softmax over 1 unit always outputs 1; for one output use activation='sigmoid'")
        self.input_dim = None if input_dim is None else check_int("", "input_dim", input_dim)
        self.name = ""
        self.layer: Layer | None = None  # the neurons, made by `build` once the input size is known

    def _built(self) -> Layer:
        if self.layer is None:
            raise RuntimeError(f"{self!r} has no weights yet: the model builds it once its input size is known")
        return self.layer

    def build(self, nin: int, rng: RandomSource) -> None:
        neuron_activation = "linear" if self.activation == "softmax" else self.activation
        self.layer = Layer(
            nin,
            self.units,
            neuron_activation,
            init=self.kernel_initializer,
            bias_init=self.bias_initializer,
            seed=rng,
            name=self.name,
        )

    def output_size(self, nin: int | None) -> int:
        return self.units

    def count_params(self, nin: int) -> tuple[int, int]:
        """(weights, biases): nin × units weights and one bias per neuron."""
        return nin * self.units, self.units

    def parameters(self) -> list[Parameter]:
        return self.layer.parameters() if self.layer is not None else []

    def kernel_parameters(self) -> list[Parameter]:
        """The neurons' weights, neuron by neuron, without the biases."""
        return [w for neuron in self.layer.neurons for w in neuron.w] if self.layer is not None else []

    def __call__(self, x: Sequence[Value], training: bool = False) -> list[Value]:
        return self.after_tape(self._built().outputs(x))

    # A softmax subtracts the largest score, a number taken from the data: a softmax layer's graph
    # differs from sample to sample. As the last layer it runs per sample after the tape.

    def fits_tape(self, last: bool) -> bool:
        return last or self.activation != "softmax"

    def record(self, x: list[Value], last: bool) -> tuple[list[Value], list[Value]]:
        return (self._built().outputs(x) if last else self(x)), []

    def after_tape(self, outputs: list[Value]) -> list[Value]:
        if self.activation != "softmax":
            return outputs
        with scope(self.name):
            return softmax(outputs)

    # -- configs and files ----------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        return {
            "type": "Dense",
            "units": self.units,
            "activation": self.activation,
            "kernel_initializer": initializer_config(self.kernel_initializer),
            "bias_initializer": initializer_config(self.bias_initializer),
        }

    @classmethod
    def upgrade_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        """Version-1 files named the kernel's initialiser "init"; their biases started at 0."""
        if "init" not in config or "kernel_initializer" in config or "bias_initializer" in config:
            return config
        upgraded = {key: value for key, value in config.items() if key != "init"}
        return {**upgraded, "kernel_initializer": config["init"], "bias_initializer": "zeros"}

    @classmethod
    def check_config(cls, config: dict[str, Any]) -> str | None:
        if type(config["units"]) is not int or config["units"] < 1:
            return f"units must be a positive int, got {config['units']!r:.60}"
        if config["activation"] not in DENSE_ACTIVATIONS:
            return f"activation {config['activation']!r:.60} is not one of {', '.join(DENSE_ACTIVATIONS)}"
        for key in ("kernel_initializer", "bias_initializer"):
            try:
                get_initializer("", key, config[key])
            except (TypeError, ValueError) as err:
                return str(err)
        return None

    def weights_to_file(self) -> dict[str, Any]:
        """One row of weights per neuron, and the biases."""
        return {
            "w": [[w.data for w in neuron.w] for neuron in self._built().neurons],
            "b": [neuron.b.data for neuron in self._built().neurons],
        }

    def weights_from_file(self, entry: Any, nin: int, where: str) -> list[float]:
        units = self.units
        if not isinstance(entry["w"], list) or len(entry["w"]) != units:
            got = f"{len(entry['w'])} rows" if isinstance(entry["w"], list) else type(entry["w"]).__name__
            raise ValueError(f"{where}.w must have one row per neuron ({units}), got {got}")
        biases = file_numbers(f"{where}.b", entry["b"], units)
        flat: list[float] = []
        for k, row in enumerate(entry["w"]):
            flat += file_numbers(f"{where}.w[{k}]", row, nin)  # a neuron: its weights,
            flat.append(biases[k])  # then its bias, the order of parameters()
        return flat

    def __repr__(self) -> str:
        return f"Dense({self.units}, activation={self.activation!r})"


__all__ = ["DENSE_ACTIVATIONS", "Dense"]
