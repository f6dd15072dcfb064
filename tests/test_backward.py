"""backward() and the graph machinery: deep graphs without recursion, fan-out, PyTorch's
accumulation semantics, zero_grad, no_grad, scope, copying and pickling, topological order,
and how a Value prints."""

from __future__ import annotations

import copy
import pickle
import sys

import pytest
import torch

from micrograd import Constant, Parameter, Value, is_grad_enabled, no_grad, scope, topological_order
from micrograd.engine import apply_op
from micrograd.engine.ops import OPS

# -- depth and fan-out ----------------------------------------------------------------------------


def test_million_node_chain_with_the_default_recursion_limit() -> None:
    assert sys.getrecursionlimit() < 10_000  # nobody raised it: depth must not need recursion
    x, c = Value(0.5, "x"), Value(1.0, "c")
    z = x
    for _ in range(1_000_000):
        z = z + c  # one op per link; c fans out a million times
    z.backward()
    assert z.data == 1_000_000.5
    assert x.grad == 1.0
    assert c.grad == 1_000_000.0  # a sum of a million ones: exact in float64


def test_fan_out_sums_every_path(run_torch) -> None:
    def f(x):
        total = x * 1
        for k in range(2, 101):
            total = total + x * k
        return total

    x = Value(0.3)
    f(x).backward()
    assert x.grad == 5050.0 == run_torch(f, (0.3,))[1][0]


def test_a_times_a_has_two_children_and_gradient_2a() -> None:
    a = Value(3.0, "a")
    b = a * a
    assert b.children == (a, a)
    assert b.local_grads() == (3.0, 3.0)
    b.backward()
    assert a.grad == 6.0


def test_shared_intermediate_node(run_micrograd, run_torch) -> None:
    def f(a, b):
        c = a * b  # used three times below
        return c * c + c.tanh() - c / b

    got, want = run_micrograd(f, (0.7, -1.3)), run_torch(f, (0.7, -1.3))
    assert got[0] == pytest.approx(want[0], rel=1e-14)
    assert got[1] == pytest.approx(want[1], rel=1e-14)


# -- two backward() calls: PyTorch semantics --------------------------------------------------------


def test_second_backward_doubles_leaves_and_recomputes_inner_nodes() -> None:
    """Karpathy's micrograd accumulates into inner nodes too, so the second pass sends the
    doubled inner gradient down: x = 3, y = x·x, z = y + 1 gives x.grad 6 then 18 there.
    PyTorch (retain_graph=True) gives 6 then 12: leaves accumulate, the graph does not."""
    x = Value(3.0, "x")
    y = x * x
    z = y + 1
    z.backward()
    assert (x.grad, y.grad, z.grad) == (6.0, 1.0, 1.0)
    z.backward()
    assert (x.grad, y.grad, z.grad) == (12.0, 1.0, 1.0)

    tx = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    tz = tx * tx + 1
    tz.backward(retain_graph=True)
    tz.backward()
    assert tx.grad.item() == x.grad


def test_second_backward_matches_pytorch_on_micrograd_issue_53() -> None:
    """karpathy/micrograd#53: a = 3, b = 2, c = a + b, d = 1, e = c·d; micrograd printed
    a 3, b 3, c 2, d 10 after two calls. Leaves must be exactly twice the first pass."""
    a, b, d = Value(3.0, "a"), Value(2.0, "b"), Value(1.0, "d")
    c = a + b
    e = c * d
    e.backward()
    first = (a.grad, b.grad, c.grad, d.grad)
    assert first == (1.0, 1.0, 1.0, 5.0)
    e.backward()
    assert (a.grad, b.grad, c.grad, d.grad) == (2.0, 2.0, 1.0, 10.0)

    ta, tb, td = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (3.0, 2.0, 1.0))
    te = (ta + tb) * td
    te.backward(retain_graph=True)
    te.backward()
    assert (ta.grad.item(), tb.grad.item(), td.grad.item()) == (a.grad, b.grad, d.grad)


def test_backward_twice_on_a_larger_graph_matches_pytorch() -> None:
    def f(p, q):
        r = (p * q).tanh()
        return r * r.exp() + p.sigmoid() * q

    vs = [Value(0.4), Value(-1.1)]
    ts = [torch.tensor(v.data, dtype=torch.float64, requires_grad=True) for v in vs]
    out, t_out = f(*vs), f(*ts)
    out.backward()
    once = [v.grad for v in vs]
    out.backward()
    t_out.backward(retain_graph=True)
    t_out.backward()
    for v, t, g in zip(vs, ts, once):
        assert v.grad == 2 * g  # doubling a float is exact
        assert v.grad == pytest.approx(t.grad.item(), rel=1e-14)


