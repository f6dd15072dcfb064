"""nn: the Neuron / Layer / MLP API, activations by name, seeded initialisation, labels and
scopes, zero_grad, and a whole MLP (forward value and every parameter's gradient) against the
same network written with PyTorch float64 matrices."""

from __future__ import annotations

import math
import random
import statistics

import pytest
import torch
import torch.nn.functional as F

from micrograd import Parameter, Value, manual_seed, topological_order
from micrograd.nn import ACTIVATIONS, INITS, MLP, Layer, Module, Neuron

# -- the API ---------------------------------------------------------------------------------


def test_neuron_api() -> None:
    n = Neuron(3, seed=0)
    assert len(n.w) == 3 and all(type(w) is Parameter for w in n.w)
    assert type(n.b) is Parameter and n.b.data == 0.0
    assert [p.label for p in n.parameters()] == ["N.w0", "N.w1", "N.w2", "N.b"]
    assert n.parameters() == [*n.w, n.b]
    out = n([1.0, 2.0, 3.0])
    assert isinstance(out, Value)
    assert repr(n) == "Neuron(3, activation='relu')"


def test_neuron_computes_activation_of_w_dot_x_plus_b() -> None:
    n = Neuron(3, "linear", seed=0)
    for w, value in zip(n.w, (0.5, -1.0, 2.0)):
        w.data = value
    n.b.data = 0.25
    assert n([2.0, 3.0, -1.0]).data == 0.25 + 1.0 - 3.0 - 2.0


def test_layer_api() -> None:
    layer = Layer(3, 2, "tanh", seed=0, name="H")
    assert len(layer.neurons) == 2 and layer.nin == 3 and layer.activation == "tanh"
    assert [p.label for p in layer.parameters()] == [
        "H.N0.w0", "H.N0.w1", "H.N0.w2", "H.N0.b", "H.N1.w0", "H.N1.w1", "H.N1.w2", "H.N1.b",
    ]  # fmt: skip
    out = layer([1.0, 2.0, 3.0])
    assert isinstance(out, list) and len(out) == 2
    assert [o.data for o in out] == [n([1.0, 2.0, 3.0]).data for n in layer.neurons]
    single = Layer(3, 1, seed=0)
    assert isinstance(single([1.0, 2.0, 3.0]), Value)  # one neuron: its Value, as in micrograd
    assert single.outputs([1.0, 2.0, 3.0])[0].data == single([1.0, 2.0, 3.0]).data  # outputs(): a list
    assert repr(layer) == "Layer(3, 2, activation='tanh')"


def test_mlp_api() -> None:
    model = MLP(3, [4, 4, 1], seed=0)
    assert len(model.layers) == 3
    assert [(layer.nin, len(layer.neurons), layer.activation) for layer in model.layers] == [
        (3, 4, "relu"), (4, 4, "relu"), (4, 1, "linear"),
    ]  # fmt: skip
    labels = [p.label for p in model.parameters()]
    assert labels[:5] == ["L1.N0.w0", "L1.N0.w1", "L1.N0.w2", "L1.N0.b", "L1.N1.w0"]
    assert labels[-5:] == ["L3.N0.w0", "L3.N0.w1", "L3.N0.w2", "L3.N0.w3", "L3.N0.b"]
    assert "L2.N3.w2" in labels and len(set(labels)) == len(labels) == 41
    out = model([1.0, -2.0, 0.5])
    assert isinstance(out, Value)  # one output neuron: a single Value
    two = MLP(3, [4, 2], seed=0)([1.0, -2.0, 0.5])
    assert isinstance(two, list) and len(two) == 2


def test_mlp_repr_shows_architecture_and_parameter_count() -> None:
    assert repr(MLP(3, [4, 4, 1], seed=0)) == "MLP(3 → 4 relu → 4 relu → 1 linear; 41 parameters)"
    r = repr(MLP(2, [8, 3], "tanh", "sigmoid", seed=0))
    assert r == "MLP(2 → 8 tanh → 3 sigmoid; 51 parameters)"  # 2·8+8 + 8·3+3


def test_module_base_and_zero_grad() -> None:
    assert Module().parameters() == []
    model = MLP(2, [3, 1], seed=0)
    loss = (model([0.5, -1.5]) - 1.0) ** 2
    loss.backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())
    layer = model.layers[0]
    layer.neurons[0].w[0].grad = 5.0
    layer.zero_grad()
    assert layer.neurons[0].w[0].grad == 0.0


