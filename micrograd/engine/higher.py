"""Derivatives of derivatives: gradients as graphs, Hessians and Hessian-vector products.

    g, = grad(J, [w], create_graph=True)   # ∂J/∂w, a Value whose graph can be differentiated again
    grad(g, [w])                           # [∂²J/∂w²]
    hessian(f, [2.0, -1.0])                # the matrix of second derivatives of f(a, b) there

Each op's derivatives are written once, in `micrograd.engine.ops`, as functions of a namespace
`xp` of elementary functions. `backward()` runs them on floats (`ops.FLOATS`), the tape on NumPy
arrays; here they run on `VALUES`, whose exp, log, where, pow, ... build `Value` nodes, so the
same formula that gives the number 1 − out² for tanh builds the graph `1 − t × t` from the
forward node `t` itself. The chain rule's products and sums are made of nodes too, and what comes
out is an ordinary graph: drawn, stepped through, differentiated again like any other.

How the formulas see their operands (`_Traced`): arithmetic builds nodes, while comparisons are
made on the numbers, so `where(x > 0, 1.0, slope)` picks its branch as it does on floats. At a
kink this is the choice of the first derivative (relu′(0) = 0), and the chosen branch is
differentiated as it stands: a constant branch gives 0, as in PyTorch (relu″ = abs″ = 0).

The nodes a gradient's graph adds are `Derivative`s (a Value subclass) named in the course's
notation: ū = ∂J/∂u for the gradient of each labelled node along the way, and "∂J/∂w" for a
result (then "∂²J/∂w²", ...) when output and input are labelled. The forward nodes the formulas use (t in 1 − t × t) are the user's
own nodes, shared, not copied: a drawing shows them apart (viz.draw). Nothing recurses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..checks import check_bool, check_number
from .graph import chain_rule, copy_graph, topological_order
from .names import bar, derivative_name
from .ops import FLOATS, OPS, Op
from .value import GRAPH_BACKWARD, Constant, GradWithGraph, Value

__all__ = ["VALUES", "Derivative", "grad", "hessian", "hvp"]

Number = float | int


class Derivative(Value):
    """A node made by differentiating (`grad(..., create_graph=True)`, `backward(create_graph=True)`):
    a part of a gradient's own graph, as opposed to the forward nodes that graph reuses."""

    __slots__ = ()


def _make(op: Op, x: Value, y: Value | None, arg: float | None) -> Derivative:
    """A node of `op` on x (and y, or with constant parameter arg), its value from the op's own
    forward function on floats. No domain check: the forward graph passed it, and a derivative
    at the edge of a domain (1/0 for √ at 0) is IEEE's inf or NaN, as in PyTorch."""
    node = object.__new__(Derivative)
    node.data = op.forward(FLOATS, x.data, y.data if y is not None else arg)
    node.grad = 0.0
    node._x, node._y, node.op, node._mark = x, y, op.name, None
    node._meta = "" if arg is None else ("", "", arg)
    return node


