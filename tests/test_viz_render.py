"""Drawings rendered by the real Graphviz `dot`: every label, value and gradient is in the SVG
text; hostile labels render as written; files by suffix, atomically; a clear error without dot."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import graphviz
import pytest
from test_viz_examples import mlp_batch_loss, neuron, worked_example

from micrograd import Value, scope
from viz import GraphvizNotFoundError, draw, save
from viz.svg import fit

SVG_TEXT = "{http://www.w3.org/2000/svg}text"


def svg_texts(graph: graphviz.Digraph) -> list[str]:
    """Render with `dot` directly (so a warning fails the test) and return every <text> in the SVG."""
    done = subprocess.run(["dot", "-Tsvg"], input=graph.source.encode(), capture_output=True, check=True)
    assert done.stderr == b"", done.stderr.decode()
    root = ET.fromstring(done.stdout)  # also proves the SVG is well-formed XML
    return [element.text or "" for element in root.iter(SVG_TEXT)]


def test_svg_of_the_worked_example_holds_every_label_value_and_gradient() -> None:
    texts = svg_texts(draw(worked_example()["J"], edge_labels=True))
    by_hand = {
        "w": (2, -4),
        "x": (-2, 4),
        "b": (8, 2),
        "y": (2, -2),
        "c": (-4, 2),
        "a": (4, 2),
        "d": (2, 2),
        "J": (2, 1),
    }
    for label, (data, grad) in by_hand.items():  # each box: its label, then its value, then grad
        at = texts.index(label)
        assert texts[at + 1 : at + 3] == [f"{data}".replace("-", "−"), f"grad {grad}".replace("-", "−")], label
    at = texts.index("v1")  # d**2, unlabelled: named as in the step-through equations
    assert texts[at + 1 : at + 3] == ["4", "grad 0.5"]
    assert "2" in texts  # the constant
    assert {"×", "+", "−", "^2", "÷"} <= set(texts)
    assert {"∂c/∂w = −2", "∂c/∂x = 2", "∂d/∂y = −1", "∂v1/∂d = 4", "∂J/∂v1 = 0.5"} <= set(texts)
    assert not [text for text in texts if "∂2" in text or "∂J/∂2" in text]  # no derivative by a constant


def svg_size(graph: graphviz.Digraph) -> tuple[float, float, float]:
    """The drawing's width and height (the root's `width="…pt"`) and its smallest font, in points."""
    root = ET.fromstring(graph.pipe(format="svg"))
    view_box = [float(size) for size in root.get("viewBox").split()[2:]]
    assert view_box == pytest.approx([float(root.get("width")[:-2]), float(root.get("height")[:-2])], abs=1)
    sizes = [float(e.get("font-size")) for e in root.iter(SVG_TEXT)]
    return float(root.get("width")[:-2]), float(root.get("height")[:-2]), min(sizes)


def test_the_worked_example_fits_a_page_at_readable_text() -> None:
    """At default options the worked example is at most 1,000 px (750 pt) wide, and its smallest
    text is at least 12 px (9 pt). Before the compact boxes it was 1,756 pt wide."""
    v = worked_example()
    width, height, smallest = svg_size(draw(v["J"]))
    assert width <= 750 and smallest >= 9, (width, smallest)
    assert height <= 200  # one row of boxes, not a tall stack
    fresh_width, _, _ = svg_size(draw(worked_example(backward=False)["J"]))
    assert fresh_width <= width
    # the other options stay within sight of it: edge labels cost room, TB turns the chain
    assert svg_size(draw(v["J"], edge_labels=True))[0] <= 1100
    assert svg_size(draw(v["J"], color="grad"))[0] <= 750
    assert svg_size(draw(v["J"], rankdir="TB"))[0] <= 400


def test_svg_of_a_neuron_shows_torch_gradients() -> None:
    import torch

    n, xs, out = neuron()
    w = torch.tensor([p.data for p in n.w], dtype=torch.float64, requires_grad=True)
    x = torch.tensor([v.data for v in xs], dtype=torch.float64, requires_grad=True)
    torch.tanh(n.b.data + (w * x).sum()).backward()
    texts = svg_texts(draw(out))
    for label, expected in [("N0.w0", w.grad[0]), ("N0.w1", w.grad[1]), ("x0", x.grad[0]), ("x1", x.grad[1])]:
        grad_text = texts[texts.index(label) + 2]  # each box: label, value, "grad …"
        assert grad_text.startswith("grad ")
        assert abs(float(grad_text[5:].replace("−", "-")) - expected.item()) <= 5e-5
    assert "N0" in texts  # the cluster, labelled with the neuron's scope


HOSTILE_LABELS = [
    "<b>bold?</b>",
    "a|b",
    "{x}",
    'say "hi"',
    "back\\slash",
    "trailing\\",
    "&amp; &lt;",
    "'single'",
    "<<html>>",
    "node",
    "\\l \\n \\N",
]


def test_any_label_text_renders_as_written() -> None:
    values = [Value(float(i), label) for i, label in enumerate(HOSTILE_LABELS)]
    total = values[0]
    for v in values[1:]:
        total = total + v
    total.label = "{out|<put>}"
    with scope('scope "<x>" | {y}'):
        result = total * 1
    result.label = "r&d"
    result.backward()
    texts = svg_texts(draw(result, edge_labels=True, color="role"))
    for label in [*HOSTILE_LABELS, "{out|<put>}", "r&d", 'scope "<x>" | {y}']:
        assert label in texts, label
    assert "∂r&d/∂{out|<put>} = 1" in texts


def test_newlines_and_control_characters_in_labels() -> None:
    v = Value(1.0, "two\nlines")
    w = Value(2.0, "bell\x07")
    out = v * w
    texts = svg_texts(draw(out))
    assert "two" in texts and "lines" in texts  # a line break
    assert "bell\\x07" in texts  # shown, not written raw into the XML


def test_options_render_without_warnings() -> None:
    v = worked_example()
    for options in [{"color": "grad"}, {"color": "role", "rankdir": "TB"}, {"highlight": v["x"], "rankdir": "BT"}]:
        texts = svg_texts(draw(v["J"], **options))
        assert "grad −4" in texts
    assert "gradient" in svg_texts(draw(v["J"], color="grad"))


def test_collapsed_mlp_batch_loss_renders() -> None:
    _, loss = mlp_batch_loss(30)
    neuron_texts = svg_texts(draw(loss, collapse="neuron"))
    assert {"L1.N0", "L1.N15", "L2.N15", "L3.N0"} <= set(neuron_texts)
    layer_texts = svg_texts(draw(loss, collapse="layer"))
    assert {"L1", "L2", "L3"} <= set(layer_texts)
    assert f"{loss.data:.4f}" in layer_texts  # the loss itself is drawn (outside any scope)
    assert {"16 × tanh", "linear"} <= set(layer_texts) and "tanh" in neuron_texts


def test_jupyter_displays_inline_svg_that_shrinks_only_while_readable() -> None:
    graph = draw(worked_example()["J"])
    assert isinstance(graph, graphviz.Digraph)
    bundle = graph._repr_mimebundle_()
    page = bundle["text/html"]
    assert set(bundle) == {"text/html", "image/svg+xml", "text/plain"} and page.startswith(
        '<div class="micrograd-drawing"'
    )
    assert bundle["text/plain"] == "<micrograd drawing: 14 edges>"  # no address: notebooks store the same text
    assert "overflow-x: auto" in page.split(">")[0]
    svg = page[page.index("<svg") : page.rindex("</svg>") + 6]
    texts = [e.text for e in ET.fromstring(svg).iter("text")]
    assert "grad −4" in texts
    # fills the cell, never beyond its natural size, and no narrower than keeps 12 pt text at 10 px
    width_pt = float(ET.fromstring(svg).get("width")[:-2])
    style = dict(part.split(": ") for part in ET.fromstring(svg).get("style").split("; "))
    assert style["width"] == "100%" and style["height"] == "auto"
    assert style["max-width"] == f"{width_pt * 4 / 3:.0f}px"
    assert style["min-width"] == f"{width_pt * 4 / 3 * 10 / (10 * 4 / 3):.0f}px"  # smallest text: 10 pt


def test_fit_of_an_svg() -> None:
    svg = '<svg width="300pt" height="10pt" viewBox="0 0 600 20"><text font-size="20.00">x</text></svg>'
    sizes = fit(svg)  # scaled by 1/2: the text is 10 pt, 13.3 px; it may shrink to 3/4
    assert (sizes.natural_px, round(sizes.smallest_text_px, 2), round(sizes.min_px, 6)) == (400, 13.33, 300)
    big = fit('<svg width="30pt" height="10pt" viewBox="0 0 30 10"><text font-size="6">x</text></svg>')
    assert big.min_px == big.natural_px == 40  # text already below 10 px: never shrunk further


# -- save -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suffix", "magic"), [(".svg", b"<?xml"), (".png", b"\x89PNG"), (".pdf", b"%PDF"), (".dot", b"digraph")]
)
def test_save_by_suffix(tmp_path: Path, suffix: str, magic: bytes) -> None:
    J = worked_example()["J"]
    path = save(J, tmp_path / f"J{suffix}", edge_labels=True)
    assert path == tmp_path / f"J{suffix}"
    assert path.read_bytes().startswith(magic)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"J{suffix}"]  # no temporary file left
    if suffix == ".dot":
        assert path.read_text(encoding="utf-8") == draw(J, edge_labels=True).source


def test_save_a_drawing_and_uppercase_suffix(tmp_path: Path) -> None:
    graph = draw(worked_example()["J"])
    assert save(graph, tmp_path / "J.SVG").read_bytes().startswith(b"<?xml")
    with pytest.raises(TypeError, match="pass them to draw"):
        save(graph, tmp_path / "K.svg", edge_labels=True)
    with pytest.raises(TypeError, match="needs a Value or a drawing"):
        save("J", tmp_path / "K.svg")


def test_file_permissions_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = save(worked_example()["J"], tmp_path / "J.dot")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        ("J.jpg", ValueError, "suffix '.jpg'; use one of .svg, .png, .pdf, .dot"),
        ("J", ValueError, "no suffix"),
        ("missing/J.svg", FileNotFoundError, "does not exist"),
    ],
)
def test_save_refuses_bad_paths_clearly(tmp_path: Path, name: str, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        save(worked_example()["J"], tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_save_to_a_folder_path_is_refused(tmp_path: Path) -> None:
    (tmp_path / "J.svg").mkdir()
    with pytest.raises(IsADirectoryError, match="it is a folder"):
        save(worked_example()["J"], tmp_path / "J.svg")


def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "J.svg"
    path.write_text("old drawing")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        save(worked_example()["J"], path)
    assert path.read_text() == "old drawing"
    assert [p.name for p in tmp_path.iterdir()] == ["J.svg"]


def test_without_dot_draw_works_and_save_says_how_to_install(tmp_path: Path) -> None:
    """A subprocess whose PATH holds no `dot`: the DOT source and .dot files still work."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    script = textwrap.dedent(
        f"""
        from micrograd import Value
        from viz import draw, save, GraphvizNotFoundError
        J = (Value(2.0, "w") * Value(-2.0, "x")) ** 2 / 2
        J.backward()
        assert draw(J).source.startswith("digraph micrograd")
        save(J, {str(tmp_path / "J.dot")!r})
        try:
            save(J, {str(tmp_path / "J.svg")!r})
        except GraphvizNotFoundError as error:
            print(error)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env={**os.environ, "PATH": str(empty)}
    )
    assert done.returncode == 0, done.stderr
    message = done.stdout
    assert "`dot`" in message and "apt install graphviz" in message
    assert "brew install graphviz" in message and "conda install" in message
    assert (tmp_path / "J.dot").exists() and not (tmp_path / "J.svg").exists()
    assert shutil.which("dot") is not None  # the rest of this suite does use the real dot


def test_graphviz_not_found_is_raised_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GraphvizNotFoundError, match="rendering to PNG needs Graphviz"):
        save(worked_example()["J"], tmp_path / "J.png")
    assert list(tmp_path.iterdir()) == []
