"""The command line's formula evaluator: right numbers (checked against PyTorch), and a refusal
naming the offending part for everything outside its allow-list, without ever running code."""

from __future__ import annotations

import builtins
import math

import pytest
import torch

from viz.formula import FUNCTIONS, MAX_LENGTH, FormulaError, evaluate

WORKED = "c = w*x; a = c + b; d = a - y; J = d**2/2"


def test_worked_example() -> None:
    result = evaluate(WORKED, {"w": 2, "x": -2, "b": 8, "y": 2})
    result.output.backward()
    assert (result.name, result.output.data) == ("J", 2.0)
    assert list(result.inputs) == ["w", "x", "b", "y"]  # order of first use
    assert [v.grad for v in result.inputs.values()] == [-4.0, 4.0, 2.0, -2.0]
    assert [result.named[n].label for n in "cad"] == ["c", "a", "d"]  # assigned names label nodes
    assert result.output.op == "/" and result.output.children[0].op == "**"


def test_every_function_matches_torch() -> None:
    formula = (
        "c = w*x - 0.5; e = exp(c) + log(w) + sqrt(w) + sin(x) * cos(x) + tanh(c) + sigmoid(c); "
        "f = relu(c) + relu(-c) + leaky_relu(c, 0.1) + elu(c, 2) + elu(-c) + softplus(c) + abs(c) + gelu(c) + erf(c); "
        "g = step(c) + 2 * step(-c); "
        "J = g + e * f / (1 + x**2) - 2**w + w**(1/3)"
    )
    assert [name for name in FUNCTIONS if f"{name}(" not in formula] == []  # a new function needs a term here
    values = {"w": 1.7, "x": -0.4}
    result = evaluate(formula, values)
    result.output.backward()
    w, x = (torch.tensor(values[n], dtype=torch.float64, requires_grad=True) for n in "wx")
    F = torch.nn.functional
    c = w * x - 0.5
    e = torch.exp(c) + torch.log(w) + torch.sqrt(w) + torch.sin(x) * torch.cos(x) + torch.tanh(c) + torch.sigmoid(c)
    f = (
        F.relu(c)
        + F.relu(-c)
        + F.leaky_relu(c, 0.1)
        + F.elu(c, 2.0)
        + F.elu(-c)
        + F.softplus(c)
        + torch.abs(c)
        + F.gelu(c)
        + torch.erf(c)
    )
    g = torch.sign(F.relu(c)) + 2 * torch.sign(F.relu(-c))  # step: torch.heaviside has no derivative
    J = g + e * f / (1 + x**2) - 2**w + w ** (1 / 3)
    J.backward()
    assert math.isclose(result.output.data, J.item(), rel_tol=1e-12)
    assert math.isclose(result.inputs["w"].grad, w.grad.item(), rel_tol=1e-12)
    assert math.isclose(result.inputs["x"].grad, x.grad.item(), rel_tol=1e-12)


def test_plain_number_arithmetic_is_folded() -> None:
    result = evaluate("J = x**(1/2) * (2*3)", {"x": 4.0})
    assert result.output.data == 12.0
    power = result.output.children[0]
    assert (power.op, power.arg) == ("**", 0.5)  # drawn as ^0.5, not as a graph of constants
    assert result.output.children[1].data == 6.0


