"""Models to PyTorch and back: `MLP.to_torch()`, `Sequential.to_torch()` and `Sequential.from_torch()`.

A layer of n neurons (an MLP's `Layer`, a `Dense`) is one `torch.nn.Linear` whose weight rows are
the neurons' weights and whose bias is their biases, followed by its activation's module; a
`Dropout` is a `torch.nn.Dropout` of the same rate. Outputs agree with ours to about 1e-12 (a
`Linear` sums its products in another order than a neuron does).

torch is imported only inside the functions, so micrograd works without it; without it, every
function here raises ImportError saying how to install it. This module imports nothing else of
`micrograd.nn` (the models import it): `read_torch_sequential` returns plain layer specs that
`Sequential.from_torch` builds its layers from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .layer_specs import ELU_ALPHA, LEAKY_SLOPE, DenseSpec, DropoutSpec, model_specs

if TYPE_CHECKING:  # only for the annotations: mlp.py and sequential.py import this module
    from .mlp import MLP
    from .sequential import Sequential

__all__ = [
    "TORCH_ACTIVATIONS",
    "read_torch_sequential",
    "require_torch",
    "to_torch",
]

INSTALL_HINT = 'PyTorch is not installed: pip install "micrograd-lab[torch]"'


#: Each activation a model accepts by name, as the name of its `torch.nn` module ("" for linear:
#: no module). A test checks that every activation of `DENSE_ACTIVATIONS` is here but those
#: `layer_specs.NOT_EXPORTED` refuses (step). (softplus is an op of the engine but not an
#: activation of models, so it is not here.)
TORCH_ACTIVATIONS: dict[str, str] = {
    "linear": "",
    "relu": "ReLU",
    "leaky_relu": "LeakyReLU",
    "elu": "ELU",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "gelu": "GELU",
    "softmax": "Softmax",
}


def require_torch() -> Any:
    """The torch module, or ImportError saying how to install it."""
    try:
        import torch
    except ImportError as err:
        raise ImportError(INSTALL_HINT) from err
    return torch


def _activation_module(torch: Any, name: str) -> Any:
    nn = torch.nn
    if name == "leaky_relu":
        return nn.LeakyReLU(LEAKY_SLOPE)
    if name == "elu":
        return nn.ELU(alpha=ELU_ALPHA)
    if name == "gelu":
        return nn.GELU(approximate="none")
    if name == "softmax":
        return nn.Softmax(dim=-1)
    if name not in TORCH_ACTIVATIONS or not TORCH_ACTIVATIONS[name]:
        raise ValueError(f"activation {name!r} has no PyTorch module here")
    return getattr(nn, TORCH_ACTIVATIONS[name])()


def _linear(torch: Any, rows: list[list[float]], biases: list[float], dtype: Any) -> Any:
    layer = torch.nn.Linear(len(rows[0]), len(rows), dtype=dtype)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(rows, dtype=dtype))
        layer.bias.copy_(torch.tensor(biases, dtype=dtype))
    return layer


def _dense_modules(torch: Any, rows: list[list[float]], biases: list[float], activation: str, dtype: Any) -> list[Any]:
    modules = [_linear(torch, rows, biases, dtype)]
    if activation != "linear":
        modules.append(_activation_module(torch, activation))
    return modules


def to_torch(model: MLP | Sequential, dtype: Any = None) -> Any:
    """A `torch.nn.Sequential` computing what `model(x)` (an MLP) or `model.predict` (a Sequential,
    dropout in `train()` mode) computes, with the same weights (float64 by default)."""
    torch = require_torch()
    dtype = torch.float64 if dtype is None else dtype
    _, specs = model_specs(model, "to_torch")
    modules: list[Any] = []
    for spec in specs:
        if isinstance(spec, DenseSpec):
            modules += _dense_modules(torch, spec.weights, spec.biases, spec.activation, dtype)
        else:
            modules.append(torch.nn.Dropout(spec.rate))
    return torch.nn.Sequential(*modules)


def _read_activation(torch: Any, module: Any, where: str) -> str:
    """Our activation's name for a torch activation module; ValueError for settings we lack."""
    nn = torch.nn
    kind = type(module)
    if kind is nn.ReLU:
        return "relu"
    if kind is nn.Tanh:
        return "tanh"
    if kind is nn.Sigmoid:
        return "sigmoid"
    if kind is nn.LeakyReLU:
        if module.negative_slope != LEAKY_SLOPE:
            raise ValueError(f"{where}: micrograd's leaky_relu has slope {LEAKY_SLOPE}, got {module.negative_slope}")
        return "leaky_relu"
    if kind is nn.ELU:
        if module.alpha != ELU_ALPHA:
            raise ValueError(f"{where}: micrograd's elu has alpha {ELU_ALPHA}, got {module.alpha}")
        return "elu"
    if kind is nn.GELU:
        if module.approximate != "none":
            raise ValueError(
                f"{where}: micrograd's gelu is the exact one (approximate='none'), got {module.approximate!r}"
            )
        return "gelu"
    if kind is nn.Softmax:
        if module.dim != -1:
            raise ValueError(f"{where}: only Softmax(dim=-1) is supported (softmax over a sample's outputs)")
        return "softmax"
    return ""


def read_torch_sequential(module: Any) -> tuple[int, list[DenseSpec | DropoutSpec]]:
    """(input size, layer specs) of a `torch.nn.Sequential` of Linear, activation, Dropout and Identity modules.

    Each activation must come right after its Linear (a `Dense` applies one activation to its own
    outputs). Raises TypeError for a module of another kind, ValueError for settings micrograd has
    not, each message naming the module and its position.
    """
    torch = require_torch()
    nn = torch.nn
    if not isinstance(module, nn.Sequential):
        raise TypeError(f"from_torch needs a torch.nn.Sequential, got {type(module).__name__}")
    supported = "Linear, " + ", ".join(name for name in TORCH_ACTIVATIONS.values() if name) + ", Dropout and Identity"
    specs: list[DenseSpec | DropoutSpec] = []
    input_dim: int | None = None
    size: int | None = None
    for position, child in enumerate(module):
        where = f"from_torch: module {position} ({child!r:.80})"
        kind = type(child)
        if kind is nn.Linear:
            if size is not None and child.in_features != size:
                raise ValueError(f"{where} reads {child.in_features} inputs, but its input has size {size}")
            weights = child.weight.detach().to(torch.float64).tolist()
            if child.bias is None:  # no bias: a neuron's bias of 0 computes the same
                biases = [0.0] * child.out_features
            else:
                biases = child.bias.detach().to(torch.float64).tolist()
            specs.append(DenseSpec(child.out_features, "linear", weights, biases))
            input_dim = child.in_features if input_dim is None else input_dim
            size = child.out_features
        elif kind is nn.Dropout:
            if not 0 <= child.p < 1:
                raise ValueError(f"{where}: the rate must be in [0, 1)")
            specs.append(DropoutSpec(float(child.p)))
        elif kind is nn.Identity:
            continue
        else:
            activation = _read_activation(torch, child, where)
            if not activation:
                raise TypeError(f"{where} is not supported; from_torch reads {supported}")
            last = specs[-1] if specs else None
            if not isinstance(last, DenseSpec) or last.activation != "linear":
                raise ValueError(f"{where} must come right after a Linear: a Dense layer has one activation")
            if activation == "softmax" and last.units == 1:
                raise ValueError(f"{where}: a softmax over 1 output is always 1; use Sigmoid for one output")
            specs[-1] = last._replace(activation=activation)
    if input_dim is None:
        raise ValueError("from_torch: the model has no Linear layer, so its input size is unknown")
    return input_dim, specs
