"""Every op's value and gradient against three references:

1. PyTorch in float64 (the convention we follow, also at kinks and domain edges);
2. central differences taken by mpmath at 50 significant digits (the true derivative, so the
   float64 result must agree to ~1e-12 relative: a few ulps of rounding, nothing more);
3. central differences of micrograd's own float64 forward pass (forward and backward agree).

Tolerances: arithmetic that IEEE 754 rounds identically in both libraries is compared exactly.
Transcendental functions get rtol = 1e-12, because the C library (`math`) and PyTorch's
vectorized kernels may round the last bit differently; 1e-12 is ~5000 ulps, far below any real
error. Float64 central differences of our own forward pass carry truncation plus cancellation
error of ~1e-9 relative for h = 1e-6·|x|, hence rtol = 1e-6 there.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import mpmath
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from micrograd import Value, topological_order
from micrograd.engine import apply_op
from micrograd.engine.ops import OPS

mpmath.mp.dps = 50
INF, NAN = math.inf, math.nan
EXACT = 0.0  # rtol for results IEEE arithmetic fixes to the last bit
LIBM = 1e-12  # rtol for transcendental functions (see the module docstring)


class Case(NamedTuple):
    name: str
    micrograd: Callable  # on Values
    torch: Callable  # on float64 tensors
    exact: Callable  # on mpmath numbers: the textbook formula, differentiated numerically
    points: tuple  # smooth points inside the domain: tuples of float operands
    rtol: float  # against PyTorch


def _unary(name, micrograd, torch_fn, exact, points, rtol=LIBM) -> Case:
    return Case(name, micrograd, torch_fn, exact, tuple((x,) for x in points), rtol)


def _mp_sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


UNARY = [
    _unary("neg", lambda v: -v, lambda t: -t, lambda x: -x, [-2.5, 0.0, 0.7], EXACT),
    _unary("exp", Value.exp, torch.exp, mpmath.exp, [-700.0, -3.1, 0.0, 0.7, 2.3, 50.0, 709.0]),
    _unary("log", Value.log, torch.log, mpmath.log, [1e-300, 1e-8, 0.3, 1.0, 2.5, 1e300]),
    _unary("sqrt", Value.sqrt, torch.sqrt, mpmath.sqrt, [1e-300, 1e-8, 0.3, 2.0, 1e300]),
    _unary("sin", Value.sin, torch.sin, mpmath.sin, [-2.0, -0.3, 0.0, 0.7, 3.0, 100.0]),
    _unary("cos", Value.cos, torch.cos, mpmath.cos, [-2.0, -0.3, 0.0, 0.7, 3.0, 100.0]),
    _unary("tanh", Value.tanh, torch.tanh, mpmath.tanh, [-3.0, -0.3, 0.0, 0.3, 3.0]),
    _unary("sigmoid", Value.sigmoid, torch.sigmoid, _mp_sigmoid, [-30.0, -3.0, -0.3, 0.0, 0.3, 3.0]),
    # F.softplus returns x itself above its threshold of 20, so PyTorch is a reference up to 20;
    # larger inputs are checked against the exact formula in test_saturating_ops_far_out.
    _unary(
        "softplus",
        Value.softplus,
        F.softplus,
        lambda x: mpmath.log(1 + mpmath.exp(x)),
        [-30.0, -3.0, -0.3, 0.0, 0.3, 3.0, 20.0],
    ),
    _unary("relu", Value.relu, torch.relu, lambda x: max(x, 0), [-2.0, -1e-300, 1e-300, 1.5], EXACT),
    _unary("abs", Value.abs, torch.abs, abs, [-2.0, -1e-300, 1e-300, 1.5], EXACT),
    _unary("abs()", abs, torch.abs, abs, [-2.0, 1.5], EXACT),
    _unary(
        "leaky_relu", Value.leaky_relu, F.leaky_relu, lambda x: x if x > 0 else x / 100, [-2.0, -1e-300, 1.5], EXACT
    ),
    _unary(
        "leaky_relu(0.2)",
        lambda v: v.leaky_relu(0.2),
        lambda t: F.leaky_relu(t, 0.2),
        lambda x: x if x > 0 else x / 5,
        [-2.0, 1.5],
        EXACT,
    ),
    _unary("elu", Value.elu, F.elu, lambda x: x if x > 0 else mpmath.expm1(x), [-30.0, -2.0, -1e-10, 1.5]),
    _unary(
        "elu(0.5)",
        lambda v: v.elu(0.5),
        lambda t: F.elu(t, 0.5),
        lambda x: x if x > 0 else mpmath.expm1(x) / 2,
        [-2.0, -1e-10, 1.5],
    ),
    # gelu(x) = x·Φ(x) loses relative accuracy below x ≈ -1 (1 + erf cancels), in PyTorch too;
    # the points here keep to where 1e-15 holds. All of ±1e-3 … ±40: test_gelu.py.
    _unary(
        "gelu", Value.gelu, F.gelu, lambda x: x * mpmath.ncdf(x), [-1.0, -1e-3, 0.0, 1e-3, 0.5, 1.0, 3.0, 10.0, 40.0]
    ),
    # The step: torch.heaviside(x, 0) has no derivative, so PyTorch's reference is sign(relu(x)),
    # the same step (0 at 0) built from ops whose derivative is known (sign's is 0). Away from the
    # jump the true derivative is 0; at the jump (EDGES below) there is none, and 0 is used.
    _unary(
        "step",
        Value.step,
        lambda t: torch.sign(torch.relu(t)),
        lambda x: 1 if x > 0 else 0,
        [-2.0, -1e-300, 1e-300, 1.5],
        EXACT,
    ),
    _unary("erf", lambda v: apply_op(v, "erf"), torch.erf, mpmath.erf, [-3.0, -0.5, 0.0, 1e-3, 0.5, 2.0, 6.0]),
    _unary("x**2", lambda v: v**2, lambda t: t**2, lambda x: x**2, [-1.5, 0.0, 0.7, 3.0], EXACT),
    _unary("x**3", lambda v: v**3, lambda t: t**3, lambda x: x**3, [-2.0, 1.3]),
    _unary("x**0.5", lambda v: v**0.5, lambda t: t**0.5, mpmath.sqrt, [1e-8, 0.3, 4.0]),
    _unary("x**-1", lambda v: v**-1, lambda t: t**-1, lambda x: 1 / x, [-2.0, -0.3, 0.5, 7.0]),
    _unary("x**-2", lambda v: v**-2, lambda t: t**-2, lambda x: x**-2, [-2.0, 0.5]),
    _unary("x**1.5", lambda v: v**1.5, lambda t: t**1.5, lambda x: x ** mpmath.mpf(1.5), [0.3, 2.0]),
    _unary("x**0", lambda v: v**0, lambda t: t**0, lambda x: x**0, [-2.0, 3.0], EXACT),
    _unary("x**1", lambda v: v**1, lambda t: t**1, lambda x: x, [-2.0, 3.0], EXACT),
    _unary("2+x", lambda v: 2 + v, lambda t: 2 + t, lambda x: 2 + x, [-2.5, 0.7], EXACT),
    _unary("x+2", lambda v: v + 2, lambda t: t + 2, lambda x: x + 2, [-2.5, 0.7], EXACT),
    _unary("2-x", lambda v: 2 - v, lambda t: 2 - t, lambda x: 2 - x, [-2.5, 0.7], EXACT),
    _unary("x-2", lambda v: v - 2, lambda t: t - 2, lambda x: x - 2, [-2.5, 0.7], EXACT),
    _unary("2*x", lambda v: 2 * v, lambda t: 2 * t, lambda x: 2 * x, [-2.5, 0.7], EXACT),
    _unary("x*2", lambda v: v * 2, lambda t: t * 2, lambda x: x * 2, [-2.5, 0.7], EXACT),
    _unary("x*0.1", lambda v: v * 0.1, lambda t: t * 0.1, lambda x: x * mpmath.mpf(0.1), [-2.5, 0.7], EXACT),
    _unary("2/x", lambda v: 2 / v, lambda t: 2 / t, lambda x: 2 / x, [-2.5, 0.3, 7.0]),
    _unary("x/2", lambda v: v / 2, lambda t: t / 2, lambda x: x / 2, [-2.5, 0.7], EXACT),
    _unary("x/3", lambda v: v / 3, lambda t: t / 3, lambda x: x / 3, [-2.5, 0.7], EXACT),
    _unary("2**x", lambda v: 2**v, lambda t: 2**t, lambda x: mpmath.power(2, x), [-2.5, 0.0, 0.7, 10.0]),
    _unary("0.5**x", lambda v: 0.5**v, lambda t: 0.5**t, lambda x: mpmath.power(0.5, x), [-2.5, 0.7]),
]

BINARY = [
    Case(
        "x+y",
        lambda a, b: a + b,
        lambda a, b: a + b,
        lambda a, b: a + b,
        ((0.7, -2.5), (-3.0, 0.25), (2.0, 2.0)),
        EXACT,
    ),
    Case(
        "x-y",
        lambda a, b: a - b,
        lambda a, b: a - b,
        lambda a, b: a - b,
        ((0.7, -2.5), (-3.0, 0.25), (2.0, 2.0)),
        EXACT,
    ),
    Case(
        "x*y",
        lambda a, b: a * b,
        lambda a, b: a * b,
        lambda a, b: a * b,
        ((0.7, -2.5), (-3.0, 0.25), (2.0, 2.0)),
        EXACT,
    ),
    # (1e-300, 1e-170): y*y underflows to 0, so ∂/∂y must not be computed as -x/(y*y).
    Case(
        "x/y",
        lambda a, b: a / b,
        lambda a, b: a / b,
        lambda a, b: a / b,
        ((0.7, -2.5), (-3.0, 0.3), (1.0, 7.0), (1e-300, 1e-170), (1e-200, -1e-170)),
        EXACT,
    ),
    Case(
        "x**y",
        lambda a, b: a**b,
        lambda a, b: a**b,
        mpmath.power,
        ((2.0, 3.0), (0.5, -1.5), (3.0, 0.5), (1.5, 2.7), (2.0, 0.0)),
        LIBM,
    ),
]

ALL = UNARY + BINARY


def test_the_cases_cover_every_registered_op() -> None:
    """A new op in micrograd.engine.ops must get a case here, or this fails."""
    used = {node.op for case in ALL for node in topological_order(case.micrograd(*(Value(x) for x in case.points[0])))}
    assert used - {""} == set(OPS)


AT_POINTS = [pytest.param(case, xs, id=f"{case.name}@{','.join(map(repr, xs))}") for case in ALL for xs in case.points]


@pytest.mark.parametrize("case, xs", AT_POINTS)
def test_matches_pytorch(case: Case, xs: tuple, same, run_micrograd, run_torch) -> None:
    value, grads = run_micrograd(case.micrograd, xs)
    t_value, t_grads = run_torch(case.torch, xs)
    same(value, t_value, rtol=case.rtol, what=f"{case.name} value")
    for i, (g, tg) in enumerate(zip(grads, t_grads)):
        same(g, tg, rtol=case.rtol, what=f"{case.name} d/dx{i}")


def _mp_derivatives(f: Callable, xs: tuple) -> list:
    """∂f/∂x_i by mpmath's central difference at 50 digits with step h = 2^-120·|x_i|: the
    truncation error (~h²) and the rounding error (~1e-113/h) are both far below 1e-30."""
    point = tuple(mpmath.mpf(x) for x in xs)
    result = []
    for i in range(len(xs)):
        orders = tuple(1 if j == i else 0 for j in range(len(xs)))
        result.append(mpmath.diff(f, point, orders, h=mpmath.ldexp(abs(point[i]) or 1, -120)))
    return result


@pytest.mark.parametrize("case, xs", AT_POINTS)
def test_matches_high_precision_central_differences(case: Case, xs: tuple, same, run_micrograd) -> None:
    value, grads = run_micrograd(case.micrograd, xs)
    same(value, float(case.exact(*(mpmath.mpf(x) for x in xs))), rtol=1e-15, what=f"{case.name} value")
    for i, (g, exact) in enumerate(zip(grads, _mp_derivatives(case.exact, xs))):
        same(g, float(exact), rtol=LIBM, what=f"{case.name} d/dx{i}")


@pytest.mark.parametrize("case, xs", AT_POINTS)
def test_matches_float64_central_differences_of_own_forward(case: Case, xs: tuple, same, run_micrograd) -> None:
    _, grads = run_micrograd(case.micrograd, xs)
    for i, g in enumerate(grads):
        h = 1e-6 * abs(xs[i]) if xs[i] != 0 else 1e-6
        up, down = list(xs), list(xs)
        up[i] += h
        down[i] -= h
        numeric = (case.micrograd(*map(Value, up)).data - case.micrograd(*map(Value, down)).data) / (2 * h)
        # atol covers results so flat (sigmoid at -30: slope 1e-13) that their scale is below 1e-6.
        same(g, numeric, rtol=1e-6, atol=1e-12, what=f"{case.name} d/dx{i}")


# -- kinks and domain edges: PyTorch's convention, value by value -------------------------------


EDGES = [
    # (id, micrograd, torch, operands, expected value, expected gradients): expected numbers are
    # PyTorch's documented conventions; each is also checked against PyTorch itself below.
    ("sqrt(0)", Value.sqrt, torch.sqrt, (0.0,), 0.0, (INF,)),
    ("0**0.5", lambda v: v**0.5, lambda t: t**0.5, (0.0,), 0.0, (INF,)),
    ("0**1.5", lambda v: v**1.5, lambda t: t**1.5, (0.0,), 0.0, (0.0,)),
    ("0**2", lambda v: v**2, lambda t: t**2, (0.0,), 0.0, (0.0,)),
    ("0**1", lambda v: v**1, lambda t: t**1, (0.0,), 0.0, (1.0,)),
    ("0**0", lambda v: v**0, lambda t: t**0, (0.0,), 1.0, (0.0,)),
    ("relu(0)", Value.relu, torch.relu, (0.0,), 0.0, (0.0,)),
    ("abs(0)", Value.abs, torch.abs, (0.0,), 0.0, (0.0,)),
    ("abs(-0.0)", Value.abs, torch.abs, (-0.0,), 0.0, (0.0,)),
    ("leaky_relu(0)", Value.leaky_relu, F.leaky_relu, (0.0,), 0.0, (0.01,)),
    ("leaky_relu(0, 0.2)", lambda v: v.leaky_relu(0.2), lambda t: F.leaky_relu(t, 0.2), (0.0,), 0.0, (0.2,)),
    ("elu(0)", Value.elu, F.elu, (0.0,), 0.0, (1.0,)),
    ("elu(0, 0.7)", lambda v: v.elu(0.7), lambda t: F.elu(t, 0.7), (0.0,), 0.0, (0.7,)),
    ("step(0)", Value.step, lambda t: torch.sign(torch.relu(t)), (0.0,), 0.0, (0.0,)),
    ("step(-0.0)", Value.step, lambda t: torch.sign(torch.relu(t)), (-0.0,), 0.0, (0.0,)),
    # 0 ** y: ∂/∂y is 0 (the limit for y > 0), also when the base is a plain number.
    ("0**y, y=2", lambda a, b: a**b, lambda a, b: a**b, (0.0, 2.0), 0.0, (0.0, 0.0)),
    ("0**y, y=1", lambda a, b: a**b, lambda a, b: a**b, (0.0, 1.0), 0.0, (1.0, 0.0)),
    ("0**y, y=0.5", lambda a, b: a**b, lambda a, b: a**b, (0.0, 0.5), 0.0, (INF, 0.0)),
    ("0**y, y=0", lambda a, b: a**b, lambda a, b: a**b, (0.0, 0.0), 1.0, (0.0, 0.0)),
    ("0**v (number base)", lambda v: 0**v, lambda t: 0**t, (3.0,), 0.0, (0.0,)),
    ("2**y, y=0", lambda a, b: a**b, lambda a, b: a**b, (2.0, 0.0), 1.0, (0.0, math.log(2.0))),
    # A negative base with an integer power is fine; ∂/∂y needs log of a negative number: NaN.
    ("(-2)**3", lambda v: v**3, lambda t: t**3, (-2.0,), -8.0, (12.0,)),
    ("(-2)**-1", lambda v: v**-1, lambda t: t**-1, (-2.0,), -0.5, (-0.25,)),
    ("(-2)**-2", lambda v: v**-2, lambda t: t**-2, (-2.0,), 0.25, (0.25,)),
    ("(-2)**0", lambda v: v**0, lambda t: t**0, (-2.0,), 1.0, (0.0,)),
    ("(-2)**y, y=3", lambda a, b: a**b, lambda a, b: a**b, (-2.0, 3.0), -8.0, (12.0, NAN)),
    ("(-2)**y, y=2", lambda a, b: a**b, lambda a, b: a**b, (-2.0, 2.0), 4.0, (-4.0, NAN)),
    ("(-2)**y, y=-1", lambda a, b: a**b, lambda a, b: a**b, (-2.0, -1.0), -0.5, (-0.25, NAN)),
    ("(-2)**v (number base)", lambda v: (-2) ** v, lambda t: (-2) ** t, (3.0,), -8.0, (NAN,)),
    # Overflow gives inf as in PyTorch, never OverflowError.
    ("exp(1000)", Value.exp, torch.exp, (1000.0,), INF, (INF,)),
    ("exp(-1000)", Value.exp, torch.exp, (-1000.0,), 0.0, (0.0,)),
    ("10**400", lambda v: v**400, lambda t: t**400, (10.0,), INF, (INF,)),
    ("(-10)**401", lambda v: v**401, lambda t: t**401, (-10.0,), -INF, (INF,)),
    ("2**inf", lambda v: v**INF, lambda t: t**INF, (2.0,), INF, (INF,)),
    ("0.5**inf", lambda v: v**INF, lambda t: t**INF, (0.5,), 0.0, (NAN,)),  # inf · 0.5**inf = inf · 0
    ("2**y, y=inf", lambda a, b: a**b, lambda a, b: a**b, (2.0, INF), INF, (INF, INF)),
    ("2**nan", lambda v: v**NAN, lambda t: t**NAN, (2.0,), NAN, (NAN,)),
    ("sqrt(inf)", Value.sqrt, torch.sqrt, (INF,), INF, (0.0,)),
    ("log(inf)", Value.log, torch.log, (INF,), INF, (0.0,)),
    ("x*0 at inf", lambda v: v * 0.0, lambda t: t * 0.0, (INF,), NAN, (0.0,)),
    # Saturation: no overflow anywhere, exactly the limits.
    ("sigmoid(1000)", Value.sigmoid, torch.sigmoid, (1000.0,), 1.0, (0.0,)),
    ("sigmoid(-1000)", Value.sigmoid, torch.sigmoid, (-1000.0,), 0.0, (0.0,)),
    ("tanh(1000)", Value.tanh, torch.tanh, (1000.0,), 1.0, (0.0,)),
    ("tanh(-1000)", Value.tanh, torch.tanh, (-1000.0,), -1.0, (0.0,)),
    ("tanh(30)", Value.tanh, torch.tanh, (30.0,), 1.0, (0.0,)),
    ("tanh(-30)", Value.tanh, torch.tanh, (-30.0,), -1.0, (0.0,)),
    ("softplus(-1000)", Value.softplus, F.softplus, (-1000.0,), 0.0, (0.0,)),
    # Above its threshold F.softplus returns x: exact here, since log(1 + e^-1000) < ulp(1000)/2.
    ("softplus(1000)", Value.softplus, F.softplus, (1000.0,), 1000.0, (1.0,)),
]


@pytest.mark.parametrize("f, torch_f, xs, value, grads", [pytest.param(*e[1:], id=e[0]) for e in EDGES])
def test_kinks_and_domain_edges_follow_pytorch(f, torch_f, xs, value, grads, same, run_micrograd, run_torch) -> None:
    got_value, got_grads = run_micrograd(f, xs)
    t_value, t_grads = run_torch(torch_f, xs)
    same(got_value, value, what="value")
    same(t_value, value, what="PyTorch value")
    for i, (g, tg, expected) in enumerate(zip(got_grads, t_grads, grads)):
        same(g, expected, what=f"d/dx{i}")
        same(tg, expected, what=f"PyTorch d/dx{i}")


def _exact(f: Callable, x: float) -> tuple[float, float]:
    """Value and derivative of an mpmath formula at x, rounded once to float64."""
    return float(f(mpmath.mpf(x))), float(_mp_derivatives(f, (x,))[0])


@pytest.mark.parametrize("x", [-1000.0, -30.0, 30.0, 1000.0])
def test_softplus_far_out_matches_exact_formula(x: float, same, run_micrograd) -> None:
    value, (grad,) = run_micrograd(Value.softplus, (x,))
    exact_value, exact_grad = _exact(lambda t: mpmath.log(1 + mpmath.exp(t)), x)
    # softplus(30) = 30.000000000000092; F.softplus (threshold 20) would say 30.0.
    same(value, exact_value, rtol=1e-15, what="softplus")
    same(grad, exact_grad, rtol=1e-15, what="softplus'")


def test_softplus_30_is_more_accurate_than_pytorchs_threshold(run_micrograd, run_torch) -> None:
    value, _ = run_micrograd(Value.softplus, (30.0,))
    assert run_torch(F.softplus, (30.0,))[0] == 30.0
    assert value == 30.000000000000092 == float(mpmath.log(1 + mpmath.exp(30)))


@pytest.mark.parametrize("x", [-1000.0, -30.0, 30.0, 1000.0])
def test_sigmoid_far_out(x: float, same, run_micrograd, run_torch) -> None:
    value, (grad,) = run_micrograd(Value.sigmoid, (x,))
    t_value, (t_grad,) = run_torch(torch.sigmoid, (x,))
    exact_value, exact_grad = _exact(_mp_sigmoid, x)
    same(value, exact_value, rtol=1e-15, what="sigmoid vs exact")
    same(value, t_value, rtol=1e-15, what="sigmoid vs PyTorch")
    # σ' = σ(1 - σ) is PyTorch's formula too, so the gradients agree as closely as the values
    # (σ(-30) may differ from PyTorch's 1/(1 + e^30) in the last bit: both are within 1 ulp).
    # For x = 30 that formula inherits the rounding of σ ≈ 1 - 9.4e-14: absolute error below
    # 1 ulp of 1 (1.1e-16), relative error 1e-3 (9.348e-14 against the true 9.358e-14), in
    # PyTorch as here. Hence atol = 2.3e-16 against the exact value.
    same(grad, t_grad, rtol=1e-15, what="sigmoid' vs PyTorch")
    same(grad, exact_grad, rtol=1e-15, atol=2.3e-16, what="sigmoid' vs exact")


@pytest.mark.parametrize("x", [-1000.0, -30.0, 30.0, 1000.0])
def test_tanh_far_out(x: float, same, run_micrograd) -> None:
    value, (grad,) = run_micrograd(Value.tanh, (x,))
    exact_value, exact_grad = _exact(mpmath.tanh, x)
    same(value, exact_value, what="tanh")
    # 1 - tanh² rounds to 0 where the true slope (3.5e-26 at 30) is far below 1 ulp of 1.
    same(grad, exact_grad, atol=1e-25, what="tanh'")


def test_binary_op_with_the_same_leaf_twice(same, run_micrograd, run_torch) -> None:
    """`a * a`, `a / a`, `a ** a`, `a - a`: both operand slots feed the one leaf."""
    for f in (lambda a: a * a, lambda a: a / a, lambda a: a**a, lambda a: a - a, lambda a: a + a):
        value, (grad,) = run_micrograd(f, (1.7,))
        t_value, (t_grad,) = run_torch(f, (1.7,))
        same(value, t_value, rtol=LIBM, what="value")
        same(grad, t_grad, rtol=LIBM, what="grad")


def test_numpy_scalar_on_the_left_defers_to_value() -> None:
    """NumPy scalars on the left must build a node, not an array: `np.float64(2) * v`."""
    v = Value(3.0)
    out = np.float64(2.0) * v + np.int64(1)
    assert isinstance(out, Value) and out.data == 7.0
    out.backward()
    assert v.grad == 2.0
