"""The name Karpathy's lecture gives the drawing: `draw_dot(root, format="svg", rankdir="LR")`.

Code written for micrograd calls `draw_dot`; here it is `viz.draw` with micrograd's arguments, so
the lecture's notebooks draw the same graphs in this project's style.
"""

from __future__ import annotations

from typing import Any

from micrograd import Value

from .draw import Drawing, draw

__all__ = ["draw_dot"]


def draw_dot(root: Value, format: str = "svg", rankdir: str = "LR", **options: Any) -> Drawing:
    """`draw(root, rankdir=rankdir, **options)`, its output format set to `format` (as micrograd's
    `draw_dot` returns a `graphviz.Digraph` whose `.render()` writes that format)."""
    if format not in ("svg", "png", "pdf", "dot"):
        raise ValueError(f"draw_dot(format={format!r:.40}): choose 'svg', 'png', 'pdf' or 'dot'")
    graph = draw(root, rankdir=rankdir, **options)
    graph.format = format
    return graph
