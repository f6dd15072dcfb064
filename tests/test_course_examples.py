"""The course's worked examples, checked against the numbers published with them.

Sources: the computation-graph notes (/work/shared/seeds/004_*), the sigmoid XOR slides
(the lecture *Introduction to Deep Learning (cont'd)*), the parameter-count slides (*Neural Network Architecture and Training*), and Example 9.1 of Han, Kamber & Pei,
"Data Mining: Concepts and Techniques", 3rd ed. (2012), §9.2.3, Figure 9.5 and Tables 9.2-9.4
(the forward pass of which *Neural Network Architecture and Training* also works through). Published figures are rounded; each
assertion uses the number of decimals printed in the source.
"""

from __future__ import annotations

import math

import pytest

from micrograd import Value
from micrograd.nn import MLP, Neuron


def _published(x: float, decimals: int) -> float:
    """x rounded as the source prints it."""
    return round(x, decimals)


# -- the handwritten notes: J = (a - y)² / 2 with c = w·x, a = c + b, d = a - y ----------------------------


def _cost_graph(w: float = 2.0, x: float = -2.0, b: float = 8.0, y: float = 2.0) -> dict[str, Value]:
    v = {name: Value(value, name) for name, value in (("w", w), ("x", x), ("b", b), ("y", y))}
    v["c"] = v["w"] * v["x"]
    v["a"] = v["c"] + v["b"]
    v["d"] = v["a"] - v["y"]
    v["J"] = v["d"] ** 2 / 2
    return v


def test_cost_graph_forward_and_backward() -> None:
    v = _cost_graph()
    assert (v["c"].data, v["a"].data, v["d"].data, v["J"].data) == (-4.0, 4.0, 2.0, 2.0)
    v["J"].backward()
    published = {"w": -4.0, "x": 4.0, "b": 2.0, "y": -2.0, "d": 2.0, "a": 2.0, "c": 2.0}
    assert {name: v[name].grad for name in published} == published  # exact: small integers


@pytest.mark.parametrize(
    "nudged, published_change",
    [
        ("d", 0.002),  # "d ↑ 0.001  J ↑ 0.002"
        ("a", 0.002),  # "a = 4.001, d = 2.001 ... J ↑ 0.002"
        ("c", 0.002),  # "c ↑ 0.001  a ↑ 0.001  J ↑ 0.002"
        ("b", 0.002),  # "b ↑ 0.001  a ↑ 0.001  J ↑ 0.002"
        ("w", -0.004),  # "w = 2.001 ... c = -4.002 ... J ↑ -4 × 0.001"
    ],
)
def test_cost_graph_nudges(nudged: str, published_change: float) -> None:
    """The notes' intuition for a derivative: nudge one node by 0.001 and watch J."""
    if nudged in ("w", "b"):
        J_after = _cost_graph(**{nudged: _cost_graph()[nudged].data + 0.001})["J"].data
    else:  # an inner node: recompute J from the nudged node onwards
        v = _cost_graph()
        node = Value(v[nudged].data + 0.001)
        d = {"c": lambda n: n + v["b"] - v["y"], "a": lambda n: n - v["y"], "d": lambda n: n}[nudged](node)
        J_after = (d**2 / 2).data
    change = J_after - 2.0
    assert _published(change, 3) == published_change
    v = _cost_graph()
    v["J"].backward()
    assert v[nudged].grad * 0.001 == pytest.approx(published_change, rel=1e-12)


# -- the handwritten notes: J = a² with a = 2 + 3w ------------------------------------------------------------


def test_square_of_affine() -> None:
    w = Value(3.0, "w")
    a = 2 + 3 * w
    J = a**2
    J.backward()
    assert (a.data, J.data) == (11.0, 121.0)
    assert (a.grad, w.grad) == (22.0, 66.0)
    # "a ↑ 0.001  J ↑ 0.022", "a = 11.001  J = 121.022"
    assert _published(((a.data + 0.001) ** 2), 3) == 121.022
    assert _published((Value(11.001) ** 2).data - J.data, 3) == 0.022
    # "w ↑ 0.001  a ↑ 0.003"
    assert _published((2 + 3 * Value(3.001)).data - a.data, 3) == 0.003


