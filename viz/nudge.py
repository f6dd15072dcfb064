"""`nudge(J, w)`: move one value a little, recompute the output, and set the change beside
gradient × step, the course notes' "w ↑ 0.001 → J ↑ -0.004" made executable.

    >>> print(nudge(J, w))
    w ↑ 0.001 → J ↑ −0.003998 (w̄ × 0.001 = −0.004)

The notation is the frames' and the trace table's: w̄ is the total gradient ∂J/∂w of the output
with respect to w (its adjoint), and numbers carry the true minus sign "−".

The two numbers differ by the curvature the gradient ignores, which is the point of the check:
the gradient is the first-order prediction, the nudge is what really happens. The user's graph is
never touched: the output is recomputed by a `micrograd.engine.tape.Tape` recorded from it, and
the gradient is computed fresh by the engine's own backward walk on a copy, as `steps()` does (the
user's `.grad` may be stale, or summed over several `backward()` calls).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np

from micrograd import Constant, Value
from micrograd.engine.graph import gradients as backward_pass
from micrograd.engine.names import node_names
from micrograd.engine.tape import Tape

from .op_formulas import number
from .tables import html_table, markdown_table, text_table
from .trace_table import bar

__all__ = ["Nudge", "NudgeTable", "nudge"]


@dataclass(frozen=True)
class Nudge:
    """The output before and after moving `leaf` by `eps`, and the gradient's prediction."""

    leaf: Value
    name: str  # the leaf's name (`micrograd.engine.names.node_names`)
    output: str  # the output's name
    eps: float
    before: float  # the output's value, recomputed (the same arithmetic as `after`)
    after: float  # the output's value with the leaf at leaf.data + eps
    change: float  # after - before
    grad: float  # the leaf's adjoint: the total gradient ∂output/∂leaf
    predicted: float  # grad × eps

    def __str__(self) -> str:
        n, o, eps = self.name, self.output, number(self.eps)
        return f"{n} ↑ {eps} → {o} ↑ {number(self.change)} ({bar(n)} × {_factor(self.eps)} = {number(self.predicted)})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython shows the sentence
        printer.text(str(self))


class NudgeTable(Sequence[Nudge]):
    """One `Nudge` per input, shown as a table (text, Markdown, or HTML in Jupyter)."""

    def __init__(self, rows: list[Nudge]) -> None:
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, k: int) -> Nudge: ...

    @overload
    def __getitem__(self, k: slice) -> list[Nudge]: ...

    def __getitem__(self, k: int | slice) -> Nudge | list[Nudge]:
        return self._rows[k]

    def __iter__(self) -> Iterator[Nudge]:
        return iter(self._rows)

    def _cells(self) -> tuple[list[str], list[list[str]]]:
        first = self._rows[0]
        o, eps = first.output, number(first.eps)
        header = ["input u", "value", f"{o} ↑ when u ↑ {eps}", f"ū × {_factor(first.eps)}", f"ū (total ∂{o}/∂u)"]
        body = [
            [r.name, number(r.leaf.data), number(r.change), number(r.predicted), number(r.grad)] for r in self._rows
        ]
        return header, body

    def __str__(self) -> str:
        return "\n".join(text_table(*self._cells()))

    def markdown(self) -> str:
        """The table in Markdown (`|` in a name is escaped)."""
        return "\n".join(markdown_table(*self._cells()))

    def _repr_html_(self) -> str:
        return html_table(*self._cells())

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


def nudge(root: Value, leaf: Value | None = None, eps: float = 1e-3) -> Nudge | NudgeTable:
    """Move the input `leaf` by `eps` and report the change in `root` beside ∂root/∂leaf × eps.
    Without `leaf`: every input (every leaf but the constants) of the graph, as a table."""
    if not isinstance(root, Value):
        raise TypeError(f"nudge() needs a micrograd Value (the output of a graph), got {type(root).__name__}")
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not math.isfinite(eps) or eps == 0:
        raise ValueError(f"nudge(eps={eps!r:.40}): give a small non-zero finite number, such as 0.001")
    eps = float(eps)
    gradients = backward_pass(root)
    names = node_names(gradients.order)
    leaves = [node for node in gradients.order if not node.children and not isinstance(node, Constant)]
    if not leaves:
        raise ValueError("nudge: this graph has no inputs to move (only constants)")
    if leaf is not None:
        _check_leaf(leaf, names)
    # One recording for every nudge: each input a column, so the output is recomputed by the
    # tape (micrograd.engine.tape, the one way to evaluate a recorded graph) and the graph is untouched.
    tape = Tape.record(root, inputs=leaves)
    moved = leaves if leaf is None else [leaf]
    rows = [_nudge(tape, names, gradients.grads, leaves, node, eps) for node in moved]
    return rows[0] if leaf is not None else NudgeTable(rows)


def _factor(x: float) -> str:
    """A step in a product: "0.001", "(−0.5)"."""
    text = number(x)
    return f"({text})" if x < 0 else text


def _check_leaf(leaf: object, names: dict[Value, str]) -> None:
    if not isinstance(leaf, Value):
        raise TypeError(f"nudge(leaf=...) takes an input Value of the graph, got {type(leaf).__name__}")
    if leaf not in names:
        raise ValueError(f"nudge: {leaf!r:.80} is not part of the graph of the output")
    if isinstance(leaf, Constant):
        raise ValueError(f"nudge: {leaf.label} is a constant of the formula, not an input that can move")
    if leaf.children:
        inputs = ", ".join(names[n] for n in names if not n.children and not isinstance(n, Constant))
        raise ValueError(
            f"nudge: {names[leaf]} is computed by the graph (op {leaf.op!r}), not an input; nudge an input "
            f"({inputs}) and read how {names[leaf]} moves with steps() or the trace table"
        )


def _nudge(
    tape: Tape, names: dict[Value, str], grads: dict[Value, float], leaves: list[Value], leaf: Value, eps: float
) -> Nudge:
    """Two samples through the tape: every input as it is, and `leaf` moved by `eps`."""
    feed: dict[Value, object] = {node: node.data for node in leaves}
    feed[leaf] = np.array([leaf.data, leaf.data + eps])
    try:
        before, after = (float(out) for out in tape.forward(feed))
    except (ValueError, ZeroDivisionError) as error:
        message = str(error).replace(" (at sample 1, ", " (").replace("at sample 1, ", "")
        raise ValueError(f"nudge: with {names[leaf]} moved by {number(eps)}, {message}") from None
    grad = grads[leaf]
    return Nudge(leaf, names[leaf], names[tape.outputs[0]], eps, before, after, after - before, grad, grad * eps)