def test_nodes_built_in_a_neuron_carry_its_scope() -> None:
    model = MLP(2, [2, 1], seed=0)
    x = [Value(0.5, "x0"), Value(-1.0, "x1")]
    out = model(x)
    for node in topological_order(out):
        if isinstance(node, Parameter):
            assert node.scope == ""  # made when the model was built, outside any neuron
            continue
        if node.label in ("x0", "x1"):
            assert node.scope == ""
            continue
        assert node.op != ""  # every other node is an op result...
        # ...recorded under the neuron that built it (both neurons of L1 feed L2.N0)
        assert node.scope in ("L1.N0", "L1.N1", "L2.N0")
    assert out.scope == "L2.N0"
    assert {n.scope for n in topological_order(out) if n.op} == {"L1.N0", "L1.N1", "L2.N0"}


# -- activations ------------------------------------------------------------------------------

TORCH_ACTIVATIONS = {
    "linear": lambda t: t,
    "relu": torch.relu,
    "leaky_relu": F.leaky_relu,
    "elu": F.elu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "gelu": F.gelu,
    "step": lambda t: torch.heaviside(t, torch.zeros_like(t)),  # step(0) = 0, as the course's slide
}


def test_activation_names() -> None:
    assert list(ACTIVATIONS) == list(TORCH_ACTIVATIONS)
    assert INITS[:4] == ("uniform", "normal", "xavier", "he")  # micrograd's, then Keras's (test_initializers)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@pytest.mark.parametrize("pre", [-1.5, 0.0, 0.75])
def test_activation_by_name(name: str, pre: float) -> None:
    n = Neuron(1, name, seed=0)
    n.w[0].data, n.b.data = 1.0, 0.0
    out = n([pre])
    expected_op = {"linear": "+"}.get(name, name)
    assert out.op == expected_op
    if name == "leaky_relu":
        assert out.arg == 0.01  # PyTorch's default negative slope
    if name == "elu":
        assert out.arg == 1.0
    t = TORCH_ACTIVATIONS[name](torch.tensor(pre, dtype=torch.float64)).item()
    assert out.data == pytest.approx(t, rel=1e-15, abs=0.0)


# -- initialisation ---------------------------------------------------------------------------


def _weights(model: Module) -> list[float]:
    return [p.data for p in model.parameters() if ".w" in p.label]


@pytest.mark.parametrize("init", [name for name in INITS if name not in ("zeros", "ones")])
def test_same_seed_same_weights_other_seed_other_weights(init: str) -> None:
    a = MLP(3, [4, 4, 1], init=init, seed=42)
    b = MLP(3, [4, 4, 1], init=init, seed=42)
    c = MLP(3, [4, 4, 1], init=init, seed=43)
    assert [(p.label, p.data) for p in a.parameters()] == [(p.label, p.data) for p in b.parameters()]
    assert _weights(a) != _weights(c)
    assert all(p.data == 0.0 for p in a.parameters() if p.label.endswith(".b"))
    d = MLP(3, [4, 4, 1], init=init, seed=random.Random(42))  # a generator works as a seed too
    assert _weights(d) == _weights(a)


def test_manual_seed_restarts_the_default_generator() -> None:
    manual_seed(7)
    first, second = MLP(3, [4, 1]), MLP(3, [4, 1])
    assert _weights(first) != _weights(second)  # two models in one program differ
    manual_seed(7)
    assert _weights(MLP(3, [4, 1])) == _weights(first)
    assert _weights(MLP(3, [4, 1])) == _weights(second)


# One big layer, fixed seed: 400 inputs × 300 neurons = 120,000 weights. The sampling error of a
# standard deviation is then ~0.2%, of a mean ~0.3% of the standard deviation; the bounds below
# are several times wider, and the seed is fixed, so the test is both meaningful and stable.
FAN_IN, FAN_OUT = 400, 300
XAVIER_LIMIT = math.sqrt(6 / (FAN_IN + FAN_OUT))


@pytest.fixture(scope="module")
def big_layers() -> dict[str, list[float]]:
    return {
        init: _weights(Layer(FAN_IN, FAN_OUT, init=init, seed=2024)) for init in ("uniform", "normal", "xavier", "he")
    }


@pytest.mark.parametrize(
    "init, low, high, std",
    [
        ("uniform", -1.0, 1.0, 1 / math.sqrt(3)),  # U(-1, 1) as in micrograd
        ("normal", -math.inf, math.inf, 1.0),  # N(0, 1)
        # Glorot & Bengio: U(-a, a) with a = sqrt(6 / (fan_in + fan_out)), variance 2 / (fan_in + fan_out)
        ("xavier", -XAVIER_LIMIT, XAVIER_LIMIT, math.sqrt(2 / (FAN_IN + FAN_OUT))),
        # He et al.: N(0, 2 / fan_in)
        ("he", -math.inf, math.inf, math.sqrt(2 / FAN_IN)),
    ],
)
def test_init_distribution(init: str, low: float, high: float, std: float, big_layers) -> None:
    w = big_layers[init]
    assert len(w) == FAN_IN * FAN_OUT
    assert low <= min(w) and max(w) <= high
    if math.isfinite(high):  # a uniform draw fills its interval
        assert min(w) < low * 0.999 and max(w) > high * 0.999
    assert abs(statistics.fmean(w)) < 0.02 * std
    assert statistics.pstdev(w) == pytest.approx(std, rel=0.01)
    if not math.isfinite(high):  # normal: about 68.3% within one standard deviation
        assert sum(abs(x) < std for x in w) / len(w) == pytest.approx(0.6827, abs=0.01)


