"""Derivatives of derivatives (micrograd.engine.higher): grad with create_graph, backward with
create_graph, hessian and hvp, against PyTorch in float64 (torch.autograd.grad with
create_graph=True, torch.autograd.functional.hessian/hvp) and against the textbooks.

Every op of the registry is covered by iterating `OPS`, with PyTorch's version of it read from
`micrograd.engine.torch_code.TORCH_EXPRESSIONS` (which a test elsewhere keeps complete), so an op
added later is checked here without an edit.
"""

from __future__ import annotations

import copy
import math
import pickle
import random
import sys

import numpy as np
import pytest
import torch

import viz
from micrograd import Constant, Value, grad, hessian, hvp, topological_order
from micrograd.engine import Derivative, apply_op
from micrograd.engine.higher import VALUES
from micrograd.engine.names import derivative_name
from micrograd.engine.ops import FLOATS, OPS
from micrograd.engine.torch_code import TORCH_EXPRESSIONS

RTOL = 1e-12  # second and third derivatives: the same formulas as PyTorch's, in another order


def close(actual: float, expected: float, scale: float = 1.0, what: str = "") -> None:
    if math.isnan(expected) or math.isinf(expected):
        assert actual == expected or (math.isnan(actual) and math.isnan(expected)), (what, actual, expected)
        return
    assert abs(actual - expected) <= RTOL * max(abs(expected), scale), f"{what}: {actual!r} != {expected!r}"


# -- every op, to the third derivative ---------------------------------------------------------

POINTS = [-1.7, -0.6, 0.0, 0.4, 1.3, 2.5]
PARAMETERS = {"**": [2.0, 3.0, -1.0, 0.5, 1.0, 0.0], "leaky_relu": [0.01, 0.2], "elu": [1.0, 0.5]}


def _apply(name: str, operands: list, arg: float | None) -> Value:
    op = OPS[name]
    if op.arity == 2:
        x, y = operands
        return {"+": x.__add__, "-": x.__sub__, "*": x.__mul__, "/": x.__truediv__, "pow": x.__pow__}.get(
            name, lambda other: Value(op.forward(FLOATS, x.data, other.data), (x, other), name)
        )(y)
    if name == "**":
        return operands[0] ** arg
    if name == "neg":
        return -operands[0]
    return apply_op(operands[0], name, arg)


def _torch(name: str, operands: list, arg: float | None) -> torch.Tensor:
    names = {"x": operands[0], "y": operands[-1], "torch": torch}
    return eval(TORCH_EXPRESSIONS[name].format(x="x", y="y", arg=repr(arg)), names)


def _cases() -> list:
    cases = []
    for name, op in OPS.items():
        params = PARAMETERS.get(name, [op.parameter.default if op.parameter else None])
        for arg in params:
            points = POINTS if op.arity == 1 else [(a, b) for a in POINTS for b in (-1.3, 0.5, 2.0)]
            for point in points:
                xs = point if isinstance(point, tuple) else (point,)
                if op.domain is not None and not op.domain(FLOATS, xs[0], xs[-1] if op.arity == 2 else arg):
                    continue
                # √ and x**y at a zero base: the first derivative is inf (or a branch PyTorch
                # takes differently), a point of no second derivative.
                if xs[0] == 0.0 and (name in ("sqrt", "pow") or (name == "**" and arg < 2)):
                    continue
                # A negative base has no real logarithm: ∂(x**y)/∂y is NaN there, a constant to us
                # (so 0 at the next order) where PyTorch's formula keeps NaN.
                if name == "pow" and xs[0] < 0:
                    continue
                cases.append(pytest.param(name, xs, arg, id=f"{name}({','.join(map(str, xs))};{arg})"))
    return cases


def test_every_op_has_cases() -> None:
    assert {p.values[0] for p in _cases()} == set(OPS)


