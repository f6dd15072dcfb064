"""gradcheck: rows with the engine's gradient, the central difference and their distance; a
verdict that can fail; a clear message where f is undefined; a table a learner can read."""

from __future__ import annotations

import math
import re

import pytest

import micrograd.engine.graph as engine
from micrograd import GradcheckReport, Value, gradcheck


def f(x: Value, y: Value) -> Value:
    return x * y + x.sin()


def test_report_for_a_correct_function(run_torch) -> None:
    x = Value(0.7, "x")
    report = gradcheck(f, [x, 2.0])
    assert isinstance(report, GradcheckReport)
    assert report.ok and bool(report)
    assert (report.eps, report.tol) == (1e-6, 1e-5)
    assert [row.name for row in report.rows] == ["x", "x1"]  # a plain number gets its position
    _, (dx, dy) = run_torch(f, (0.7, 2.0))
    exact = {"x": 2.0 + math.cos(0.7), "x1": 0.7}
    for row, torch_grad in zip(report.rows, (dx, dy)):
        assert row.analytic == pytest.approx(torch_grad, rel=1e-15)
        # a central difference with eps = 1e-6 is good to ~1e-9 here
        assert row.numeric == pytest.approx(exact[row.name], abs=1e-8)
        assert row.difference == abs(row.analytic - row.numeric)
        assert row.ok


def test_inputs_are_left_alone() -> None:
    x = Value(0.7, "x")
    x.grad = 5.0
    gradcheck(lambda a: a * a, [x])
    assert (x.data, x.grad) == (0.7, 5.0)


def test_wrong_derivative_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Break sin's derivative by 0.1%: the x row fails, the y row (no sin on its path) passes."""
    right = engine.DERIVATIVES["sin"]
    monkeypatch.setitem(engine.DERIVATIVES, "sin", lambda xp, out, x, _: (right(xp, out, x, _)[0] * 1.001,))
    report = gradcheck(f, [Value(0.7, "x"), Value(2.0, "y")])
    assert not report.ok and not bool(report)
    x_row, y_row = report.rows
    assert not x_row.ok and y_row.ok
    assert x_row.analytic == pytest.approx(2.0 + 1.001 * math.cos(0.7), rel=1e-15)
    assert x_row.difference == pytest.approx(0.001 * math.cos(0.7), rel=1e-5)
    assert "some gradients DISAGREE" in str(report)


def test_infinite_derivative_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """An infinite gradient must fail, although the relative scale max(1, |analytic|) is inf too."""
    monkeypatch.setitem(engine.DERIVATIVES, "sin", lambda xp, out, x, _: (math.inf,))
    (row,) = gradcheck(Value.sin, [Value(0.7, "x")]).rows
    assert row.analytic == math.inf and row.numeric == pytest.approx(math.cos(0.7), abs=1e-8)
    assert not row.ok


def test_kink_is_reported_not_hidden() -> None:
    """relu at 0: the engine says 0 (PyTorch's convention), the central difference says 1/2."""
    report = gradcheck(lambda x: x.relu(), [0.0])
    (row,) = report.rows
    assert (row.analytic, row.numeric, row.ok, report.ok) == (0.0, 0.5, False, False)


def test_tolerance_decides() -> None:
    assert gradcheck(Value.exp, [1.0]).ok
    tight = gradcheck(Value.exp, [1.0], tol=1e-15)  # below the accuracy of any central difference
    assert not tight.ok
    assert tight.rows[0].difference > 1e-15 * math.e


def test_non_finite_gradient_fails() -> None:
    """sqrt(x·x) at 0: the engine's chain gives inf · 0 = NaN; the difference is not finite."""
    report = gradcheck(lambda x: (x * x).sqrt(), [0.0])
    assert math.isnan(report.rows[0].analytic)
    assert not report.ok


def test_message_when_f_is_undefined_around_the_point() -> None:
    message = (
        "gradcheck: f is not defined on both sides of x = 1e-07 ± 1e-06, so no central difference can "
        "be taken there: log(-9e-07) is undefined (node 'x'): the logarithm is defined only for positive inputs"
    )
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        gradcheck(Value.log, [Value(1e-7, "x")])
    # x - eps hits the pole exactly (powers of two): the division's own message is kept
    pole = r"on both sides of x0 = 1\.0000009536743164 ± 9\.53674e-07.*division by zero in a / b"
    with pytest.raises(ValueError, match=pole):
        gradcheck(lambda a: 1 / (a - 1.0), [1.0 + 2**-20], eps=2**-20)
    with pytest.raises(ValueError, match=r"on both sides of x0 = 0\.0 ± 1e-06.*sqrt\(-1e-06\) is undefined"):
        gradcheck(Value.sqrt, [0.0])
    # undefined at the point itself: the op's own error, straight from f
    with pytest.raises(ValueError, match=r"^log\(-1\.0\) is undefined \(node 'x'\)"):
        gradcheck(Value.log, [Value(-1.0, "x")])