def test_never_calls_eval_or_exec(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("eval/exec called")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    assert evaluate(WORKED, {"w": 2, "x": -2, "b": 8, "y": 2}).output.data == 2.0
    with pytest.raises(FormulaError):
        evaluate("J = __import__('os').system('true')", {})


HOSTILE = [
    ("__import__('os').system('touch /tmp/x')", "column 1: calling `__import__('os').system`"),
    ("J = ().__class__", "column 5: attribute access is not allowed here: `().__class__`"),
    ("J = x.__dict__", "column 5: attribute access is not allowed here: `x.__dict__`"),
    ("J = [x for x in y]", "column 5: a comprehension is not allowed here"),
    ("J = (lambda: 1)()", "column 5: calling `lambda: 1`"),
    ("J = x[0]", "column 5: a subscript is not allowed here: `x[0]`"),
    ("J = open('f')", "column 5: calling 'open', which is not one of the functions"),
    ("J = exp(x, y)", "calling exp with 2 arguments"),
    ("J = exp(x=1)", "keyword arguments"),
    ("J = 'text'", "column 5: text is not allowed here"),
    ("J = x if x else y", "an if-expression"),
    ("J = x // 2", "the operator //"),
    ("J = x ^ 2", "write powers as **"),
    ("J = not x", "the operator not"),
    ("import os", "column 1: import is not allowed here"),
    ("x + 1", "column 1: a statement that is not an assignment"),
    ("J += x", "augmented assignment"),
    ("a = b = x", "chained assignment"),
    ("J = x; K = exp", "column 12: using the function 'exp' without calling it"),
    ("J = x +", "column 8: this is not a formula (invalid syntax)"),
    ("J = x\nK = y.z", "line 2, column 5: attribute access"),
    ("J = x\nK = y +", "line 2, column 8: this is not a formula"),
    ("(" * 100_000, f"100000 characters long, more than the limit of {MAX_LENGTH}"),
    ("J = " + "(" * 300 + "x" + ")" * 300, "too many nested parentheses"),
    ("", "the formula is empty"),
    ("# J = x", "the formula has no assignments"),
    ("J = True * x", "the constant True is not allowed"),
]


@pytest.mark.parametrize(("formula", "message"), HOSTILE)
def test_refused_formulas_point_at_the_offending_part(formula: str, message: str) -> None:
    with pytest.raises(FormulaError) as error:
        evaluate(formula, {"x": 1.0, "y": 2.0})
    assert message in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("formula", "values", "message"),
    [
        ("J = w*x", {"w": 1}, "missing value for input x: pass x=NUMBER"),
        ("J = w*x + q", {}, "missing value for inputs w, x, q"),
        ("J = w*x", {"w": 1, "x": 2, "z": 3}, "input z=3 is not used by the formula"),
        ("J = a*2; a = w", {"w": 1}, "column 5: 'a' is used before it is assigned"),
        ("J = w; J = w*2", {"w": 1}, "'J' is assigned twice"),
        ("a = w; J = a*2", {"w": 1}, "only gives a second name to 'w'"),
        ("k = 3; J = k*w", {"w": 1}, "`k = 3` names a plain number"),
        ("exp = w*2", {"w": 1}, "'exp' is a function name"),
        ("J = w*2", {"w": 1, "exp": 2}, "input 'exp' has the name of a function"),
        ("w = 2*x", {"w": 1, "x": 1}, "'w' is both given as an input and assigned"),
        ("J = log(x)", {"x": -1}, "column 5: `log(x)`: log(-1.0) is undefined"),
        ("J = sqrt(x - 2)", {"x": 1}, "the square root is defined only for inputs >= 0"),
        ("J = x / (x - x)", {"x": 1}, "division by zero"),
        ("J = 1/0 + x", {"x": 1}, "column 5: `1/0`: division by zero"),
        ("J = x**0.5", {"x": -4}, "a negative base needs an integer power"),
        ("J = leaky_relu(x, x)", {"x": 1}, "the slope of leaky_relu must be a number"),
        ("J = exp(x)", {"x": 1000}, "column 5: `exp(x)` is inf: a number overflowed"),
        ("J = 10**400 * x", {"x": 1}, "`10**400` is inf"),
        ("J = 1e999 * x", {"x": 1}, "`1e999` is inf"),
    ],
)
def test_input_and_math_errors_are_one_line(formula: str, values: dict, message: str) -> None:
    with pytest.raises(FormulaError) as error:
        evaluate(formula, values)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_allowed_functions_are_the_engine_functions() -> None:
    assert set(FUNCTIONS) == {
        "exp",
        "log",
        "sqrt",
        "sin",
        "cos",
        "tanh",
        "sigmoid",
        "relu",
        "leaky_relu",
        "elu",
        "softplus",
        "abs",
        "gelu",
        "step",
        "erf",
    }