class _Traced:
    """A node as an op's derivative formula sees it: arithmetic builds nodes, comparisons compare
    numbers (so `where` picks a branch as on floats). Lives only while a formula runs."""

    __slots__ = ("node",)
    __hash__ = None  # type: ignore[assignment]  # compares numbers, so it cannot be a dict key

    def __init__(self, node: Value) -> None:
        self.node = node

    def __bool__(self) -> bool:
        raise TypeError("an op's derivative formula used a Value as a truth value: compare it (x > 0) or use xp.where")

    def __lt__(self, other: Any) -> bool:
        return self.node.data < _number(other)

    def __le__(self, other: Any) -> bool:
        return self.node.data <= _number(other)

    def __gt__(self, other: Any) -> bool:
        return self.node.data > _number(other)

    def __ge__(self, other: Any) -> bool:
        return self.node.data >= _number(other)

    def __eq__(self, other: object) -> bool:
        return self.node.data == _number(other)

    def __ne__(self, other: object) -> bool:
        return self.node.data != _number(other)

    def __add__(self, other: Any) -> _Traced:
        return _binary("+", self, other)

    def __radd__(self, other: Any) -> _Traced:
        return _binary("+", other, self)

    def __sub__(self, other: Any) -> _Traced:
        return _binary("-", self, other)

    def __rsub__(self, other: Any) -> _Traced:
        return _binary("-", other, self)

    def __mul__(self, other: Any) -> _Traced:
        return _binary("*", self, other)

    def __rmul__(self, other: Any) -> _Traced:
        return _binary("*", other, self)

    def __truediv__(self, other: Any) -> _Traced:
        return _binary("/", self, other)

    def __rtruediv__(self, other: Any) -> _Traced:
        return _binary("/", other, self)

    def __pow__(self, other: Any) -> _Traced:
        return _pow(self, other)

    def __rpow__(self, other: Any) -> _Traced:
        return _pow(other, self)

    def __neg__(self) -> _Traced:
        return _unary(OPS["neg"], self)

    def __abs__(self) -> _Traced:
        return _unary(OPS["abs"], self)


def _number(x: Any) -> float:
    return x.node.data if isinstance(x, _Traced) else x


def _node(x: Any) -> Value:
    """An operand as a node: a traced node itself, a number as a constant leaf."""
    return x.node if isinstance(x, _Traced) else Constant(x)


def _binary(name: str, x: Any, y: Any) -> _Traced:
    return _Traced(_make(OPS[name], _node(x), _node(y), None))


def _unary(op: Op, x: _Traced, arg: float | None = None) -> _Traced:
    return _Traced(_make(op, x.node, None, arg))


def _pow(x: Any, y: Any) -> Any:
    if isinstance(y, _Traced):
        return _binary("pow", x, y)
    if isinstance(x, _Traced):
        return _unary(OPS["**"], x, float(y))
    return FLOATS.pow(x, y)


class _ValueMath:
    """`ops.FLOATS` on Values: each function builds the nodes of the op of the same name (exp,
    log, sqrt, sin, cos, tanh, abs, erf: found in `OPS`, so a new function op needs no edit here),
    and falls back to FLOATS for plain numbers. The rest are written below; a function of FLOATS
    that has neither raises an error naming it when a formula first uses it."""

    @staticmethod
    def where(condition: Any, if_true: Any, if_false: Any) -> Any:
        # The condition was computed on numbers (`_Traced` compares numbers): one branch is taken.
        return if_true if condition else if_false

    @staticmethod
    def pow(x: Any, y: Any) -> Any:
        return _pow(x, y)

    @staticmethod
    def divide(x: Any, y: Any) -> Any:
        if isinstance(x, _Traced) or isinstance(y, _Traced):
            return _binary("/", x, y)
        return FLOATS.divide(x, y)

    @staticmethod
    def maximum(x: Any, y: Any) -> Any:
        """The larger operand itself (NaN if either is), chosen on the numbers as FLOATS does."""
        a, b = _number(x), _number(y)
        return y if b != b or a < b else x

    @staticmethod
    def log1p(x: Any) -> Any:
        # As a graph, log(1 + x): the derivative 1/(1 + x) is the same, only the value's last
        # digits near 0 differ. (No op's derivative uses it; softplus' value does.)
        return _unary(OPS["log"], 1.0 + x) if isinstance(x, _Traced) else FLOATS.log1p(x)

    @staticmethod
    def expm1(x: Any) -> Any:
        return _unary(OPS["exp"], x) - 1.0 if isinstance(x, _Traced) else FLOATS.expm1(x)

    # Steps and tests: flat or undefined derivatives, so a number (a constant in the graph).
    @staticmethod
    def floor(x: Any) -> float:
        return FLOATS.floor(_number(x))

    @staticmethod
    def isfinite(x: Any) -> bool:
        return FLOATS.isfinite(_number(x))

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(
            f"micrograd.engine.higher: ops.FLOATS.{name} has no version that builds Values, so a derivative "
            f"using it cannot be differentiated again: add an op named {name!r} to micrograd.engine.ops "
            "(its own derivative written with xp), or write the function in higher._ValueMath"
        )


