"""Sequential, Dense and Dropout as objects: building, labels and scopes, summary, dropout,
predict, weights, compile's checks, and the metrics. (Training itself: test_fit.py.)"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch

from micrograd import Value, topological_order
from micrograd.nn.sequential import Dense, Dropout, Sequential
from micrograd.optim import SGD, Adam
from micrograd.training.metrics import accuracy, get_metric, mean_absolute_error, mean_squared_error


def course_net(sizes: list[int], seed: int = 0) -> Sequential:
    """The course's fully connected networks: sizes [3, 4, 2] is 3 inputs, 4 hidden units, 2 outputs."""
    layers = [Dense(n, activation="sigmoid") for n in sizes[1:]]
    return Sequential(layers, input_dim=sizes[0], seed=seed)


# -- building ---------------------------------------------------------------------------------------


def test_input_size_comes_from_input_dim_or_the_previous_layer():
    model = Sequential([Dense(5, activation="relu"), Dense(3), Dense(1, activation="sigmoid")], input_dim=2)
    assert [len(layer.layer.neurons[0].w) for layer in model.layers] == [2, 5, 3]
    assert len(model.parameters()) == (2 * 5 + 5) + (5 * 3 + 3) + (3 * 1 + 1)


def test_input_dim_on_the_first_dense_layer_and_add_keras_style():
    # The course's Keras example: model.add(Dense(64, activation='relu', input_dim=50)) ...
    model = Sequential(seed=0)
    model.add(Dense(6, activation="relu", input_dim=5))
    model.add(Dense(3, activation="relu"))
    model.add(Dense(2, activation="softmax"))
    assert model.built and model.input_dim == 5
    assert [layer.name for layer in model.layers] == ["L1", "L2", "L3"]
    assert len(model.parameters()) == 5 * 6 + 6 + 6 * 3 + 3 + 3 * 2 + 2


def test_a_model_without_input_size_is_built_by_its_first_data():
    model = Sequential([Dense(3, activation="tanh"), Dense(1)], seed=1)
    assert not model.built and model.parameters() == []
    with pytest.raises(ValueError, match="input size"):
        model.summary()
    out = model.predict(np.zeros((2, 4)))
    assert model.built and model.input_dim == 4 and out.shape == (2, 1)
    # Built later or at once from the same seed: the same weights.
    at_once = Sequential([Dense(3, activation="tanh"), Dense(1)], input_dim=4, seed=1)
    assert model.get_weights() == at_once.get_weights()


def test_labels_and_scopes_follow_the_nn_conventions():
    model = Sequential([Dense(2, activation="relu"), Dropout(0.5), Dense(1)], input_dim=3, seed=0)
    labels = [p.label for p in model.parameters()]
    assert labels[:4] == ["L1.N0.w0", "L1.N0.w1", "L1.N0.w2", "L1.N0.b"]
    assert labels[-3:] == ["L2.N0.w0", "L2.N0.w1", "L2.N0.b"]
    assert [layer.name for layer in model.layers] == ["L1", "D1", "L2"]
    out = model([1.0, 2.0, 3.0], training=True)
    scopes = {node.scope for node in topological_order(out)}
    assert {"L1.N0", "L1.N1", "D1", "L2.N0"} <= scopes
    inputs = [n for n in topological_order(out) if n.label.startswith("x")]
    assert sorted(n.label for n in inputs) == ["x0", "x1", "x2"]  # one leaf per input, shared


def test_the_same_seed_gives_the_same_weights_and_another_seed_others():
    a = Sequential([Dense(4, activation="relu"), Dense(1)], input_dim=2, seed=7)
    b = Sequential([Dense(4, activation="relu"), Dense(1)], input_dim=2, seed=7)
    c = Sequential([Dense(4, activation="relu"), Dense(1)], input_dim=2, seed=8)
    assert a.get_weights() == b.get_weights() != c.get_weights()


