"""Writing a model file: a `Sequential` model's architecture and weights as readable JSON.

Kept apart from `micrograd.nn.saving` (which reads files and so builds `Sequential` models) so
that `Sequential.save` can write without an import cycle. The model is reached only through
`get_config()`, its layers' `weights_to_file()` and `parameters()`.
"""

from __future__ import annotations

import json
import math
import os
import re
from typing import Any

from ..files import write_atomic

FORMAT = "micrograd-lab/sequential"
FORMAT_VERSION = 2  # 1: before Dense had kernel_initializer and bias_initializer


def model_to_dict(model: Any) -> dict[str, Any]:
    """The content of a model file, as plain Python data."""
    model.require_built("save")
    weights = {layer.name: layer.weights_to_file() for layer in model.layers if layer.WEIGHT_KEYS}
    for p in model.parameters():
        if not math.isfinite(p.data):
            raise ValueError(f"cannot save a model whose weight {p.label} is {p.data}")
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "architecture": model.get_config(),
        "weights": weights,
    }


def save_model(model: Any, path: str | os.PathLike[str]) -> None:
    """Write `model`'s architecture and weights to `path` as JSON (floats written exactly, atomically)."""
    text = json.dumps(model_to_dict(model), indent=2, allow_nan=False)
    # One line per innermost list or object (a neuron's weights, a layer's settings), not per number.
    text = re.sub(r"[\[{][^\[\]{}]*[\]}]", lambda m: json.dumps(json.loads(m.group())), text)
    write_atomic(path, (text + "\n").encode("utf-8"))


__all__ = ["FORMAT", "FORMAT_VERSION", "model_to_dict", "save_model"]
