"""The pictures committed under docs/ (shown in the README) are what the code draws today.

Compared by the text of every SVG <text> element (labels, values, gradients, equations): that text
does not depend on the Graphviz version, the coordinates do. Regenerate with
`python tests/test_docs.py` after a change that alters a drawing on purpose.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from test_viz_examples import worked_example

from viz import steps
from viz.draw import draw
from viz.render import render

DOCS = Path(__file__).resolve().parent.parent / "docs"
SVG_TEXT = "{http://www.w3.org/2000/svg}text"


def pictures() -> dict[str, bytes]:
    """Each docs/ picture, drawn now: the graph after backward() with edge labels, and step 5 of
    the backward pass (ā = ∂d/∂a × d̄ = 1 × 2 = 2), with its legend."""
    return {
        "J.svg": render(draw(worked_example(True)["J"], edge_labels=True), "svg"),
        "frame_a.svg": steps(worked_example(False)["J"], forward=False)[4].svg().encode("utf-8"),
    }


def texts(svg: bytes) -> list[str]:
    return [element.text or "" for element in ET.fromstring(svg).iter(SVG_TEXT)]


def test_docs_pictures_are_current() -> None:
    for name, svg in pictures().items():
        assert texts((DOCS / name).read_bytes()) == texts(svg), f"docs/{name} is stale: run python tests/test_docs.py"


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
        write_atomic(DOCS / name, svg)
        print(f"wrote docs/{name}", file=sys.stderr)
