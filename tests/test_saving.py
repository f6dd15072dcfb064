"""Saving and loading models: the JSON file, exact round trips, atomic writes, and a clear error
for every broken file (missing, truncated, another version, edited), with no half-loaded model."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from micrograd.datasets import make_moons
from micrograd.files import write_atomic
from micrograd.nn import manual_seed
from micrograd.nn.saving import FORMAT_VERSION, ModelFileError, load_model, save_model
from micrograd.nn.sequential import Dense, Dropout, Sequential
from micrograd.optim import Adam


def trained_model() -> Sequential:
    X, y = make_moons(30, noise=0.1, seed=0)
    model = Sequential(
        [
            Dense(5, activation="relu", init="he"),
            Dropout(0.2, seed=3),
            Dense(3, activation="tanh"),
            Dense(1, activation="sigmoid"),
        ],
        input_dim=2,
        seed=0,
    )
    model.compile(loss="binary_crossentropy", optimizer=Adam(lr=0.05))
    model.fit(X, y, epochs=2, batch_size=10, verbose=0)
    return model


@pytest.fixture(scope="module")
def model() -> Sequential:
    return trained_model()


@pytest.fixture
def saved(model, tmp_path) -> tuple[str, dict]:
    path = tmp_path / "model.json"
    model.save(path)
    with open(path) as f:
        return str(path), json.load(f)


def write(path: str, doc: object) -> str:
    with open(path, "w") as f:
        f.write(doc if isinstance(doc, str) else json.dumps(doc))
    return path


# -- round trip -------------------------------------------------------------------------------------


def test_save_then_load_gives_identical_predictions(model, saved):
    path, _ = saved
    loaded = load_model(path)
    X = np.random.default_rng(0).normal(size=(25, 2))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.get_weights() == model.get_weights()  # floats written exactly
    assert [p.label for p in loaded.parameters()] == [p.label for p in model.parameters()]
    assert repr(loaded) == repr(model)


def test_the_file_is_small_readable_json(model, saved):
    path, doc = saved
    assert list(doc) == ["format", "format_version", "architecture", "weights"]
    assert doc["format"] == "micrograd-lab/sequential" and doc["format_version"] == FORMAT_VERSION == 2
    assert doc["architecture"] == {
        "input_dim": 2,
        "layers": [
            {
                "type": "Dense",
                "units": 5,
                "activation": "relu",
                "kernel_initializer": "he",
                "bias_initializer": "zeros",
            },
            {"type": "Dropout", "rate": 0.2, "seed": 3},
            {
                "type": "Dense",
                "units": 3,
                "activation": "tanh",
                "kernel_initializer": "uniform",
                "bias_initializer": "zeros",
            },
            {
                "type": "Dense",
                "units": 1,
                "activation": "sigmoid",
                "kernel_initializer": "uniform",
                "bias_initializer": "zeros",
            },
        ],
    }
    neurons = model.layers[2].layer.neurons
    assert doc["weights"]["L2"] == {"w": [[w.data for w in n.w] for n in neurons], "b": [n.b.data for n in neurons]}
    text = Path(path).read_text()
    assert '"w": [' in text and text.count("\n") < 40  # one line per neuron, not per number


def test_saving_is_atomic_and_deterministic(model, tmp_path):
    path = tmp_path / "m.json"
    model.save(path)
    first = path.read_bytes()
    save_model(model, path)  # replaces the file
    assert path.read_bytes() == first
    assert os.listdir(tmp_path) == ["m.json"]  # no temporary file left behind


def test_a_failed_write_leaves_the_old_file_untouched(tmp_path, monkeypatch):
    path = tmp_path / "old.json"
    path.write_text("old content")

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_atomic(path, b"new content")
    assert path.read_text() == "old content" and os.listdir(tmp_path) == ["old.json"]


def test_a_model_with_non_finite_weights_is_not_saved(tmp_path):
    model = Sequential([Dense(1)], input_dim=1)
    model.parameters()[0].data = float("nan")
    with pytest.raises(ValueError, match=r"weight L1.N0.w0 is nan"):
        model.save(tmp_path / "nan.json")
    assert not (tmp_path / "nan.json").exists()


def test_loading_draws_no_global_randomness(saved):
    path, _ = saved
    manual_seed(123)
    expected = Sequential([Dense(3)], input_dim=2).get_weights()
    manual_seed(123)
    load_model(path)
    assert Sequential([Dense(3)], input_dim=2).get_weights() == expected


def test_an_unbuilt_model_cannot_be_saved(tmp_path):
    with pytest.raises(ValueError, match="input size"):
        Sequential([Dense(1)]).save(tmp_path / "x.json")


# -- broken files -----------------------------------------------------------------------------------


def test_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_model(tmp_path / "nope.json")


def test_a_truncated_file(saved, tmp_path):
    path, _ = saved
    text = Path(path).read_text()
    broken = write(str(tmp_path / "cut.json"), text[: len(text) // 2])
    with pytest.raises(ModelFileError, match="not complete JSON"):
        load_model(broken)


def test_a_binary_file(tmp_path):
    path = tmp_path / "model.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(ModelFileError, match="not a text"):
        load_model(path)


def edit(doc: dict, change) -> dict:
    doc = json.loads(json.dumps(doc))
    change(doc)
    return doc


def _set(obj, keys, value):
    for key in keys[:-1]:
        obj = obj[key]
    obj[keys[-1]] = value


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: _set(d, ["format_version"], 3), "format_version 3 is not supported.*reads versions 1 and 2"),
        (lambda d: _set(d, ["format_version"], "1"), "format_version '1' is not supported"),
        (lambda d: _set(d, ["format"], "keras"), "format is 'keras'"),
        (lambda d: d.pop("weights"), "the file lacks weights"),
        (lambda d: _set(d, ["extra"], 1), "unknown entries extra"),
        (lambda d: _set(d, ["architecture", "input_dim"], 0), "input_dim must be a positive int"),
        (lambda d: _set(d, ["architecture", "layers"], []), "layers must be a non-empty list"),
        (
            lambda d: _set(d, ["architecture", "layers", 0, "activation"], "swish"),
            r"layers\[0\].activation 'swish' is not one of",
        ),
        (
            lambda d: _set(d, ["architecture", "layers", 0, "kernel_initializer"], "glorot"),
            r"layers\[0\].unknown kernel_initializer 'glorot'; choose one of: uniform, ",
        ),
        (
            lambda d: _set(
                d,
                ["architecture", "layers", 0, "bias_initializer"],
                {"class_name": "RandomNormal", "config": {"stddev": -1}},
            ),
            r"layers\[0\].RandomNormal: stddev must be a positive finite number, got -1",
        ),
        (lambda d: _set(d, ["architecture", "layers", 0, "init"], "he"), r"layers\[0\] has unknown entries init"),
        (
            lambda d: _set(d, ["architecture", "layers", 0, "units"], 4),
            r"weights.L1.w must have one row per neuron \(4\), got 5 rows",
        ),
        (lambda d: _set(d, ["architecture", "layers", 0, "units"], True), "units must be a positive int"),
        (lambda d: _set(d, ["architecture", "layers", 3, "activation"], "softmax"), "softmax over 1 unit"),
        (lambda d: _set(d, ["architecture", "layers", 1, "type"], "Conv2D"), "type 'Conv2D'"),
        (lambda d: _set(d, ["architecture", "layers", 1, "rate"], 1.5), r"rate must be a number in \[0, 1\)"),
        (lambda d: d["weights"]["L1"]["w"][2].pop(), r"weights.L1.w\[2\] must list 2 numbers, got 1 values"),
        (lambda d: d["weights"]["L3"]["b"].append(0.5), "weights.L3.b must list 1 numbers, got 2 values"),
        (
            lambda d: _set(d, ["weights", "L2", "w", 1, 0], "0.5"),
            r"weights.L2.w\[1\]\[0\] must be a finite number, got '0.5'",
        ),
        (lambda d: _set(d, ["weights", "L2", "b", 0], None), r"weights.L2.b\[0\] must be a finite number, got None"),
        (lambda d: _set(d, ["weights", "L2", "b", 0], True), r"weights.L2.b\[0\] must be a finite number, got True"),
        (
            lambda d: _set(d, ["weights", "L4"], {"w": [[1.0]], "b": [0.0]}),
            "entries for layers the architecture lacks: L4",
        ),
        (lambda d: d["weights"].pop("L3"), "weights has no entry for layer L3"),
        (lambda d: _set(d, ["weights", "L1", "scale"], 2), "weights.L1 has unknown entries scale"),
    ],
)
def test_a_tampered_file_is_refused_with_the_reason(saved, tmp_path, change, message):
    _, doc = saved
    path = write(str(tmp_path / "tampered.json"), edit(doc, change))
    with pytest.raises(ModelFileError, match=message) as info:
        load_model(path)
    assert isinstance(info.value, ValueError) and "tampered.json" in str(info.value)


def test_nan_and_infinity_are_refused(saved, tmp_path):
    _, doc = saved
    text = json.dumps(doc).replace(json.dumps(doc["weights"]["L1"]["b"][0]), "NaN", 1)
    with pytest.raises(ModelFileError, match="NaN is not a number"):
        load_model(write(str(tmp_path / "nan.json"), text))
    text = json.dumps(edit(doc, lambda d: _set(d, ["weights", "L1", "b", 0], 10**400)))
    with pytest.raises(ModelFileError, match="must be a finite number"):
        load_model(write(str(tmp_path / "big.json"), text))


def test_a_valid_file_written_by_hand_loads(tmp_path):
    # The course's 3-4-2 network, written by a person: the weights are read in file order.
    doc = {
        "format": "micrograd-lab/sequential",
        "format_version": 1,
        "architecture": {
            "input_dim": 3,
            "layers": [
                {"type": "Dense", "units": 4, "activation": "sigmoid", "init": "uniform"},
                {"type": "Dense", "units": 2, "activation": "linear", "init": "uniform"},
            ],
        },
        "weights": {
            "L1": {"w": [[0.1 * (i + j) for i in range(3)] for j in range(4)], "b": [0, 1, 2, 3]},
            "L2": {"w": [[1, -1, 1, -1], [0.5, 0.5, 0.5, 0.5]], "b": [0.25, -0.25]},
        },
    }
    model = load_model(write(str(tmp_path / "hand.json"), doc))
    assert len(model.parameters()) == 26
    x = [1.0, 2.0, 3.0]
    hidden = [1 / (1 + np.exp(-(j + sum(0.1 * (i + j) * x[i] for i in range(3))))) for j in range(4)]
    expected = [0.25 + hidden[0] - hidden[1] + hidden[2] - hidden[3], -0.25 + 0.5 * sum(hidden)]
    np.testing.assert_allclose(model.predict([x])[0], expected, rtol=1e-14)
