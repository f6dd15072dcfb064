"""GradientFlow: each layer's gradient norm equals PyTorch's for a copy of the model (made by
`to_torch`), the dead-ReLU fraction a NumPy computation's, and both engines record the same."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from micrograd.export import to_torch
from micrograd.nn import Dense, Dropout, Sequential
from micrograd.nn.initializers import RandomNormal
from micrograd.training.callbacks import GradientFlow, dead_relu_fractions
from micrograd.training.optim import SGD

RNG = np.random.default_rng(3)
X = RNG.normal(size=(20, 3))
Y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]


def _model() -> Sequential:
    """Four layers, three activations, random biases: every layer's gradient is different."""
    layers = [
        Dense(6, "tanh", kernel_initializer="glorot_normal", bias_initializer=RandomNormal(stddev=0.3)),
        Dense(5, "relu", kernel_initializer="he_uniform", bias_initializer=RandomNormal(stddev=0.3)),
        Dense(4, "sigmoid", bias_initializer=RandomNormal(stddev=0.3)),
        Dense(1),
    ]
    model = Sequential(layers, input_dim=3, seed=11)
    model.compile(loss="mse", optimizer=SGD(lr=0.05))
    return model


def _torch_norms(net: torch.nn.Sequential, batches: list[np.ndarray], lr: float) -> list[list[float]]:
    """Per batch, each Linear's ‖∂J/∂W‖ in PyTorch, then the same SGD step."""
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    norms = []
    for rows in batches:
        optimizer.zero_grad()
        out = net(torch.tensor(X[rows]))
        loss = ((out[:, 0] - torch.tensor(Y[rows])) ** 2).mean()
        loss.backward()
        norms.append([torch.linalg.vector_norm(m.weight.grad).item() for m in linears])
        optimizer.step()
    return norms


@pytest.mark.parametrize("engine", ["scalar", "tape"])
@pytest.mark.parametrize("batch_size", [20, 5])
def test_gradient_norms_equal_pytorchs(engine: str, batch_size: int) -> None:
    model = _model()
    net = to_torch(model)
    history = model.fit(
        X, Y, epochs=2, batch_size=batch_size, shuffle=False, verbose=0, engine=engine, callbacks=[GradientFlow()]
    )
    batches = [np.arange(i, i + batch_size) for i in range(0, 20, batch_size)]
    torch_norms = _torch_norms(net, batches * 2, lr=0.05)
    per_epoch = len(batches)
    for k in range(4):
        recorded = history.history[f"grad_norm/L{k + 1}"]
        assert len(recorded) == 2
        for epoch in range(2):
            # the mean over the epoch's batches of each batch's norm
            expected = sum(n[k] for n in torch_norms[epoch * per_epoch : (epoch + 1) * per_epoch]) / per_epoch
            assert recorded[epoch] == pytest.approx(expected, rel=1e-12, abs=0.0), (k, epoch)
            assert recorded[epoch] > 1e-3
    assert not any(key.startswith("dead_relu/") for key in history.history)  # not asked for: no X


def test_both_engines_record_the_same_figures() -> None:
    records = []
    for engine in ("scalar", "tape"):
        model = _model()
        history = model.fit(X, Y, epochs=3, batch_size=4, verbose=0, engine=engine, seed=1, callbacks=[GradientFlow(X)])
        records.append(history.history)
    assert set(records[0]) == {"loss", "grad_norm/L1", "grad_norm/L2", "grad_norm/L3", "grad_norm/L4", "dead_relu/L2"}
    for key in records[0]:
        assert records[1][key] == pytest.approx(records[0][key], rel=1e-12), key


def _numpy_dead(model: Sequential, X: np.ndarray) -> dict[str, float]:
    """The same definition in NumPy: a ReLU unit is dead when its output is 0 for every row of X."""
    h, dead = X, {}
    for layer in model.layers:
        if not layer.kernel_parameters():
            continue
        W = np.array([[w.data for w in n.w] for n in layer.layer.neurons])
        b = np.array([n.b.data for n in layer.layer.neurons])
        z = h @ W.T + b
        if layer.activation == "softmax":
            e = np.exp(z - z.max(axis=1, keepdims=True))
            h = e / e.sum(axis=1, keepdims=True)
        else:
            h = {"relu": np.maximum(z, 0.0), "tanh": np.tanh(z), "linear": z}[layer.activation]
        if layer.activation == "relu":
            dead[f"dead_relu/{layer.name}"] = float(np.mean(np.all(h == 0.0, axis=0)))
    return dead


