"""Code written for Karpathy's micrograd, and his lecture "The spelled-out intro to neural networks
and backpropagation", runs here with one changed line: `from micrograd.engine import Value`.

The idioms below are written for this project (nothing is copied): micrograd's positional
`Value(data, _children, _op)`, `_prev` and `_op` read by a hand-written `trace`, the hand-run
backward pass through `_backward`, an op defined the lecture's way, and the published numbers of
micrograd's README example and of its two-moons demo.
"""

from __future__ import annotations

import math
import pickle
import random

import numpy as np
import pytest
import torch

from micrograd import Tape, gradcheck
from micrograd.engine import Value
from micrograd.engine.value import UserOpError
from micrograd.nn import MLP, Layer, Module, Neuron

# -- the Value surface -----------------------------------------------------------------------------


def test_positional_children_and_op_in_micrograds_order() -> None:
    a, b = Value(2.0), Value(-3.0)
    c = Value(a.data + b.data, (a, b), "+")  # micrograd's order: data, _children, _op
    assert c.children == (a, b) and c.op == "+" and c._op == "+" and c._prev == {a, b}
    c.backward()
    assert (a.grad, b.grad) == (1.0, 1.0)  # the engine knows "+" with two operands
    assert Value(2.0, "w").label == "w" and Value(2.0, label="w").label == "w"  # our order keeps working
    assert Value(2.0, (), "", "w").label == "w"


def test_prev_and_op_read_as_in_micrograd() -> None:
    a, b = Value(2.0), Value(3.0)
    assert a._prev == set() and a._op == ""
    assert (a * b)._prev == {a, b} and (a * b)._op == "*"
    assert (a * a)._prev == {a}  # a set, as micrograd keeps it
    assert (a**2)._op == "**2" and (a**0.5)._op == "**0.5" and a.relu()._op == "ReLU" and a.tanh()._op == "tanh"
    with pytest.raises(AttributeError):
        a._prev = set()  # type: ignore[misc]  # read-only


def test_a_trace_written_against_prev_and_op_finds_every_node_and_edge() -> None:
    def trace(root: Value) -> tuple[set[Value], set[tuple[Value, Value]]]:
        nodes: set[Value] = set()
        edges: set[tuple[Value, Value]] = set()
        stack = [root]
        while stack:
            v = stack.pop()
            if v not in nodes:
                nodes.add(v)
                for child in v._prev:
                    edges.add((child, v))
                    stack.append(child)
        return nodes, edges

    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    e = a * b
    d = e + c
    f = Value(-2.0, label="f")
    L = d * f
    nodes, edges = trace(L)
    assert len(nodes) == 7 and len(edges) == 6
    assert sorted(n._op for n in nodes) == ["", "", "", "", "*", "*", "+"]


