"""The layer contract (micrograd.nn.layers.SequentialLayer): a new layer type is one class, and
Sequential, the tape, summary() and the model file all take it without a change of their own.
Also: the file format stays byte for byte, and evaluate/predict take Keras's arguments."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from micrograd import Value
from micrograd.datasets import make_blobs, make_moons
from micrograd.engine import Parameter, scope
from micrograd.nn import LAYER_TYPES, Dense, Dropout, Sequential, SequentialLayer, load_model
from micrograd.nn.saving import ModelFileError


class Scale(SequentialLayer):
    """y_i = a · x_i with one learnt number a: a test layer with one weight and a setting."""

    type_name = "Scale"
    name_prefix = "S"
    CONFIG_KEYS = ("start",)
    WEIGHT_KEYS = ("a",)

    def __init__(self, start: float = 1.0) -> None:
        self.start = float(start)
        self.name = ""
        self.a: Parameter | None = None

    def build(self, nin: int, rng: random.Random) -> None:
        self.a = Parameter(self.start, f"{self.name}.a")

    def count_params(self, nin: int) -> tuple[int, int]:
        return 1, 0

    def parameters(self) -> list[Parameter]:
        return [self.a] if self.a is not None else []

    def __call__(self, x: Sequence[Value], training: bool = False) -> list[Value]:
        with scope(self.name):
            return [self.a * xi for xi in x]

    def get_config(self) -> dict[str, Any]:
        return {"type": "Scale", "start": self.start}

    @classmethod
    def check_config(cls, config: dict[str, Any]) -> str | None:
        return None if type(config["start"]) in (int, float) else f"start must be a number, got {config['start']!r}"

    def weights_to_file(self) -> dict[str, Any]:
        return {"a": self.a.data}

    def weights_from_file(self, entry: Any, nin: int, where: str) -> list[float]:
        if type(entry["a"]) is not float:
            raise ValueError(f"{where}.a must be a float, got {entry['a']!r}")
        return [entry["a"]]


# Defining the class registered it; other tests' messages list the registered types ("Dense and
# Dropout"), so it is registered only while the test below runs.
assert LAYER_TYPES.pop("Scale") is Scale


def test_a_new_layer_type_registers_itself_and_trains_saves_and_loads(tmp_path, monkeypatch):
    monkeypatch.setitem(LAYER_TYPES, "Scale", Scale)
    X, y = make_moons(20, noise=0.1, seed=0)
    models = {}
    for engine in ("scalar", "tape"):
        model = Sequential([Dense(3, "tanh"), Scale(0.5), Dense(1, "sigmoid")], input_dim=2, seed=0)
        model.compile(loss="binary_crossentropy", optimizer="sgd")
        model.fit(X, y, epochs=2, batch_size=5, verbose=0, engine=engine)
        models[engine] = model
    # The tape records it too (its layers as matrix products: equal to rounding, not bit for bit).
    np.testing.assert_allclose(models["tape"].get_weights(), models["scalar"].get_weights(), rtol=1e-12, atol=1e-15)
    model = models["tape"]
    assert [layer.name for layer in model.layers] == ["L1", "S1", "L2"]
    assert "S1 (Scale)" in _summary(model)
    model.save(tmp_path / "scale.json")
    doc = json.loads((tmp_path / "scale.json").read_text())
    assert doc["architecture"]["layers"][1] == {"type": "Scale", "start": 0.5}
    assert doc["weights"]["S1"] == {"a": model.layers[1].a.data}
    loaded = load_model(tmp_path / "scale.json")
    assert loaded.get_weights() == model.get_weights()
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    doc["weights"]["S1"]["a"] = 1
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match=r"weights.S1.a must be a float, got 1"):
        load_model(tmp_path / "bad.json")


def _summary(model: Sequential) -> str:
    lines: list[str] = []
    model.summary(print_fn=lines.append)
    return lines[0]


def test_what_the_contract_answers_for_dense_and_dropout():
    dense, dropout = Dense(3, "softmax"), Dropout(0.25, seed=1)
    model = Sequential([Dense(4, "relu"), dropout, dense], input_dim=2, seed=0)
    assert (dense.output_size(None), dropout.output_size(None), dropout.output_size(4)) == (3, None, 4)
    assert (dense.count_params(4), dropout.count_params(4)) == ((12, 3), (0, 0))
    assert (dense.activation, dropout.activation, model.output_activation) == ("softmax", None, "softmax")
    assert dense.fits_tape(last=True) and not dense.fits_tape(last=False) and dropout.fits_tape(last=False)
    assert Dense.from_config(dense.get_config()).get_config() == dense.get_config()
    assert Dropout.from_config(dropout.get_config()).get_config() == {"type": "Dropout", "rate": 0.25, "seed": 1}
    # Dropout's masks become inputs of the tape: one leaf per input, fed ones without training.
    values = [Value(1.0), Value(2.0)]
    out, leaves = dropout.record(values, last=False)
    assert [leaf.label for leaf in leaves] == ["D1.mask0", "D1.mask1"] and len(out) == 2
    assert dropout.feed(leaves, 3, training=False) == {leaves[0]: 1.0, leaves[1]: 1.0}
    drawn = dropout.feed(leaves, 3, training=True)
    assert all(set(column.tolist()) <= {0.0, 1 / 0.75} and len(column) == 3 for column in drawn.values())


def test_the_model_file_is_byte_for_byte_the_format_it_was(tmp_path):
    model = Sequential(
        [Dense(2, "tanh", init="xavier"), Dropout(0.5, seed=1), Dense(1, "sigmoid")], input_dim=2, seed=0
    )
    model.save(tmp_path / "m.json")
    assert (tmp_path / "m.json").read_text() == GOLDEN


GOLDEN = """{
  "format": "micrograd-lab/sequential",
  "format_version": 2,
  "architecture": {
    "input_dim": 2,
    "layers": [
      {"type": "Dense", "units": 2, "activation": "tanh", "kernel_initializer": "xavier", "bias_initializer": "zeros"},
      {"type": "Dropout", "rate": 0.5, "seed": 1},
      {"type": "Dense", "units": 1, "activation": "sigmoid", "kernel_initializer": "uniform", "bias_initializer": "zeros"}
    ]
  },
  "weights": {
    "L1": {
      "w": [
        [0.8436577925009958, 0.6318566641080297],
        [-0.194559098040328, -0.5905309473142218]
      ],
      "b": [0.0, 0.0]
    },
    "L2": {
      "w": [
        [0.02254944273721704, -0.19013172509917142]
      ],
      "b": [0.0]
    }
  }
}
"""


# -- evaluate and predict take Keras's arguments ------------------------------------------------------


@pytest.fixture(scope="module")
def trained() -> tuple[Sequential, np.ndarray, np.ndarray]:
    X, y = make_blobs(23, centers=3, seed=0)
    model = Sequential([Dense(5, "tanh"), Dropout(0.2), Dense(3, "softmax")], input_dim=2, seed=0)
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(X, y, epochs=2, batch_size=4, verbose=0)
    return model, X, y


@pytest.mark.parametrize("batch_size", [1, 4, 7, 22, 23, 100])
def test_batch_size_only_splits_the_work(trained, batch_size):
    """The same figures for any chunk size, to rounding (1e-12): a layer is a matrix product, which
    BLAS may add in another order for another number of samples (as in Keras and PyTorch)."""
    model, X, y = trained
    np.testing.assert_allclose(model.predict(X, batch_size=batch_size), model.predict(X), rtol=1e-12, atol=1e-15)
    assert model.evaluate(X, y, batch_size=batch_size) == pytest.approx(model.evaluate(X, y), rel=1e-12)
    by_chunks = model.evaluate(X, y, batch_size, 0, True)  # Keras's order
    whole = model.evaluate(X, y, return_dict=True)
    assert by_chunks.keys() == whole.keys()
    assert list(by_chunks.values()) == pytest.approx(list(whole.values()), rel=1e-12)


def test_verbose_1_shows_a_progress_bar_over_the_chunks_and_0_is_silent(trained, capsys):
    model, X, y = trained
    model.predict(X, batch_size=10)
    model.evaluate(X, y, batch_size=10)
    assert capsys.readouterr().err == ""
    model.predict(X, batch_size=10, verbose=1)
    assert "3/3" in capsys.readouterr().err
    figures = model.evaluate(X, y, batch_size=5, verbose=1, return_dict=True)
    assert "5/5" in capsys.readouterr().err
    model.evaluate(X, y, verbose=2)
    assert capsys.readouterr().out == f"loss: {figures['loss']:.4f} - accuracy: {figures['accuracy']:.4f}\n"
