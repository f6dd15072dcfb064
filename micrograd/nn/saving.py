"""Save a `Sequential` model to a small JSON file, and load it back.

The file is meant to be read by a person: the format name and version, the architecture (input
size and each layer's settings), and each Dense layer's weights, one row per neuron:

    {
      "format": "micrograd-lab/sequential",
      "format_version": 2,
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
import os
import stat
from typing import Any

from .layers import LAYER_TYPES, layer_type_names
from .model_file import FORMAT, FORMAT_VERSION, model_to_dict, save_model
from .sequential import Sequential

# Version 1 named a Dense layer's kernel initialiser "init" (its biases started at 0); version 2
# writes "kernel_initializer" and "bias_initializer", as Keras does. Both are read.
READABLE_VERSIONS = (1, FORMAT_VERSION)

# A model file is small: 100,000 parameters (far more than a scalar engine trains) take under
# 3 MB of JSON. Larger files, or architectures with more parameters, are refused before they
# are read or built: a 6 MB file declaring a million-unit layer grew to 1 GB when built.
MAX_FILE_BYTES = 4_000_000
MAX_PARAMETERS = 100_000


class ModelFileError(ValueError):
    """A model file that cannot be loaded: not JSON, truncated, another version, or edited inconsistently."""


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number a model file may hold")


def _printable(text: str) -> str:
    """`text` that any terminal or log can print: control characters and lone surrogates (from
    a file name that is not UTF-8) as escapes."""
    return "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape", "backslashreplace").decode("ascii")
        for ch in text
    )


def _fail(path: str, message: str) -> ModelFileError:
    return ModelFileError(_printable(f"cannot load model {path!r}: {message}"))


def _is_int(x: Any) -> bool:
    return type(x) is int


def _check_keys(path: str, where: str, obj: Any, required: set[str]) -> None:
    if not isinstance(obj, dict):
        raise _fail(path, f"{where} must be a JSON object, got {type(obj).__name__}")
    missing, extra = required - obj.keys(), obj.keys() - required
    if missing:
        raise _fail(path, f"{where} lacks {', '.join(sorted(missing))}")
    if extra:
        raise _fail(path, f"{where} has unknown entries {', '.join(sorted(extra))}")


def _check_layer(path: str, i: int, config: Any, version: int) -> dict[str, Any]:
    """One layer's config: a known type with exactly its settings, each valid (the type's own
    check). Returns it in today's keys (a version-1 file's, upgraded by the layer type)."""
    where = f"architecture.layers[{i}]"
    kind = config.get("type") if isinstance(config, dict) else config
    layer_type = LAYER_TYPES.get(kind) if isinstance(kind, str) else None
    if layer_type is None:
        raise _fail(path, f"{where} has type {kind!r:.60}; a model file holds {layer_type_names()} layers")
    if version == 1:
        config = layer_type.upgrade_config(config)
    _check_keys(path, where, config, {"type", *layer_type.CONFIG_KEYS})
    problem = layer_type.check_config(config)
    if problem is not None:
        raise _fail(path, f"{where}.{problem}")
    return config


def model_from_dict(doc: Any, path: str = "<dict>") -> Sequential:
    """Check a model file's content completely, then build the model (nothing is returned on an error)."""
    _check_keys(path, "the file", doc, {"format", "format_version", "architecture", "weights"})
    if doc["format"] != FORMAT:
        raise _fail(path, f"format is {doc['format']!r:.60}, not {FORMAT!r}")
    version = doc["format_version"]
    if version not in READABLE_VERSIONS or not _is_int(version):
        raise _fail(
            path,
            f"format_version {version!r:.60} is not supported; "
            f"this version of micrograd-lab reads versions {' and '.join(map(str, READABLE_VERSIONS))}",
        )
    arch = doc["architecture"]
    _check_keys(path, "architecture", arch, {"input_dim", "layers"})
    if not _is_int(arch["input_dim"]) or arch["input_dim"] < 1:
        raise _fail(path, f"architecture.input_dim must be a positive int, got {arch['input_dim']!r:.60}")
    if not isinstance(arch["layers"], list) or not arch["layers"]:
        raise _fail(path, "architecture.layers must be a non-empty list")
    configs = [_check_layer(path, i, config, version) for i, config in enumerate(arch["layers"])]
    if not isinstance(doc["weights"], dict):
        raise _fail(path, f"weights must be a JSON object, got {type(doc['weights']).__name__}")

    try:  # the layers' own checks (such as softmax over one unit) still apply
        layers = [LAYER_TYPES[config["type"]].from_config(config) for config in configs]
    except ValueError as err:
        raise _fail(path, f"architecture: {err}") from None
    # Count the parameters the architecture declares before building it (which makes them).
    count, nin = 0, arch["input_dim"]
    for i, layer in enumerate(layers):
        weights, biases = layer.count_params(nin)
        count += weights + biases
        nin = layer.output_size(nin)
        if count > MAX_PARAMETERS:
            raise _fail(
                path,
                f"its architecture has more than {MAX_PARAMETERS} parameters ({count} up to architecture.layers[{i}]), "
                "more than a model of micrograd-lab can train; is it the right file?",
            )
    model = Sequential(layers, input_dim=arch["input_dim"], seed=0)  # seeded: loading draws no global randomness

    # The weights: exactly one entry per layer that has weights, each of the size the architecture implies.
    flat: list[float] = []
    nin = arch["input_dim"]
    named = []
    for layer in model.layers:
        if layer.WEIGHT_KEYS:
            named.append(layer.name)
            entry = doc["weights"].get(layer.name)
            if entry is None:
                raise _fail(path, f"weights has no entry for layer {layer.name}")
            _check_keys(path, f"weights.{layer.name}", entry, set(layer.WEIGHT_KEYS))
            try:
                flat += layer.weights_from_file(entry, nin, f"weights.{layer.name}")
            except ValueError as err:
                raise _fail(path, str(err)) from None
        nin = layer.output_size(nin)
    extra = set(doc["weights"]) - set(named)
    if extra:
        raise _fail(path, f"weights has entries for layers the architecture lacks: {', '.join(sorted(extra))}")
    model.set_weights(flat)
    return model


