"""Neurons, layers and multi-layer perceptrons built from `Value`s, in micrograd's style.

Every parameter is a `Parameter` with a readable label (`L1.N0.w2`), and every node a neuron
builds is recorded under the neuron's scope, so a drawing can group and name them.
"""

from __future__ import annotations

import collections.abc
import random
from collections.abc import Callable, Sequence
from typing import Any

from ..checks import check_bool, check_choice, check_int, check_seed
from ..engine import Parameter, Value, scope, unary_op, weighted_sum
from ..engine.ops import OPS
from .initializers import INITIALIZERS, InitializerLike, RandomSource, get_initializer

Number = int | float


# The activations a neuron accepts by name: "linear" (the identity), then every op of
# micrograd.engine.ops that declares itself an activation (`Op.activation`), in its declared place.
_ACTIVATION_OPS = sorted((op for op in OPS.values() if op.activation is not None), key=lambda op: op.activation or 0)
ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "linear": lambda v: v,
    **{op.name: unary_op(op.name) for op in _ACTIVATION_OPS},  # leaky_relu's slope: 0.01
}

#: The initialisers a model takes by name (`init=`, `bias_init=`; see `micrograd.nn.initializers`).
INITS = tuple(INITIALIZERS)


#: A model's `seed=`: None (Python's global `random`), an int, or a generator to draw from.
Seed = int | RandomSource | None


def manual_seed(seed: int) -> None:
    """Seed Python's global `random`, which models built without `seed=` draw from, as
    `torch.manual_seed` seeds PyTorch's global generator (`random.seed(seed)` does the same)."""
    random.seed(check_seed("manual_seed", seed))


def rng_from_seed(seed: Seed) -> RandomSource:
    """What a model draws its initial weights from.

    None: Python's global `random`, as micrograd does, so `random.seed(1337)` before
    `MLP(2, [16, 16, 1])` gives micrograd's own weights (and its demo's published losses). An int:
    a generator of the model's own, which nothing else moves. A `random.Random`: that generator.
    """
    if seed is None or seed is random:
        return random
    if isinstance(seed, random.Random):
        return seed
    return random.Random(check_seed("", seed))


def _check_activation(name: str) -> Callable[[Value], Value]:
    return ACTIVATIONS[check_choice("", "activation", name, ACTIVATIONS)]


def _micrograd_nonlin(activation: str | bool, nonlin: bool | None) -> str:
    """The activation's name, from ours ("relu") or from micrograd's `nonlin` flag (True/False)."""
    if isinstance(activation, bool):  # Neuron(3, False): micrograd's positional nonlin
        if nonlin is not None:
            raise TypeError("give the activation or micrograd's nonlin, not both")
        nonlin = activation
    elif nonlin is None:
        return activation
    elif activation != "relu":
        raise TypeError(f"give activation={activation!r} or micrograd's nonlin={nonlin!r}, not both")
    return "relu" if check_bool("", "nonlin", nonlin) else "linear"


class Module:
    """Anything with parameters: a neuron, a layer, a model."""

    def parameters(self) -> list[Parameter]:
        return []

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0, before the next `backward()`."""
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    """activation(w · x + b): one weight per input and a bias.

    The weights are drawn by `init` (micrograd's U(−1, 1) unless told otherwise), then the bias by
    `bias_init` (0 unless told otherwise); `fan_out`, the size of the neuron's layer, is what
    Glorot's formulas read. micrograd's `Neuron(nin, nonlin=True)` works too: nonlin=True is
    "relu", False is "linear".
    """

    def __init__(
        self,
        nin: int,
        activation: str | bool = "relu",
        *,
        nonlin: bool | None = None,
        init: InitializerLike = "uniform",
        bias_init: InitializerLike = "zeros",
        seed: Seed = None,
        name: str = "N",
        fan_out: int = 1,
    ) -> None:
        check_int("", "nin", nin)
        activation = _micrograd_nonlin(activation, nonlin)
        draw_w = get_initializer("", "init", init)
        draw_b = get_initializer("", "bias_init", bias_init)
        self.activation = activation
        self._activate = _check_activation(activation)
        self.name = name
        rng = rng_from_seed(seed)
        self.w = [Parameter(draw_w(rng, nin, fan_out), f"{name}.w{i}") for i in range(nin)]
        self.b = Parameter(draw_b(rng, nin, fan_out), f"{name}.b")

    @property
    def nonlin(self) -> bool:
        """micrograd's flag: True unless the neuron is linear."""
        return self.activation != "linear"

    # Pickled and deep-copied by the activation's name: the function itself (a lambda for
    # "linear", a closure for an op) cannot be pickled.
    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        del state["_activate"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._activate = _check_activation(self.activation)

    def __call__(self, x: Sequence[Value | Number]) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"{self.name} expects {len(self.w)} inputs, got {len(x)}")
        with scope(self.name):
            # b + w0·x0 + w1·x1 + ..., summed in micrograd's order
            return self._activate(weighted_sum(self.b, self.w, x))

    def parameters(self) -> list[Parameter]:
        return [*self.w, self.b]

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)}, activation={self.activation!r})"