# -- Introduction to Deep Learning (cont'd): the sigmoid network that computes XOR ---------------------------------------------


def _neuron(weights: list[float], bias: float, name: str) -> Neuron:
    n = Neuron(len(weights), "sigmoid", name=name)
    for p, value in zip(n.w, weights):
        p.data = value
    n.b.data = bias
    return n


def _xor_network() -> tuple[Neuron, Neuron, Neuron]:
    return (
        _neuron([3.7, 3.7], -1.5, "H0"),
        _neuron([2.9, 2.9], -4.5, "H1"),
        _neuron([4.5, -5.2], -2.0, "Out"),
    )


def test_xor_network_forward_pass() -> None:
    h0, h1, out = _xor_network()
    x = [1.0, 0.0]
    a, b = h0(x), h1(x)
    # "sigmoid(1.0 × 3.7 + 0.0 × 3.7 + 1 × -1.5) = sigmoid(2.2) = 0.90"
    assert a.children[0].data == pytest.approx(2.2, abs=1e-15)
    assert _published(a.data, 2) == 0.90
    # "sigmoid(1.0 × 2.9 + 0.0 × 2.9 + 1 × -4.5) = sigmoid(-1.6) = 0.17"
    assert b.children[0].data == pytest.approx(-1.6, abs=1e-15)
    assert _published(b.data, 2) == 0.17
    # "sigmoid(.90 × 4.5 + .17 × -5.2 + 1 × -2.0) = sigmoid(1.17) = 0.76", from the rounded
    # hidden outputs; with the exact ones the net input is 1.178 and the output still 0.76.
    from_slide = out([0.90, 0.17])
    assert _published(from_slide.children[0].data, 2) == 1.17
    assert _published(from_slide.data, 2) == 0.76
    y = out([a, b])
    assert _published(y.data, 2) == 0.76
    exact_net = 4.5 / (1 + math.exp(-2.2)) - 5.2 / (1 + math.exp(1.6)) - 2.0
    assert y.children[0].data == pytest.approx(exact_net, rel=1e-15)


def test_xor_network_computes_xor() -> None:
    """The point of the example: with these weights the network separates XOR at 0.5."""
    h0, h1, out = _xor_network()
    for x1 in (0.0, 1.0):
        for x2 in (0.0, 1.0):
            y = out([h0([x1, x2]), h1([x1, x2])]).data
            assert (y > 0.5) == (x1 != x2), (x1, x2, y)


@pytest.mark.parametrize(
    "nin, nouts, weights, biases, total",
    [
        (3, [4, 4, 1], 32, 9, 41),  # "12 + 16 + 4 = 32", "4+4+1=9", "Total 41"
        (3, [4, 2], 20, 6, 26),  # "12 + 8 = 20", "4 + 2 = 6", "Total: 26"
    ],
)
def test_parameter_counts(nin: int, nouts: list[int], weights: int, biases: int, total: int) -> None:
    params = MLP(nin, nouts, seed=0).parameters()
    assert len(params) == total
    assert sum(".w" in p.label for p in params) == weights
    assert sum(p.label.endswith(".b") for p in params) == biases


# -- Han, Kamber & Pei, Example 9.1: one step of backpropagation ---------------------------------


def _han_network() -> dict[str, Neuron]:
    return {
        "4": _neuron([0.2, 0.4, -0.5], -0.4, "N4"),  # w14 w24 w34, θ4
        "5": _neuron([-0.3, 0.1, 0.2], 0.2, "N5"),  # w15 w25 w35, θ5
        "6": _neuron([-0.3, -0.2], 0.1, "N6"),  # w46 w56, θ6
    }