def lecture_neuron() -> dict[str, Value]:
    """The lecture's tanh neuron: o = tanh(x1·w1 + x2·w2 + b), its bias chosen so that n = 0.8814."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x2w2 = x2 * w2
    x1w1x2w2 = x1w1 + x2w2
    n = x1w1x2w2 + b
    o = n.tanh()
    return dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b, x1w1=x1w1, x2w2=x2w2, x1w1x2w2=x1w1x2w2, n=n, o=o)


def test_the_lectures_hand_run_backward_pass_gives_the_lectures_numbers() -> None:
    v = lecture_neuron()
    assert abs(v["o"].data - 0.7071) < 1e-4
    v["o"].grad = 1.0
    for name in ("o", "n", "b", "x1w1x2w2", "x2w2", "x1w1"):  # the lecture's order
        v[name]._backward()
    assert abs(v["n"].grad - 0.5) < 1e-12
    assert abs(v["x1"].grad - -1.5) < 1e-12 and abs(v["w1"].grad - 1.0) < 1e-12
    assert abs(v["x2"].grad - 0.5) < 1e-12 and v["w2"].grad == 0.0
    # the same numbers as backward(), and as PyTorch
    fresh = lecture_neuron()
    fresh["o"].backward()
    for name in ("x1", "x2", "w1", "w2", "b", "n"):
        assert v[name].grad == fresh[name].grad, name
    t = {k: torch.tensor(fresh[k].data, dtype=torch.float64, requires_grad=True) for k in ("x1", "x2", "w1", "w2", "b")}
    torch.tanh(t["x1"] * t["w1"] + t["x2"] * t["w2"] + t["b"]).backward()
    for k, tensor in t.items():
        assert fresh[k].grad == pytest.approx(tensor.grad.item(), abs=1e-15), k


def test_a_leafs_backward_does_nothing_and_backward_is_made_from_local_grads() -> None:
    a, b = Value(3.0), Value(-2.0)
    a._backward()  # micrograd's leaves have `lambda: None`
    c = a * b
    c.grad = 2.0
    c._backward()
    assert (a.grad, b.grad) == (-4.0, 6.0)
    c._backward()  # it adds, as micrograd's closure does
    assert (a.grad, b.grad) == (-8.0, 12.0)


# -- an op of your own, the lecture's way ----------------------------------------------------------


def my_tanh(x: Value, mistake: str = "") -> Value:
    """tanh written as the lecture writes a new op: a node by hand and its _backward closure."""
    t = (math.exp(2 * x.data) - 1) / (math.exp(2 * x.data) + 1)
    out = Value(t, (x,), "tanh")

    def _backward() -> None:
        if mistake == "=":
            x.grad = (1 - t**2) * out.grad
        else:
            x.grad += (1 - t**2) * out.grad

    out._backward = _backward
    return out


def test_a_user_op_works_in_backward_and_matches_the_engines_op() -> None:
    x = Value(0.8, label="x")
    y = my_tanh(x) * 3 + my_tanh(x)
    y.backward()
    engine_x = Value(0.8)
    (engine_x.tanh() * 3 + engine_x.tanh()).backward()
    assert x.grad == pytest.approx(engine_x.grad, rel=1e-15)
    assert my_tanh(x).user_op and my_tanh(x).op == "user:tanh" and my_tanh(x)._op == "tanh"


def test_a_user_op_keeps_the_users_mistakes_as_micrograd_would() -> None:
    x = Value(0.8)
    y = my_tanh(x, mistake="=") + my_tanh(x, mistake="=")  # x used twice, its gradient overwritten
    y.backward()
    assert x.grad == pytest.approx(1 - math.tanh(0.8) ** 2)  # half the true 2·(1 − tanh²)


def test_local_grads_of_a_user_op_come_from_its_backward_and_leave_grads_as_they_were() -> None:
    x = Value(0.3)
    out = my_tanh(x)
    x.grad, out.grad = 5.0, 7.0
    (d,) = out.local_grads()
    assert d == pytest.approx(1 - math.tanh(0.3) ** 2, rel=1e-15)
    assert (x.grad, out.grad) == (5.0, 7.0)


def test_gradcheck_accepts_a_user_op() -> None:
    report = gradcheck(lambda x, w: my_tanh(x * w) * 2, [Value(0.4, label="x"), Value(-1.2, label="w")])
    assert report.ok


def test_a_subclass_of_value_with_its_own_ops_works() -> None:
    class MyValue(Value):
        def cube(self) -> Value:
            out = Value(self.data**3, (self,), "cube")

            def _backward() -> None:
                self.grad += 3 * self.data**2 * out.grad

            out._backward = _backward
            return out

    x = MyValue(2.0, label="x")
    y = x.cube() + x * 4
    y.backward()
    assert y.data == 16.0 and x.grad == 12.0 + 4.0


def test_an_op_nobody_defined_is_a_clear_error() -> None:
    x = Value(0.5, label="x")
    s = Value(1 / (1 + math.exp(-0.5)), (x,), "sig")
    with pytest.raises(UserOpError, match=r"the op 'sig' has no derivative.*out._backward = _backward"):
        s.backward()
    with pytest.raises(UserOpError, match="'sig'"):
        s._backward()
    # a name the engine knows, but with another number of operands, is not the engine's op
    odd = Value(3.0, (x,), "+")
    assert odd.user_op
    with pytest.raises(UserOpError, match="the op '\\+' has no derivative"):
        odd.backward()


def test_building_by_hand_checks_its_arguments() -> None:
    a = Value(1.0)
    with pytest.raises(TypeError, match=r"_children\[1\] must be a Value"):
        Value(2.0, (a, 3.0), "+")
    with pytest.raises(ValueError, match="at most two operands"):
        Value(3.0, (a, a, a), "sum3")
    with pytest.raises(TypeError, match="_op must be a str"):
        Value(2.0, (a,), 7)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="_backward must be a function"):
        (a * 2)._backward = 3  # type: ignore[assignment]
    with pytest.raises(ValueError, match="is a leaf"):
        a._backward = lambda: None
    with pytest.raises(TypeError, match="two labels"):
        Value(1.0, "a", label="b")


def test_the_tape_refuses_a_user_op_and_names_it() -> None:
    x = Value(0.2, label="x")
    with pytest.raises(ValueError, match=r"op 'tanh'.*defined by user code"):
        Tape.record(my_tanh(x) + 1, inputs=[x])


def test_a_user_op_is_pickled_without_its_backward() -> None:
    x = Value(0.2, label="x")
    copy = pickle.loads(pickle.dumps(my_tanh(x)))
    assert copy._op == "tanh" and copy.children[0].data == 0.2
    assert copy.op == "tanh"  # back as the engine's own tanh, whose derivative it knows


# -- nn, as micrograd takes it -----------------------------------------------------------------------


def test_neuron_and_layer_take_micrograds_nonlin() -> None:
    assert Neuron(3, nonlin=False, seed=0).activation == "linear"
    assert Neuron(3, False, seed=0).activation == "linear" and Neuron(3, True, seed=0).activation == "relu"
    assert Neuron(3, seed=0).nonlin and not Neuron(3, "linear", seed=0).nonlin
    layer = Layer(3, 2, nonlin=False, seed=0)
    assert layer.activation == "linear"
    single = Layer(2, 1, seed=0)([1.0, -1.0])
    assert isinstance(single, Value)  # one neuron: the Value itself, as micrograd's Layer returns
    with pytest.raises(TypeError, match="not both"):
        Neuron(3, "tanh", nonlin=True)
    with pytest.raises(TypeError, match="nonlin must be True or False"):
        Neuron(3, nonlin=1)  # type: ignore[arg-type]
    assert isinstance(MLP(2, [3, 1], seed=0), Module)
    model = MLP(2, [3, 1], seed=0)
    model([1.0, 2.0]).backward()
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def moons_like_scikit_learn(n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles, drawn from NumPy's global RandomState in the order that
    scikit-learn's documented `make_moons(n, noise=noise)` draws them (shuffle, then noise)."""
    n_out, n_in = n // 2, n - n // 2
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    X = np.vstack([np.append(np.cos(t_out), 1 - np.cos(t_in)), np.append(np.sin(t_out), 1 - np.sin(t_in) - 0.5)]).T
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])
    order = np.arange(n)
    np.random.shuffle(order)
    X, y = X[order], y[order]
    return X + np.random.normal(scale=noise, size=X.shape), y