def _function_of_op(op: Op) -> Callable[[Any], Any]:
    floats = getattr(FLOATS, op.name)
    return lambda x: _unary(op, x) if isinstance(x, _Traced) else floats(x)


def _add_functions_of_ops() -> None:
    """exp, log, ...: each unary op without parameter that has a function of the same name in FLOATS."""
    for name, op in OPS.items():
        if op.arity == 1 and op.parameter is None and hasattr(FLOATS, name) and name not in vars(_ValueMath):
            setattr(_ValueMath, name, staticmethod(_function_of_op(op)))


_add_functions_of_ops()

#: The namespace that makes the ops' derivative formulas build graphs.
VALUES = _ValueMath()


# -- the chain rule on Values ------------------------------------------------------------------

Adjoint = Value | float  # a float while it is a constant (the seed 1, and what `+` passes on)


def _times(local: Any, upstream: Adjoint) -> Adjoint:
    """local × upstream as `chain_rule` multiplies them, a node unless both are numbers; × 1
    and × −1 by a number add no node (they are exact: the same number as the product)."""
    if isinstance(local, _Traced):
        local = local.node
    if not isinstance(local, Value):
        if not isinstance(upstream, Value):
            return local * upstream
        if local == 1.0:
            return upstream
        if local == -1.0:
            return _make(OPS["neg"], upstream, None, None)
        return _make(OPS["*"], Constant(local), upstream, None)
    if not isinstance(upstream, Value):
        return local if upstream == 1.0 else _make(OPS["*"], local, Constant(upstream), None)
    return _make(OPS["*"], local, upstream, None)


def _plus(total: Adjoint, term: Adjoint) -> Adjoint:
    if not isinstance(total, Value) and not isinstance(term, Value):
        return total + term
    left = total if isinstance(total, Value) else Constant(total)
    right = term if isinstance(term, Value) else Constant(term)
    return _make(OPS["+"], left, right, None)


def _adjoints(order: list[Value], needed: set[int] | None) -> dict[int, Adjoint]:
    """∂root/∂node as graphs, for every node of `order` (root last), or those in `needed` (by id).

    The walk of `graph.chain_rule`, in the same order with the same products and sums, so each
    adjoint's number is the one `backward()` gives; the local derivatives come from each op's
    formula run on `VALUES`, the forward node itself standing for `out`.
    """
    adjoints: dict[int, Adjoint] = {id(order[-1]): 1.0}
    for node in reversed(order):
        x = node._x
        if x is None or (needed is not None and id(node) not in needed):
            continue
        upstream = adjoints[id(node)]
        op = OPS.get(node.op)
        if op is None:
            raise _user_op_error(node)
        y = node._y
        if op.constant_derivatives is not None:
            local: tuple = op.constant_derivatives
        else:
            local = op.derivatives(VALUES, _Traced(node), _Traced(x), node.arg if y is None else _Traced(y))
        for child, d in zip(node.children, local):
            if needed is not None and id(child) not in needed:
                continue
            term = _times(d, upstream)
            total = adjoints.get(id(child))
            adjoints[id(child)] = term if total is None else _plus(total, term)
    return adjoints


def _user_op_error(node: Value) -> ValueError:
    where = f" (node '{node.label}')" if node.label else ""
    return ValueError(
        f"create_graph=True: the op {node._op!r}{where} is defined by user code (its _backward), which adds "
        "numbers to .grad, so its derivative has no graph to differentiate again. Add it to "
        "micrograd.engine.ops.OPS as an Op, with its derivative written with xp, to differentiate it "
        "twice; grad() without create_graph works with it as it is"
    )


def _needed(order: list[Value], inputs: Sequence[Value]) -> set[int]:
    """The nodes on a path from an input to the root (children come first in `order`)."""
    needed = {id(node) for node in inputs}
    for node in order:
        x, y = node._x, node._y
        if x is not None and (id(x) in needed or (y is not None and id(y) in needed)):
            needed.add(id(node))
    return needed