class Layer(Module):
    """`nout` neurons that all read the same inputs. Calling it returns their outputs, a list, or
    the one Value when `nout` is 1, as micrograd's `Layer` does (`outputs(x)` is always a list).
    micrograd's `Layer(nin, nout, nonlin=False)` works too."""

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str | bool = "relu",
        *,
        nonlin: bool | None = None,
        init: InitializerLike = "uniform",
        bias_init: InitializerLike = "zeros",
        seed: Seed = None,
        name: str = "L",
    ) -> None:
        check_int("", "nin", nin)
        check_int("", "nout", nout)
        activation = _micrograd_nonlin(activation, nonlin)
        rng = rng_from_seed(seed)
        self.name = name
        self.neurons = [
            Neuron(nin, activation, init=init, bias_init=bias_init, seed=rng, name=f"{name}.N{i}", fan_out=nout)
            for i in range(nout)
        ]

    def __call__(self, x: Sequence[Value | Number]) -> Value | list[Value]:
        out = self.outputs(x)
        return out[0] if len(out) == 1 else out

    def outputs(self, x: Sequence[Value | Number]) -> list[Value]:
        """Each neuron's output, as a list (also for one neuron)."""
        return [neuron(x) for neuron in self.neurons]

    def parameters(self) -> list[Parameter]:
        return [p for neuron in self.neurons for p in neuron.parameters()]

    @property
    def nin(self) -> int:
        return len(self.neurons[0].w)

    @property
    def activation(self) -> str:
        return self.neurons[0].activation

    def __repr__(self) -> str:
        return f"Layer({self.nin}, {len(self.neurons)}, activation={self.activation!r})"


class MLP(Module):
    """A multi-layer perceptron: `MLP(3, [4, 4, 1])` has layers L1 (3→4), L2 (4→4), L3 (4→1).

    Every layer draws its weights by `init` and its biases by `bias_init` (a name of
    `micrograd.nn.initializers.INITIALIZERS` or an initializer object).

    Hidden layers use `activation`, the last layer `output_activation` (linear by default, as in
    micrograd). Calling it returns a single Value when the last layer has one neuron.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "relu",
        output_activation: str = "linear",
        *,
        init: InitializerLike = "uniform",
        bias_init: InitializerLike = "zeros",
        seed: Seed = None,
    ) -> None:
        check_int("", "nin", nin)
        is_list = isinstance(nouts, collections.abc.Sequence) and not isinstance(nouts, str)
        if not is_list or not nouts:
            message = f"nouts must list at least one layer size, e.g. MLP(3, [4, 4, 1]); got {nouts!r:.60}"
            raise (ValueError if is_list else TypeError)(message)
        _check_activation(activation)
        _check_activation(output_activation)
        rng = rng_from_seed(seed)
        sizes = [nin, *nouts]
        self.layers = [
            Layer(
                sizes[i],
                sizes[i + 1],
                activation if i < len(nouts) - 1 else output_activation,
                init=init,
                bias_init=bias_init,
                seed=rng,
                name=f"L{i + 1}",
            )
            for i in range(len(nouts))
        ]

    def __call__(self, x: Sequence[Value | Number]) -> Value | list[Value]:
        out = self.layers[0].outputs(x)
        for layer in self.layers[1:]:
            out = layer.outputs(out)
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Parameter]:
        return [p for layer in self.layers for p in layer.parameters()]

    def to_torch(self, dtype: Any = None) -> Any:
        """A `torch.nn.Sequential` with these weights whose outputs are `model(x)`'s (float64 unless
        `dtype` says otherwise): each layer is a `torch.nn.Linear` and its activation's module.
        Needs PyTorch (`pip install "micrograd-lab[torch]"`); see `micrograd.nn.torch_export`."""
        from .torch_export import to_torch

        return to_torch(self, dtype)

    def to_keras(self) -> Any:
        """A `keras.Sequential` (float64, Keras 3 on PyTorch) with these weights whose outputs are
        `model(x)`'s to about 1e-7 (Keras multiplies float64 matrices in float32): each layer is a
        `keras.layers.Dense` (kernel: the neurons' weights transposed).
        Needs Keras (`pip install "micrograd-lab[keras]"`); see `micrograd.nn.keras_export`."""
        from .keras_export import to_keras

        return to_keras(self)

    def __repr__(self) -> str:
        shape = " → ".join(
            [str(self.layers[0].nin)] + [f"{len(layer.neurons)} {layer.activation}" for layer in self.layers]
        )
        return f"MLP({shape}; {len(self.parameters())} parameters)"


__all__ = [
    "ACTIVATIONS",
    "INITS",
    "MLP",
    "Layer",
    "Module",
    "Neuron",
    "RandomSource",
    "Seed",
    "manual_seed",
    "rng_from_seed",
]