def test_random_seed_1337_reproduces_micrographs_published_demo() -> None:
    """micrograd's demo: `random.seed(1337)` then MLP(2, [16, 16, 1]) on 100 moons, SVM loss + 1e-4
    L2, SGD with a decaying rate. Published: step 0 loss 0.8958441028683222, step 1
    1.7235905336972022, 100% accuracy at the end. Step 0 is bit for bit; from step 1 on the
    gradients of the shared weights are summed in our topological order (micrograd's follows the
    iteration order of a set of operands), so the losses agree to the last bit or two."""
    state = random.getstate()
    np_state = np.random.get_state()
    try:
        np.random.seed(1337)
        random.seed(1337)
        X, y = moons_like_scikit_learn(100, 0.1)
        y = y * 2 - 1
        model = MLP(2, [16, 16, 1])  # no seed=: Python's global random, as micrograd
        losses, accuracy = [], 0.0
        for k in range(100):
            scores = [model(list(map(Value, row))) for row in X]
            data_loss = sum((1 + -yi * si).relu() for yi, si in zip(y, scores)) * (1.0 / len(y))
            total = data_loss + 1e-4 * sum(p * p for p in model.parameters())
            accuracy = sum((yi > 0) == (si.data > 0) for yi, si in zip(y, scores)) / len(y)
            losses.append(total.data)
            model.zero_grad()
            total.backward()
            for p in model.parameters():
                p.data -= (1.0 - 0.9 * k / 100) * p.grad
    finally:
        random.setstate(state)
        np.random.set_state(np_state)
    assert losses[0] == 0.8958441028683222
    assert losses[1] == pytest.approx(1.7235905336972022, rel=1e-15)
    assert accuracy == 1.0


