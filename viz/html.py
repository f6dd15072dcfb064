"""`export_html(J, "backprop.html")`: the step-through frames as one self-contained web page.

The page is a single file a teacher can mail or put on a course site: every frame's SVG is inline,
the only script and style sit in the page (allowed by their hashes in a Content-Security-Policy
of `default-src 'none'`), and nothing is fetched, so it opens from disk in any browser, offline.
Every text that comes from the user (labels, hence names and equations) is escaped, and the
same graph always gives the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import html
import os
from pathlib import Path

from micrograd import Value
from micrograd.files import write_atomic

from . import render
from .steps import Steps, steps
from .svg import Fit, fit, inline_svg
from .tables import printable

__all__ = ["MAX_FRAMES", "export_html", "page"]

MAX_FRAMES = 300  # each frame is one run of `dot`; a page of more would take minutes to write
SUFFIXES = (".html", ".htm")

_STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 1.5em; color: #212121; }
h1 { font-size: 1.3em; font-weight: normal; }
nav { display: flex; align-items: center; gap: 1em; margin: 0.5em 0; }
button { font-size: 1em; padding: 0.3em 0.9em; }
#counter { font-variant-numeric: tabular-nums; min-width: 5em; text-align: center; }
.picture { overflow-x: auto; }
.equation { font-family: Menlo, Consolas, monospace; font-size: 1.15em; margin: 0.6em 0; }
.hint { color: #757575; font-size: 0.9em; }
"""

_SCRIPT = """
(function () {
  "use strict";
  var frames = document.querySelectorAll(".frame");
  var counter = document.getElementById("counter");
  var previous = document.getElementById("previous");
  var next = document.getElementById("next");
  var current = 0;
  function show(k) {
    if (k < 0 || k >= frames.length) { return; }
    frames[current].hidden = true;
    frames[k].hidden = false;
    current = k;
    counter.textContent = (k + 1) + " / " + frames.length;
    previous.disabled = k === 0;
    next.disabled = k === frames.length - 1;
  }
  previous.addEventListener("click", function () { show(current - 1); });
  next.addEventListener("click", function () { show(current + 1); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "ArrowLeft") { show(current - 1); }
    else if (event.key === "ArrowRight") { show(current + 1); }
  });
  show(0);
}());
"""


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def style(frames: Steps) -> str:
    """The page's style: `_STYLE`, and the size rule of `viz.svg` for its pictures (one rule for
    all, from the widest frame and the smallest text: the frames differ by a blank at most).
    A rule in the style block, not style attributes, which the policy would block."""
    fits = [fit(frame.svg()) for frame in frames]
    rule = Fit(max(f.natural_px for f in fits), min(f.smallest_text_px for f in fits), max(f.min_px for f in fits))
    return _STYLE + f".picture svg {{ {rule.css()}; }}\n"


def content_security_policy(style_text: str) -> str:
    """Nothing may be loaded: no scripts, styles, fonts, images or connections but the two inline blocks."""
    return f"default-src 'none'; script-src {_csp_hash(_SCRIPT)}; style-src {_csp_hash(style_text)}"


def page(frames: Steps) -> str:
    """The HTML page of `frames`: a title, Prev/Next, a counter, and each frame (picture above
    its equation), all hidden but the first; the script shows one at a time."""
    count = len(frames)
    title = printable(f"Backprop step by step: {frames.names[frames.root]}")
    sections = []
    for frame in frames:
        hidden = "" if frame.index == 0 else " hidden"
        sections.append(
            f'<section class="frame" data-step="{frame.index + 1}"{hidden}>\n'
            f'<div class="picture">{inline_svg(frame.svg())}</div>\n'
            f'<p class="equation">{html.escape(printable(frame.equation))}</p>\n'
            "</section>"
        )
    body = "\n".join(sections)
    style_text = style(frames)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{content_security_policy(style_text)}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        f"<style>{style_text}</style>\n"
        "</head>\n<body>\n<main>\n"
        f"<h1>{html.escape(title)}</h1>\n"
        '<nav><button type="button" id="previous">◀ Prev</button>'
        f'<span id="counter">1 / {count}</span>'
        '<button type="button" id="next">Next ▶</button>'
        '<span class="hint">or the ← → keys</span></nav>\n'
        f"{body}\n"
        "</main>\n"
        f"<script>{_SCRIPT}</script>\n"
        "</body>\n</html>\n"
    )


def export_html(root: Value | Steps, path: str | os.PathLike) -> Path:
    """Write the step-through page of `root` (a Value, or frames from `steps()` to keep their
    drawing options) to `path` (.html), atomically. Returns the path.

    A graph of more than MAX_FRAMES steps is refused: each frame is laid out by Graphviz.
    """
    path = check_path(path)
    if isinstance(root, Value):
        root = steps(root)
    elif not isinstance(root, Steps):
        raise TypeError(f"export_html() needs a Value (the output of a graph) or steps(...), got {type(root).__name__}")
    render.check_page(root, MAX_FRAMES)  # the frames, drawing and page size, before any drawing
    if len(root) > MAX_FRAMES:
        raise ValueError(
            f"export_html: this graph has {len(root)} steps, more than {MAX_FRAMES}, and each is a drawing of "
            "the whole graph; export a smaller graph (one neuron, or a loss on one sample)"
        )
    write_atomic(path, page(root).encode("utf-8"))
    return path


def check_path(path: str | os.PathLike) -> Path:
    """The page's path, checked as `save` checks a drawing's (suffix .html or .htm, folder exists)."""
    return render.check_path(path, SUFFIXES, "export_html: cannot write", "use .html")