def _han_forward(net: dict[str, Neuron]) -> tuple[Value, Value, Value, Value]:
    x = [1.0, 0.0, 1.0]  # Table 9.2 / Figure 9.5: x1 = 1, x2 = 0, x3 = 1, class label T = 1
    o4, o5 = net["4"](x), net["5"](x)
    o6 = net["6"]([o4, o5])
    E = (1.0 - o6) ** 2 / 2  # Err_j = -∂E/∂I_j reproduces the book's error formulas
    return o4, o5, o6, E


def test_han_example_forward_pass() -> None:
    o4, o5, o6, _ = _han_forward(_han_network())
    # Table 9.3: net input and output of units 4, 5, 6
    assert o4.children[0].data == pytest.approx(-0.7, abs=1e-15)
    assert o5.children[0].data == pytest.approx(0.1, abs=1e-15)
    assert _published(o6.children[0].data, 3) == -0.105
    assert (_published(o4.data, 3), _published(o5.data, 3), _published(o6.data, 3)) == (0.332, 0.525, 0.474)


def test_han_example_errors_are_minus_dE_dI() -> None:
    o4, o5, o6, E = _han_forward(_han_network())
    E.backward()
    err = {j: -o.children[0].grad for j, o in (("4", o4), ("5", o5), ("6", o6))}
    # Table 9.4 (4 decimals). Err6 is the one figure that does not survive exact arithmetic: the
    # book evaluates O6(1 - O6)(T - O6) on the rounded O6 = 0.474, which gives 0.13114 -> 0.1311;
    # with the exact O6 = 0.473889 it is 0.131169 -> 0.1312. We assert both facts rather than
    # loosen the check: the exact value is within one unit of the 4th decimal of the book's.
    assert pytest.approx(0.13114, abs=5e-6) == 0.474 * (1 - 0.474) * (1 - 0.474)
    assert _published(err["6"], 4) == 0.1312
    assert abs(err["6"] - 0.1311) < 1e-4
    assert _published(err["5"], 4) == -0.0065
    assert _published(err["4"], 4) == -0.0087
    # and the book's own formulas, evaluated on our outputs, agree to rounding error
    assert err["6"] == pytest.approx(o6.data * (1 - o6.data) * (1 - o6.data), rel=1e-14)
    assert err["5"] == pytest.approx(o5.data * (1 - o5.data) * err["6"] * -0.2, rel=1e-14)
    assert err["4"] == pytest.approx(o4.data * (1 - o4.data) * err["6"] * -0.3, rel=1e-14)


def test_han_example_weight_update() -> None:
    """w_ij += l·Err_j·O_i and θ_j += l·Err_j with l = 0.9: plain SGD with lr 0.9 on E."""
    net = _han_network()
    *_, E = _han_forward(net)
    E.backward()
    for neuron in net.values():
        for p in neuron.parameters():
            p.data -= 0.9 * p.grad
    n4, n5, n6 = net["4"], net["5"], net["6"]
    updated = {
        "w46": n6.w[0], "w56": n6.w[1],
        "w14": n4.w[0], "w15": n5.w[0],
        "w24": n4.w[1], "w25": n5.w[1],
        "w34": n4.w[2], "w35": n5.w[2],
        "θ6": n6.b, "θ5": n5.b, "θ4": n4.b,
    }  # fmt: skip
    # Table 9.4, "Calculations for weight and bias updating" (3 decimals)
    published = {
        "w46": -0.261, "w56": -0.138,
        "w14": 0.192, "w15": -0.306,
        "w24": 0.4, "w25": 0.1,
        "w34": -0.508, "w35": 0.194,
        "θ6": 0.218, "θ5": 0.194, "θ4": -0.408,
    }  # fmt: skip
    assert {name: _published(p.data, 3) for name, p in updated.items()} == published
    # x2 = 0, so w24 and w25 have zero gradient and keep their exact values
    assert (n4.w[1].data, n5.w[1].data) == (0.4, 0.1)
