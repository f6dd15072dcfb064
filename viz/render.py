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

from .draw import draw
from .svg import inline_svg

__all__ = ["FORMATS", "GraphvizNotFoundError", "check_path", "inline_svg", "render", "save"]

FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot"}

INSTALL_GRAPHVIZ = (
    "Install Graphviz, which provides it: `sudo apt install graphviz` (Debian/Ubuntu), "
    "`brew install graphviz` (macOS) or `conda install -c conda-forge graphviz`; "
    "or save to a .dot file, which needs no Graphviz"
)


class GraphvizNotFoundError(RuntimeError):
    """Rendering needs the `dot` program of Graphviz, and it is not on PATH."""


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


def render(graph: graphviz.Digraph, fmt: str) -> bytes:
    """The drawing as the bytes of a file of format `fmt` ("svg", "png", "pdf" or "dot")."""
    if fmt == "dot":
        return graph.source.encode("utf-8")
    try:
        return graph.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFoundError(
            f"rendering to {fmt.upper()} needs Graphviz's `dot` program, which is not on PATH. " + INSTALL_GRAPHVIZ
        ) from None
    except graphviz.CalledProcessError as error:
        message = (error.stderr or b"").decode("utf-8", "replace").strip()
        raise RuntimeError(f"Graphviz could not render this drawing to {fmt.upper()}: {message}") from None


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
