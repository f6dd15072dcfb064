"""The words and numbers on a drawing: number formatting, op symbols, and label escaping.

Kept apart from the drawing code so that every number of a picture is written by one function
(`picture_number`), the command line's by its fixed-digit form (`format_number`), and the
escaping rules (which decide whether *any* label renders) live in one place.
"""

from __future__ import annotations

import math

from graphviz import nohtml

from micrograd import Value
from micrograd.engine.ops import OPS

from .tables import printable

# Characters of one label at most: a longer one is cut with "…". Graphviz lays out labels of
# any length, but a 64 KB name made a node larger than dot could handle and helps nobody read.
MAX_LABEL = 120

# Each op's symbol on its small op node, as its `Op` declares it; an op with a parameter adds it
# as the Op says: "^2", "LeakyReLU(0.1)" (see `op_symbol`).
OP_SYMBOLS: dict[str, str] = {name: op.symbol for name, op in OPS.items()}


def format_number(x: float, precision: int = 4) -> str:
    """`precision` digits after the point; scientific notation where fixed digits would lie.

    A small non-zero gradient such as 3e-07 must not print as "0.0000", and 1e+20 should not
    print as 21 digits, so values outside [10^-precision, 10^6) use the `e` form.
    """
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return f"{0.0:.{precision}f}"  # also -0.0: a sign on zero only confuses
    if 10.0**-precision <= abs(x) < 1e6:
        return f"{x:.{precision}f}"
    return f"{x:.{precision}e}"


MINUS = "\u2212"  # the true minus sign of the pictures: "−4", as wide as "+", not a hyphen


def picture_number(x: float, precision: int = 4) -> str:
    """A number on a drawing: `format_number`'s digits with the zeros that say nothing dropped,
    and the true minus sign: 2 (not 2.0000), −4, 0.5, 0.1235 at precision 4, 3e−7.

    Rounding stays at `precision` digits, so what is shown is exact at that precision and two
    different shown numbers are different at it; only trailing zeros (and a bare point) go.
    """
    text = format_number(x, precision)
    if not math.isfinite(x):
        return text.replace("-", MINUS)
    mantissa, e, exponent = text.partition("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    if e:
        exponent = str(int(exponent))  # e-07 -> -7
    text = mantissa + e + exponent
    return "0" if text in ("0", "-0") else text.replace("-", MINUS)


def short_number(x: float) -> str:
    """A parameter of an op (the 2 of `x**2`, the slope of LeakyReLU) as briefly as possible."""
    return f"{x:g}"


def op_symbol(node: Value) -> str:
    """The text of `node`'s op node: "×", "^2", "LeakyReLU(0.1)", ...; a user-defined op by the
    name its code gave it (micrograd's `_op`)."""
    op = OPS.get(node.op)
    if op is None:
        return node._op if node.user_op else node.op
    if op.parameter is not None and node.arg is not None:
        return op.parameter.drawn.format(symbol=op.symbol, value=short_number(node.arg))
    return op.symbol


def clip(text: str, limit: int = MAX_LABEL) -> str:
    """`text`, cut to `limit` characters with "…" when longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escape_shared(text: str) -> str:
    # Control characters (they would make the SVG invalid XML) and lone surrogates (no UTF-8
    # file can hold one) are shown as escapes by `printable`, as in every other view. Then
    # backslashes (the DOT quoting leaves them alone, and Graphviz reads them as escapes), then
    # `&` (Graphviz reads `&amp;`-style entities in every label). Quotes are escaped by the
    # graphviz package's quoting.
    return printable(clip(text), keep_newlines=True).replace("\\", "\\\\").replace("&", "&amp;")


def plain_label(text: str) -> str:
    """`text` as an ordinary Graphviz label (op, edge, cluster): it renders exactly as written."""
    return nohtml(_escape_shared(text).replace("\n", "\\n"))


_RECORD_SPECIAL = str.maketrans({c: "\\" + c for c in "{}|<>"})


def record_field(text: str) -> str:
    """`text` as one field of a record label, where `{ } | < >` would otherwise be structure."""
    return _escape_shared(text).translate(_RECORD_SPECIAL).replace("\n", "\\n")


def record_label(fields: list[str], horizontal_braces: bool) -> str:
    """Fields already escaped with `record_field`, joined into one record label.

    With rankdir LR the braces make the fields run left to right; with TB they are not needed.
    """
    body = " | ".join(fields)
    return nohtml("{ " + body + " }" if horizontal_braces else body)
