"""The way out when a model outgrows micrograd: PyTorch (Keras is to come).

- `to_torch(model)`: an `MLP` or `Sequential` as a `torch.nn.Sequential` with the same weights;
- `from_torch(module)`: a `torch.nn.Sequential` of Linear, activations and Dropout as our `Sequential`;
- `to_torch_code(J)`: a PyTorch script that rebuilds the graph of `J` and checks its gradients.

The first two need PyTorch (`pip install "micrograd-lab[torch]"`); the script is only text.
"""

from __future__ import annotations

from typing import Any

from .engine.torch_code import TORCH_EXPRESSIONS, to_torch_code
from .nn import MLP, Sequential
from .nn.mlp import Seed

__all__ = ["TORCH_EXPRESSIONS", "from_torch", "to_torch", "to_torch_code"]


def to_torch(model: MLP | Sequential, dtype: Any = None) -> Any:
    """`model.to_torch(dtype)`: the model as a `torch.nn.Sequential` (float64 by default)."""
    if not isinstance(model, (MLP, Sequential)):
        raise TypeError(f"to_torch takes an MLP or a Sequential, got {type(model).__name__}")
    return model.to_torch(dtype)


def from_torch(module: Any, seed: Seed = None) -> Sequential:
    """`Sequential.from_torch(module)`: our model of a `torch.nn.Sequential`."""
    return Sequential.from_torch(module, seed)
