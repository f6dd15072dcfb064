"""The evaluation trace of a graph, as in Baydin et al., "Automatic Differentiation in Machine
Learning: a Survey" (2018), Table 3: the forward primal trace, then the reverse adjoint trace.

    trace_table(J)              # in Jupyter: two HTML tables; print() gives plain text
    trace_table(J).markdown()   # for notes and READMEs

The rows are the lines of the graph's tape (`micrograd.engine.tape.Tape`), the same program that
`print(tape)` shows as Python, so the table and the code name and order everything alike:
- Variables are named by `micrograd.engine.names.node_names`: a node's label where it has one, else
  v1, v2, ... in topological order (the survey numbers inputs v₋₁, v₀ and the rest v1, v2, ...;
  here the inputs keep their own names: w, x, b, y). Constants appear as numbers in definitions.
- The forward trace lists every input (each non-constant leaf), then one row per instruction:
  its definition and value.
- The adjoint trace writes ū for ∂J/∂u (J the output; the bar sits on the name's first
  character: w̄, v̄1, x̄0) and has one row per chain-rule term, in the order the backward pass
  adds them: "ū = ∂v/∂u × v̄" for the first term of ū, "ū += ..." for each further term (a node
  used twice), with the numbers and ū so far. The last row of each ū holds the gradient.

Nothing is written to the graph: the user's `.grad` values are the same before and after.
"""

from __future__ import annotations

from dataclasses import dataclass

from micrograd import Value
from micrograd.engine.names import adjoint_name, bar, partial_name
from micrograd.engine.tape import Tape

from .op_formulas import definition
from .tables import html_table, markdown_table, text_table
from .text import MINUS

__all__ = ["AdjointRow", "PrimalRow", "TraceTable", "bar", "trace_table"]


@dataclass(frozen=True)
class PrimalRow:
    """One variable of the forward trace: `name = definition = value`."""

    name: str
    definition: str  # "input", or the instruction as the frames write it: "w × x", "d²", "tanh(v3)"
    value: float


@dataclass(frozen=True)
class AdjointRow:
    """One line of the reverse trace: `adjoint (=|+=) local × upstream`, and the adjoint after it."""

    adjoint: str  # "w̄"
    node: str  # the node it belongs to: "w"
    update: str  # "= ∂c/∂w × c̄", or "= 1" for the output
    numbers: str  # "−2 × 2" (empty for the output)
    local: float | None  # ∂c/∂w (None for the output's row)
    upstream: float | None  # c̄
    value: float  # the adjoint after this line


def _number(x: float, precision: int) -> str:
    """`precision` significant digits, with the true minus sign of the pictures and frames."""
    text = f"{x:.{precision}g}"
    return "0" if text == "-0" else text.replace("-", MINUS)


class TraceTable:
    """The two traces of one graph: `primal` and `adjoint` rows; `str`, `.markdown()`, HTML."""

    def __init__(self, output: str, primal: list[PrimalRow], adjoint: list[AdjointRow], precision: int) -> None:
        self.output = output  # the output's name: J in ū = ∂J/∂u
        self.primal = primal
        self.adjoint = adjoint
        self.precision = precision

    def _cells(self) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
        p = self.precision
        primal: list[tuple[str, ...]] = [(row.name, row.definition, _number(row.value, p)) for row in self.primal]
        adjoint: list[tuple[str, ...]] = [
            (row.adjoint, row.update, row.numbers, _number(row.value, p)) for row in self.adjoint
        ]
        return primal, adjoint

    def _titles(self) -> tuple[str, str]:
        meaning = adjoint_name(self.output, "u")  # ū, or ∂²J/∂u∂w in a gradient's own graph
        return "Forward primal trace", f"Reverse adjoint trace ({meaning} = {partial_name(self.output, 'u')})"

    def __str__(self) -> str:
        primal, adjoint = self._cells()
        first, second = self._titles()
        return "\n".join(
            [
                first,
                *text_table(("variable", "definition", "value"), primal, right=(2,), indent="  ", gap="   "),
                "",
                second,
                *text_table(("adjoint", "update", "numbers", "value"), adjoint, right=(3,), indent="  ", gap="   "),
            ]
        )

    def __repr__(self) -> str:
        return str(self)

    def markdown(self) -> str:
        primal, adjoint = self._cells()
        first, second = self._titles()
        return "\n".join(
            [
                f"**{first}**",
                "",
                *markdown_table(("variable", "definition", "value"), primal, right=(2,)),
                "",
                f"**{second}**",
                "",
                *markdown_table(("adjoint", "update", "numbers", "value"), adjoint, right=(3,)),
            ]
        )

    def _repr_html_(self) -> str:
        primal, adjoint = self._cells()
        first, second = self._titles()
        return (
            '<div class="micrograd-trace">'
            + html_table(("variable", "definition", "value"), primal, right=(2,), caption=first)
            + html_table(("adjoint", "update", "numbers", "value"), adjoint, right=(3,), caption=second)
            + "</div>"
        )


def trace_table(root: Value, precision: int = 6) -> TraceTable:
    """The evaluation trace of `root`'s graph (see the module notes); numbers to `precision`
    significant digits."""
    if not isinstance(root, Value):
        raise TypeError(f"trace_table takes the output Value of a graph, got {type(root).__name__}: {root!r:.60}")
    if isinstance(precision, bool) or not isinstance(precision, int) or not 1 <= precision <= 17:
        raise ValueError(f"trace_table: precision must be an int from 1 to 17, got {precision!r:.40}")
    tape = Tape.record(root)  # no inputs: every leaf is read from its .data, once
    tape.forward()
    values = tape.values()
    names = tape.names
    primal = [
        PrimalRow(names[s], "input", float(values[node]))
        for s, (node, kind) in enumerate(zip(tape.nodes, tape.kinds))
        if kind in ("parameter", "constant")
    ]

    def name(node: Value) -> str:
        return names[tape.slot_of[node]]

    primal += [
        PrimalRow(names[ins.out], definition(tape.nodes[ins.out], name), float(values[tape.nodes[ins.out]]))
        for ins in tape.instructions
    ]
    out = names[tape.slot_of[root]]
    adjoint = [AdjointRow(adjoint_name(out, out), out, "= 1", "", None, None, 1.0)]
    started = {out}
    for step in tape.adjoint_trace():
        ins = tape.instructions[step.k]
        target = names[ins.operands[step.pos]]  # type: ignore[index]
        owner = names[ins.out]
        which = ""
        if len(ins.operands) == 2 and ins.operands[0] == ins.operands[1]:
            which = (" (1st)", " (2nd)")[step.pos]
        sign = "+=" if target in started else "="
        started.add(target)
        assert step.total is not None  # recorded without inputs: one sample, so every term has a total
        adjoint.append(
            AdjointRow(
                adjoint_name(out, target),
                target,
                f"{sign} {partial_name(owner, target)}{which} × {adjoint_name(out, owner)}",
                f"{_number(float(step.local), precision)} × {_number(float(step.upstream), precision)}",
                float(step.local),
                float(step.upstream),
                float(step.total),
            )
        )
    return TraceTable(out, primal, adjoint, precision)
