"""Graphs shared by the visualizer tests, and the check that they hold the numbers claimed.

The builders are imported by the other test_viz_* files (built fresh on every call, since a
drawing depends on the gradients). The tests at the end check the hand-derived numbers of each
docstring, and the engine's values, against PyTorch in float64.
"""

from __future__ import annotations

import random

import torch

from micrograd import Value, scope
from micrograd.nn import MLP, Neuron


def worked_example(backward: bool = True) -> dict[str, Value]:
    """The issue's worked example: c = w*x, a = c + b, d = a - y, J = d**2/2 at w=2 x=-2 b=8 y=2.

    By hand: c = -4, a = 4, d = 2, J = 2; dJ/dd = d = 2, so dJ/da = dJ/dc = dJ/db = 2,
    dJ/dy = -2, dJ/dw = 2·x = -4, dJ/dx = 2·w = 4; the unnamed d**2 has gradient 1/2.
    """
    w, x, b, y = Value(2.0, "w"), Value(-2.0, "x"), Value(8.0, "b"), Value(2.0, "y")
    c = w * x
    c.label = "c"
    a = c + b
    a.label = "a"
    d = a - y
    d.label = "d"
    square = d**2
    J = square / 2
    J.label = "J"
    if backward:
        J.backward()
    return {"w": w, "x": x, "b": b, "y": y, "c": c, "a": a, "d": d, "square": square, "J": J}


def reused_node() -> dict[str, Value]:
    """s = a*a at a = 3: one node used twice, so two edges; ds/da = 2a = 6 (3 + 3 by slot)."""
    a = Value(3.0, "a")
    s = a * a
    s.label = "s"
    s.backward()
    return {"a": a, "s": s}


def neuron() -> tuple[Neuron, list[Value], Value]:
    """A tanh neuron with two inputs, built in its scope "N0"; output after backward."""
    n = Neuron(2, "tanh", seed=3, name="N0")
    xs = [Value(0.5, "x0"), Value(-1.5, "x1")]
    out = n(xs)
    out.backward()
    return n, xs, out


def small_mlp() -> tuple[MLP, list[Value], Value]:
    """MLP(2, [3, 1]) on one sample: layers L1 (three neurons) and L2 (one), after backward."""
    model = MLP(2, [3, 1], seed=0)
    xs = [Value(1.0, "x0"), Value(-1.0, "x1")]
    out = model(xs)
    out.backward()
    return model, xs, out


def mlp_batch_loss(n: int, loss_scope: bool = False, seed: int = 0) -> tuple[MLP, Value]:
    """Mean squared error of MLP(2, [16, 16, 1]) on `n` random points (labels: sign of x0·x1)."""
    model = MLP(2, [16, 16, 1], activation="tanh", seed=seed)
    rng = random.Random(seed)
    points = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(n)]
    targets = [1.0 if p[0] * p[1] > 0 else -1.0 for p in points]
    predictions = [model(p) for p in points]

    def mean_square() -> Value:
        return sum((p - t) ** 2 for p, t in zip(predictions, targets)) / n

    if loss_scope:
        with scope("loss"):
            loss = mean_square()
    else:
        loss = mean_square()
    loss.backward()
    return model, loss


# -- the examples hold what their docstrings say ------------------------------------------------


def test_worked_example_by_hand_and_by_torch() -> None:
    v = worked_example()
    by_hand = {
        "c": (-4, 2),
        "a": (4, 2),
        "d": (2, 2),
        "square": (4, 0.5),
        "J": (2, 1),
        "w": (2, -4),
        "x": (-2, 4),
        "b": (8, 2),
        "y": (2, -2),
    }
    for name, (data, grad) in by_hand.items():
        assert (v[name].data, v[name].grad) == (data, grad), name
    t = {name: torch.tensor(v[name].data, dtype=torch.float64, requires_grad=True) for name in "wxby"}
    J = ((t["w"] * t["x"] + t["b"] - t["y"]) ** 2) / 2
    J.backward()
    assert J.item() == v["J"].data
    for name in "wxby":
        assert t[name].grad.item() == v[name].grad, name


def test_reused_node_gradient_is_2a() -> None:
    v = reused_node()
    assert (v["s"].data, v["a"].grad) == (9.0, 6.0)


def test_neuron_matches_torch() -> None:
    n, xs, out = neuron()
    w = torch.tensor([p.data for p in n.w], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(n.b.data, dtype=torch.float64, requires_grad=True)
    x = torch.tensor([v.data for v in xs], dtype=torch.float64, requires_grad=True)
    y = torch.tanh(b + (w * x).sum())
    y.backward()
    assert abs(out.data - y.item()) < 1e-12
    for mine, theirs in [*zip(n.w, w.grad), (n.b, b.grad), *zip(xs, x.grad)]:
        assert abs(mine.grad - theirs.item()) < 1e-12