@pytest.mark.parametrize(("name", "xs", "arg"), _cases())
def test_second_and_third_derivatives_of_every_op_match_pytorch(name: str, xs: tuple, arg: float | None) -> None:
    leaves = [Value(x) for x in xs]
    out = _apply(name, leaves, arg)
    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    t_out = _torch(name, tensors, arg)

    firsts = grad(out, leaves, create_graph=True)
    t_firsts = torch.autograd.grad(t_out, tensors, create_graph=True, materialize_grads=True)
    for i, (g, t_g) in enumerate(zip(firsts, t_firsts)):
        close(g.data, t_g.item(), what=f"∂/∂x{i}")
        seconds = grad(g, leaves, create_graph=True, allow_unused=True)
        if t_g.requires_grad:
            t_seconds = torch.autograd.grad(t_g, tensors, create_graph=True, allow_unused=True, materialize_grads=True)
        else:
            t_seconds = tuple(torch.zeros((), dtype=torch.float64) for _ in tensors)
        for j, (h, t_h) in enumerate(zip(seconds, t_seconds)):
            close(h.data, t_h.item(), scale=1.0, what=f"∂²/∂x{i}∂x{j}")
            thirds = grad(h, leaves, allow_unused=True)
            t_thirds = (
                torch.autograd.grad(t_h, tensors, retain_graph=True, allow_unused=True, materialize_grads=True)
                if t_h.requires_grad
                else [torch.zeros(())] * len(tensors)
            )
            for k, (third, t_third) in enumerate(zip(thirds, t_thirds)):
                close(third, t_third.item(), scale=1.0, what=f"∂³/∂x{i}∂x{j}∂x{k}")


KINKED = ("relu", "abs", "leaky_relu", "elu", "step", "softplus", "sigmoid", "gelu")  # and smooth ones at 0


@pytest.mark.parametrize("name", [name for name in KINKED if name in OPS])
def test_kinks_follow_pytorch_at_zero(name: str) -> None:
    x = Value(0.0)
    t = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    arg = OPS[name].parameter.default if OPS[name].parameter else None
    (g,) = grad(_apply(name, [x], arg), [x], create_graph=True)
    (t_g,) = torch.autograd.grad(_torch(name, [t], arg), [t], create_graph=True)
    expected = torch.autograd.grad(t_g, [t])[0].item() if t_g.requires_grad else 0.0
    assert grad(g, [x], allow_unused=True)[0] == pytest.approx(expected, rel=1e-15, abs=0)


# -- random graphs ------------------------------------------------------------------------------


def _random_program(rng: random.Random, n_leaves: int) -> tuple[list[Value], list[torch.Tensor], Value, torch.Tensor]:
    """Leaves, then 12 random steps over every registered op, each on earlier nodes (shared:
    any node may be used many times); an operand outside an op's domain is replaced by 1 + u²."""
    xs = [rng.uniform(-2.0, 2.0) for _ in range(n_leaves)]
    leaves = [Value(x, f"x{i}") for i, x in enumerate(xs)]
    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    pool: list[tuple[Value, torch.Tensor]] = list(zip(leaves, tensors))
    names = sorted(OPS)
    for _ in range(12):
        name = rng.choice(names)
        op = OPS[name]
        operands = [rng.choice(pool) for _ in range(op.arity)]
        arg = rng.choice(PARAMETERS.get(name, [op.parameter.default if op.parameter else None]))
        # A divisor, or the base of √, log and powers, is made positive (1 + u²): then every op is
        # inside its domain, and x**y is away from a negative base, where ∂/∂y is NaN.
        if op.domain is not None and (name != "**" or arg == 0.5 or not op.domain(FLOATS, operands[0][0].data, arg)):
            slot = 1 if name == "/" else 0
            v, t = operands[slot]
            operands[slot] = (1 + v * v, 1 + t * t)
        v = _apply(name, [o[0] for o in operands], arg)
        t = _torch(name, [o[1] for o in operands], arg)
        if abs(v.data) > 20:  # keep the numbers small, as test_random_graphs does
            v, t = v.tanh(), torch.tanh(t)
        pool.append((v, t))
    total_v, total_t = pool[n_leaves]
    for v, t in pool[n_leaves + 1 :]:
        total_v, total_t = total_v + v, total_t + t
    return leaves, tensors, total_v, total_t


