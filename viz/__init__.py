"""Draw micrograd graphs: `draw(J)` gives a graphviz.Digraph (inline SVG in Jupyter),
`save(J, "J.svg")` writes .svg/.png/.pdf/.dot, and `micrograd-viz` does both from a formula.

Step through backprop: `steps(J)` (one frame per node, with its chain-rule equation),
`nudge(J, w)` (the change of J when w moves, beside ∂J/∂w × step), `trace_table(J)` (the
forward and adjoint evaluation traces) and `export_html(J, path)` (the frames as one
self-contained web page).

See a model as the slides draw it: `draw_network(model, x, target)` (neurons as circles in
columns, every weight an edge, each neuron's net input, output and gradient).

Watch training: `plot_landscape(...)` (a loss landscape, with the paths optimizers took) and
`animate_training(model, X, y)` (the decision boundary and loss curve as training runs)."""

from .activations import plot_activations
from .animation import animate_training
from .draw import draw
from .gradient_flow import plot_gradient_flow
from .html import export_html
from .landscape import plot_landscape
from .lecture import draw_dot
from .network import draw_network
from .nudge import nudge
from .plots import plot_decision_boundary, plot_digits, plot_history
from .render import GraphvizNotFoundError, save
from .steps import steps
from .trace_table import trace_table

__all__ = [
    "GraphvizNotFoundError",
    "animate_training",
    "draw",
    "draw_dot",
    "draw_network",
    "export_html",
    "nudge",
    "plot_activations",
    "plot_decision_boundary",
    "plot_digits",
    "plot_gradient_flow",
    "plot_history",
    "plot_landscape",
    "save",
    "steps",
    "trace_table",
]
