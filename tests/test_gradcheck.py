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
