"""Save a drawing to a file: the format comes from the suffix, the write is atomic.

Rendering needs Graphviz's `dot` program; drawing does not, so without it `draw()` still gives
the DOT source and `.dot` files can still be saved.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import graphviz

from micrograd import Value
from micrograd.files import write_atomic

from . import dot
from .dot import GraphvizNotFoundError
from .draw import check_drawable, draw
from .svg import inline_svg

__all__ = [
    "FORMATS",
    "MAX_PAGE_BYTES",
    "GraphvizNotFoundError",
    "check_page",
    "check_path",
    "inline_svg",
    "render",
    "save",
]

FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot"}

# A page of frames (export_html) holds one drawing per frame: its size is frames × drawing. The
# estimate counts SVG bytes per drawn node and edge (about 350 measured, labels included) and
# the equations; the page is refused before the first frame is laid out when it would be larger.
MAX_PAGE_BYTES = 40_000_000
SVG_BYTES_PER_ITEM = 400


def check_path(
    path: str | os.PathLike,
    suffixes: Sequence[str] = tuple(FORMATS),
    what: str = "cannot save",
    hint: str | None = None,
) -> Path:
    """The output path, if its suffix is one of `suffixes` and its folder exists; else a ValueError
    or FileNotFoundError saying which, starting with `what`. (The command line checks this before
    any work.)"""
    path = Path(path)
    if path.suffix.lower() not in suffixes:
        shown = f"suffix {path.suffix!r}" if path.suffix else "no suffix"
        raise ValueError(f"{what} {str(path)!r}: it has {shown}; {hint or 'use one of ' + ', '.join(suffixes)}")
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"{what} {str(path)!r}: the folder {str(folder)!r} does not exist")
    if path.is_dir():
        raise IsADirectoryError(f"{what} {str(path)!r}: it is a folder")
    return path


def render(graph: graphviz.Digraph, fmt: str, timeout: float | None = None) -> bytes:
    """The drawing as the bytes of a file of format `fmt` ("svg", "png", "pdf" or "dot").

    `dot` runs as a child process for at most `timeout` seconds (`viz.dot.DOT_TIMEOUT` by
    default); on a timeout, an error or an interrupt (Ctrl-C) it is killed and waited for.
    """
    if fmt == "dot":
        return graph.source.encode("utf-8")
    if fmt not in FORMATS.values():
        raise ValueError(f"render: format {fmt!r:.20} is not one of {', '.join(FORMATS.values())}")
    return dot.run_dot(graph.source.encode("utf-8"), fmt, dot.DOT_TIMEOUT if timeout is None else timeout)


def check_page(frames: Any, max_frames: int) -> int:
    """Refuse (ValueError, saying what to do) a page of `frames` (from `steps()`) that would take
    long to lay out or be too large: more than `max_frames` frames, a drawing too large for one
    (`draw`'s limits), or more than MAX_PAGE_BYTES in all. Returns the estimated size in bytes.
    Nothing is drawn: the graph is counted and the equations measured."""
    count = len(frames)
    what = "draw a smaller graph (one neuron, or a loss on one sample)"
    if count > max_frames:
        raise ValueError(
            f"export_html: this graph has {count} steps, more than {max_frames}, and each is a drawing of "
            f"the whole graph: {what}"
        )
    size = check_drawable(frames.root)
    estimate = count * (size.nodes + size.edges) * SVG_BYTES_PER_ITEM + sum(len(f.equation) for f in frames) * 2
    if estimate > MAX_PAGE_BYTES:
        raise ValueError(
            f"export_html: this page would be about {estimate / 1e6:.0f} MB ({count} drawings of {size.nodes} "
            f"nodes and {size.edges} edges each), more than {MAX_PAGE_BYTES / 1e6:.0f} MB: {what}"
        )
    return estimate


def save(graph: Value | graphviz.Digraph, path: str | os.PathLike, **options: Any) -> Path:
    """Write the drawing of `graph` (a Value, drawn with `draw(graph, **options)`, or a
    drawing already made by `draw`) to `path`: .svg, .png, .pdf or .dot. Returns the path.

    The file is written to a temporary file in the same folder and then renamed, so it is
    either the whole new drawing or untouched, never half written.
    """
    path = check_path(path)
    if isinstance(graph, Value):
        graph = draw(graph, **options)
    elif not isinstance(graph, graphviz.Digraph):
        raise TypeError(f"save() needs a Value or a drawing from draw(), got {type(graph).__name__}")
    elif options:
        raise TypeError(f"save(): drawing options ({', '.join(options)}) apply to a Value; pass them to draw()")
    data = render(graph, FORMATS[path.suffix.lower()])
    write_atomic(path, data)
    return path