def test_dead_relu_fraction_matches_numpy() -> None:
    model = Sequential(
        [Dense(8, "relu", kernel_initializer="he_normal"), Dropout(0.25), Dense(6, "relu"), Dense(4, "tanh"), Dense(1)],
        input_dim=3,
        seed=5,
    )
    first = model.layers[0].layer.neurons
    first[1].b.data = first[6].b.data = -100.0  # dead for any input of this size
    third = model.layers[2].layer.neurons
    third[0].b.data, third[3].b.data, third[5].b.data = -50.0, -50.0, 50.0
    fractions = dead_relu_fractions(model, X)
    assert fractions == _numpy_dead(model, X)
    assert fractions["dead_relu/L1"] == 2 / 8 and fractions["dead_relu/L2"] >= 2 / 6
    # through fit: measured with the weights at the end of each epoch
    model.compile(loss="mse", optimizer=SGD(lr=0.01))
    history = model.fit(X, Y, epochs=2, batch_size=10, verbose=0, seed=0, callbacks=[GradientFlow(X)])
    assert history.history["dead_relu/L1"][-1] == _numpy_dead(model, X)["dead_relu/L1"] == 2 / 8
    assert history.history["dead_relu/L2"][-1] == _numpy_dead(model, X)["dead_relu/L2"]


def test_dead_relu_fraction_after_a_softmax_layer_is_counted_sample_by_sample() -> None:
    """A softmax below a ReLU layer makes the graph depend on the data: no tape, the same definition."""
    model = Sequential([Dense(4, "softmax"), Dense(6, "relu"), Dense(1)], input_dim=3, seed=2)
    for k, neuron in enumerate(model.layers[1].layer.neurons):
        neuron.b.data = [-3.0, -0.4, 0.0, 0.3, -2.5, 0.1][k]  # softmax outputs lie in (0, 1): some units die
    fractions = dead_relu_fractions(model, X)
    assert fractions == _numpy_dead(model, X)
    assert 0.0 < fractions["dead_relu/L2"] < 1.0


def test_a_constant_start_sends_no_gradient_to_the_first_layer() -> None:
    """All-zero weights: every hidden output is tanh(0) = 0, so every layer's weight gradient is 0
    (each is the layer's input times the gradient arriving from above, and above is all zeros)."""
    model = Sequential(
        [Dense(4, "tanh", kernel_initializer="zeros") for _ in range(3)] + [Dense(1)], input_dim=3, seed=0
    )
    model.compile(loss="mse", optimizer=SGD(lr=0.05))
    history = model.fit(X, Y, epochs=1, batch_size=20, verbose=0, callbacks=[GradientFlow()])
    assert [history.history[f"grad_norm/L{k}"][0] for k in (1, 2, 3)] == [0.0, 0.0, 0.0]
    assert history.history["grad_norm/L4"][0] == 0.0  # its inputs are tanh(0) = 0 as well
    assert history.history["loss"][0] > 0.1  # yet the model is far from the targets


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: GradientFlow(np.zeros(3)), ValueError, r"GradientFlow: X must be finite numbers of shape"),
        (lambda: GradientFlow([[math.nan, 1.0]]), ValueError, r"GradientFlow: X must be finite"),
    ],
)
def test_bad_data_is_refused(make, error, message) -> None:
    with pytest.raises(error, match=message):
        make()


def test_data_of_the_wrong_width_is_refused_before_training() -> None:
    model = _model()
    with pytest.raises(ValueError, match="GradientFlow: X has 2 features, the model takes 3"):
        model.fit(X, Y, epochs=1, verbose=0, callbacks=[GradientFlow(X[:, :2])])
