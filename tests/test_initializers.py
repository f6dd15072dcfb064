"""Initialisers: Keras's names draw what Keras's formulas say, on large layers with a fixed seed;
`Dense(kernel_initializer=, bias_initializer=)` uses them and the model file keeps them; and the
symmetry of a constant initialisation: every hidden neuron stays the same neuron through training."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is imported, as in test_export_keras

from micrograd.nn import MLP, Dense, Layer, Sequential, load_model
from micrograd.nn.initializers import (
    INITIALIZERS,
    TRUNCATED_STD,
    Constant,
    GlorotNormal,
    HeNormal,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    get_initializer,
    initializer_config,
)

# One layer of 400 inputs × 300 neurons: 120,000 weights. The sampling error of a standard
# deviation is then ~0.2%, of a mean ~0.3% of the standard deviation; the bounds below are several
# times wider, and the seed is fixed, so the checks are both meaningful and stable.
FAN_IN, FAN_OUT = 400, 300
GLOROT = math.sqrt(2 / (FAN_IN + FAN_OUT))  # the standard deviation Glorot & Bengio ask for
HE = math.sqrt(2 / FAN_IN)  # and He et al.

# name: (lowest possible, highest possible, standard deviation), by Keras 3's formulas
EXPECTED = {
    "random_uniform": (-0.05, 0.05, 0.05 / math.sqrt(3)),  # U(-a, a) has variance a²/3
    "random_normal": (-math.inf, math.inf, 0.05),
    # a truncated normal keeps what lies within 2 σ of N(0, σ²): its std is 0.8796 σ
    "truncated_normal": (-0.1, 0.1, 0.05 * TRUNCATED_STD),
    "glorot_uniform": (-math.sqrt(6 / (FAN_IN + FAN_OUT)), math.sqrt(6 / (FAN_IN + FAN_OUT)), GLOROT),
    # Keras 3 widens σ by 1 / 0.8796 before truncating, so the variance is exactly the formula's
    "glorot_normal": (-2 * GLOROT / TRUNCATED_STD, 2 * GLOROT / TRUNCATED_STD, GLOROT),
    "he_uniform": (-math.sqrt(6 / FAN_IN), math.sqrt(6 / FAN_IN), HE),
    "he_normal": (-2 * HE / TRUNCATED_STD, 2 * HE / TRUNCATED_STD, HE),
    "he": (-math.inf, math.inf, HE),  # micrograd's: PyTorch's kaiming_normal_, not truncated
}


@pytest.fixture(scope="module")
def big_layers() -> dict[str, np.ndarray]:
    def draw(name: str) -> np.ndarray:
        layer = Layer(FAN_IN, FAN_OUT, init=name, seed=2024)
        return np.array([w.data for neuron in layer.neurons for w in neuron.w])

    return {name: draw(name) for name in EXPECTED}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_initializer_draws_what_its_formula_says(name: str, big_layers) -> None:
    low, high, std = EXPECTED[name]
    w = big_layers[name]
    assert w.size == FAN_IN * FAN_OUT
    assert low <= w.min() and w.max() <= high
    if math.isfinite(high):  # a uniform fills its interval; a truncated normal reaches near its cut
        assert w.min() < low * 0.99 and w.max() > high * 0.99
    assert abs(w.mean()) < 0.02 * std
    assert w.std() == pytest.approx(std, rel=0.01)
    if name.endswith("normal") and "truncated" not in name and name not in ("glorot_normal", "he_normal"):
        assert np.mean(np.abs(w) < std) == pytest.approx(0.6827, abs=0.01)  # an untruncated normal


# Keras 3.15's torch backend calls np.array(tensor, copy=False), which NumPy 2 warns about: not ours.
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning")
def test_keras_draws_the_same_distributions() -> None:
    """Keras's own initialisers, same shape: the bounds and standard deviations of our formulas."""
    keras = pytest.importorskip("keras")
    for name in ("random_uniform", "random_normal", "truncated_normal", "glorot_uniform", "glorot_normal"):
        theirs = keras.ops.convert_to_numpy(keras.initializers.get(name)(shape=(FAN_IN, FAN_OUT), dtype="float64"))
        low, high, std = EXPECTED[name]
        # Keras's PyTorch backend truncates by taking the first of 4 draws within 2 σ, and the first
        # draw when none is (probability 0.0455⁴ ≈ 4e-6 a weight): about one weight in 200,000
        # lies beyond the cut there. Ours redraws until it is within.
        outside = np.mean((theirs < low * 1.0001) | (theirs > high * 1.0001))
        assert outside <= 1e-4, name
        assert theirs.std() == pytest.approx(std, rel=0.01), name
    for name in ("he_uniform", "he_normal"):
        theirs = keras.ops.convert_to_numpy(keras.initializers.get(name)(shape=(FAN_IN, FAN_OUT), dtype="float64"))
        assert theirs.std() == pytest.approx(HE, rel=0.01), name


def test_constants_and_micrograd_defaults() -> None:
    ones = Layer(3, 2, init="ones", bias_init=Constant(0.25), seed=0)
    assert [p.data for p in ones.parameters()] == [1.0, 1.0, 1.0, 0.25, 1.0, 1.0, 1.0, 0.25]
    assert all(p.data == 0.0 for p in Layer(3, 2, init="zeros", seed=0).parameters())


def test_the_defaults_draw_what_they_always_drew() -> None:
    """micrograd's U(-1, 1) from the model's generator, biases 0: the numbers of every earlier release."""
    import random

    rng = random.Random(5)
    expected = [rng.uniform(-1.0, 1.0) for _ in range(6)]
    model = Sequential([Dense(2)], input_dim=3, seed=random.Random(5))
    assert model.get_weights() == [*expected[:3], 0.0, *expected[3:], 0.0]
    assert MLP(3, [2], seed=random.Random(5)).parameters()[0].data == expected[0]


