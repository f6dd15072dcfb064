"""Check autograd against central finite differences, with a report a learner can read.

`gradcheck(f, inputs)` checks a function's gradient; `gradcheck(J)` checks a graph already built,
edge by edge, and names the first wrong local derivative: for finding the bug in a derivative
written by hand (a user-defined op's `_backward`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .graph import gradients
from .names import node_names
from .ops import FLOATS, OPS, Op
from .value import Constant, Value, no_grad


@dataclass(frozen=True)
class GradcheckRow:
    """One input: the engine's gradient, the finite-difference estimate, and how far apart."""

    name: str
    analytic: float
    numeric: float
    difference: float
    ok: bool


@dataclass(frozen=True)
class GradcheckReport:
    rows: tuple[GradcheckRow, ...]
    eps: float
    tol: float

    @property
    def ok(self) -> bool:
        """True when every input's analytic and numeric gradients agree within `tol`."""
        return all(row.ok for row in self.rows)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        width = max([5, *(len(row.name) for row in self.rows)])
        lines = [f"{'input':<{width}}  {'analytic':>14}  {'numeric':>14}  {'difference':>11}  ok"]
        for row in self.rows:
            lines.append(
                f"{row.name:<{width}}  {row.analytic:>14.8g}  {row.numeric:>14.8g}  "
                f"{row.difference:>11.2e}  {'yes' if row.ok else 'NO'}"
            )
        verdict = "all gradients agree" if self.ok else "some gradients DISAGREE"
        lines.append(f"{verdict} (central differences, eps={self.eps:g}, tol={self.tol:g})")
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython shows the table
        printer.text(str(self))


def gradcheck(
    f: Callable[..., Value] | Value,
    inputs: Sequence[Value | float] | None = None,
    eps: float = 1e-6,
    tol: float = 1e-5,
) -> Any:
    """Compare ∂f/∂input from `backward()` with (f(x+eps) - f(x-eps)) / 2eps for each input.

    `f` takes the inputs as positional arguments and returns a Value. The check runs on copies,
    so the caller's Values and their gradients are left as they were. An input passes when
    |analytic - numeric| <= tol · max(1, |analytic|, |numeric|). Returns a `GradcheckReport`.

    `gradcheck(J)`, on a graph already built, checks it edge by edge (`check_graph`) and returns
    a `GraphCheckReport`.
    """
    if isinstance(f, Value):
        if inputs is not None:
            raise TypeError("gradcheck(J) checks the graph of J as it is: give no inputs (or give a function)")
        return check_graph(f, eps, tol)
    if inputs is None:
        raise TypeError("gradcheck(f, inputs): give the inputs of f, or call gradcheck(J) on a built graph")
    if not inputs:
        raise ValueError("gradcheck needs at least one input")
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps!r}")
    copies = [Value(x.data, x.label) if isinstance(x, Value) else Value(x, f"x{i}") for i, x in enumerate(inputs)]
    out = f(*copies)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, got {type(out).__name__}")
    out.backward()
    analytic = [x.grad for x in copies]

    rows = []
    for i, x in enumerate(copies):
        original = x.data
        try:
            with no_grad():
                x.data = original + eps
                up = f(*copies).data
                x.data = original - eps
                down = f(*copies).data
        except (ValueError, ZeroDivisionError) as error:
            raise ValueError(
                f"gradcheck: f is not defined on both sides of {x.label or f'x{i}'} = {original!r} "
                f"± {eps:g}, so no central difference can be taken there: {error}"
            ) from error
        finally:
            x.data = original
        numeric = (up - down) / (2 * eps)
        difference = abs(analytic[i] - numeric)
        scale = max(1.0, abs(analytic[i]), abs(numeric))
        ok = math.isfinite(difference) and difference <= tol * scale
        rows.append(GradcheckRow(x.label or f"x{i}", analytic[i], numeric, difference, ok))
    return GradcheckReport(tuple(rows), eps, tol)


# -- checking a built graph, edge by edge ------------------------------------------------------------


@dataclass(frozen=True)
class EdgeCheck:
    """One edge of the graph: `consumer`'s local derivative with respect to its operand `slot`,
    as the engine (or the user's `_backward`) gives it, beside a central difference of that op."""

    consumer: Value
    slot: int
    name: str  # "∂c/∂w": the consumer and the operand by their names (micrograd.engine.names)
    op: str  # the op as micrograd writes it: "*", "tanh", ...
    local: float  # from local_grads(): the ops table, or the user's _backward
    numeric: float | None  # None: the op's forward is user code, so it cannot be re-run
    ok: bool
    hint: str  # the likely mistake, when one is recognisable; "" otherwise


@dataclass(frozen=True)
class LeafCheck:
    """One input of the graph: its `.grad` as it is, a fresh backward pass, and a central
    difference of the whole output."""

    leaf: Value
    name: str
    held: float  # leaf.grad as the user's graph holds it (0 if backward() was not called)
    fresh: float  # what one backward() from zeroed gradients gives, user code (its _backward) included
    numeric: float | None
    ok: bool
    hint: str