def test_dense_weights_are_drawn_like_nn_layer_inits():
    model = Sequential([Dense(50, init="xavier")], input_dim=30, seed=0)
    weights = [w.data for n in model.layers[0].layer.neurons for w in n.w]
    limit = math.sqrt(6.0 / (30 + 50))  # Glorot uniform
    assert max(abs(w) for w in weights) <= limit
    assert max(abs(w) for w in weights) > 0.9 * limit
    assert all(n.b.data == 0.0 for n in model.layers[0].layer.neurons)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Dense(0), "units"),
        (lambda: Dense(3, activation="swish"), "unknown activation 'swish'"),
        (lambda: Dense(3, init="glorot"), "unknown init 'glorot'"),
        (lambda: Dense(1, activation="softmax"), "softmax over 1 unit always outputs 1"),
        (lambda: Dense(3, input_dim=0), "input_dim"),
        (lambda: Dropout(1.0), r"rate must be a number in \[0, 1\)"),
        (lambda: Dropout(-0.1), "rate"),
        (lambda: Sequential([Dense(2)], input_dim=-1), "input_dim"),
        (lambda: Sequential([Dense(2, input_dim=3)], input_dim=4), "input_dim=3"),
        (lambda: Sequential([Dense(2), Dense(2, input_dim=5)], input_dim=4), "input_dim=5"),
        (lambda: Sequential([Dense(2), Dense(2, input_dim=5)]), "input_dim=5, but its input has size 2"),
        (lambda: Sequential([Dropout(0.1), Dense(2, input_dim=3)]), "input_dim belongs on the first layer"),
    ],
)
def test_bad_layers_are_rejected_with_a_clear_message(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_a_layer_cannot_belong_to_two_models():
    shared = Dense(2)
    Sequential([shared], input_dim=2)
    with pytest.raises(ValueError, match="already belongs to a model"):
        Sequential([shared], input_dim=2)


# -- summary ----------------------------------------------------------------------------------------


def summary_text(model: Sequential) -> str:
    lines: list[str] = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


def test_summary_counts_the_course_networks_parameters():
    # Course slides: 3 inputs, 4 hidden, 2 outputs -> 20 weights + 6 biases = 26 parameters;
    # 3 inputs, 4, 4, 1 output -> 32 weights + 9 biases = 41 parameters.
    text = summary_text(course_net([3, 4, 2]))
    assert "Total params: 26 (weights: 20, biases: 6)" in text
    rows = [line.split() for line in text.splitlines() if line.startswith("L") and "Dense" in line]
    assert rows == [
        ["L1", "(Dense)", "sigmoid", "(None,", "4)", "16"],
        ["L2", "(Dense)", "sigmoid", "(None,", "2)", "10"],
    ]
    text = summary_text(course_net([3, 4, 4, 1]))
    assert "Total params: 41 (weights: 32, biases: 9)" in text
    assert [line.split()[-1] for line in text.splitlines() if line.startswith("L") and "Dense" in line] == [
        "16",
        "20",
        "5",
    ]


def test_summary_is_a_keras_style_table_and_is_deterministic(capsys):
    model = Sequential([Dense(16, activation="relu"), Dropout(0.2), Dense(1, activation="sigmoid")], input_dim=2)
    model.summary()
    printed = capsys.readouterr().out
    assert printed == summary_text(model) + "\n" == summary_text(model) + "\n"
    lines = printed.splitlines()
    assert lines[0] == 'Model: "sequential" (input_dim=2)'
    assert lines[2].split() == ["Layer", "(type)", "Activation", "Output", "Shape", "Param", "#"]
    assert lines[3].startswith("====")
    assert lines[5].split() == ["D1", "(Dropout)", "(None,", "16)", "0"]
    assert "Total params: 65 (weights: 48, biases: 17)" in printed


# -- predict, calling, weights ----------------------------------------------------------------------


def test_predict_returns_an_array_equal_to_a_torch_forward_pass():
    model = Sequential([Dense(3, activation="tanh"), Dense(2, activation="softmax")], input_dim=2, seed=3)
    X = np.array([[0.5, -1.0], [2.0, 0.25], [0.0, 0.0]])
    out = model.predict(X)
    assert isinstance(out, np.ndarray) and out.shape == (3, 2)
    w1 = torch.tensor([[w.data for w in n.w] for n in model.layers[0].layer.neurons], dtype=torch.float64)
    b1 = torch.tensor([n.b.data for n in model.layers[0].layer.neurons], dtype=torch.float64)
    w2 = torch.tensor([[w.data for w in n.w] for n in model.layers[1].layer.neurons], dtype=torch.float64)
    b2 = torch.tensor([n.b.data for n in model.layers[1].layer.neurons], dtype=torch.float64)
    expected = torch.softmax(torch.tanh(torch.tensor(X) @ w1.T + b1) @ w2.T + b2, dim=1).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-15)
    # Calling the model on one sample gives the same numbers as Values.
    assert [v.data for v in model([0.5, -1.0])] == out[0].tolist()


def test_set_weights_checks_everything_before_changing_anything():
    model = Sequential([Dense(2), Dense(1)], input_dim=2, seed=0)
    before = model.get_weights()
    with pytest.raises(ValueError, match="has 9 parameters, got 8"):
        model.set_weights(before[:-1])
    with pytest.raises(ValueError, match=r"weight 8 \(L2.N0.b\) must be a finite number"):
        model.set_weights([1.0] * 8 + [math.nan])
    assert model.get_weights() == before
    model.set_weights(list(range(9)))
    assert model.get_weights() == [float(i) for i in range(9)]


# -- dropout ----------------------------------------------------------------------------------------


