"""`export_html(J, "backprop.html")`: the step-through frames as one self-contained web page.

The page is a single file a teacher can mail or put on a course site: every frame's SVG is inline,
the only script and style sit in the page (allowed by their hashes in a Content-Security-Policy
of `default-src 'none'`), and nothing is fetched, so it opens from disk in any browser, offline.
Every text that comes from the user (labels, hence names and equations) is escaped, and the
same graph always gives the same bytes.

Its layout, for a projector as much as a laptop: the title says what is computed (the formula
written out in the inputs, and their values); under it the controls, the counter with a mark per
frame coloured by phase, then the current frame's phase, equation and legend, and the picture,
which the script sizes to the room left on the screen (never so small its text is unreadable,
then it scrolls). Its size is kept in CSS pixels when the browser zooms, so zooming enlarges
the picture with the text. ← → step, Home and End jump to the first and last frame.

With `exercise=True` each frame with a number to find asks for it first: the picture shows the
number blank and the equation stops at "= ?"; the page checks the answer (relative error at most
1e-3, as `viz.steps.check_answer`), says right or wrong, gives the chain-rule hint of that frame
after a wrong one, and shows the worked equation when answered or revealed.
"""

from __future__ import annotations

import base64
import hashlib
import html
import os
import xml.etree.ElementTree as ET
from pathlib import Path

from micrograd import Constant, Value
from micrograd.files import write_atomic

from . import render
from .op_formulas import formula, number
from .steps import PHASES, TOLERANCE, Frame, Steps, steps
from .svg import fit, inline_svg
from .tables import printable

__all__ = ["MAX_FRAMES", "export_html", "page", "title"]

MAX_FRAMES = 300  # each frame is one run of `dot`; a page of more would take minutes to write
MAX_INPUTS_IN_TITLE = 8
SUFFIXES = (".html", ".htm")
MAX_ZOOM = 2.0  # the script enlarges a small picture to fill the screen, but at most this much

_STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 0.8em 1.2em; color: #212121; }
h1 { font-size: 1.25em; font-weight: normal; margin: 0 0 0.4em 0; }
h1 .formula { font-weight: bold; }
nav { display: flex; flex-wrap: wrap; align-items: center; gap: 0.8em; margin: 0.3em 0; }
button { font-size: 1em; padding: 0.25em 0.9em; }
#counter { font-variant-numeric: tabular-nums; min-width: 9em; text-align: center; }
#track { display: flex; gap: 2px; list-style: none; margin: 0; padding: 0; align-items: flex-end; }
#track li { width: 0.7em; height: 0.7em; border-radius: 2px; cursor: pointer; }
#track li.now { height: 1.2em; outline: 2px solid #212121; }
.forward { background: #fdb863; }
.backward { background: #b2abd2; }
.update { background: #a6dba0; }
.phases { display: flex; gap: 1em; font-size: 0.9em; }
.phases span::before { content: ""; display: inline-block; width: 0.8em; height: 0.8em; margin-right: 0.3em; }
.phases .forward, .phases .backward, .phases .update { background: none; }
.phases .forward::before { background: #fdb863; }
.phases .backward::before { background: #b2abd2; }
.phases .update::before { background: #a6dba0; }
.keys { color: #757575; font-size: 0.9em; }
.head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0.8em; margin: 0.4em 0; }
.phase { font-weight: bold; text-transform: uppercase; font-size: 0.85em; padding: 0.1em 0.5em; border-radius: 3px; }
.equation, .question { font-size: 1.3em; margin: 0; white-space: pre-wrap; }
.legend { display: flex; flex-wrap: wrap; gap: 1.2em; list-style: none; margin: 0.3em 0; padding: 0; font-size: 0.9em; }
.legend li::before { content: ""; display: inline-block; width: 1.4em; height: 0.9em; margin-right: 0.4em;
  vertical-align: middle; box-sizing: border-box; }
.legend .current::before { background: #fee0b6; border: 2px solid #e66101; }
.legend .used::before { background: #d1e5f0; border: 2px solid #2166ac; }
.legend .edge::before { height: 0; border-top: 4px solid #5e3c99; }
.exercise { display: flex; flex-wrap: wrap; align-items: center; gap: 0.6em; margin: 0.3em 0; }
.exercise input { font-size: 1.1em; width: 8em; }
.feedback.right { color: #1b7837; font-weight: bold; }
.feedback.wrong { color: #b2182b; font-weight: bold; }
.hint { color: #5e3c99; }
.note { font-size: 0.8em; font-style: italic; }
.picture { overflow: auto; }
.picture svg { display: block; height: auto; }
"""

_SCRIPT_TEMPLATE = """
(function () {
  "use strict";
  var TOLERANCE = %(tolerance)s, MAX_ZOOM = %(max_zoom)s;
  var frames = document.querySelectorAll(".frame");
  var counter = document.getElementById("counter");
  var marks = document.querySelectorAll("#track li");
  var previous = document.getElementById("previous");
  var next = document.getElementById("next");
  var loadRatio = window.devicePixelRatio || 1;
  var current = 0;
  function pictureOf(frame) {
    var pictures = frame.querySelectorAll(".picture");
    for (var i = 0; i < pictures.length; i++) { if (!pictures[i].hidden) { return pictures[i]; } }
    return null;
  }
  // The picture fills the width it has and the height left on the screen, measured in the CSS
  // pixels of the zoom the page was opened at, so zooming in enlarges it with the text.
  function fit() {
    var box = pictureOf(frames[current]);
    if (!box) { return; }
    var svg = box.querySelector("svg");
    var zoom = (window.devicePixelRatio || 1) / loadRatio;
    var natural = parseFloat(box.getAttribute("data-natural"));
    var least = parseFloat(box.getAttribute("data-min"));
    var ratio = parseFloat(box.getAttribute("data-ratio"));
    var top = box.getBoundingClientRect().top + window.scrollY;
    var room = Math.max(box.clientWidth * zoom, 1);
    var tall = Math.max((window.innerHeight - top - 12) * zoom, 1);
    var width = Math.min(room, tall * ratio, natural * MAX_ZOOM);
    svg.style.width = Math.max(width, least) + "px";
  }
  function show(k) {
    if (k < 0 || k >= frames.length) { return; }
    frames[current].hidden = true;
    marks[current].classList.remove("now");
    frames[k].hidden = false;
    marks[k].classList.add("now");
    current = k;
    counter.textContent = (k + 1) + " / " + frames.length + " \\u00b7 " + frames[k].getAttribute("data-phase");
    previous.disabled = k === 0;
    next.disabled = k === frames.length - 1;
    fit();
  }
  function reveal(frame, verdict) {
    var exercise = frame.querySelector(".exercise");
    frame.querySelector(".question").hidden = true;
    frame.querySelector(".equation").hidden = false;
    var pictures = frame.querySelectorAll(".picture");
    pictures[0].hidden = true;
    pictures[1].hidden = false;
    exercise.querySelector("input").disabled = true;
    exercise.querySelector(".check").disabled = true;
    exercise.querySelector(".reveal").disabled = true;
    if (verdict) { frame.querySelector(".feedback").textContent = verdict; }
    fit();
  }
  function check(frame) {
    var exercise = frame.querySelector(".exercise");
    var feedback = frame.querySelector(".feedback");
    var text = exercise.querySelector("input").value.trim().replace("\\u2212", "-").replace(",", ".");
    var given = Number(text), expected = Number(exercise.getAttribute("data-answer"));
    feedback.className = "feedback";
    if (text === "" || isNaN(given)) {
      feedback.textContent = "Type a number, such as -4 or 0.5.";
      return;
    }
    if (given === expected || Math.abs(given - expected) <= TOLERANCE * Math.abs(expected)) {
      feedback.classList.add("right");
      frame.querySelector(".hint").hidden = true;
      reveal(frame, "Right!");
    } else {
      feedback.classList.add("wrong");
      feedback.textContent = "Not quite.";
      frame.querySelector(".hint").hidden = false;
    }
  }
  Array.prototype.forEach.call(frames, function (frame) {
    var exercise = frame.querySelector(".exercise");
    if (!exercise) { return; }
    exercise.querySelector(".check").addEventListener("click", function () { check(frame); });
    exercise.querySelector(".reveal").addEventListener("click", function () { reveal(frame, ""); });
    exercise.querySelector("input").addEventListener("keydown", function (event) {
      if (event.key === "Enter") { check(frame); }
    });
  });
  Array.prototype.forEach.call(marks, function (mark, k) {
    mark.addEventListener("click", function () { show(k); });
  });
  previous.addEventListener("click", function () { show(current - 1); });
  next.addEventListener("click", function () { show(current + 1); });
  document.addEventListener("keydown", function (event) {
    if (event.target && event.target.tagName === "INPUT") { return; }
    if (event.key === "ArrowLeft") { show(current - 1); }
    else if (event.key === "ArrowRight") { show(current + 1); }
    else if (event.key === "Home") { show(0); event.preventDefault(); }
    else if (event.key === "End") { show(frames.length - 1); event.preventDefault(); }
  });
  window.addEventListener("resize", fit);
  show(0);
}());
"""

_SCRIPT = _SCRIPT_TEMPLATE % {"tolerance": repr(TOLERANCE), "max_zoom": repr(MAX_ZOOM)}


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def content_security_policy(style_text: str) -> str:
    """Nothing may be loaded: no scripts, styles, fonts, images or connections but the two inline blocks."""
    return f"default-src 'none'; script-src {_csp_hash(_SCRIPT)}; style-src {_csp_hash(style_text)}"


def title(frames: Steps) -> str:
    """What the page computes: "J = (w × x + b − y)² / 2 at w = 2, x = −2, b = 8, y = 2"; the
    formula is left out when it would be too long to read, the inputs after the first few."""
    names = frames.names
    out = names[frames.root]
    written = formula(frames.root, names.__getitem__)
    leaves = [node for node in frames.order if not node.children and not isinstance(node, Constant)]
    shown = ", ".join(f"{names[leaf]} = {number(leaf.data)}" for leaf in leaves[:MAX_INPUTS_IN_TITLE])
    if len(leaves) > MAX_INPUTS_IN_TITLE:
        shown += f" and {len(leaves) - MAX_INPUTS_IN_TITLE} more"
    what = out if written is None or written == out else f"{out} = {written}"
    return f"{what} at {shown}" if shown and frames.root.children else what


def _legend(frame: Frame) -> str:
    items = "".join(f'<li class="{mark}">{html.escape(text)}</li>' for mark, text in frame.legend)
    return f'<ul class="legend">{items}</ul>'


def _picture(svg: str, hidden: bool) -> str:
    sizes = fit(svg)
    ratio = _ratio(svg)
    return (
        f'<div class="picture" data-natural="{sizes.natural_px:.0f}" data-min="{sizes.min_px:.0f}" '
        f'data-ratio="{ratio:.4f}"{" hidden" if hidden else ""}>{inline_svg(svg)}</div>'
    )


def _ratio(svg: str) -> float:
    box = (ET.fromstring(svg).get("viewBox") or "0 0 1 1").split()
    width, height = float(box[2]), float(box[3])
    return width / height if height > 0 else 1.0


def _section(frame: Frame, exercise: bool) -> str:
    hidden = "" if frame.index == 0 else " hidden"
    asks = exercise and frame.answer is not None and frame.question is not None
    # A note (a step passes no gradient back) shows with the worked equation.
    note = f'<br><span class="note">Note: {html.escape(printable(frame.note))}</span>' if frame.note else ""
    head = (
        f'<div class="head"><span class="phase {frame.phase}">{frame.phase}</span>'
        f'<p class="equation"{" hidden" if asks else ""}>{html.escape(printable(frame.equation))}{note}</p>'
    )
    parts = [f'<section class="frame" data-step="{frame.index + 1}" data-phase="{frame.phase}"{hidden}>']
    if asks:
        head += f'<p class="question">{html.escape(printable(frame.question or ""))}</p>'
    parts.append(head + "</div>")
    if asks:
        parts.append(
            f'<div class="exercise" data-answer="{frame.answer!r}">'
            '<input type="text" inputmode="decimal" autocomplete="off" aria-label="your answer" placeholder="your number">'
            '<button type="button" class="check">Check</button>'
            '<button type="button" class="reveal">Reveal</button>'
            '<span class="feedback" aria-live="polite"></span>'
            f'<span class="hint" hidden>Hint: {html.escape(printable(frame.hint))}</span></div>'
        )
    parts.append(_legend(frame))
    if asks:
        parts.append(_picture(frame.render_svg(legend=False, hide_answer=True), hidden=False))
        parts.append(_picture(frame.render_svg(legend=False), hidden=True))
    else:
        parts.append(_picture(frame.render_svg(legend=False), hidden=False))
    parts.append("</section>")
    return "\n".join(parts)


def _track(frames: Steps) -> str:
    marks = "".join(
        f'<li class="{frame.phase}{" now" if frame.index == 0 else ""}" title="{frame.index + 1}: {frame.phase}"></li>'
        for frame in frames
    )
    present = [phase for phase in PHASES if frames.phase(phase)]
    legend = "".join(f'<span class="{phase}">{phase}</span>' for phase in present)
    return f'<ol id="track" aria-label="frames by phase">{marks}</ol><span class="phases">{legend}</span>'


def page(frames: Steps, exercise: bool = False) -> str:
    """The HTML page of `frames`: the title, the controls and counter with its phase marks, and
    each frame (phase, equation, legend, picture), all hidden but the first; the script shows one
    at a time. With `exercise`, each frame asks for its number first (see the module notes)."""
    count = len(frames)
    heading = printable(title(frames))
    body = "\n".join(_section(frame, exercise) for frame in frames)
    style_text = _STYLE
    what = "Exercise" if exercise else "Backprop step by step"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{content_security_policy(style_text)}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(what)}: {html.escape(heading)}</title>\n"
        f"<style>{style_text}</style>\n"
        "</head>\n<body>\n<main>\n"
        f'<h1>{html.escape(what)}: <span class="formula">{html.escape(heading)}</span></h1>\n'
        '<nav><button type="button" id="previous">◀ Prev</button>'
        f'<span id="counter">1 / {count} · {frames[0].phase}</span>'
        '<button type="button" id="next">Next ▶</button>'
        f"{_track(frames)}"
        '<span class="keys">← → step · Home / End: first / last</span></nav>\n'
        f"{body}\n"
        "</main>\n"
        f"<script>{_SCRIPT}</script>\n"
        "</body>\n</html>\n"
    )


def export_html(root: Value | Steps, path: str | os.PathLike, exercise: bool = False) -> Path:
    """Write the step-through page of `root` (a Value, or frames from `steps()` to keep their
    options: `steps(J, lr=0.1)` adds the update) to `path` (.html), atomically. Returns the path.

    With `exercise=True` the student types each frame's number before seeing it (see the module
    notes). A graph of more than MAX_FRAMES steps is refused: each frame is laid out by Graphviz.
    """
    path = check_path(path)
    if not isinstance(exercise, bool):
        raise TypeError(f"export_html(exercise={exercise!r:.40}): choose True or False")
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
    write_atomic(path, page(root, exercise).encode("utf-8"))
    return path


def check_path(path: str | os.PathLike) -> Path:
    """The page's path, checked as `save` checks a drawing's (suffix .html or .htm, folder exists)."""
    return render.check_path(path, SUFFIXES, "export_html: cannot write", "use .html")