@pytest.mark.parametrize("seed", range(40))
def test_random_graphs_second_and_third_derivatives_match_pytorch(seed: int) -> None:
    leaves, tensors, out, t_out = _random_program(random.Random(seed), 3)

    H = hessian(out, leaves)
    t_firsts = torch.autograd.grad(t_out, tensors, create_graph=True, materialize_grads=True)
    t_H = [
        torch.autograd.grad(g, tensors, create_graph=True, allow_unused=True, materialize_grads=True)
        if g.requires_grad
        else [torch.zeros((), dtype=torch.float64)] * 3
        for g in t_firsts
    ]
    # A second derivative is a sum over pairs of paths; terms that cancel leave an error relative
    # to the largest entry, not to the entry itself.
    scale = max(1.0, float(np.abs(H).max()))
    for i in range(3):
        for j in range(3):
            close(H[i, j], t_H[i][j].item(), scale=scale * 10, what=f"H[{i},{j}]")

    # third derivatives: the gradient of Σ_j ∂²out/∂x0∂xj
    firsts = grad(out, leaves, create_graph=True, allow_unused=True)
    seconds = grad(firsts[0], leaves, create_graph=True, allow_unused=True)
    total = seconds[0] + seconds[1] + seconds[2]
    t_total = t_H[0][0] + t_H[0][1] + t_H[0][2]
    thirds = grad(total, leaves, allow_unused=True)
    t_thirds = (
        torch.autograd.grad(t_total, tensors, retain_graph=True, allow_unused=True, materialize_grads=True)
        if t_total.requires_grad
        else [torch.zeros(())] * 3
    )
    big = max(1.0, *(abs(t) for t in thirds))
    for k in range(3):
        close(thirds[k], t_thirds[k].item(), scale=big * 100, what=f"third derivative {k}")


def test_random_graphs_use_every_op() -> None:
    used = set()
    for seed in range(40):
        _, _, out, _ = _random_program(random.Random(seed), 3)
        used |= {node.op for node in topological_order(out)}
    assert used - {""} == set(OPS)


# -- the textbook values -------------------------------------------------------------------------


def test_sigmoid_tanh_and_cube_second_derivatives_are_the_textbooks() -> None:
    for x0 in (-2.0, -0.3, 0.0, 0.8, 3.0):
        x = Value(x0)
        s = x.sigmoid()
        (ds,) = grad(s, [x], create_graph=True)
        assert grad(ds, [x])[0] == pytest.approx(s.data * (1 - s.data) * (1 - 2 * s.data), rel=1e-14, abs=1e-16)
        t = x.tanh()
        (dt,) = grad(t, [x], create_graph=True)
        assert grad(dt, [x])[0] == pytest.approx(-2 * t.data * (1 - t.data**2), rel=1e-14, abs=1e-16)
        c = x**3
        (dc,) = grad(c, [x], create_graph=True)
        (ddc,) = grad(dc, [x], create_graph=True)
        assert ddc.data == 6 * x0
        assert grad(ddc, [x])[0] == 6.0  # (x³)‴ = 6


def worked_example() -> tuple[Value, Value, Value, Value, Value]:
    w, x, b, y = Value(2.0, "w"), Value(-2.0, "x"), Value(8.0, "b"), Value(2.0, "y")
    c = w * x
    a = c + b
    d = a - y
    J = d**2 / 2
    for node, name in ((c, "c"), (a, "a"), (d, "d"), (J, "J")):
        node.label = name
    return J, w, x, b, y


def test_the_worked_example_second_derivatives() -> None:
    J, w, _, b, _ = worked_example()
    gw, gb = grad(J, [w, b], create_graph=True)
    assert (gw.data, gb.data) == (-4.0, 2.0)
    assert grad(gw, [w, b]) == [4.0, -2.0]  # ∂²J/∂w² = x² = 4, ∂²J/∂b∂w = x
    assert grad(gb, [w, b]) == [-2.0, 1.0]  # ∂²J/∂b² = 1
    assert hessian(J, [w, b]).tolist() == [[4.0, -2.0], [-2.0, 1.0]]
    assert gw.label == "∂J/∂w"


# -- grad, backward(create_graph=True), hessian, hvp ---------------------------------------------


def test_grad_leaves_every_grad_untouched_and_matches_backward_bit_for_bit() -> None:
    J, w, x, b, y = worked_example()
    w.grad = 0.25
    before = [node.grad for node in topological_order(J)]
    numbers = grad(J, [w, x, b, y])
    graphs = grad(J, [w, x, b, y], create_graph=True)
    assert [node.grad for node in topological_order(J)] == before
    J.zero_grad()
    J.backward()
    assert numbers == [w.grad, x.grad, b.grad, y.grad] == [g.data for g in graphs]


def test_grad_refuses_an_unused_input_unless_allowed() -> None:
    J, w, *_ = worked_example()
    other = Value(1.0, "z")
    with pytest.raises(ValueError, match=r"inputs\[1\] \('z'\) is not used in the graph.*allow_unused=True"):
        grad(J, [w, other])
    assert grad(J, [w, other], allow_unused=True) == [-4.0, 0.0]
    with pytest.raises(TypeError, match="inputs\\[0\\] must be a Value"):
        grad(J, [2.0])
    with pytest.raises(TypeError, match="create_graph must be True or False"):
        grad(J, [w], create_graph="yes")


