"""Small tables of text cells as plain text, Markdown and HTML: the nudge table and the trace
table print themselves through these, so both line up, escape and align the same way.

`printable` is the one rule for user text (labels, names) that reaches a terminal, a page or a
drawing: control characters (NUL, ESC, newlines in a cell) and lone surrogates are shown as
escapes such as `\\x1b`, never passed on raw."""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Sequence

Row = Sequence[str]


_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(ch: str) -> str:
    if ch in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, keep_newlines: bool = False) -> str:
    """`text` with every control character (category Cc: NUL, ESC, DEL, newline unless kept...)
    and every lone surrogate (which no UTF-8 file or terminal can take) written as a visible
    escape: "a\\x1b[2J" is shown as `a\\x1b[2J`, never clearing a screen."""
    if text.isprintable() and not any("\ud800" <= ch <= "\udfff" for ch in text):
        return text  # the common case, fast
    return "".join(
        ch if (ch == "\n" and keep_newlines) or unicodedata.category(ch) not in ("Cc", "Cs") else _escape_char(ch)
        for ch in text
    )


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
    table = [[printable(cell) for cell in row] for row in [header, *rows]]
    widths = [max(width(row[i]) for row in table) for i in range(len(header))]
    return [
        indent + gap.join(_pad(cell, w, i in right) for i, (cell, w) in enumerate(zip(row, widths))).rstrip()
        for row in table
    ]


_MARKDOWN = str.maketrans({"\\": "\\\\", "|": "\\|", "&": "&amp;", "<": "&lt;", ">": "&gt;"})


def markdown_cell(text: str) -> str:
    """`text` as one cell of a Markdown table: printable (a newline would end the row), `|` and
    `\\` escaped, and `< > &` as entities, so `<script>` in a name stays text."""
    return printable(text).translate(_MARKDOWN)


def markdown_table(header: Row, rows: Sequence[Row], right: Sequence[int] = ()) -> list[str]:
    """The lines of a Markdown table, every cell through `markdown_cell`."""

    def line(cells: Row) -> str:
        return "| " + " | ".join(markdown_cell(c) for c in cells) + " |"

    rule = "|" + "".join("---:|" if i in right else "---|" for i in range(len(header)))
    return [line(header), rule, *(line(row) for row in rows)]


def html_table(header: Row, rows: Sequence[Row], right: Sequence[int] = (), caption: str | None = None) -> str:
    """An HTML table with every cell escaped."""

    def cell(i: int, text: str) -> str:
        style = ' style="text-align:right"' if i in right else ""
        return f"<td{style}>{html.escape(printable(text))}</td>"

    title = "" if caption is None else f"<caption>{html.escape(printable(caption))}</caption>"
    head = "".join(f"<th>{html.escape(printable(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(cell(i, c) for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table>{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
