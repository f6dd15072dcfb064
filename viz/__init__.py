"""Draw micrograd graphs: `draw(J)` gives a graphviz.Digraph (inline SVG in Jupyter),
`save(J, "J.svg")` writes .svg/.png/.pdf/.dot, and `micrograd-viz` does both from a formula."""

from .draw import draw
from .plots import plot_decision_boundary, plot_history
from .render import GraphvizNotFoundError, save

__all__ = ["GraphvizNotFoundError", "draw", "plot_decision_boundary", "plot_history", "save"]
