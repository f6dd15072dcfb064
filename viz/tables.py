"""Small tables of text cells as plain text, Markdown and HTML: the nudge table and the trace
table print themselves through these, so both line up, escape and align the same way."""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Sequence

Row = Sequence[str]


def width(text: str) -> int:
    """Columns `text` takes on screen: a combining mark (the bar of v̄1) takes none."""
    return sum(1 for ch in text if not unicodedata.combining(ch))


def _pad(text: str, columns: int, right: bool) -> str:
    fill = " " * (columns - width(text))
    return fill + text if right else text + fill


def text_table(
    header: Row, rows: Sequence[Row], right: Sequence[int] = (), indent: str = "", gap: str = "  "
) -> list[str]:
    """The lines of a table with aligned columns; the columns in `right` are right-aligned."""
    widths = [max(width(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return [
        indent + gap.join(_pad(cell, w, i in right) for i, (cell, w) in enumerate(zip(row, widths))).rstrip()
        for row in [header, *rows]
    ]


def markdown_table(header: Row, rows: Sequence[Row], right: Sequence[int] = ()) -> list[str]:
    """The lines of a Markdown table (`|` and `\\` in a cell escaped)."""

    def line(cells: Row) -> str:
        return "| " + " | ".join(c.replace("\\", "\\\\").replace("|", "\\|") for c in cells) + " |"

    rule = "|" + "".join("---:|" if i in right else "---|" for i in range(len(header)))
    return [line(header), rule, *(line(row) for row in rows)]


def html_table(header: Row, rows: Sequence[Row], right: Sequence[int] = (), caption: str | None = None) -> str:
    """An HTML table with every cell escaped."""

    def cell(i: int, text: str) -> str:
        style = ' style="text-align:right"' if i in right else ""
        return f"<td{style}>{html.escape(text)}</td>"

    title = "" if caption is None else f"<caption>{html.escape(caption)}</caption>"
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(cell(i, c) for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table>{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