def test_backward_of_a_leaf_accumulates_like_pytorch() -> None:
    v = Value(5.0)
    v.backward()
    v.backward()
    t = torch.tensor(5.0, dtype=torch.float64, requires_grad=True)
    t.backward()
    t.backward()
    assert v.grad == t.grad.item() == 2.0


def test_zero_grad_clears_the_whole_graph() -> None:
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    c = a * b
    out = c + a
    out.backward()
    out.backward()
    assert a.grad == 2 * (-3.0 + 1.0)
    out.zero_grad()
    assert [n.grad for n in topological_order(out)] == [0.0] * 4
    out.backward()
    assert (a.grad, b.grad, c.grad, out.grad) == (-2.0, 2.0, 1.0, 1.0)


# -- no_grad and scope ----------------------------------------------------------------------------


def test_no_grad_builds_no_graph() -> None:
    a, b = Value(2.0), Value(3.0)
    assert is_grad_enabled()
    with no_grad():
        assert not is_grad_enabled()
        for out in (a + b, a - b, a * b, a / b, a**2, a**b, 2**a, -a, a.exp(), a.log(), a.tanh(),
                    a.sigmoid(), a.relu(), a.leaky_relu(0.1), a.elu(), a.softplus(), abs(a), a.sqrt(),
                    a.sin(), a.cos(), a.gelu(), 1 + a, 1 - a, 2 * a, 1 / a):  # fmt: skip
            assert out.children == () and out.op == "" and out.arg is None
        for name, op in OPS.items():  # every unary op, also one added after this test was written
            if op.arity == 1:
                out = apply_op(a, name, 2.0 if op.parameter is not None else None)
                assert out.children == () and out.op == "" and out.arg is None, name
        assert (a * b + 1).data == 7.0
    assert is_grad_enabled()
    assert (a * b).children == (a, b)


def test_no_grad_restores_on_exceptions_and_nests() -> None:
    with pytest.raises(ZeroDivisionError), no_grad():
        Value(1.0) / 0
    assert is_grad_enabled()
    with no_grad():
        with no_grad():
            pass
        assert not is_grad_enabled()  # the inner block restores "off", not "on"
    assert is_grad_enabled()


def test_scope_records_dotted_nested_names() -> None:
    a, b = Value(1.0), Value(2.0)
    assert (a + b).scope == "" and a.scope == ""
    with scope("model"):
        outer = a * b
        with scope("L1"):
            inner = a + b
            leaf = Value(3.0)
            with scope("N0"):
                deepest = inner.tanh()
        after = a - b
    assert (outer.scope, inner.scope, leaf.scope, deepest.scope, after.scope) == (
        "model",
        "model.L1",
        "model.L1",
        "model.L1.N0",
        "model",
    )
    assert (a + b).scope == ""


def test_scope_restores_on_exceptions_and_rejects_bad_names() -> None:
    with pytest.raises(ValueError, match="log"), scope("broken"):
        Value(-1.0).log()
    assert (Value(1.0) + 1).scope == ""
    with pytest.raises(ValueError, match="scope name must be a non-empty string, got ''"):
        scope("")
    with pytest.raises(ValueError, match="scope name must be a non-empty string, got 3"):
        scope(3)  # type: ignore[arg-type]


# -- copying and pickling -------------------------------------------------------------------------


def _deep_graph(depth: int) -> tuple[Value, Value, Value]:
    x, c = Value(0.5, "x"), Parameter(0.999, "c")
    z = x
    with scope("deep"):
        for i in range(depth):
            if i % 4 == 0:
                z = z * c
            elif i % 4 == 1:
                z = z + x
            elif i % 4 == 2:
                z = z.leaky_relu(0.5)  # an op with a parameter, kept in node.arg
            else:
                z = z - 0.25  # a Constant leaf
            if i % 997 == 0:
                z.label = f"z{i}"
    return z, x, c