def _label_adjoints(order: list[Value], adjoints: dict[int, Adjoint], forward: set[int]) -> None:
    """Name each new adjoint node after its labelled forward node u (where the walk made a node
    of its own for it: not a forward node, not one shared with another adjoint that got its name
    first): ū when the output is a plain J, "∂²J/∂u∂w" when it is itself a derivative ∂J/∂w.
    An unlabelled u has no name of its own (a drawing numbers it, v1, v2, ..., in its own graph's
    order), so its adjoint is left unnamed too rather than named after a number that means
    another node in the gradient's drawing."""
    output = order[-1].label
    name = bar if not output.startswith("∂") else lambda u: derivative_name(output, u)
    for node in reversed(order):
        adjoint = adjoints.get(id(node))
        if (
            isinstance(adjoint, Derivative)
            and id(adjoint) not in forward
            and not adjoint.label
            and node.label
            and not isinstance(node, Constant)
        ):
            adjoint.label = name(node.label)


def _inputs_list(inputs: Value | Sequence[Value], caller: str) -> list[Value]:
    if isinstance(inputs, Value):
        return [inputs]
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Sequence):
        raise TypeError(f"{caller}: inputs must be a Value or a list of Values, got {type(inputs).__name__}")
    for i, node in enumerate(inputs):
        if not isinstance(node, Value):
            raise TypeError(f"{caller}: inputs[{i}] must be a Value, got {type(node).__name__}: {node!r:.60}")
    return list(inputs)


def grad(
    output: Value, inputs: Value | Sequence[Value], create_graph: bool = False, allow_unused: bool = False
) -> list[Any]:
    """The gradients ∂output/∂input, one per input, as `torch.autograd.grad` gives them; no
    `.grad` is touched.

    Without `create_graph` they are numbers, bit for bit what `output.backward()` would put in
    each `.grad`. With `create_graph=True` each is a `Value` whose graph is made of the ops'
    derivative formulas (and reuses the forward nodes they mention), so it can be differentiated
    again, to any order: `grad(grad(J, [w], create_graph=True)[0], [w])` is ∂²J/∂w². An input
    that `output` does not depend on is an error, as in PyTorch, unless `allow_unused=True`:
    then its gradient is 0 (PyTorch's `materialize_grads`).
    """
    if not isinstance(output, Value):
        raise TypeError(f"grad: output must be a Value, got {type(output).__name__}: {output!r:.60}")
    xs = _inputs_list(inputs, "grad")
    check_bool("grad", "create_graph", create_graph)
    check_bool("grad", "allow_unused", allow_unused)
    order = topological_order(output)
    forward = {id(node) for node in order}
    for i, node in enumerate(xs):
        if id(node) not in forward and not allow_unused:
            name = f" ('{node.label}')" if node.label else ""
            raise ValueError(
                f"grad: inputs[{i}]{name} is not used in the graph of the output, so its gradient is undefined; "
                "pass allow_unused=True to get 0 for it"
            )
    if not create_graph:
        return _float_gradients(order, xs)
    adjoints = _adjoints(order, _needed(order, xs))
    _label_adjoints(order, adjoints, forward)
    owners: dict[int, int] = {}  # how many nodes have each adjoint node as theirs
    for adjoint in adjoints.values():
        owners[id(adjoint)] = owners.get(id(adjoint), 0) + 1
    results: list[Any] = []
    for node in xs:
        adjoint = adjoints.get(id(node), 0.0)
        if not isinstance(adjoint, Value):
            adjoint = Constant(adjoint)
        elif (
            isinstance(adjoint, Derivative)
            and id(adjoint) not in forward
            and owners[id(adjoint)] == 1
            and output.label
            and node.label
        ):
            # its own node: named as the result ("∂J/∂w"); one shared (b̄ = d̄ through a `+`) keeps ū
            adjoint.label = derivative_name(output.label, node.label)
        results.append(adjoint)
    return results