def test_report_prints_a_table() -> None:
    report = gradcheck(f, [Value(0.7, "x"), Value(2.0, "y")])
    lines = str(report).splitlines()
    assert re.fullmatch(r"input\s+analytic\s+numeric\s+difference\s+ok", lines[0])
    assert re.fullmatch(r"x\s+2\.7648422\s+2\.7648422\s+\d\.\d\de-\d\d\s+yes", lines[1])
    assert re.fullmatch(r"y\s+0\.7\s+0\.7\s+\d\.\d\de-\d\d\s+yes", lines[2])
    assert lines[3] == "all gradients agree (central differences, eps=1e-06, tol=1e-05)"
    assert len(lines) == 4


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="gradcheck needs at least one input"):
        gradcheck(Value.exp, [])
    with pytest.raises(ValueError, match="eps must be positive, got 0"):
        gradcheck(Value.exp, [1.0], eps=0)
    with pytest.raises(ValueError, match="eps must be positive, got nan"):
        gradcheck(Value.exp, [1.0], eps=math.nan)
    with pytest.raises(TypeError, match="gradcheck: f must return a Value, got float"):
        gradcheck(lambda x: x.data, [1.0])


# -- gradcheck(J): a built graph, edge by edge (finding the bug in a hand-written derivative) ----


def hand_tanh(x: Value, mistake: str = "") -> Value:
    """tanh as a lecture student writes it, with one of the usual mistakes on request."""
    t = math.tanh(x.data)
    out = Value(t, (x,), "tanh")

    def _backward() -> None:
        if mistake == "sign":
            x.grad += -(1 - t**2) * out.grad
        elif mistake == "=":
            x.grad = (1 - t**2) * out.grad
        elif mistake == "no out.grad":
            x.grad += 1 - t**2
        elif mistake == "no 2":
            x.grad += (1 - t) * out.grad
        else:
            x.grad += (1 - t**2) * out.grad

    out._backward = _backward
    return out


def hand_mul(a: Value, b: Value, swapped: bool = False) -> Value:
    out = Value(a.data * b.data, (a, b), "*")

    def _backward() -> None:
        a.grad += (a.data if swapped else b.data) * out.grad
        b.grad += (b.data if swapped else a.data) * out.grad

    out._backward = _backward
    return out


def graph_with(tanh_mistake: str = "", swapped: bool = False) -> Value:
    x, w = Value(0.5, label="x"), Value(-1.5, label="w")
    J = hand_tanh(hand_mul(x, w, swapped), tanh_mistake) * 3
    J.label = "J"
    return J


def test_a_correct_graph_passes_every_edge_and_input() -> None:
    report = gradcheck(graph_with())
    assert report.ok and report.first_wrong_edge is None
    assert [e.name for e in report.edges] == ["∂J/∂v2", "∂J/∂3", "∂v2/∂v1", "∂v1/∂x", "∂v1/∂w"]
    assert [leaf.name for leaf in report.leaves] == ["x", "w"]
    x = report.leaves[0]
    assert x.held == 0.0 and x.fresh == pytest.approx(3 * (1 - math.tanh(-0.75) ** 2) * -1.5, rel=1e-12)
    assert x.numeric == pytest.approx(x.fresh, rel=1e-8)
    assert "every derivative agrees" in str(report)


@pytest.mark.parametrize(
    ("mistake", "hint"),
    [
        ("sign", "the sign is flipped"),
        ("=", "sets v1.grad with = instead of adding with +="),
        ("no out.grad", "does not multiply by out.grad"),
    ],
)
def test_the_first_wrong_edge_and_the_likely_mistake_are_named(mistake: str, hint: str) -> None:
    J = graph_with(mistake)
    before = [n.grad for n in (J, *J.children)]
    report = gradcheck(J)
    wrong = report.first_wrong_edge
    assert not report.ok and wrong is not None
    assert (wrong.name, wrong.op) == ("∂v2/∂v1", "tanh") and hint in wrong.hint
    assert wrong.numeric == pytest.approx(1 - math.tanh(-0.75) ** 2, rel=1e-8)
    assert str(report).startswith(f"first wrong edge: ∂v2/∂v1 of op 'tanh': {wrong.local:.8g} from the code")
    assert [n.grad for n in (J, *J.children)] == before  # nothing in the graph changed


def test_a_swapped_product_rule_is_recognised() -> None:
    wrong = gradcheck(graph_with(swapped=True)).first_wrong_edge
    assert wrong is not None and wrong.name == "∂v1/∂x" and wrong.op == "*"
    assert (wrong.local, round(wrong.numeric or 0, 6)) == (0.5, -1.5)
    assert "uses the operand's own value" in wrong.hint


def test_gradients_not_reset_between_passes_are_recognised() -> None:
    x = Value(2.0, label="x")
    J = x * x
    J.backward()
    J.backward()
    report = gradcheck(J)
    (leaf,) = report.leaves
    assert (leaf.held, leaf.fresh) == (8.0, 4.0) and not leaf.ok
    assert "holds 2 passes' sum: call zero_grad()" in leaf.hint
    assert [e.name for e in report.edges] == ["∂v1/∂x (1st)", "∂v1/∂x (2nd)"]


def test_an_op_whose_forward_is_user_code_is_checked_through_the_whole_output_only_where_possible() -> None:
    x = Value(0.3, label="x")
    s = Value(1 / (1 + math.exp(-0.3)), (x,), "sig")

    def _backward() -> None:
        x.grad += s.data * (1 - s.data) * s.grad

    s._backward = _backward
    report = gradcheck(s * 2)
    sig_edge = next(e for e in report.edges if e.op == "sig")
    assert sig_edge.numeric is None and sig_edge.ok  # no forward to re-run: the local derivative stands
    assert report.leaves[0].numeric is None and "(user code)" in str(report)


def test_gradcheck_of_a_graph_takes_no_inputs() -> None:
    with pytest.raises(TypeError, match="give no inputs"):
        gradcheck(Value(1.0) * 2, [1.0])
    with pytest.raises(TypeError, match="give the inputs of f"):
        gradcheck(Value.exp)