@dataclass(frozen=True)
class GraphCheckReport:
    """`gradcheck(J)`: every edge's local derivative, then every input's gradient, checked."""

    output: str
    edges: tuple[EdgeCheck, ...]
    leaves: tuple[LeafCheck, ...]
    eps: float
    tol: float

    @property
    def ok(self) -> bool:
        return all(e.ok for e in self.edges) and all(leaf.ok for leaf in self.leaves)

    def __bool__(self) -> bool:
        return self.ok

    @property
    def first_wrong_edge(self) -> EdgeCheck | None:
        """The first wrong local derivative, in the order backward() uses them (the output's first)."""
        return next((e for e in self.edges if not e.ok), None)

    def __str__(self) -> str:
        lines = []
        wrong = self.first_wrong_edge
        if wrong is not None:
            numeric = "?" if wrong.numeric is None else f"{wrong.numeric:.8g}"
            lines.append(
                f"first wrong edge: {wrong.name} of op {wrong.op!r}: {wrong.local:.8g} from the code, "
                f"{numeric} by central difference{'; ' + wrong.hint if wrong.hint else ''}"
            )
        width = max([4, *(len(e.name) for e in self.edges)])
        lines.append(f"{'edge':<{width}}  {'op':>8}  {'local':>14}  {'numeric':>14}  ok")
        for e in self.edges:
            numeric = "(user code)" if e.numeric is None else f"{e.numeric:.8g}"
            verdict = "yes" if e.ok else "NO"
            lines.append(f"{e.name:<{width}}  {e.op:>8}  {e.local:>14.8g}  {numeric:>14}  {verdict}")
        width = max([5, *(len(leaf.name) for leaf in self.leaves)])
        lines.append(f"{'input':<{width}}  {'.grad held':>14}  {'backward()':>14}  {'numeric':>14}  ok")
        for leaf in self.leaves:
            numeric = "(user code)" if leaf.numeric is None else f"{leaf.numeric:.8g}"
            verdict = ("yes" if leaf.ok else "NO") + (f"  {leaf.hint}" if leaf.hint else "")
            lines.append(f"{leaf.name:<{width}}  {leaf.held:>14.8g}  {leaf.fresh:>14.8g}  {numeric:>14}  {verdict}")
        lines.append(
            f"{'every derivative agrees' if self.ok else 'some derivatives DISAGREE'} "
            f"(central differences, eps={self.eps:g}, tol={self.tol:g})"
        )
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


def check_graph(output: Value, eps: float = 1e-6, tol: float = 1e-5) -> GraphCheckReport:
    """Check every derivative of a built graph, to find the bug in a derivative written by hand.

    Each edge: the consumer's local derivative (from the ops table, or from its `_backward` for a
    user-defined op) against a central difference of that one op. Each input: its `.grad` as
    held, one fresh backward pass, and a central difference of the whole output. The report
    names the first wrong edge and the likely mistake where one is recognisable: a flipped sign,
    a factor missing, `=` where `+=` belongs, gradients not reset between passes. Nothing in the
    graph is changed. (`gradcheck(J)` calls this.)
    """
    if not isinstance(output, Value):
        raise TypeError(f"gradcheck(J) needs a Value, the output of a graph; got {type(output).__name__}")
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps!r}")
    fresh = gradients(output)
    names = node_names(fresh.order)
    edges: list[EdgeCheck] = []
    for node in reversed(fresh.order):
        for slot, (child, local) in enumerate(zip(node.children, node.local_grads())):
            numeric = _op_difference(node, slot, eps)
            ok = numeric is None or _close(local, numeric, tol)
            hint = "" if ok or numeric is None else _edge_hint(node, slot, local, numeric)
            if node.user_op and (problem := _chain_rule_hint(node, slot, names[child])):
                ok, hint = False, problem
            which = ""
            if len(node.children) == 2 and node.children[0] is node.children[1]:
                which = (" (1st)", " (2nd)")[slot]
            name = f"∂{names[node]}/∂{names[child]}{which}"
            edges.append(EdgeCheck(node, slot, name, node._op, local, numeric, ok, hint))
    leaves: list[LeafCheck] = []
    inputs = [n for n in fresh.order if not n.children and not isinstance(n, Constant)]
    one_pass = _one_backward_pass(output, fresh.order)
    for leaf in inputs:
        numeric = _output_difference(fresh.order, leaf, eps)
        held, right = leaf.grad, one_pass[id(leaf)]
        reference = right if numeric is None else numeric
        hint = ""
        ok = _close(right, reference, tol)
        if held != 0.0 and not _close(held, right, tol):
            ok = False
            ratio = held / right if right else math.inf
            if math.isfinite(ratio) and ratio > 1.5 and abs(ratio - round(ratio)) < 1e-6:
                hint = f"holds {round(ratio)} passes' sum: call zero_grad() before each backward()"
            else:
                hint = ".grad differs from a fresh backward(): reset the gradients (zero_grad()) and run it again"
        leaves.append(LeafCheck(leaf, names[leaf], held, right, numeric, ok, hint))
    return GraphCheckReport(names[output], tuple(edges), tuple(leaves), eps, tol)