def test_dropout_zeroes_inputs_and_scales_the_rest_only_in_training():
    layer = Dropout(0.25, seed=5)
    layer.name = "D1"
    layer.build(1000, random.Random(0))

    x = [Value(float(i + 1)) for i in range(1000)]
    assert layer(x, training=False) == x  # off: the very same Values
    out = layer(x, training=True)
    kept = [o.data / xi.data for o, xi in zip(out, x) if o.data != 0.0]
    assert all(k == pytest.approx(1 / 0.75, rel=1e-15) for k in kept)  # inverted dropout, as Keras
    dropped = 1000 - len(kept)
    assert 200 <= dropped <= 300  # rate 0.25 of 1000 (binomial sd ≈ 14)
    # Seeded: the same seed drops the same inputs.
    again = Dropout(0.25, seed=5)
    again.name = "D1"
    again.build(1000, random.Random(99))
    assert [o.data for o in again(x, training=True)] == [o.data for o in out]


def test_dropout_is_off_in_predict_and_seeded_from_the_model():
    def make() -> Sequential:
        return Sequential([Dense(8, activation="relu"), Dropout(0.5), Dense(1)], input_dim=2, seed=11)

    model = make()
    X = np.array([[0.3, -0.7], [1.0, 2.0]])
    no_dropout = Sequential([Dense(8, activation="relu"), Dense(1)], input_dim=2, seed=11)
    no_dropout.set_weights(model.get_weights())
    np.testing.assert_array_equal(model.predict(X), no_dropout.predict(X))
    np.testing.assert_array_equal(model.predict(X), model.predict(X))
    train_a = [model([0.3, -0.7], training=True).data for _ in range(5)]
    train_b = [make()([0.3, -0.7], training=True).data for _ in range(1)]
    assert len(set(train_a)) > 1  # a new mask at each call
    assert train_a[0] == train_b[0]  # the same model seed: the same first mask


# -- compile ----------------------------------------------------------------------------------------


def test_compile_binds_an_optimizer_made_without_parameters():
    model = Sequential([Dense(2), Dense(1)], input_dim=2, seed=0)
    opt = Adam(lr=0.05)
    model.compile(loss="mse", optimizer=opt, metrics=["mae"])
    assert model.optimizer is opt and opt.params == model.parameters()
    model.compile(loss="binary_crossentropy", optimizer="sgd", metrics=["acc"])
    assert isinstance(model.optimizer, SGD) and model.optimizer.params == model.parameters()
    assert model.metrics_names == ["loss", "accuracy"]


def test_compile_before_build_binds_when_the_model_is_built():
    model = Sequential([Dense(2), Dense(1)], seed=0)
    model.compile(loss="mse", optimizer=SGD(lr=0.1))
    model.predict(np.zeros((1, 3)))
    assert model.optimizer.params == model.parameters() and len(model.parameters()) == 11


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"loss": "binary_cross_entropy"}, "unknown loss 'binary_cross_entropy'"),
        ({"loss": "mse", "optimizer": "adamax"}, "unknown optimizer 'adamax'"),
        ({"loss": "mse", "metrics": ["precision"]}, "unknown metric 'precision'"),
        ({"loss": "mse", "metrics": ["acc", "accuracy"]}, "distinct names"),
    ],
)
def test_compile_rejects_unknown_names(kwargs, message):
    model = Sequential([Dense(1)], input_dim=2)
    with pytest.raises(ValueError, match=message):
        model.compile(**kwargs)
    assert model.optimizer is None  # nothing half-set


def test_layers_cannot_be_added_after_compile():
    model = Sequential([Dense(1)], input_dim=2)
    model.compile(loss="mse", optimizer="sgd")
    with pytest.raises(ValueError, match="before compile"):
        model.add(Dense(1))


# -- metrics ----------------------------------------------------------------------------------------


def test_binary_accuracy_thresholds_at_one_half_as_the_course_does():
    # "If >= 0.5, output 1; else, outputs 0."
    y_true = np.array([1, 0, 1, 0, 1])
    y_pred = np.array([[0.5], [0.49999], [0.9], [0.7], [0.1]])
    # predicted classes 1, 0, 1, 1, 0: three of five right
    assert accuracy(y_true, y_pred) == 3 / 5


def test_multiclass_accuracy_takes_the_argmax_for_indices_and_one_hot_rows():
    y_pred = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6], [0.3, 0.4, 0.3]])
    assert accuracy(np.array([1, 0, 1, 2]), y_pred) == 0.5
    assert accuracy(np.eye(3)[[1, 0, 1, 2]], y_pred) == 0.5


def test_regression_metrics_and_names():
    y_true = np.array([1.0, 2.0, 4.0])
    y_pred = np.array([[1.5], [2.0], [1.0]])
    assert mean_squared_error(y_true, y_pred) == pytest.approx((0.25 + 0 + 9) / 3, rel=1e-15)
    assert mean_absolute_error(y_true, y_pred) == pytest.approx((0.5 + 0 + 3) / 3, rel=1e-15)
    assert get_metric("acc") is get_metric("accuracy") is accuracy
    assert get_metric("mse") is mean_squared_error
    with pytest.raises(ValueError, match="unknown metric 'f1'"):
        get_metric("f1")