def test_micrographs_readme_example() -> None:
    """The expression of micrograd's README, built anew here: g = 24.7041, dg/da = 138.8338, dg/db = 645.5773."""
    a, b = Value(-4.0), Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert f"{g.data:.4f}" == "24.7041" and f"{a.grad:.4f}" == "138.8338" and f"{b.grad:.4f}" == "645.5773"


# -- drawings and frames of micrograd code ---------------------------------------------------------


def test_draw_dot_takes_micrographs_arguments_and_draws_what_draw_draws() -> None:
    from viz import draw, draw_dot

    o = lecture_neuron()["o"]
    o.backward()
    graph = draw_dot(o)
    assert graph.format == "svg" and graph.source == draw(o).source
    tb = draw_dot(o, format="png", rankdir="TB")
    assert tb.format == "png" and tb.source == draw(o, rankdir="TB").source
    assert tb.pipe(format="png").startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="format='gif'"):
        draw_dot(o, format="gif")


def test_a_user_op_is_drawn_by_its_name_with_a_dashed_outline_and_its_frame_says_user_code() -> None:
    from viz import draw, steps

    x = Value(0.5, label="x")
    t = my_tanh(x)
    t.label = "t"
    J = t * 2
    J.label = "J"
    source = draw(J, edge_labels=True).source
    assert "label=tanh" in source and "style=dashed" in source and "user code" in source
    frames = steps(J)
    frame_x = next(f for f in frames.phase("backward") if f.name == "x")
    assert frame_x.equation.endswith("(t = tanh(x), so ∂t/∂x = 0.786448 from user code)")
    assert "from user code" in frame_x.hint
    with pytest.raises(ValueError, match=r"cannot recompute J at the new values: .*defined by user code"):
        steps(J, lr=0.1)  # the tape that recomputes the output runs only the registry's ops
    J.backward()
    assert frames.grads[x] == x.grad  # the frames' gradients are backward()'s, user op included


def test_the_wrong_edge_gradcheck_finds_is_marked_in_drawings_frames_and_the_page(tmp_path) -> None:
    from viz import draw, export_html, steps
    from viz.colors import WRONG

    x = Value(0.5, label="x")
    t = Value(math.tanh(0.5), (x,), "tanh")

    def _backward() -> None:
        x.grad += -(1 - t.data**2) * t.grad  # the sign flipped

    t._backward = _backward
    t.label = "t"
    J = t * 3
    J.label = "J"
    wrong = gradcheck(J).first_wrong_edge
    assert wrong is not None and (wrong.consumer, wrong.slot) == (t, 0)
    marked = draw(J, mark_edge=wrong).source
    assert marked.count(WRONG) == 2 and "∂t/∂x = −0.7864" in marked  # the edge and its label, in red
    assert WRONG not in draw(J).source
    assert draw(J, mark_edge=(t, 0)).source == marked
    frames = steps(J, mark_edge=wrong)
    assert all(WRONG in frame.graph().source for frame in frames)
    page = export_html(frames, tmp_path / "bug.html").read_text()
    assert WRONG.lower() in page.lower()
    with pytest.raises(ValueError, match="mark_edge"):
        draw(J, mark_edge=(x, 0))  # a leaf has no operand 0
    with pytest.raises(TypeError, match="mark_edge"):
        draw(J, mark_edge="t")
