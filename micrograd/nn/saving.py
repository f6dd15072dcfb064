"""Save a `Sequential` model to a small JSON file, and load it back.

The file is meant to be read by a person: the format name and version, the architecture (input
size and each layer's settings), and each Dense layer's weights, one row per neuron:

    {
      "format": "micrograd-lab/sequential",
      "format_version": 1,
      "architecture": {"input_dim": 2, "layers": [{"type": "Dense", "units": 4, ...}, ...]},
      "weights": {"L1": {"w": [[w0, w1], ...one row per neuron...], "b": [b0, ...]}, ...}
    }

Files are written atomically (a temporary file in the same folder, then `os.replace`), so a crash
never leaves half a file. Loading checks the whole file before building anything: a missing,
truncated, wrong-version or edited file raises an error that names the problem, and never
returns a half-loaded model. The optimizer and its state are not saved: `compile` the loaded
model again to train it further.
"""

from __future__ import annotations

import json
import math
import os
import re
from typing import Any

from ..files import write_atomic
from .mlp import INITS
from .sequential import DENSE_ACTIVATIONS, Dense, Dropout, Sequential

FORMAT = "micrograd-lab/sequential"
FORMAT_VERSION = 1


class ModelFileError(ValueError):
    """A model file that cannot be loaded: not JSON, truncated, another version, or edited inconsistently."""


# -- saving ---------------------------------------------------------------------------------------


def model_to_dict(model: Sequential) -> dict[str, Any]:
    """The content of a model file, as plain Python data."""
    model._require_built("save")
    weights = {}
    for layer in model.layers:
        if isinstance(layer, Dense):
            weights[layer.name] = {
                "w": [[w.data for w in neuron.w] for neuron in layer.layer.neurons],
                "b": [neuron.b.data for neuron in layer.layer.neurons],
            }
    for p in model.parameters():
        if not math.isfinite(p.data):
            raise ValueError(f"cannot save a model whose weight {p.label} is {p.data}")
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "architecture": model.get_config(),
        "weights": weights,
    }


def save_model(model: Sequential, path: str | os.PathLike[str]) -> None:
    """Write `model`'s architecture and weights to `path` as JSON (floats written exactly, atomically)."""
    text = json.dumps(model_to_dict(model), indent=2, allow_nan=False)
    # One line per innermost list or object (a neuron's weights, a layer's settings), not per number.
    text = re.sub(r"[\[{][^\[\]{}]*[\]}]", lambda m: json.dumps(json.loads(m.group())), text)
    write_atomic(path, (text + "\n").encode("utf-8"))


# -- loading --------------------------------------------------------------------------------------


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number a model file may hold")


def _fail(path: str, message: str) -> ModelFileError:
    return ModelFileError(f"cannot load model {path!r}: {message}")


def _is_int(x: Any) -> bool:
    return type(x) is int


def _is_number(x: Any) -> bool:
    if type(x) is int:
        return abs(x) <= 1e300  # a huge int would overflow the float it becomes
    return type(x) is float and math.isfinite(x)


def _check_keys(path: str, where: str, obj: Any, required: set[str]) -> None:
    if not isinstance(obj, dict):
        raise _fail(path, f"{where} must be a JSON object, got {type(obj).__name__}")
    missing, extra = required - obj.keys(), obj.keys() - required
    if missing:
        raise _fail(path, f"{where} lacks {', '.join(sorted(missing))}")
    if extra:
        raise _fail(path, f"{where} has unknown entries {', '.join(sorted(extra))}")


def _check_layer(path: str, i: int, config: Any) -> None:
    where = f"architecture.layers[{i}]"
    if not isinstance(config, dict) or config.get("type") not in ("Dense", "Dropout"):
        kind = config.get("type") if isinstance(config, dict) else config
        raise _fail(path, f"{where} has type {kind!r:.60}; a model file holds Dense and Dropout layers")
    if config["type"] == "Dense":
        _check_keys(path, where, config, {"type", "units", "activation", "init"})
        if not _is_int(config["units"]) or config["units"] < 1:
            raise _fail(path, f"{where}.units must be a positive int, got {config['units']!r:.60}")
        if config["activation"] not in DENSE_ACTIVATIONS:
            raise _fail(path, f"{where}.activation {config['activation']!r:.60} is not one of {', '.join(DENSE_ACTIVATIONS)}")
        if config["init"] not in INITS:
            raise _fail(path, f"{where}.init {config['init']!r:.60} is not one of {', '.join(INITS)}")
    else:
        _check_keys(path, where, config, {"type", "rate", "seed"})
        if not _is_number(config["rate"]) or not 0 <= config["rate"] < 1:
            raise _fail(path, f"{where}.rate must be a number in [0, 1), got {config['rate']!r:.60}")
        if config["seed"] is not None and not _is_int(config["seed"]):
            raise _fail(path, f"{where}.seed must be an int or null, got {config['seed']!r:.60}")