def _one_backward_pass(output: Value, order: list[Value]) -> dict[int, float]:
    """Each node's .grad after one `output.backward()` from zeroed gradients, run on the graph as
    it is (a user-defined op's `_backward` included, mistakes and all); every .grad restored after."""
    saved = [(node, node.grad) for node in order]
    try:
        for node in order:
            node.grad = 0.0
        output.backward()
        return {id(node): node.grad for node in order}
    finally:
        for node, grad in saved:
            node.grad = grad


def _close(a: float, b: float, tol: float) -> bool:
    difference = abs(a - b)
    return math.isfinite(difference) and difference <= tol * max(1.0, abs(a), abs(b))


def _forward_of(node: Value) -> Op | None:
    """The op that computes `node`: the engine's, or for a user-defined op the engine's op of the
    same name and operand count (a hand-written tanh is checked against tanh); else None."""
    name = node._op if node.user_op else node.op
    op = OPS.get(name)
    return op if op is not None and op.arity == len(node.children) else None


def _operands(node: Value) -> tuple[float, float | None]:
    x, y = node._x, node._y
    assert x is not None
    return x.data, (y.data if y is not None else node.arg)


def _op_difference(node: Value, slot: int, eps: float) -> float | None:
    """∂node/∂(operand `slot`) by a central difference of the node's op alone."""
    op = _forward_of(node)
    if op is None:
        return None
    x, y = _operands(node)

    def at(shift: float) -> float:
        a, b = (x + shift, y) if slot == 0 else (x, (y or 0.0) + shift)
        return float(op.forward(FLOATS, a, b))

    return (at(eps) - at(-eps)) / (2 * eps)


def _chain_rule_hint(node: Value, slot: int, name: str) -> str:
    """What the user's `_backward` does wrong with the gradients, or "" if nothing: run it once
    with out.grad = 2 and every operand's gradient at 1, and compare with 1 + 2 × local (every
    gradient restored after). Catches `=` where `+=` belongs, and a missing `* out.grad`."""
    child = node.children[slot]
    local = sum(d for c, d in zip(node.children, node.local_grads()) if c is child)
    saved = [(n, n.grad) for n in {id(n): n for n in (node, *node.children)}.values()]
    try:
        for n in node.children:
            n.grad = 1.0
        node.grad = 2.0
        node._backward()
        total = child.grad
    finally:
        for n, grad in saved:
            n.grad = grad

    def near(a: float, b: float) -> bool:
        return abs(a - b) <= 1e-12 * max(1.0, abs(a), abs(b))

    if near(total, 1.0 + 2.0 * local):
        return ""
    if near(total, 2.0 * local):
        return f"its _backward sets {name}.grad with = instead of adding with +=: wrong when {name} is used twice"
    if near(total, 1.0 + local):
        return "its _backward does not multiply by out.grad (the chain rule's upstream gradient)"
    if near(total, local):
        return f"its _backward uses = instead of += and does not multiply by out.grad, for {name}"
    return "its _backward does not add local derivative × out.grad, as the chain rule does"


def _edge_hint(node: Value, slot: int, local: float, numeric: float) -> str:
    if len(node.children) == 2:
        mine, other = node.children[slot].data, node.children[1 - slot].data
        if node._op == "*" and local == mine and abs(numeric - other) <= 1e-6 * max(1.0, abs(other)) and mine != other:
            return "it uses the operand's own value: ∂(a·b)/∂a is b, the other operand"
    if numeric != 0 and abs(local + numeric) <= 1e-4 * abs(numeric):
        return "the sign is flipped"
    if local == 0:
        return "the derivative is 0: is a term missing?"
    ratio = numeric / local
    for factor in (2.0, 0.5, 3.0, 1 / 3):
        if abs(ratio - factor) <= 1e-4 * factor:
            return f"off by a factor of {factor:g}: is a factor missing (such as the 2 of x², or out.grad)?"
    return ""


def _output_difference(order: list[Value], leaf: Value, eps: float) -> float | None:
    """∂output/∂leaf by re-running every op with the leaf moved by ±eps (None: a user op's forward
    cannot be re-run)."""
    if any(node.children and _forward_of(node) is None for node in order):
        return None

    def run(shift: float) -> float:
        value: dict[int, float] = {}
        for node in order:
            if not node.children:
                value[id(node)] = node.data + (shift if node is leaf else 0.0)
                continue
            op = _forward_of(node)
            assert op is not None
            x, y = node._x, node._y
            assert x is not None
            b = value[id(y)] if y is not None else node.arg
            value[id(node)] = float(op.forward(FLOATS, value[id(x)], b))
        return value[id(order[-1])]

    return (run(eps) - run(-eps)) / (2 * eps)
