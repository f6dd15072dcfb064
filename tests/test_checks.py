"""One rule for bad arguments, wherever they are given: a wrong type is a TypeError, a wrong value
of the right type a ValueError (micrograd.checks), with a message naming the argument."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from micrograd.checks import check_bool, check_choice, check_int, check_number, check_seed
from micrograd.datasets import make_blobs, make_circles, make_moons, train_test_split
from micrograd.nn import MLP, Dense, Dropout, Layer, Neuron, Sequential
from micrograd.optim import SGD, Adam, RMSprop, StepDecay
from micrograd.training.callbacks import EarlyStopping, LearningRateScheduler

X4 = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y4 = [0, 1, 1, 0]


def compiled() -> Sequential:
    model = Sequential([Dense(3, activation="tanh"), Dense(1, activation="sigmoid")], input_dim=2, seed=0)
    model.compile(loss="binary_crossentropy", optimizer=SGD(lr=0.1), metrics=["accuracy"])
    return model


def fit(**kwargs):
    return lambda: compiled().fit(X4, Y4, **{"epochs": 1, "verbose": 0, **kwargs})


CASES = [
    # seeds
    (lambda: Sequential([Dense(1)], seed="1"), TypeError, "seed must be an int, got str: '1'"),
    (lambda: Sequential([Dense(1)], seed=1.0), TypeError, "seed must be an int"),
    (lambda: MLP(2, [1], seed=True), TypeError, "seed must be an int, got bool: True"),
    (fit(seed="0"), TypeError, "seed must be an int or None, got str: '0'"),
    (fit(seed=0.5), TypeError, "seed must be an int or None"),
    (lambda: Dropout(0.5, seed="3"), TypeError, "Dropout: seed must be an int or None"),
    (lambda: Dropout(0.5, seed=2.0), TypeError, "Dropout: seed must be an int or None"),
    (lambda: make_moons(seed="x"), TypeError, "make_moons: seed must be an int >= 0 or a numpy Generator"),
    (lambda: make_moons(seed=-1), ValueError, "make_moons: seed must be an int >= 0 or a numpy Generator, got -1"),
    (lambda: train_test_split(X4, np.zeros(4), seed=1.5), TypeError, "train_test_split: seed must be"),
    # epochs, batch_size, verbose, shuffle, validation, callbacks, engine
    (fit(epochs=1.5), TypeError, "epochs must be a positive int, got 1.5"),
    (fit(epochs="2"), TypeError, "epochs must be a positive int"),
    (fit(epochs=True), TypeError, "epochs must be a positive int"),
    (fit(epochs=0), ValueError, "epochs must be a positive int, got 0"),
    (fit(batch_size="3"), TypeError, "batch_size must be a positive int, got '3'"),
    (fit(batch_size=2.0), TypeError, "batch_size must be a positive int"),
    (fit(batch_size=-1), ValueError, "batch_size must be a positive int, got -1"),
    (fit(verbose="1"), TypeError, "verbose must be 0"),
    (fit(verbose=True), TypeError, "verbose must be 0"),
    (fit(verbose=3), ValueError, r"verbose must be 0 \(silent\), 1 \(progress bar\) or 2"),
    (fit(shuffle=1), TypeError, "shuffle must be True or False, got 1"),
    (fit(validation_split="0.2"), TypeError, "validation_split must be a number"),
    (fit(validation_split=-0.1), ValueError, r"validation_split must be a number in \[0, 1\)"),
    (fit(validation_data=X4), TypeError, r"validation_data must be a pair \(X_val, y_val\)"),
    (fit(callbacks=[print]), TypeError, "callbacks must be Callback objects"),
    (fit(engine=1), TypeError, "engine must be 'auto', 'tape' or 'scalar', got 1"),
    (fit(engine="gpu"), ValueError, "engine must be 'auto', 'tape' or 'scalar', got 'gpu'"),
    (lambda: compiled().evaluate(X4, Y4, batch_size=0), ValueError, "batch_size must be a positive int, got 0"),
    (lambda: compiled().evaluate(X4, Y4, batch_size=2.5), TypeError, "batch_size must be a positive int"),
    (lambda: compiled().evaluate(X4, Y4, verbose=5), ValueError, "verbose must be 0"),
    (lambda: compiled().evaluate(X4, Y4, return_dict="yes"), TypeError, "return_dict must be True or False"),
    (lambda: compiled().predict(X4, batch_size="all"), TypeError, "batch_size must be a positive int"),
    (lambda: compiled().predict(X4, verbose=-1), ValueError, "verbose must be 0"),
    # layers and models
    (lambda: Dropout("0.5"), TypeError, "Dropout: rate must be a number, got str: '0.5'"),
    (lambda: Dropout(True), TypeError, "Dropout: rate must be a number"),
    (lambda: Dropout(1.0), ValueError, r"Dropout: rate must be a number in \[0, 1\), got 1.0"),
    (lambda: Dropout(math.nan), ValueError, "Dropout: rate must be a number in"),
    (lambda: Dense(2.0), TypeError, "units must be a positive int, got 2.0"),
    (lambda: Dense(0), ValueError, "units must be a positive int, got 0"),
    (lambda: Dense(2, activation=3), TypeError, "Dense: activation must be a str"),
    (lambda: Dense(2, activation="swish"), ValueError, "Dense: unknown activation 'swish'; choose one of: linear"),
    (lambda: Dense(2, init="glorot"), ValueError, "Dense: unknown init 'glorot'"),
    (lambda: Dense(2, kernel_initializer="glorot"), ValueError, "Dense: unknown kernel_initializer 'glorot'"),
    (lambda: Dense(2, bias_initializer=0.0), TypeError, "Dense: bias_initializer must be a name such as"),
    (lambda: Dense(2, kernel_initializer="he", init="he"), TypeError, "Dense: give kernel_initializer or init"),
    (lambda: Dense(2, input_dim="3"), TypeError, "input_dim must be a positive int"),
    (lambda: Sequential([Dense(1)], input_dim=0), ValueError, "input_dim must be a positive int, got 0"),
    (lambda: Sequential(["relu"]), TypeError, "Sequential takes Dense and Dropout layers, got str: 'relu'"),
    (lambda: MLP(2.5, [4]), TypeError, "nin must be a positive int, got 2.5"),
    (lambda: MLP(True, [4]), TypeError, "nin must be a positive int, got True"),
    (lambda: MLP(0, [4]), ValueError, "nin must be a positive int, got 0"),
    (lambda: MLP(3, [4, "2"]), TypeError, "nout must be a positive int, got '2'"),
    (lambda: MLP(3, 4), TypeError, r"nouts must list at least one layer size, e.g. MLP\(3, \[4, 4, 1\]\); got 4"),
    (lambda: MLP(3, [1], activation="swish"), ValueError, "unknown activation 'swish'; choose one of"),
    (lambda: Layer(3, 2.0), TypeError, "nout must be a positive int"),
    (lambda: Neuron(2, activation=None), TypeError, "activation must be a str"),
    # compile
    (lambda: Sequential([Dense(1)], input_dim=2).compile(loss="msee"), ValueError, "unknown loss 'msee'"),
    (lambda: Sequential([Dense(1)], input_dim=2).compile(loss=3), TypeError, "loss must be a name or a function"),
    (
        lambda: Sequential([Dense(1)], input_dim=2).compile("mse", metrics="accuracy"),
        TypeError,
        "metrics must be a list",
    ),
    (lambda: Sequential([Dense(1)], input_dim=2).compile("mse", optimizer="adamm"), ValueError, "unknown optimizer"),
    # datasets
    (lambda: make_moons(n=2.5), TypeError, "make_moons: n must be an int >= 2, got 2.5"),
    (lambda: make_moons(n=True), TypeError, "make_moons: n must be an int"),
    (lambda: make_moons(n=1), ValueError, "make_moons: n must be an int >= 2, got 1"),
    (lambda: make_moons(noise="0.1"), TypeError, "make_moons: noise must be a number"),
    (lambda: make_circles(factor=2), ValueError, r"make_circles: factor must be in \[0, 1\)"),
    (lambda: make_blobs(centers=2.5), ValueError, "make_blobs: centers must be"),
    (
        lambda: train_test_split(X4, np.zeros(4), test_size=True),
        TypeError,
        "test_size must be a fraction or a row count",
    ),
    (lambda: train_test_split(X4, np.zeros(4), test_size="1"), TypeError, "test_size must be a fraction"),
    # optimizers and callbacks
    (lambda: SGD(lr="0.1"), TypeError, "SGD: lr must be a number, got str"),
    (lambda: SGD(lr=-1.0), ValueError, "SGD: lr must be a positive finite number, got -1.0"),
    (lambda: SGD(momentum=None), TypeError, "SGD: momentum must be a number"),
    (lambda: SGD(nesterov="no"), TypeError, "SGD: nesterov must be True or False"),
    (lambda: Adam(betas=0.9), TypeError, "Adam: betas must be a pair"),
    (lambda: Adam(betas=(0.9, 0.99, 0.1)), ValueError, "Adam: betas must be a pair"),
    (lambda: RMSprop(alpha=-0.5), ValueError, "RMSprop: alpha must be a finite number >= 0"),
    (lambda: StepDecay(SGD(), 1.5), TypeError, "StepDecay: step_size must be a positive int, got 1.5"),
    (lambda: StepDecay(SGD(), 0), ValueError, "StepDecay: step_size must be a positive int, got 0"),
    (lambda: EarlyStopping(patience=1.5), TypeError, "EarlyStopping: patience must be an int >= 0, got 1.5"),
    (lambda: EarlyStopping(patience=-1), ValueError, "EarlyStopping: patience must be an int >= 0, got -1"),
    (lambda: EarlyStopping(min_delta=-0.1), ValueError, "EarlyStopping: min_delta must be a finite number >= 0"),
    (lambda: EarlyStopping(mode="up"), ValueError, "EarlyStopping: mode must be 'auto', 'min' or 'max', got 'up'"),
    (lambda: EarlyStopping(restore_best_weights=1), TypeError, "EarlyStopping: restore_best_weights must be True"),
    (lambda: LearningRateScheduler(0.1), TypeError, "LearningRateScheduler needs a schedule with a step"),
]


@pytest.mark.parametrize("call, error, message", CASES, ids=[f"{case[1].__name__}-{case[2][:40]}" for case in CASES])
def test_a_wrong_type_is_a_type_error_and_a_wrong_value_a_value_error(call, error, message):
    with pytest.raises(error, match=message) as info:
        call()
    assert type(info.value) is error  # not a subclass: one rule, no exceptions


def test_the_checks_return_plain_python_values():
    assert type(check_int("f", "n", np.int64(3))) is int
    assert type(check_number("f", "x", np.float32(0.5), 0.0, 1.0)) is float
    assert check_number("f", "x", 2) == 2.0
    assert check_bool("f", "flag", False) is False
    assert check_choice("f", "mode", "min", ("min", "max")) == "min"
    rng = np.random.default_rng(0)
    assert check_seed("f", rng, generator=np.random.Generator) is rng
    assert check_seed("f", None, allow_none=True) is None
    assert type(check_seed("f", np.int64(7))) is int
    from_generator = Sequential([Dense(2)], input_dim=2, seed=random.Random(1)).get_weights()
    assert from_generator == Sequential([Dense(2)], input_dim=2, seed=1).get_weights()


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: check_int("", "n", 0, 1), ValueError, "^n must be a positive int, got 0$"),
        (lambda: check_int("g", "n", 1, 2), ValueError, "^g: n must be an int >= 2, got 1$"),
        (lambda: check_int("g", "n", np.bool_(True)), TypeError, "^g: n must be a positive int, got "),
        (lambda: check_number("g", "x", math.inf, 0.0), ValueError, "^g: x must be a finite number >= 0, got inf$"),
        (lambda: check_number("g", "x", 0.0, 0.0, low_open=True), ValueError, "^g: x must be a positive finite number"),
        (lambda: check_number("g", "x", 2.0, -1.0, 1.0), ValueError, r"^g: x must be a number in \[-1, 1\], got 2.0$"),
        (
            lambda: check_choice("g", "loss", "l3", ("l1", "l2")),
            ValueError,
            "^g: unknown loss 'l3'; choose one of: l1, l2$",
        ),
        (lambda: check_choice("g", "loss", ["l1"], ("l1", "l2")), TypeError, "^g: loss must be a str, one of: l1, l2"),
        (
            lambda: check_choice("g", "level", 2, (0, 1), notes={0: "off", 1: "on"}),
            ValueError,
            r"^g: level must be 0 \(off\) or 1 \(on\), got 2$",
        ),
        (lambda: check_seed("g", -2, minimum=0), ValueError, "^g: seed must be an int >= 0, got -2$"),
    ],
)
def test_the_messages_name_where_and_what(call, error, message):
    with pytest.raises(error, match=message):
        call()