def load_model(path: str | os.PathLike[str]) -> Sequential:
    """Read a model written by `save_model` / `Sequential.save` (uncompiled: call `compile` to train or evaluate).

    Only a regular file of at most MAX_FILE_BYTES is read, and a model of at most MAX_PARAMETERS
    parameters built; every problem is a ModelFileError naming the file (FileNotFoundError if
    there is none).
    """
    path = os.fspath(path)
    if not isinstance(path, str):
        path = os.fsdecode(path)
    text = _read(path)
    _check_declared_size(path, text)
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        raise _fail(path, f"it is not complete JSON (truncated or not a model file?): {err}") from None
    except RecursionError:
        raise _fail(path, "its JSON is nested too deeply to be a model file") from None
    except ValueError as err:
        raise _fail(path, str(err)) from None
    return model_from_dict(doc, path)


def _check_declared_size(path: str, text: str) -> None:
    """Refuse a file whose architecture declares more than MAX_PARAMETERS parameters before its
    weights are parsed (a million rows of weights are a million lists): the architecture is read
    on its own, from where a model file writes it. Anything unexpected is left to the full check."""
    start = text.find('"architecture"')
    colon = text.find(":", start) if start >= 0 else -1
    if colon < 0:
        return
    try:
        arch, _ = json.JSONDecoder(parse_constant=_reject_constant).raw_decode(
            text, colon + 1 + _spaces(text, colon + 1)
        )
        nin, count = arch["input_dim"], 0
        for config in arch["layers"]:
            layer = LAYER_TYPES[config["type"]].from_config(config)
            weights, biases = layer.count_params(nin)
            count += weights + biases
            nin = layer.output_size(nin)
    except (ValueError, RecursionError, KeyError, TypeError, AttributeError):
        return
    if count > MAX_PARAMETERS:
        raise _fail(
            path,
            f"its architecture declares {count} parameters, more than {MAX_PARAMETERS} that a model of "
            "micrograd-lab can train; is it the right file?",
        )


def _spaces(text: str, at: int) -> int:
    """How many whitespace characters start at `at` (raw_decode takes none)."""
    end = at
    while end < len(text) and text[end] in " \t\r\n":
        end += 1
    return end - at


def _read(path: str) -> str:
    """The text of the file at `path`, if it is a regular file of at most MAX_FILE_BYTES.

    The size is checked on the open file (no race with a rename) and the read stops one byte past
    the limit, so a file growing meanwhile, or one whose size lies (/proc), is still bounded.
    """
    try:
        # O_NONBLOCK: opening a FIFO would otherwise wait for a writer (no effect on files).
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise FileNotFoundError(_printable(f"cannot load model {path!r}: no such file")) from None
    except IsADirectoryError:
        raise _fail(path, "it is a folder, not a model file") from None
    except OSError as err:
        raise _fail(path, err.strerror or str(err)) from None
    try:
        info = os.fstat(handle)
        if stat.S_ISDIR(info.st_mode):
            raise _fail(path, "it is a folder, not a model file")
        if not stat.S_ISREG(info.st_mode):
            raise _fail(path, "it is not a regular file (a device, pipe or socket), so not a model file")
        if info.st_size > MAX_FILE_BYTES:
            raise _fail(path, f"it is {info.st_size} bytes, more than a model file's limit of {MAX_FILE_BYTES}")
        with os.fdopen(handle, "rb", closefd=False) as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise _fail(path, err.strerror or str(err)) from None
    finally:
        os.close(handle)
    if len(data) > MAX_FILE_BYTES:
        raise _fail(path, f"it is more than a model file's limit of {MAX_FILE_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise _fail(path, "it is not a text (JSON) file") from None


__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_FILE_BYTES",
    "MAX_PARAMETERS",
    "ModelFileError",
    "load_model",
    "model_from_dict",
    "model_to_dict",
    "save_model",
]