def test_dense_takes_names_and_objects_and_keeps_them_in_its_config(tmp_path) -> None:
    model = Sequential(
        [
            Dense(4, "relu", kernel_initializer="he_normal", bias_initializer=RandomNormal(stddev=0.5)),
            Dense(3, "tanh", kernel_initializer=GlorotNormal()),
            Dense(1, init="xavier"),
        ],
        input_dim=2,
        seed=1,
    )
    layers = model.get_config()["layers"]
    assert [(c["kernel_initializer"], c["bias_initializer"]) for c in layers] == [
        ("he_normal", {"class_name": "RandomNormal", "config": {"mean": 0.0, "stddev": 0.5}}),
        ("glorot_normal", "zeros"),  # an object with a name is written by its name
        ("xavier", "zeros"),
    ]
    assert any(n.b.data != 0.0 for n in model.layers[0].layer.neurons)  # biases drawn
    model.save(tmp_path / "m.json")
    again = load_model(tmp_path / "m.json")
    assert again.get_config() == model.get_config()
    assert again.get_weights() == model.get_weights()  # the file's weights, not fresh draws


def test_a_version_1_file_still_loads(tmp_path) -> None:
    """Version 1 named the kernel's initialiser "init" (biases 0): read as today's keys."""
    doc = {
        "format": "micrograd-lab/sequential",
        "format_version": 1,
        "architecture": {"input_dim": 2, "layers": [{"type": "Dense", "units": 1, "activation": "relu", "init": "he"}]},
        "weights": {"L1": {"w": [[0.5, -0.25]], "b": [0.125]}},
    }
    (tmp_path / "v1.json").write_text(json.dumps(doc))
    model = load_model(tmp_path / "v1.json")
    assert model.get_weights() == [0.5, -0.25, 0.125]
    assert model.get_config()["layers"][0] == {
        "type": "Dense",
        "units": 1,
        "activation": "relu",
        "kernel_initializer": "he",
        "bias_initializer": "zeros",
    }


@pytest.mark.parametrize(
    "init, config",
    [
        (RandomUniform(-1.0, 1.0), "uniform"),
        (RandomNormal(0.0, 1.0), "normal"),
        (HeNormal(truncated=False), "he"),
        (HeNormal(), "he_normal"),
        (TruncatedNormal(stddev=0.05), "truncated_normal"),
        (RandomNormal(stddev=0.05), "random_normal"),
        (TruncatedNormal(stddev=0.2), {"class_name": "TruncatedNormal", "config": {"mean": 0.0, "stddev": 0.2}}),
        (Constant(0.5), {"class_name": "Constant", "config": {"value": 0.5}}),
    ],
)
def test_initializer_configs_round_trip(init, config) -> None:
    assert initializer_config(init) == config
    assert get_initializer("", "init", config) == init


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: RandomUniform(1.0, -1.0), ValueError, r"RandomUniform: minval \(1.0\) must be smaller than maxval"),
        (lambda: RandomNormal(stddev=0.0), ValueError, "RandomNormal: stddev must be a positive finite number"),
        (lambda: Constant(math.nan), ValueError, "Constant: value must be a finite number"),
        (lambda: Constant("1"), TypeError, "Constant: value must be a number"),
        (lambda: HeNormal(truncated=1), TypeError, "HeNormal: truncated must be True or False"),
        (lambda: MLP(2, [3], bias_init="glorot"), ValueError, "unknown bias_init 'glorot'"),
        (lambda: Dense(2, kernel_initializer=lambda *a: 0.5), TypeError, "an initializer of micrograd.nn.initializers"),
        (
            lambda: get_initializer("Dense", "kernel_initializer", {"class_name": "Orthogonal", "config": {}}),
            ValueError,
            "kernel_initializer has unknown class_name 'Orthogonal'",
        ),
        (
            lambda: get_initializer("Dense", "kernel_initializer", {"class_name": "Constant", "config": {"v": 1}}),
            ValueError,
            r"Constant takes the settings \['value'\]",
        ),
    ],
)
def test_bad_initializers_are_refused_clearly(make, error, message) -> None:
    with pytest.raises(error, match=message):
        make()


# -- the symmetry of a constant start -------------------------------------------------------------


@pytest.mark.parametrize("engine", ["scalar", "tape"])
@pytest.mark.parametrize("start", ["zeros", Constant(0.3)])
def test_a_constant_start_keeps_every_hidden_neuron_the_same(engine, start) -> None:
    """Every hidden neuron computes the same output and so gets the same gradient: after training
    they are still one neuron copied, whatever the data (the reason weights start random)."""
    assert "zeros" in INITIALIZERS
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(float)
    model = Sequential(
        [Dense(5, "tanh", kernel_initializer=start) for _ in range(2)]
        + [Dense(1, "sigmoid", kernel_initializer=start)],
        input_dim=2,
        seed=0,
    )
    model.compile(loss="binary_crossentropy", optimizer="adam")
    before = model.get_weights()
    model.fit(X, y, epochs=5, batch_size=8, verbose=0, engine=engine, seed=0)
    assert model.get_weights() != before  # it trained
    for dense in model.layers[:2]:
        rows = [[p.data for p in neuron.parameters()] for neuron in dense.layer.neurons]
        assert all(row == rows[0] for row in rows), dense.name  # the same to the last bit
    if start == "zeros":  # every hidden output is tanh(0) = 0 and every weight 0: only the output's bias learns
        assert [p.data != 0.0 for p in model.parameters()] == [False] * (len(before) - 1) + [True]