def test_backward_with_create_graph_sets_grad_and_grad_value() -> None:
    J, w, _, b, _ = worked_example()
    J.backward(create_graph=True)
    assert (w.grad, b.grad) == (-4.0, 2.0)
    assert w.grad_value is not None and w.grad_value.data == -4.0
    w.grad_value.backward()  # ∂(∂J/∂w)/∂node
    assert w.grad == -4.0 + 4.0 and b.grad == 2.0 - 2.0  # leaves accumulate, as in PyTorch
    # a later backward without create_graph changes .grad: the stale graph is not offered
    assert w.grad_value is None


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_backward_with_create_graph_accumulates_like_pytorch() -> None:
    w = Value(1.5, "w")
    t = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    (w**3).backward(create_graph=True)
    (w**3).backward(create_graph=True)
    (t**3).backward(create_graph=True)
    (t**3).backward(create_graph=True)
    assert w.grad == t.grad.item()
    (h,) = grad(w.grad_value, [w])
    assert h == torch.autograd.grad(t.grad, [t])[0].item()  # 2 × 6w


def test_hessian_of_a_function_and_hvp_match_pytorch() -> None:
    def f(a, b, c):
        return (a * b).tanh() + (b - c) ** 3 / (1 + a * a) + (a * c).sigmoid() * b.exp()

    point = [0.3, -1.2, 0.7]
    H = hessian(f, point)
    t_H = torch.autograd.functional.hessian(f, tuple(torch.tensor(p, dtype=torch.float64) for p in point))
    np.testing.assert_allclose(H, [[t_H[i][j].item() for j in range(3)] for i in range(3)], rtol=1e-13, atol=1e-14)
    v = [1.0, -2.0, 0.5]
    value, Hv = hvp(f, point, v)
    t_value, t_Hv = torch.autograd.functional.hvp(
        f,
        tuple(torch.tensor(p, dtype=torch.float64) for p in point),
        tuple(torch.tensor(c, dtype=torch.float64) for c in v),
    )
    assert value == pytest.approx(t_value.item(), rel=1e-15)
    np.testing.assert_allclose(Hv, [t.item() for t in t_Hv], rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(Hv, H @ np.array(v), rtol=1e-13, atol=1e-14)


def test_hessian_errors_name_what_is_wrong() -> None:
    with pytest.raises(TypeError, match="f must return a Value"):
        hessian(lambda a: 3.0, [1.0])
    with pytest.raises(ValueError, match="v has 1 entries, the inputs 2"):
        hvp(lambda a, b: a * b, [1.0, 2.0], [1.0])
    assert hvp(lambda a, b: a + b, [1.0, 2.0], [1.0, 1.0])[1].tolist() == [0.0, 0.0]  # linear: H = 0


# -- deep graphs, names, user ops ----------------------------------------------------------------


def test_a_chain_of_100000_nodes_is_differentiated_twice_without_recursion() -> None:
    limit = sys.getrecursionlimit()
    x = Value(0.5, "x")
    z = x
    for _ in range(50_000):
        z = (z * 0.9999).sin()  # 100,000 nodes
    (g,) = grad(z, [x], create_graph=True)
    (h,) = grad(g, [x])
    assert sys.getrecursionlimit() == limit
    # The chain rule carried forward on numbers: z ← sin(a·z), z′ ← cos(a·z)·a·z′,
    # z″ ← −sin(a·z)·(a·z′)² + cos(a·z)·a·z″.
    a, value, first, second = 0.9999, 0.5, 1.0, 0.0
    for _ in range(50_000):
        u = a * value
        value, first, second = (
            math.sin(u),
            math.cos(u) * a * first,
            -math.sin(u) * (a * first) ** 2 + math.cos(u) * a * second,
        )
    assert g.data == pytest.approx(first, rel=1e-12)
    assert h == pytest.approx(second, rel=1e-12)


def test_the_gradient_graph_is_named_in_the_course_notation_and_reuses_forward_nodes() -> None:
    w, x = Value(0.5, "w"), Value(-1.5, "x")
    u = w * x
    u.label = "u"
    J = u.tanh()
    J.label = "J"
    (g,) = grad(J, [w], create_graph=True)
    order = topological_order(g)
    assert g.label == "∂J/∂w" and isinstance(g, Derivative)
    assert "ū" in {node.label for node in order}
    assert J in order and x in order  # 1 − J·J uses the forward node J itself; ∂u/∂w = x
    (h,) = grad(g, [w], create_graph=True)
    assert h.label == "∂²J/∂w²"
    assert derivative_name("∂²J/∂w²", "b") == "∂³J/∂b∂w²"
    assert derivative_name("a + b", "w") == "∂(a + b)/∂w"
    assert derivative_name("∂J/∂w", "∂J/∂w") == "∂(∂J/∂w)/∂(∂J/∂w)"


def test_a_user_op_works_to_first_order_and_is_refused_clearly_with_create_graph() -> None:
    x = Value(0.4, "x")
    t = math.tanh(0.4)
    out = Value(t, (x,), "mytanh")

    def _backward() -> None:
        x.grad += (1 - t * t) * out.grad

    out._backward = _backward
    assert grad(out, [x]) == [1 - t * t]
    with pytest.raises(ValueError, match=r"'mytanh' is defined by user code.*micrograd\.engine\.ops\.OPS"):
        grad(out, [x], create_graph=True)


def test_the_value_namespace_builds_nodes_and_names_what_it_lacks() -> None:
    assert isinstance(VALUES.exp(2.0), float)
    with pytest.raises(AttributeError, match=r"ops\.FLOATS\.nosuch has no version that builds Values"):
        VALUES.nosuch  # noqa: B018
    assert isinstance(Constant(2.0), Value)


# -- drawing and stepping a gradient's graph ----------------------------------------------------


def test_a_gradients_graph_draws_its_reused_forward_nodes_apart_and_steps_through() -> None:
    J, w, *_ = worked_example()
    (g,) = grad(J, [w], create_graph=True)
    source = viz.draw(g).source
    dashed = [line for line in source.splitlines() if 'style="filled,dashed"' in line]
    forward = [node for node in topological_order(g) if not isinstance(node, (Derivative, Constant))]
    assert len(dashed) == len(forward) == 7  # d of ∂(d²)/∂d = 2d, the x of ∂c/∂w = x, and d's graph
    assert {line.split("{ ")[1].split(" |")[0] for line in dashed} == {"w", "x", "b", "y", "c", "a", "d"}
    assert "a forward node the gradient’s graph reuses" in source
    assert "∂J/∂w" in source and "d̄" in source  # the result, and ū = ∂J/∂u along the way
    assert "reuses" not in viz.draw(J).source and "dashed" not in viz.draw(J).source

    frames = viz.steps(g)
    last = [frame for frame in frames if frame.phase == "backward"][-1]
    assert last.grads[w] == grad(g, [w])[0] == 4.0  # ∂²J/∂w², read off the frames


def test_the_frames_and_trace_of_a_gradients_graph_write_second_derivatives() -> None:
    J, w, *_ = worked_example()
    (g,) = grad(J, [w], create_graph=True)
    equations = [frame.equation for frame in viz.steps(g) if frame.phase == "backward"]
    assert "∂²J/∂w² = ∂c/∂w × ∂²J/∂c∂w = −2 × (−2) = 4   (c = w × x, so ∂c/∂w = x = −2)" in equations
    for equation in equations:  # no symbol on both sides: totals ∂²J/∂u∂w, local ∂(∂J/∂w)/∂u
        left, _, right = equation.partition(" = ")
        assert left not in right.split("   (")[0], equation
    assert "Reverse adjoint trace (∂²J/∂u∂w = ∂(∂J/∂w)/∂u)" in str(viz.trace_table(g))


def test_grad_value_is_dropped_by_any_change_of_grad_and_never_pickled() -> None:
    J, w, *_ = worked_example()
    J.backward(create_graph=True)
    assert isinstance(w.grad, float) and w.grad == -4.0 and w.grad_value is not None
    restored = pickle.loads(pickle.dumps(J))
    assert all(type(node.grad) is float for node in topological_order(restored))  # the number only
    assert type(copy.deepcopy(w).grad) is float
    w.grad -= 0.0  # any change, as an optimizer's, leaves a plain float
    assert w.grad_value is None
    J.backward(create_graph=True)
    J.zero_grad()
    assert w.grad_value is None and w.grad == 0.0
