"""Every operation the engine knows, each defined exactly once.

An `Op` holds the forward function, the local derivatives (∂out/∂operand for each operand) and the
domain check of one operation. The functions take `xp`, a namespace of elementary functions, as
their first argument, so the same definition runs on Python floats (`FLOATS`, used by `Value`) and
on NumPy arrays (used to replay a recorded graph on a whole batch). Backward, edge labels, the
step-through frames and the tape all read the derivatives from here: there is no second copy.

Operand conventions: `x` is the first operand's value, `y` the second operand's value for a binary
op, or the op's constant parameter for a unary op that has one (the exponent of `x ** 2`, the
slope of `leaky_relu`, the alpha of `elu`); `out` is the op's own forward value, which many
derivatives reuse (d tanh = 1 - out², d exp = out).
"""

from __future__ import annotations

import math
from typing import Any, Callable

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
    def where(condition: Any, if_true: Any, if_false: Any) -> Any:
        return if_true if condition else if_false

    @staticmethod
    def maximum(x: float, y: float) -> float:
        return x if x >= y else y


FLOATS = _FloatMath()


class Op:
    """One operation: how to compute it, its local derivatives, and where it is defined."""

    __slots__ = ("name", "arity", "forward", "derivatives", "constant_derivatives", "domain", "domain_rule")

    def __init__(
        self,
        name: str,
        arity: int,
        forward: Callable[..., Any],
        derivatives: Callable[..., tuple] | tuple[float, ...],
        domain: Callable[..., Any] | None = None,
        domain_rule: str = "",
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

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


def _pow_domain(xp: Any, x: Any, y: Any) -> Any:
    # A negative base needs an integer power (else the result is complex); 0 needs a power >= 0.
    return ((x > 0) | ((x < 0) & (xp.floor(y) == y)) | ((x == 0) & (y >= 0)))


def _pow_exponent_derivative(xp: Any, out: Any, x: Any) -> Any:
    # ∂(x**y)/∂y = x**y · ln x. At x == 0 it is 0, as in PyTorch (the limit for y > 0). A negative
    # base has no real logarithm, so there the derivative is undefined: NaN, as in PyTorch.
    return xp.where(x > 0, out * xp.log(xp.where(x > 0, x, 1.0)), xp.where(x == 0, 0.0, math.nan))


def _sigmoid(xp: Any, x: Any) -> Any:
    # Stable for any finite x: exp is only ever taken of a non-positive number.
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


OPS: dict[str, Op] = {
    op.name: op
    for op in (
        Op("+", 2, lambda xp, x, y: x + y, (1.0, 1.0)),
        Op("-", 2, lambda xp, x, y: x - y, (1.0, -1.0)),
        Op("*", 2, lambda xp, x, y: x * y, lambda xp, out, x, y: (y, x)),
        Op(
            "/",
            2,
            lambda xp, x, y: x / y,
            # ∂/∂y = -(x/y)/y, as PyTorch computes it: -x/(y*y) fails when y*y underflows to 0.
            lambda xp, out, x, y: (1.0 / y, -out / y),
            lambda xp, x, y: y != 0,
            "the divisor must not be zero",
        ),
        # x ** n with n a constant number: the exponent is the op's parameter, not a child.
        Op(
            "**",
            1,
            lambda xp, x, n: xp.pow(x, n),
            lambda xp, out, x, n: (xp.where(n == 0, 0.0, n * xp.pow(x, n - 1.0)),),
            _pow_domain,
            "a negative base needs an integer power, and 0 cannot be raised to a negative power",
        ),
        # x ** y with both operands Values (also `2 ** v`, where 2 becomes a constant leaf).
        Op(
            "pow",
            2,
            lambda xp, x, y: xp.pow(x, y),
            lambda xp, out, x, y: (
                xp.where(y == 0, 0.0, y * xp.pow(x, y - 1.0)),
                _pow_exponent_derivative(xp, out, x),
            ),
            _pow_domain,
            "a negative base needs an integer power, and 0 cannot be raised to a negative power",
        ),
        Op("neg", 1, lambda xp, x, _: -x, (-1.0,)),
        Op("exp", 1, lambda xp, x, _: xp.exp(x), lambda xp, out, x, _: (out,)),
        Op(
            "log",
            1,
            lambda xp, x, _: xp.log(x),
            lambda xp, out, x, _: (1.0 / x,),
            lambda xp, x, _: x > 0,
            "the logarithm is defined only for positive inputs",
        ),
        Op(
            "sqrt",
            1,
            lambda xp, x, _: xp.sqrt(x),
            # At 0 the slope is +inf, as in PyTorch.
            lambda xp, out, x, _: (xp.where(out > 0, 0.5 / xp.where(out > 0, out, 1.0), _INF),),
            lambda xp, x, _: x >= 0,
            "the square root is defined only for inputs >= 0",
        ),
        Op(
            "sin",
            1,
            lambda xp, x, _: xp.sin(x),
            lambda xp, out, x, _: (xp.cos(x),),
            lambda xp, x, _: xp.isfinite(x),
            "sine is defined only for finite inputs",
        ),
        Op(
            "cos",
            1,
            lambda xp, x, _: xp.cos(x),
            lambda xp, out, x, _: (-xp.sin(x),),
            lambda xp, x, _: xp.isfinite(x),
            "cosine is defined only for finite inputs",
        ),
        Op("tanh", 1, lambda xp, x, _: xp.tanh(x), lambda xp, out, x, _: (1.0 - out * out,)),
        Op("sigmoid", 1, lambda xp, x, _: _sigmoid(xp, x), lambda xp, out, x, _: (out * (1.0 - out),)),
        # The derivative at 0 is taken as 0 (ReLU, abs) or the negative side's slope, as PyTorch does.
        Op("relu", 1, lambda xp, x, _: xp.where(x > 0, x, 0.0), lambda xp, out, x, _: (xp.where(x > 0, 1.0, 0.0),)),
        Op(
            "leaky_relu",
            1,
            lambda xp, x, slope: xp.where(x > 0, x, slope * x),
            lambda xp, out, x, slope: (xp.where(x > 0, 1.0, slope),),
        ),
        Op(
            "elu",
            1,
            lambda xp, x, alpha: xp.where(x > 0, x, alpha * xp.expm1(xp.where(x > 0, 0.0, x))),
            lambda xp, out, x, alpha: (xp.where(x > 0, 1.0, alpha * xp.exp(xp.where(x > 0, 0.0, x))),),
        ),
        Op(
            "softplus",
            1,
            # log(1 + e^x) = max(x, 0) + log(1 + e^-|x|): no overflow for any finite x.
            lambda xp, x, _: xp.maximum(x, 0.0) + xp.log1p(xp.exp(-xp.abs(x))),
            lambda xp, out, x, _: (_sigmoid(xp, x),),
        ),
        Op(
            "abs",
            1,
            lambda xp, x, _: xp.abs(x),
            lambda xp, out, x, _: (xp.where(x > 0, 1.0, xp.where(x < 0, -1.0, 0.0)),),
        ),
    )
}