def _records(root: Value) -> list[tuple]:
    order = topological_order(root)
    index = {id(n): k for k, n in enumerate(order)}
    return [
        (type(n), n.data, n.grad, n.label, n.op, n.arg, n.scope, tuple(index[id(ch)] for ch in n.children))
        for n in order
    ]


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_copy_of_a_100k_deep_graph_preserves_everything(how: str) -> None:
    z, x, _ = _deep_graph(100_000)
    z.backward()
    copied = copy.deepcopy(z) if how == "deepcopy" else pickle.loads(pickle.dumps(z))
    original, again = _records(z), _records(copied)
    assert again == original  # data, grad, label, op, arg, scope, node type, and who links to whom
    assert sum(rec[0] is Parameter for rec in again) == 1 and sum(rec[0] is Constant for rec in again) > 1
    # an independent graph: changing the copy leaves the original alone
    topological_order(copied)[0].data = 123.0
    assert x.data == 0.5


def test_copy_keeps_shared_operands_shared() -> None:
    a = Value(1.5, "a")
    sq = a * a
    out = sq + sq
    for copied in (copy.deepcopy(out), pickle.loads(pickle.dumps(out))):
        left, right = copied.children
        assert left is right
        assert left.children[0] is left.children[1]
        assert left.children[0] is not a and left.children[0].label == "a"


def test_copied_parameter_is_still_a_parameter() -> None:
    p = Parameter(0.25, "L1.N0.w0")
    for copied in (copy.deepcopy(p), pickle.loads(pickle.dumps(p))):
        assert type(copied) is Parameter
        assert (copied.data, copied.label) == (0.25, "L1.N0.w0")


# -- topological order --------------------------------------------------------------------------


def test_topological_order_of_a_small_graph() -> None:
    a, b = Value(1.0, "a"), Value(2.0, "b")
    ab = a * b
    d = ab + a
    # depth first, children in operand order, each node after its children, root last
    assert topological_order(d) == [a, b, ab, d]
    assert topological_order(ab) == [a, b, ab]
    assert topological_order(a) == [a]
    e = (b + a) * (a * b)
    order = topological_order(e)
    assert [n.label or n.op for n in order] == ["b", "a", "+", "*", "*"]
    assert order == topological_order(e)  # same object, same order, every time


# -- printing ------------------------------------------------------------------------------------


def test_repr_and_format() -> None:
    v = Value(2.0, "x")
    assert repr(v) == "Value(data=2.0, grad=0.0, label='x')"
    assert repr(Value(-1.5)) == "Value(data=-1.5, grad=0.0)"
    w = v * v
    w.backward()
    assert repr(v) == "Value(data=2.0, grad=4.0, label='x')"
    assert repr(w) == "Value(data=4.0, grad=1.0)"
    assert str(v) == repr(v) == f"{v}"
    assert f"{v:.3f}" == "2.000" and format(w, "e") == "4.000000e+00"
    assert float(v) == 2.0
    assert repr(Value(0.1 + 0.2)) == "Value(data=0.30000000000000004, grad=0.0)"  # full precision


def test_constants_are_labelled_leaves() -> None:
    v = Value(3.0, "v")
    for out, number, label in ((2 + v, 2.0, "2"), (v * 0.5, 0.5, "0.5"), (1e20 - v, 1e20, "1e+20")):
        const = next(c for c in out.children if c is not v)
        assert type(const) is Constant and const.data == number and const.label == label
        assert const.children == () and const.op == ""


def test_label_scope_and_arg_can_be_set_independently() -> None:
    # The three share one slot inside a node; setting one must never disturb the others.
    x = Value(3.0)
    with scope("L1.N0"):
        cube = x**3
        leaky = x.leaky_relu(0.2)
    assert (cube.label, cube.scope, cube.arg) == ("", "L1.N0", 3.0)
    cube.label = "cube"
    assert (cube.label, cube.scope, cube.arg) == ("cube", "L1.N0", 3.0)
    cube.scope = ""
    assert (cube.label, cube.scope, cube.arg) == ("cube", "", 3.0)
    leaky.label = "h"
    leaky.label = ""
    assert (leaky.label, leaky.scope, leaky.arg) == ("", "L1.N0", 0.2)
    assert (x.label, x.scope, x.arg) == ("", "", None)
    with pytest.raises(TypeError, match="Value label must be a str, got int: 3"):
        cube.label = 3
    assert cube.label == "cube"
    cube.backward()
    assert x.grad == 27.0
