"""Every operation the engine knows, each defined exactly once: adding an op is adding an `Op` here.

An `Op` holds the forward function, the local derivatives (∂out/∂operand for each operand) and the
domain check of one operation. The functions take `xp`, a namespace of elementary functions, as
their first argument, so the same definition runs on Python floats (`FLOATS`, used by `Value`) and
on NumPy arrays (used to replay a recorded graph on a whole batch). Backward, edge labels, the
step-through frames and the tape all read the derivatives from here: there is no second copy.

An `Op` also declares what the rest of the project needs to know about it: its symbol in drawings,
its constant parameter (name and default), whether formulas may call it as a function, whether
models may use it as an activation by name, and a note the step-through frames show where its
derivative is used (step's: no gradient passes). `micrograd.nn`'s ACTIVATIONS, the tape's NumPy
namespace and the visualizer's symbols and formula functions are derived from `OPS` and `FLOATS`,
so none of them is edited when an op is added.

Operand conventions: `x` is the first operand's value, `y` the second operand's value for a binary
op, or the op's constant parameter for a unary op that has one (the exponent of `x ** 2`, the
slope of `leaky_relu`, the alpha of `elu`); `out` is the op's own forward value, which many
derivatives reuse (d tanh = 1 - out², d exp = out).

A function an op needs that `FLOATS` lacks (as `erf` for gelu) is added to `_FloatMath`; the tape
then applies it to arrays element by element without any edit there.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

_INF = math.inf


def _is_odd_integer(y: float) -> bool:
    return y.is_integer() and y % 2 == 1


class _FloatMath:
    """Elementary functions on Python floats with NumPy's (and PyTorch's) IEEE behaviour.

    `math` raises OverflowError where an array library returns inf; these wrappers return inf
    instead, so a formula written once gives the same answer on floats and on arrays.
    """

    sqrt = staticmethod(math.sqrt)
    log = staticmethod(math.log)
    log1p = staticmethod(math.log1p)
    sin = staticmethod(math.sin)
    cos = staticmethod(math.cos)
    tanh = staticmethod(math.tanh)
    erf = staticmethod(math.erf)
    abs = staticmethod(abs)
    isfinite = staticmethod(math.isfinite)

    @staticmethod
    def floor(x: float) -> float:
        """A float, as in NumPy: floor(inf) is inf and floor(nan) is nan, not an exception."""
        return float(math.floor(x)) if math.isfinite(x) else x

    @staticmethod
    def exp(x: float) -> float:
        try:
            return math.exp(x)
        except OverflowError:
            return _INF

    @staticmethod
    def expm1(x: float) -> float:
        try:
            return math.expm1(x)
        except OverflowError:
            return _INF

    @staticmethod
    def pow(x: float, y: float) -> float:
        """C99 `pow`: 0 ** negative is inf and overflow is ±inf, rather than an exception."""
        try:
            return math.pow(x, y)
        except OverflowError:
            return -_INF if x < 0 and _is_odd_integer(y) else _INF
        except ValueError:
            if x == 0:
                return math.copysign(_INF, x) if _is_odd_integer(y) else _INF
            return math.nan  # negative base, non-integer power: callers check the domain first

    @staticmethod
    def divide(x: float, y: float) -> float:
        """x / y, IEEE's: a division by zero is ±inf or NaN (NaN / 0 is NaN), not an exception.
        (The engine refuses a finite number divided by zero before it gets here.)"""
        try:
            return x / y
        except ZeroDivisionError:
            if x != x or x == 0:
                return math.nan
            return _INF if (x > 0) == (math.copysign(1.0, y) > 0) else -_INF

    @staticmethod
    def where(condition: Any, if_true: Any, if_false: Any) -> Any:
        return if_true if condition else if_false

    @staticmethod
    def maximum(x: float, y: float) -> float:
        """The larger of x and y, NaN if either is NaN (as NumPy's)."""
        if y != y:
            return y
        return y if x < y else x


FLOATS = _FloatMath()


class OpParameter(NamedTuple):
    """The constant parameter of a unary op (the exponent of `x ** 2`, the slope of `leaky_relu`)."""

    name: str  # its name in messages and in the formula language: "slope"
    default: float | None  # used when it is left out; None: it must always be given
    # How a drawing writes the op with its parameter; `symbol` is the op's symbol, `value` the
    # parameter as briefly as possible: "LeakyReLU(0.1)", or "^2" for `x ** 2`.
    drawn: str = "{symbol}({value})"


class Op:
    """One operation: how to compute it, its local derivatives, where it is defined, and how the
    rest of the project (drawings, formulas, models) shows and names it."""

    __slots__ = (
        "activation",
        "arity",
        "constant_derivatives",
        "derivatives",
        "domain",
        "domain_rule",
        "forward",
        "function",
        "name",
        "note",
        "parameter",
        "symbol",
        "written",
    )

    def __init__(
        self,
        name: str,
        arity: int,
        forward: Callable[..., Any],
        derivatives: Callable[..., tuple] | tuple[float, ...],
        domain: Callable[..., Any] | None = None,
        domain_rule: str = "",
        *,
        symbol: str = "",
        parameter: OpParameter | None = None,
        function: bool = False,
        activation: int | None = None,
        written: tuple[str, tuple[str, ...]] = ("", ()),
        note: str = "",
    ) -> None:
        self.name = name  # the name stored in Value.op: "+", "*", "tanh", ...
        self.arity = arity  # how many Value operands it takes: 1 or 2
        self.forward = forward  # forward(xp, x, y) -> out
        # derivatives(xp, out, x, y) -> (∂out/∂x[, ∂out/∂y]). An op whose derivatives are the same
        # numbers everywhere (+, -, neg) gives them as a tuple, which backward reads without a
        # function call per node: `+` alone is half the nodes of a network's graph.
        if isinstance(derivatives, tuple):
            constants = derivatives
            self.constant_derivatives: tuple[float, ...] | None = constants
            self.derivatives: Callable[..., tuple] = lambda xp, out, x, y: constants
        else:
            self.constant_derivatives = None
            self.derivatives = derivatives
        self.domain = domain  # domain(xp, x, y) -> true where the op is defined
        self.domain_rule = domain_rule  # what the domain is, in words, for error messages
        self.symbol = symbol or name  # its text on a drawing's op node: "×", "σ", "ReLU"
        self.parameter = parameter  # its constant parameter (unary ops only), or None
        # True: formulas may call it as `name(x)`, or `name(x, number)` when it has a parameter.
        self.function = function
        # Its place in the list of activations a model accepts by name (1 comes first, after
        # "linear"); None: not an activation. A number rather than the order of OPS, because the
        # activations were listed in another order than the ops, and both orders show in messages.
        self.activation = activation
        # How a student writes it, for the step-through frames: its definition and its local
        # derivative per operand, with {x}, {y} the operands, {n} the parameter, {out} the result
        # ("{x} × {y}", ("{y}", "{x}")). A test checks every op has them.
        self.written = written
        # What a learner should know when a gradient passes through it, said once by the frames
        # that use its local derivative ("" for most ops): step's derivative is 0, so nothing learns.
        self.note = note
        if parameter is not None and arity != 1:
            raise ValueError(f"Op {name!r}: only a unary op can have a constant parameter")

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


def _is_nan(x: Any) -> Any:
    return x != x


def _pow_domain(xp: Any, x: Any, y: Any) -> Any:
    # A negative base needs an integer power (else the result is complex); 0 needs a power >= 0.
    # NaN goes through (the result is NaN, or 1 for NaN ** 0 and 1 ** NaN, as in PyTorch).
    return (x > 0) | ((x < 0) & (xp.floor(y) == y)) | ((x == 0) & (y >= 0)) | _is_nan(x) | _is_nan(y)


def _pow_exponent_derivative(xp: Any, out: Any, x: Any, y: Any) -> Any:
    # ∂(x**y)/∂y = x**y · ln x. At x == 0 it is 0, as in PyTorch (the limit for y > 0). A negative
    # base has no real logarithm, so there the derivative is undefined: NaN, as in PyTorch; and
    # NaN where x or y is NaN.
    return xp.where(x > 0, out * xp.log(xp.where(x > 0, x, 1.0)), xp.where((x == 0) & (y >= 0), 0.0, math.nan))


def _sigmoid(xp: Any, x: Any) -> Any:
    # Stable for any finite x: exp is only ever taken of a non-positive number, -|x|, written as
    # a choice between -x and x rather than through abs: run on Values (micrograd.engine.higher)
    # each branch is then smooth at 0, where abs would have a kink, so σ″(0) and softplus″(0)
    # come out as PyTorch's.
    e = xp.exp(xp.where(x >= 0, -x, x))
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# gelu(x) = x·Φ(x) = x/2·(1 + erf(x/√2)), computed as PyTorch's CPU kernel computes it (same
# operations in the same order), so that our float64 numbers are PyTorch's, bit for bit where
# both call C's erf and exp. The constants are C's M_SQRT1_2 and M_2_SQRTPI·M_SQRT1_2·0.5, which
# is 1/√(2π) as PyTorch rounds it. Like PyTorch's, Φ(x) = (1 + erf(x/√2))/2 cancels for negative
# x: below x ≈ -1 value and derivative are accurate to a few ulps of 1 (times |x|) rather than
# relative to their tiny size, and gelu(x) is exactly 0 below x ≈ -8.3. Harmless in a network;
# an erfc form would be more accurate there but would no longer give PyTorch's numbers.
_SQRT1_2 = 0.7071067811865476  # 1/√2
_TWO_OVER_SQRT_PI = 1.1283791670955126  # 2/√π, C's M_2_SQRTPI: erf′(x) = 2/√π · exp(−x²)
_GELU_PDF_SCALE = _TWO_OVER_SQRT_PI * _SQRT1_2 * 0.5  # 2/√π · 1/√2 · 1/2 = 1/√(2π)


def _gelu_derivative(xp: Any, x: Any) -> Any:
    # Φ(x) + x·φ(x), with φ(x) = exp(-x²/2)/√(2π) the standard normal density.
    cdf = 0.5 * (1.0 + xp.erf(x * _SQRT1_2))
    return cdf + x * (_GELU_PDF_SCALE * xp.exp(x * x * -0.5))


OPS: dict[str, Op] = {
    op.name: op
    for op in (
        Op("+", 2, lambda xp, x, y: x + y, (1.0, 1.0), written=("{x} + {y}", ("1", "1"))),
        Op("-", 2, lambda xp, x, y: x - y, (1.0, -1.0), symbol="−", written=("{x} − {y}", ("1", "−1"))),
        Op(
            "*",
            2,
            lambda xp, x, y: x * y,
            lambda xp, out, x, y: (y, x),
            symbol="×",
            written=("{x} × {y}", ("{y}", "{x}")),
        ),
        Op(
            "/",
            2,
            lambda xp, x, y: xp.divide(x, y),
            # ∂/∂y = -(x/y)/y, as PyTorch computes it: -x/(y*y) fails when y*y underflows to 0.
            # (y is 0 only when x is NaN, which the domain lets through: then ±inf and NaN.)
            lambda xp, out, x, y: (xp.divide(1.0, y), xp.divide(-out, y)),
            lambda xp, x, y: (y != 0) | _is_nan(x),
            "the divisor must not be zero",
            symbol="÷",
            written=("{x} / {y}", ("1/{y}", "−{x}/{y}²")),
        ),
        # x ** n with n a constant number: the exponent is the op's parameter, not a child.
        Op(
            "**",
            1,
            lambda xp, x, n: xp.pow(x, n),
            lambda xp, out, x, n: (xp.where(n == 0, 0.0, n * xp.pow(x, n - 1.0)),),
            _pow_domain,
            "a negative base needs an integer power, and 0 cannot be raised to a negative power",
            symbol="^",
            parameter=OpParameter("exponent", None, drawn="{symbol}{value}"),
            written=("{x}^{n}", ("{n}·{x}^({n} − 1)",)),
        ),
        # x ** y with both operands Values (also `2 ** v`, where 2 becomes a constant leaf).
        Op(
            "pow",
            2,
            lambda xp, x, y: xp.pow(x, y),
            lambda xp, out, x, y: (
                xp.where(y == 0, 0.0, y * xp.pow(x, y - 1.0)),
                _pow_exponent_derivative(xp, out, x, y),
            ),
            _pow_domain,
            "a negative base needs an integer power, and 0 cannot be raised to a negative power",
            symbol="^",
            written=("{x}^{y}", ("{y}·{x}^({y} − 1)", "{x}^{y}·ln {x}")),
        ),
        Op("neg", 1, lambda xp, x, _: -x, (-1.0,), written=("−{x}", ("−1",))),
        Op(
            "exp",
            1,
            lambda xp, x, _: xp.exp(x),
            lambda xp, out, x, _: (out,),
            function=True,
            written=("exp({x})", ("exp({x})",)),
        ),
        Op(
            "log",
            1,
            lambda xp, x, _: xp.log(x),
            lambda xp, out, x, _: (1.0 / x,),
            lambda xp, x, _: (x > 0) | _is_nan(x),
            "the logarithm is defined only for positive inputs",
            function=True,
            written=("log({x})", ("1/{x}",)),
        ),
        Op(
            "sqrt",
            1,
            lambda xp, x, _: xp.sqrt(x),
            # At 0 the slope is +inf, as in PyTorch; NaN stays NaN.
            lambda xp, out, x, _: (xp.where(out == 0, _INF, 0.5 / xp.where(out == 0, 1.0, out)),),
            lambda xp, x, _: (x >= 0) | _is_nan(x),
            "the square root is defined only for inputs >= 0",
            symbol="√",
            function=True,
            written=("√{x}", ("1/(2√{x})",)),
        ),
        Op(
            "sin",
            1,
            lambda xp, x, _: xp.sin(x),
            lambda xp, out, x, _: (xp.cos(x),),
            lambda xp, x, _: xp.isfinite(x) | _is_nan(x),
            "sine is defined only for finite inputs",
            function=True,
            written=("sin({x})", ("cos({x})",)),
        ),
        Op(
            "cos",
            1,
            lambda xp, x, _: xp.cos(x),
            lambda xp, out, x, _: (-xp.sin(x),),
            lambda xp, x, _: xp.isfinite(x) | _is_nan(x),
            "cosine is defined only for finite inputs",
            function=True,
            written=("cos({x})", ("−sin({x})",)),
        ),
        Op(
            "tanh",
            1,
            lambda xp, x, _: xp.tanh(x),
            lambda xp, out, x, _: (1.0 - out * out,),
            function=True,
            activation=4,
            written=("tanh({x})", ("1 − {out}²",)),
        ),
        Op(
            "sigmoid",
            1,
            lambda xp, x, _: _sigmoid(xp, x),
            lambda xp, out, x, _: (out * (1.0 - out),),
            symbol="σ",
            function=True,
            activation=5,
            written=("σ({x})", ("{out}·(1 − {out})",)),
        ),
        # The derivative at 0 is taken as 0 (ReLU, abs) or the negative side's slope, as PyTorch does.
        # Comparisons are written so that NaN takes PyTorch's branch: relu(NaN) is NaN, slope 1.
        Op(
            "relu",
            1,
            lambda xp, x, _: xp.where(x <= 0, 0.0, x),
            lambda xp, out, x, _: (xp.where(x <= 0, 0.0, 1.0),),
            symbol="ReLU",
            function=True,
            activation=1,
            written=("ReLU({x})", ("1 if {x} > 0 else 0",)),
        ),
        Op(
            "leaky_relu",
            1,
            lambda xp, x, slope: xp.where(x > 0, x, slope * x),
            lambda xp, out, x, slope: (xp.where(x > 0, 1.0, slope),),
            symbol="LeakyReLU",
            parameter=OpParameter("slope", 0.01),  # PyTorch's default negative slope
            function=True,
            activation=2,
            written=("LeakyReLU({x}, {n})", ("1 if {x} > 0 else {n}",)),
        ),
        Op(
            "elu",
            1,
            lambda xp, x, alpha: xp.where(x > 0, x, alpha * xp.expm1(xp.where(x > 0, 0.0, x))),
            # At 0 the slope is alpha (the left side's), as PyTorch's; written as its own branch,
            # so that differentiated again (micrograd.engine.higher) it is flat there, as PyTorch's.
            lambda xp, out, x, alpha: (
                xp.where(x < 0, alpha * xp.exp(xp.where(x < 0, x, 0.0)), xp.where(x == 0, alpha, 1.0)),
            ),
            symbol="ELU",
            parameter=OpParameter("alpha", 1.0),
            function=True,
            activation=3,
            written=("ELU({x}, {n})", ("1 if {x} > 0 else {n}·exp({x})",)),
        ),
        Op(
            "softplus",
            1,
            # log(1 + e^x) = max(x, 0) + log(1 + e^-|x|): no overflow for any finite x.
            lambda xp, x, _: xp.maximum(x, 0.0) + xp.log1p(xp.exp(-xp.abs(x))),
            lambda xp, out, x, _: (_sigmoid(xp, x),),
            function=True,
            written=("softplus({x})", ("σ({x})",)),
        ),
        Op(
            "abs",
            1,
            lambda xp, x, _: xp.abs(x),
            lambda xp, out, x, _: (xp.where(x > 0, 1.0, xp.where(x < 0, -1.0, 0.0)),),
            symbol="|x|",
            function=True,
            written=("|{x}|", ("sign({x})",)),
        ),
        Op(
            "gelu",
            1,
            lambda xp, x, _: x * 0.5 * (1.0 + xp.erf(x * _SQRT1_2)),
            lambda xp, out, x, _: (_gelu_derivative(xp, x),),
            symbol="GELU",
            function=True,
            activation=6,
            written=("GELU({x})", ("Φ({x}) + {x}·φ({x})",)),
        ),
        # The perceptron's activation (Heaviside's step), as the course's slide defines it: 1 if
        # z > 0, 0 otherwise; so step(0) = 0, as scikit-learn's Perceptron decides (class 1 only
        # for a score > 0) and torch.heaviside(z, 0) computes. Its derivative is 0 wherever it
        # exists (z != 0) and undefined at the jump; the engine uses 0 there too (as PyTorch does
        # for relu's kink and for sign, whose backward is zeros), and for NaN. NaN goes through
        # the value, as numpy.heaviside does (torch.heaviside gives 0 for NaN).
        Op(
            "step",
            1,
            lambda xp, x, _: xp.where(x > 0, 1.0, xp.where(x <= 0, 0.0, x)),
            (0.0,),
            symbol="step",
            function=True,
            activation=7,
            written=("step({x})", ("0",)),
            note=(
                "step is flat on both sides of its jump: its derivative is 0 wherever it exists "
                "(undefined at 0, taken as 0), so every gradient that flows back through a step is 0 "
                "and gradient descent cannot change the weights before it; the perceptron learns "
                "with its own rule instead"
            ),
        ),
        # The error function, which gelu is made of: an op so that gelu's derivative, run on
        # Values (micrograd.engine.higher), is a graph that can be differentiated again.
        Op(
            "erf",
            1,
            lambda xp, x, _: xp.erf(x),
            lambda xp, out, x, _: (_TWO_OVER_SQRT_PI * xp.exp(-(x * x)),),
            function=True,
            written=("erf({x})", ("(2/√π)·exp(−{x}²)",)),
        ),
    )
}


def _check_registry(ops: dict[str, Op]) -> None:
    """Fail at import on a registry that the derived tables could not be built from."""
    ranks = [op.activation for op in ops.values() if op.activation is not None]
    if len(set(ranks)) != len(ranks):
        raise ValueError(f"two ops share an activation position: {sorted(ranks)}")
    for op in ops.values():
        if op.function and op.arity != 1:
            raise ValueError(f"Op {op.name!r}: only a unary op can be called as a function in formulas")
        if op.activation is not None and (op.arity != 1 or (op.parameter is not None and op.parameter.default is None)):
            raise ValueError(f"Op {op.name!r}: an activation must be a unary op whose parameter (if any) has a default")
        definition, derivatives = op.written
        if not definition or len(derivatives) != op.arity:
            raise ValueError(f"Op {op.name!r} needs written=(definition, one derivative per operand) for the frames")


_check_registry(OPS)