def _float_gradients(order: list[Value], xs: list[Value]) -> list[float]:
    """backward()'s numbers, from its own walk on a copy of the graph (user ops included)."""
    copies = copy_graph(order)
    chain_rule(copies)
    position = {id(node): i for i, node in enumerate(order)}
    return [copies[position[id(node)]].grad if id(node) in position else 0.0 for node in xs]


def backward_with_graph(root: Value) -> None:
    """`root.backward(create_graph=True)`: `.grad` as `backward()` sets it (leaves accumulate),
    and on every node `grad_value`, the same gradient as a Value with its graph."""
    order = topological_order(root)
    forward = {id(node) for node in order}
    adjoints = _adjoints(order, None)
    _label_adjoints(order, adjoints, forward)
    for node in order:
        adjoint = adjoints[id(node)]
        value = adjoint if isinstance(adjoint, Value) else Constant(adjoint)
        if node._x is None and node.grad:  # a leaf accumulates, as .grad does, and as in PyTorch
            earlier = node.grad_value
            value = _make(OPS["+"], earlier if earlier is not None else Constant(node.grad), value, None)
        node.grad = GradWithGraph(value)


GRAPH_BACKWARD.append(backward_with_graph)


# -- Hessians ------------------------------------------------------------------------------------


def _output_and_inputs(f: Callable[..., Value] | Value, inputs: Any, caller: str) -> tuple[Value, list[Value]]:
    """(output, inputs as Values) from `f(*inputs)` (numbers become fresh leaves), or from an
    output Value `f` and inputs that are Values of its graph."""
    if isinstance(f, Value):
        return f, _inputs_list(inputs, caller)
    if not callable(f):
        raise TypeError(f"{caller}: f must be a function of Values or an output Value, got {type(f).__name__}")
    items = [inputs] if isinstance(inputs, (Value, int, float)) else list(inputs)
    xs = [x if isinstance(x, Value) else Value(x) for x in items]
    output = f(*xs)
    if not isinstance(output, Value):
        raise TypeError(f"{caller}: f must return a Value (a scalar), got {type(output).__name__}: {output!r:.60}")
    return output, xs


def hessian(f: Callable[..., Value] | Value, inputs: Any) -> np.ndarray:
    """The matrix H[i, j] = ∂²f/∂x_i∂x_j, as `torch.autograd.functional.hessian(f, inputs)`.

    `hessian(f, [2.0, -1.0])` calls f on one Value per number; `hessian(J, [w, b])` takes an
    output and Values of its graph. Row i is the gradient of ∂f/∂x_i (made with create_graph),
    so H is symmetric up to rounding; an input f does not depend on gives zeros.
    """
    output, xs = _output_and_inputs(f, inputs, "hessian")
    first = grad(output, xs, create_graph=True, allow_unused=True)
    rows = [grad(g, xs, allow_unused=True) for g in first]
    return np.array(rows, dtype=float).reshape(len(xs), len(xs))


def hvp(f: Callable[..., Value] | Value, inputs: Any, v: Sequence[Number]) -> tuple[float, np.ndarray]:
    """(f's value, H·v) without forming H, as `torch.autograd.functional.hvp(f, inputs, v)`:
    one backward pass builds ∇f as a graph, a second differentiates ∇f·v."""
    output, xs = _output_and_inputs(f, inputs, "hvp")
    vector = [check_number("hvp", f"v[{i}]", c) for i, c in enumerate(v)]
    if len(vector) != len(xs):
        raise ValueError(f"hvp: v has {len(vector)} entries, the inputs {len(xs)}: give one per input")
    first = grad(output, xs, create_graph=True, allow_unused=True)
    total: Adjoint | None = None
    for g, c in zip(first, vector):
        term = _times(c, g)
        total = term if total is None else _plus(total, term)
    if not isinstance(total, Value):  # f is linear: its Hessian is 0
        return output.data, np.zeros(len(xs))
    return output.data, np.array(grad(total, xs, allow_unused=True), dtype=float)