# -- a whole MLP against PyTorch --------------------------------------------------------------


def _torch_mlp(model: MLP, xs: list[list[float]], targets: list[float]):
    """The same network with float64 matrices: W[j, k] = neuron j's weight k, b[j] its bias."""
    weights, biases = [], []
    for layer in model.layers:
        W = torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64, requires_grad=True)
        b = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64, requires_grad=True)
        weights.append(W)
        biases.append(b)
    h = torch.tensor(xs, dtype=torch.float64)
    for layer, W, b in zip(model.layers, weights, biases):
        h = TORCH_ACTIVATIONS[layer.activation](F.linear(h, W, b))
    loss = ((h[:, 0] - torch.tensor(targets, dtype=torch.float64)) ** 2).sum()
    loss.backward()
    grads = []
    for W, b in zip(weights, biases):
        for j in range(W.shape[0]):
            grads.extend(W.grad[j].tolist())
            grads.append(b.grad[j].item())
    return loss.item(), grads


@pytest.mark.parametrize(
    "activation, output_activation, init",
    [
        ("relu", "linear", "uniform"),
        ("tanh", "sigmoid", "xavier"),
        ("leaky_relu", "tanh", "he"),
        ("elu", "linear", "normal"),
        ("sigmoid", "sigmoid", "uniform"),
        ("gelu", "linear", "he"),
    ],
)
def test_mlp_matches_pytorch(activation: str, output_activation: str, init: str, same) -> None:
    model = MLP(3, [4, 4, 1], activation, output_activation, init=init, seed=11)
    for k, p in enumerate(model.parameters()):  # nonzero biases, so they matter
        if p.label.endswith(".b"):
            p.data = 0.1 * (k % 5) - 0.2
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    targets = [1.0, -1.0, -1.0, 1.0]
    loss = Value(0.0)
    for x, y in zip(xs, targets):
        loss = loss + (model(x) - y) ** 2
    loss.backward()
    t_loss, t_grads = _torch_mlp(model, xs, targets)
    # F.linear sums w·x in its own order and PyTorch's kernels may round transcendental
    # functions differently in the last bit, so not bit for bit: rtol 1e-12, plus an absolute
    # floor for gradients that are sums of cancelling terms.
    same(loss.data, t_loss, rtol=1e-12, what="loss")
    scale = max(1.0, *(abs(n.grad) for n in topological_order(loss)))
    for p, tg in zip(model.parameters(), t_grads):
        same(p.grad, tg, rtol=1e-12, atol=1e-14 * scale, what=p.label)
    assert any(abs(p.grad) > 1e-3 for p in model.parameters())


# -- the weighted sum a neuron builds ------------------------------------------------------------


def _shape(root: Value) -> list[tuple]:
    order = topological_order(root)
    index = {id(node): i for i, node in enumerate(order)}
    return [(n.op, n.data, n.label, n.scope, tuple(index[id(c)] for c in n.children)) for n in order]


def test_weighted_sum_builds_the_graph_the_operators_build() -> None:
    from micrograd.engine import scope, weighted_sum

    w = [Parameter(0.5, "w0"), Parameter(-1.5, "w1"), Parameter(2.0, "w2")]
    b = Parameter(0.25, "b")
    x = [Value(2.0, "x0"), 3, -1.0]  # numbers become constant leaves, as in `w * 3`
    with scope("N"):
        fast = weighted_sum(b, w, x)
        slow = b + w[0] * x[0] + w[1] * x[1] + w[2] * x[2]
    assert _shape(fast) == _shape(slow)
    assert fast.data == 0.25 + 1.0 - 4.5 - 2.0
    fast.backward()
    assert [p.grad for p in w + [b]] == [2.0, 3.0, -1.0, 1.0]


def test_weighted_sum_without_grad_and_with_bad_input() -> None:
    from micrograd.engine import no_grad, weighted_sum

    w, b = [Parameter(0.5), Parameter(2.0)], Parameter(1.0)
    with no_grad():
        out = weighted_sum(b, w, [4.0, 0.5])
    assert (out.data, out.op, out.children) == (4.0, "", ())
    with pytest.raises(TypeError, match=r"^input 1 must be a number or a Value, got str: 'a'$"):
        weighted_sum(b, w, [1.0, "a"])
