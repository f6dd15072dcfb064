"""The evaluation trace of a graph, as in Baydin et al., "Automatic Differentiation in Machine
Learning: a Survey" (2018), Table 3: the forward primal trace, then the reverse adjoint trace.

    trace_table(J)              # in Jupyter: two HTML tables; print() gives plain text
    trace_table(J).markdown()   # for notes and READMEs

The rows are the lines of the graph's tape (`micrograd.tape.Tape`), the same program that
`print(tape)` shows as Python, so the table and the code name and order everything alike:
- Variables are named by `micrograd.names.node_names`: a node's label where it has one, else
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

import html
import unicodedata
from dataclasses import dataclass

from micrograd import Value
from micrograd.tape import Tape

__all__ = ["AdjointRow", "PrimalRow", "TraceTable", "trace_table"]


@dataclass(frozen=True)
class PrimalRow:
    """One variable of the forward trace: `name = definition = value`."""

    name: str
    definition: str  # "input", or the instruction: "w * x", "tanh(v3)"
    value: float


@dataclass(frozen=True)
class AdjointRow:
    """One line of the reverse trace: `adjoint (=|+=) local × upstream`, and the adjoint after it."""

    adjoint: str  # "w̄"
    node: str  # the node it belongs to: "w"
    update: str  # "= ∂c/∂w × c̄", or "= 1" for the output
    numbers: str  # "-2 × 2" (empty for the output)
    local: float | None  # ∂c/∂w (None for the output's row)
    upstream: float | None  # c̄
    value: float  # the adjoint after this line


def bar(name: str) -> str:
    """The adjoint's name: a bar on the first character ("w" -> "w̄", "v3" -> "v̄3"), in Unicode's
    composed form (NFC), so "ā" is the one character a keyboard or a search would give."""
    return unicodedata.normalize("NFC", name[:1] + "\u0304" + name[1:])


def _number(x: float, precision: int) -> str:
    text = f"{x:.{precision}g}"
    return "0" if text == "-0" else text


def _width(text: str) -> int:
    """Columns `text` takes on screen: a combining bar takes none."""
    return sum(1 for ch in text if not unicodedata.combining(ch))


def _pad(text: str, width: int, right: bool = False) -> str:
    fill = " " * (width - _width(text))
    return fill + text if right else text + fill


class TraceTable:
    """The two traces of one graph: `primal` and `adjoint` rows; `str`, `.markdown()`, HTML."""

    def __init__(self, output: str, primal: list[PrimalRow], adjoint: list[AdjointRow], precision: int) -> None:
        self.output = output  # the output's name: J in ū = ∂J/∂u
        self.primal = primal
        self.adjoint = adjoint
        self.precision = precision

    def _cells(self) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
        p = self.precision
        primal = [(row.name, row.definition, _number(row.value, p)) for row in self.primal]
        adjoint = [(row.adjoint, row.update, row.numbers, _number(row.value, p)) for row in self.adjoint]
        return primal, adjoint

    def _titles(self) -> tuple[str, str]:
        return "Forward primal trace", f"Reverse adjoint trace (ū = ∂{self.output}/∂u)"

    def __str__(self) -> str:
        primal, adjoint = self._cells()
        first, second = self._titles()
        return "\n".join(
            [first, *_text_table(("variable", "definition", "value"), primal, right=(2,)), "",
             second, *_text_table(("adjoint", "update", "numbers", "value"), adjoint, right=(3,))]
        )

    def __repr__(self) -> str:
        return str(self)

    def markdown(self) -> str:
        primal, adjoint = self._cells()
        first, second = self._titles()
        return "\n".join(
            [f"**{first}**", "", *_markdown_table(("variable", "definition", "value"), primal), "",
             f"**{second}**", "", *_markdown_table(("adjoint", "update", "numbers", "value"), adjoint)]
        )

    def _repr_html_(self) -> str:
        primal, adjoint = self._cells()
        first, second = self._titles()
        return (
            '<div class="micrograd-trace">'
            + _html_table(first, ("variable", "definition", "value"), primal)
            + _html_table(second, ("adjoint", "update", "numbers", "value"), adjoint)
            + "</div>"
        )


def _text_table(header: tuple[str, ...], rows: list[tuple[str, ...]], right: tuple[int, ...]) -> list[str]:
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return [
        "  " + "   ".join(_pad(cell, w, i in right) for i, (cell, w) in enumerate(zip(r, widths))).rstrip()
        for r in [header, *rows]
    ]


def _markdown_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.replace("\\", "\\\\").replace("|", "\\|") for c in cells) + " |"

    return [line(header), "|" + "---|" * (len(header) - 1) + "---:|", *(line(r) for r in rows)]


def _html_table(title: str, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(
            f'<td style="text-align:{"right" if i == len(r) - 1 else "left"}">{html.escape(c)}</td>'
            for i, c in enumerate(r)
        ) + "</tr>"
        for r in rows
    )
    return f"<table><caption>{html.escape(title)}</caption><tr>{head}</tr>{body}</table>"


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
    primal += [
        PrimalRow(names[ins.out], tape.expression(k, names), float(values[tape.nodes[ins.out]]))
        for k, ins in enumerate(tape.instructions)
    ]
    out = names[tape.slot_of[root]]
    adjoint = [AdjointRow(bar(out), out, "= 1", "", None, None, 1.0)]
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
        adjoint.append(
            AdjointRow(
                bar(target),
                target,
                f"{sign} ∂{owner}/∂{target}{which} × {bar(owner)}",
                f"{_number(float(step.local), precision)} × {_number(float(step.upstream), precision)}",
                float(step.local),
                float(step.upstream),
                float(step.total),
            )
        )
    return TraceTable(out, primal, adjoint, precision)
