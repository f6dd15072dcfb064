"""The way out when a model outgrows micrograd: PyTorch and Keras.

- `to_torch(model)`: an `MLP` or `Sequential` as a `torch.nn.Sequential` with the same weights;
- `from_torch(module)`: a `torch.nn.Sequential` of Linear, activations and Dropout as our `Sequential`;
- `to_torch_code(J)`: a PyTorch script that rebuilds the graph of `J` and checks its gradients;
- `to_keras(model)`: an `MLP` or `Sequential` as a `keras.Sequential` (Keras 3 on PyTorch) with the
  same weights, and a compiled model's loss and optimizer where Keras has them;
- `from_keras(model)`: a `keras.Sequential` of Dense, activation layers and Dropout as our `Sequential`.

`to_torch`/`from_torch` need PyTorch (`pip install "micrograd-lab[torch]"`), `to_keras`/`from_keras`
Keras (`pip install "micrograd-lab[keras]"`); the script is only text.
"""

from __future__ import annotations

from typing import Any

from .engine.torch_code import TORCH_EXPRESSIONS, to_torch_code
from .nn import MLP, Sequential
from .nn.mlp import Seed

__all__ = ["TORCH_EXPRESSIONS", "from_keras", "from_torch", "to_keras", "to_torch", "to_torch_code"]


def to_torch(model: MLP | Sequential, dtype: Any = None) -> Any:
    """`model.to_torch(dtype)`: the model as a `torch.nn.Sequential` (float64 by default)."""
    if not isinstance(model, (MLP, Sequential)):
        raise TypeError(f"to_torch takes an MLP or a Sequential, got {type(model).__name__}")
    return model.to_torch(dtype)


def from_torch(module: Any, seed: Seed = None) -> Sequential:
    """`Sequential.from_torch(module)`: our model of a `torch.nn.Sequential`."""
    return Sequential.from_torch(module, seed)


def to_keras(model: MLP | Sequential) -> Any:
    """`model.to_keras()`: the model as a `keras.Sequential` (float64 layers, PyTorch backend)."""
    if not isinstance(model, (MLP, Sequential)):
        raise TypeError(f"to_keras takes an MLP or a Sequential, got {type(model).__name__}")
    return model.to_keras()


def from_keras(model: Any, seed: Seed = None) -> Sequential:
    """`Sequential.from_keras(model)`: our model of a `keras.Sequential`."""
    return Sequential.from_keras(model, seed)
