"""The two colourings of a drawing and their legends.

`color="grad"` uses a fixed scale, not one stretched to each graph, so the same colour means the
same gradient in every drawing a learner compares. `color="role"` tells apart what a model learns
(parameters), what it is given (inputs), plain numbers (constants) and what it computes.
"""

from __future__ import annotations

import math

from micrograd import Constant, Parameter, Value

# ColorBrewer RdBu: blue for negative gradients, red for positive, darker for larger.
# Each row: |grad| below this bound (and at least the previous one) gets these fills and legend.
GRAD_SCALE: tuple[tuple[float, str, str, str, str], ...] = (
    (0.01, "#d1e5f0", "#fddbc7", "−0.01 to 0", "0 to 0.01"),
    (0.1, "#92c5de", "#f4a582", "−0.1 to −0.01", "0.01 to 0.1"),
    (1.0, "#4393c3", "#d6604d", "−1 to −0.1", "0.1 to 1"),
    (math.inf, "#2166ac", "#b2182b", "≤ −1", "≥ 1"),
)
GRAD_ZERO = "#f7f7f7"
GRAD_NAN = "#ffff99"
_DARK = {"#2166ac", "#b2182b"}  # fills that need white text

ROLE_COLORS: dict[str, str] = {
    "parameter": "#fdd49e",
    "input": "#c6dbef",
    "constant": "#e0e0e0",
    "intermediate": "#ffffff",
}
GROUP_COLOR = "#eef1f6"
HIGHLIGHT = "#e66101"
WRONG = "#c00000"  # an edge gradcheck found wrong (draw(mark_edge=...))


def grad_color(grad: float) -> str:
    """The fill of a box whose gradient is `grad`."""
    if math.isnan(grad):
        return GRAD_NAN
    if grad == 0:
        return GRAD_ZERO
    size = abs(grad)
    # the first row whose bound is above |grad|; an infinite gradient keeps the last, darkest row
    _, negative, positive, _, _ = next((row for row in GRAD_SCALE if size < row[0]), GRAD_SCALE[-1])
    return negative if grad < 0 else positive


def text_color(fill: str) -> str:
    return "white" if fill in _DARK else "black"


def role(node: Value) -> str:
    """parameter, input, constant or intermediate."""
    if isinstance(node, Constant):
        return "constant"
    if node.children:
        return "intermediate"
    return "parameter" if isinstance(node, Parameter) else "input"


def _cell(fill: str, text: str) -> str:
    return f'<td bgcolor="{fill}"><font color="{text_color(fill)}">{text}</font></td>'


def grad_legend(with_nan: bool) -> str:
    """An HTML-like Graphviz label: the gradient scale, from most negative to most positive."""
    cells = [_cell(negative, text) for _, negative, _, text, _ in reversed(GRAD_SCALE)]
    cells.append(_cell(GRAD_ZERO, "0"))
    cells += [_cell(positive, text) for _, _, positive, _, text in GRAD_SCALE]
    if with_nan:
        cells.append(_cell(GRAD_NAN, "nan"))
    return _table("gradient", cells)


def role_legend() -> str:
    """An HTML-like Graphviz label naming the fill of each role."""
    return _table("role", [_cell(fill, name) for name, fill in ROLE_COLORS.items()])


def _table(title: str, cells: list[str]) -> str:
    return (
        '<<table border="0" cellborder="1" cellspacing="0" cellpadding="4">'
        f'<tr><td border="0">{title}</td>{"".join(cells)}</tr></table>>'
    )