def _check_numbers(path: str, where: str, values: Any, n: int) -> list[float]:
    if not isinstance(values, list) or len(values) != n:
        got = f"{len(values)} values" if isinstance(values, list) else type(values).__name__
        raise _fail(path, f"{where} must list {n} numbers, got {got}")
    for j, x in enumerate(values):
        if not _is_number(x):
            raise _fail(path, f"{where}[{j}] must be a finite number, got {x!r:.60}")
    return [float(x) for x in values]


def model_from_dict(doc: Any, path: str = "<dict>") -> Sequential:
    """Check a model file's content completely, then build the model (nothing is built on an error)."""
    _check_keys(path, "the file", doc, {"format", "format_version", "architecture", "weights"})
    if doc["format"] != FORMAT:
        raise _fail(path, f"format is {doc['format']!r:.60}, not {FORMAT!r}")
    if doc["format_version"] != FORMAT_VERSION or not _is_int(doc["format_version"]):
        raise _fail(
            path,
            f"format_version {doc['format_version']!r:.60} is not supported; "
            f"this version of micrograd-lab reads version {FORMAT_VERSION}",
        )
    arch = doc["architecture"]
    _check_keys(path, "architecture", arch, {"input_dim", "layers"})
    if not _is_int(arch["input_dim"]) or arch["input_dim"] < 1:
        raise _fail(path, f"architecture.input_dim must be a positive int, got {arch['input_dim']!r:.60}")
    if not isinstance(arch["layers"], list) or not arch["layers"]:
        raise _fail(path, "architecture.layers must be a non-empty list")
    for i, config in enumerate(arch["layers"]):
        _check_layer(path, i, config)

    # The weights: exactly one entry per Dense layer, each of the size the architecture implies.
    if not isinstance(doc["weights"], dict):
        raise _fail(path, f"weights must be a JSON object, got {type(doc['weights']).__name__}")
    dense_names = []
    flat: list[float] = []
    nin = arch["input_dim"]
    for config in arch["layers"]:
        if config["type"] != "Dense":
            continue
        name = f"L{len(dense_names) + 1}"
        dense_names.append(name)
        entry = doc["weights"].get(name)
        if entry is None:
            raise _fail(path, f"weights has no entry for layer {name}")
        _check_keys(path, f"weights.{name}", entry, {"w", "b"})
        units = config["units"]
        if not isinstance(entry["w"], list) or len(entry["w"]) != units:
            got = f"{len(entry['w'])} rows" if isinstance(entry["w"], list) else type(entry["w"]).__name__
            raise _fail(path, f"weights.{name}.w must have one row per neuron ({units}), got {got}")
        biases = _check_numbers(path, f"weights.{name}.b", entry["b"], units)
        for k, row in enumerate(entry["w"]):
            flat += _check_numbers(path, f"weights.{name}.w[{k}]", row, nin)  # a neuron: its weights,
            flat.append(biases[k])  # then its bias, the order of Sequential.parameters()
        nin = units
    extra = set(doc["weights"]) - set(dense_names)
    if extra:
        raise _fail(path, f"weights has entries for layers the architecture lacks: {', '.join(sorted(extra))}")

    try:  # the layers' own checks (such as softmax over one unit) still apply
        layers = [
            Dense(c["units"], c["activation"], c["init"]) if c["type"] == "Dense" else Dropout(c["rate"], c["seed"])
            for c in arch["layers"]
        ]
    except ValueError as err:
        raise _fail(path, f"architecture: {err}") from None
    model = Sequential(layers, input_dim=arch["input_dim"], seed=0)  # seeded: loading draws no global randomness
    model.set_weights(flat)
    return model


def load_model(path: str | os.PathLike[str]) -> Sequential:
    """Read a model written by `save_model` / `Sequential.save` (uncompiled: call `compile` to train or evaluate)."""
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"cannot load model {path!r}: no such file") from None
    except UnicodeDecodeError:
        raise _fail(path, "it is not a text (JSON) file") from None
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        raise _fail(path, f"it is not complete JSON (truncated or not a model file?): {err}") from None
    except ValueError as err:
        raise _fail(path, str(err)) from None
    return model_from_dict(doc, path)


__all__ = ["FORMAT", "FORMAT_VERSION", "ModelFileError", "load_model", "model_from_dict", "model_to_dict", "save_model"]
