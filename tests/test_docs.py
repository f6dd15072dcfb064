"""The pictures committed under docs/ (shown in the README) are what the code draws today.

Compared by the text of every SVG <text> element (labels, values, gradients, equations): that text
does not depend on the Graphviz version, the coordinates do. Regenerate with
`python tests/test_docs.py` after a change that alters a drawing on purpose: it rewrites the pictures
whose text is stale, and those named on its command line (`python tests/test_docs.py J.svg`), for a
change the text does not show, such as the layout.
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from test_viz_examples import worked_example
from test_viz_network import han_network

from micrograd.engine import Value, grad
from viz import draw_dot, draw_network, steps
from viz.draw import draw
from viz.render import render

DOCS = Path(__file__).resolve().parent.parent / "docs"
SVG_TEXT = "{http://www.w3.org/2000/svg}text"
# GitHub shows the README in a column about 900 px wide; an SVG up to 675 pt (900 px) shows at full size.
README_WIDTH_PT = 675


def lecture_neuron() -> Value:
    """The tanh neuron of Karpathy's micrograd lecture, built and named as there, after backward():
    o = tanh(x1·w1 + x2·w2 + b) with the bias that makes n = 0.8814 and o = 0.7071."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1w1"
    x2w2 = x2 * w2
    x2w2.label = "x2w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1w1x2w2"
    n = x1w1x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o


def pictures() -> dict[str, bytes]:
    """Each docs/ picture, drawn now: the worked example after backward() with edge labels (top to
    bottom, so it fits the README's column), step 5 of its backward pass (ā = ∂d/∂a × d̄ = 1 × 2 = 2)
    with its legend, the lecture's neuron drawn by draw_dot, and Han & Kamber's 3-2-1 network with
    the input (1, 0, 1) and the target 1, and the graph of the worked example's ∂J/∂w."""
    return {
        "J.svg": render(draw(worked_example(True)["J"], edge_labels=True, rankdir="TB"), "svg"),
        "frame_a.svg": steps(worked_example(False)["J"], forward=False)[4].svg().encode("utf-8"),
        "lecture_neuron.svg": render(draw_dot(lecture_neuron(), rankdir="TB"), "svg"),
        "network_han.svg": render(draw_network(han_network(), [1.0, 0.0, 1.0], 1.0), "svg"),
        "gradient_graph.svg": render(draw(gradient_of_the_worked_example()), "svg"),
    }


def gradient_of_the_worked_example() -> Value:
    """∂J/∂w of the worked example as a graph (`grad(J, [w], create_graph=True)`), the forward
    nodes it reuses drawn apart: the README's second derivative."""
    nodes = worked_example(False)
    (dJ_dw,) = grad(nodes["J"], [nodes["w"]], create_graph=True)
    return dJ_dw


def texts(svg: bytes) -> list[str]:
    return [element.text or "" for element in ET.fromstring(svg).iter(SVG_TEXT)]


def test_docs_pictures_are_current() -> None:
    for name, svg in pictures().items():
        assert texts((DOCS / name).read_bytes()) == texts(svg), f"docs/{name} is stale: run python tests/test_docs.py"


def width_pt(svg: bytes) -> float:
    width = ET.fromstring(svg).get("width", "")
    assert width.endswith("pt"), width
    return float(width[:-2])


def test_the_readme_pictures_fit_its_column_or_say_what_they_show() -> None:
    """A picture wider than the column is shrunk by the browser, and its text with it: the ones
    that are must say in their alt text what they show."""
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    for name in ("J.svg", "lecture_neuron.svg", "network_han.svg"):
        match = re.search(rf"!\[([^\]]*)\]\(docs/{re.escape(name)}\)", readme)
        assert match, f"the README does not show docs/{name}"
        if width_pt((DOCS / name).read_bytes()) > README_WIDTH_PT:
            assert len(match.group(1)) >= 120, f"docs/{name} is shrunk at 900 px: its alt text must say what it shows"


def test_the_lecture_neuron_shows_the_lectures_numbers() -> None:
    shown = texts((DOCS / "lecture_neuron.svg").read_bytes())
    for text in ("0.8814", "0.7071", "grad −1.5", "grad 0.5", "tanh"):
        assert text in shown, text


def test_the_gradient_graph_fits_the_readme_and_shows_the_reused_nodes() -> None:
    svg = (DOCS / "gradient_graph.svg").read_bytes()
    assert width_pt(svg) <= README_WIDTH_PT
    shown = texts(svg)
    assert "∂J/∂w" in shown and "d̄" in shown and "a forward node the gradient’s graph reuses" in shown


def test_the_frame_is_the_one_the_readme_describes() -> None:
    frame = steps(worked_example(False)["J"], forward=False)[4]
    assert frame.equation == "ā = ∂d/∂a × d̄ = 1 × 2 = 2   (d = a − y, so ∂d/∂a = 1)"
    shown = texts((DOCS / "frame_a.svg").read_bytes())
    assert "grad 2" in shown and shown.count("grad 2") == 2  # a and d are known; b, c, w, x are not yet
    assert "∂d/∂a = 1" in shown and "c̄: the gradient it multiplies" in shown  # the edge used, the legend


def test_the_readme_frames_are_what_steps_prints() -> None:
    """The equations in the README's "Step through backprop" block, a forward, a backward and an
    update frame among them, are lines `steps(J, lr=0.1)` prints today."""
    readme = (DOCS.parent / "README.md").read_text("utf-8")
    section = readme[readme.index("## Step through backprop") : readme.index("## Notebooks")]
    block = section.split("```\n", 3)[2]  # the output block, after the code block
    lines = [line for line in block.splitlines() if line.strip() and line.strip() != "…"]
    printed = [f"{f.phase:8}  {f.equation}" for f in steps(worked_example(False)["J"], lr=0.1)]
    assert lines and all(line in printed for line in lines), [line for line in lines if line not in printed]
    assert {line.split()[0] for line in lines} == {"forward", "backward", "update"}
    assert lines[0] == printed[0] and lines[-1] == printed[-1]


if __name__ == "__main__":
    from micrograd.files import write_atomic

    for name, svg in pictures().items():
        path = DOCS / name
        if name not in sys.argv[1:] and path.exists() and texts(path.read_bytes()) == texts(svg):
            continue  # current: leave the file (and its Graphviz version's coordinates) as it is
        write_atomic(path, svg)
        print(f"wrote docs/{name}", file=sys.stderr)
