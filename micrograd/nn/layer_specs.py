"""A model as plain layer descriptions: what the exporters (PyTorch, Keras) write out and read back.

`model_specs` describes an `MLP` or a `Sequential` layer by layer; `to_torch`, `to_keras` turn the
descriptions into the other framework's layers, and `from_torch`/`from_keras` read them back into
the same descriptions, from which `Sequential` builds itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, cast

from ..engine.ops import OPS

if TYPE_CHECKING:  # only for the annotations: mlp.py and sequential.py import the exporters
    from .mlp import MLP
    from .sequential import Sequential

__all__ = ["ELU_ALPHA", "LEAKY_SLOPE", "NOT_EXPORTED", "DenseSpec", "DropoutSpec", "model_specs"]

#: The parameters a model's activations take by name (`ACTIVATIONS`): the ops' defaults.
LEAKY_SLOPE: float = OPS["leaky_relu"].parameter.default  # type: ignore[union-attr, assignment]
ELU_ALPHA: float = OPS["elu"].parameter.default  # type: ignore[union-attr, assignment]


#: The activations of ours that neither PyTorch nor Keras has as a layer, and why: both exporters
#: refuse a model that uses one, naming the layer (`model_specs`).
NOT_EXPORTED: dict[str, str] = {
    "step": "PyTorch and Keras have no step (Heaviside) layer, and torch.heaviside has no derivative "
    "(step's is 0, so no framework trains it by gradient descent; the perceptron has its own rule)",
}


class DenseSpec(NamedTuple):
    """A fully connected layer and its activation: what a `Dense` is made from."""

    units: int
    activation: str
    weights: list[list[float]]  # one row per neuron
    biases: list[float]


class DropoutSpec(NamedTuple):
    rate: float


def model_specs(model: MLP | Sequential, what: str) -> tuple[int, list[DenseSpec | DropoutSpec]]:
    """(input size, the layers in order) of an `MLP` or a built `Sequential` of Dense and Dropout
    layers; a TypeError names any other layer, a ValueError a layer whose activation the other
    frameworks lack (`NOT_EXPORTED`); `what` is the caller, for the messages."""
    if hasattr(model, "require_built"):
        nin, specs = _sequential_specs(cast("Sequential", model), what)
        names = [str(position) for position in range(len(specs))]
    else:
        nin, specs = _mlp_specs(model)
        names = [layer.name for layer in model.layers]
    for name, spec in zip(names, specs):
        if isinstance(spec, DenseSpec) and spec.activation in NOT_EXPORTED:
            raise ValueError(
                f"{what}: layer {name} uses the {spec.activation} activation, which cannot be exported: "
                f"{NOT_EXPORTED[spec.activation]}"
            )
    return nin, specs


def _mlp_specs(mlp: MLP) -> tuple[int, list[DenseSpec | DropoutSpec]]:
    specs: list[DenseSpec | DropoutSpec] = []
    for layer in mlp.layers:
        rows = [[w.data for w in neuron.w] for neuron in layer.neurons]
        specs.append(DenseSpec(len(rows), layer.activation, rows, [neuron.b.data for neuron in layer.neurons]))
    return mlp.layers[0].nin, specs


def _sequential_specs(model: Sequential, what: str) -> tuple[int, list[DenseSpec | DropoutSpec]]:
    model.require_built(what)
    specs: list[DenseSpec | DropoutSpec] = []
    for position, layer in enumerate(model.layers):
        if layer.type_name == "Dense":
            entry = layer.weights_to_file()
            specs.append(DenseSpec(len(entry["b"]), layer.activation or "linear", entry["w"], entry["b"]))
        elif layer.type_name == "Dropout":
            specs.append(DropoutSpec(layer.rate))  # type: ignore[attr-defined]
        else:
            raise TypeError(f"{what}: layer {position} ({layer!r}) has no counterpart there")
    assert model.input_dim is not None  # require_built
    return model.input_dim, specs
