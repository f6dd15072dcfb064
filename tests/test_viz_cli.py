"""`python -m viz` (the `micrograd-viz` command) end to end, in a subprocess: the printed numbers,
the file, the options, and one-line refusals (exit status 2, no file, nothing executed)."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from viz.cli import main

REPO = Path(__file__).resolve().parent.parent
WORKED = ["c = w*x; a = c + b; d = a - y; J = d**2/2", "w=2", "x=-2", "b=8", "y=2"]
SVG_TEXT = "{http://www.w3.org/2000/svg}text"


def run(args: list[str], cwd: Path, path: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if path is not None:
        env["PATH"] = path
    return subprocess.run([sys.executable, "-m", "viz", *args], cwd=cwd, capture_output=True, text=True, env=env)


def test_worked_example_prints_gradients_and_writes_the_svg(tmp_path: Path) -> None:
    done = run([*WORKED, "-o", "J.svg"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "J = 2.0000   ∂J/∂w = -4.0000   ∂J/∂x = 4.0000   ∂J/∂b = 2.0000   ∂J/∂y = -2.0000\nwrote J.svg\n"
    )
    assert done.stderr == ""
    texts = [e.text for e in ET.parse(tmp_path / "J.svg").getroot().iter(SVG_TEXT)]
    for label, data, grad in [("w", "2", "−4"), ("x", "−2", "4"), ("J", "2", "1")]:
        at = texts.index(label)
        assert texts[at + 1 : at + 3] == [data, f"grad {grad}"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["J.svg"]


def test_drawing_options_reach_the_drawing(tmp_path: Path) -> None:
    args = [
        *WORKED,
        "-o",
        "J.dot",
        "--edge-labels",
        "--color",
        "grad",
        "--rankdir",
        "TB",
        "--precision",
        "2",
        "--highlight",
        "x",
    ]
    done = run(args, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("J = 2.00   ∂J/∂w = -4.00   ∂J/∂x = 4.00")
    dot = (tmp_path / "J.dot").read_text(encoding="utf-8")
    assert "rankdir=TB" in dot and 'label="∂c/∂w = −2"' in dot and "gradient" in dot
    assert 'label="x | −2 | grad 4" color="#e66101"' in dot


def test_without_output_only_the_numbers(tmp_path: Path) -> None:
    done = run(["J = tanh(w*x + b)", "w=0.5", "x=2", "b=-1"], tmp_path)
    assert (done.returncode, done.stdout) == (0, "J = 0.0000   ∂J/∂w = 2.0000   ∂J/∂x = 0.5000   ∂J/∂b = 1.0000\n")
    assert list(tmp_path.iterdir()) == []


def test_undefined_gradient_is_printed_with_a_note(tmp_path: Path) -> None:
    done = run(["J = x**n", "x=-2", "n=2"], tmp_path)
    assert done.returncode == 0
    assert done.stdout == "J = 4.0000   ∂J/∂x = -4.0000   ∂J/∂n = nan\n"
    assert "∂J/∂n is nan: the derivative is undefined at this point" in done.stderr


HOSTILE = [
    ["__import__('os').system('touch MARKER')"],
    ["J = __import__('os').system('touch MARKER')"],
    ["J = ().__class__"],
    ["J = x.__dict__", "x=1"],
    ["J = [x for x in y]", "x=1", "y=2"],
    ["J = (lambda: __import__('os').system('touch MARKER'))()"],
    ["(" * 100_000],
    ["J = x +", "x=1"],
]


@pytest.mark.parametrize("args", HOSTILE, ids=lambda args: args[0][:30])
def test_hostile_formulas_are_refused_and_nothing_runs(tmp_path: Path, args: list[str]) -> None:
    done = run([*args, "-o", "out.svg"], tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("micrograd-viz: error: ")
    assert "Traceback" not in done.stderr
    assert ("column" in lines[0]) or ("characters long" in lines[0])
    assert list(tmp_path.iterdir()) == []  # no drawing, no MARKER


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["J = w*x", "w=1"], "missing value for input x: pass x=NUMBER"),
        (["J = foo(w)", "w=1"], "calling 'foo', which is not one of the functions"),
        (["J = a*2; a = w", "w=1"], "'a' is used before it is assigned"),
        (["J = log(w)", "w=-1"], "log(-1.0) is undefined"),
        (["J = w / (w - w)", "w=1"], "division by zero"),
        (["J = exp(w)", "w=1000"], "`exp(w)` is inf"),
        (["J = w*2", "w=abc"], "input w='abc' is not a number"),
        (["J = w*2", "w"], "'w' is not an input: write NAME=VALUE"),
        (["J = w*2", "w=1", "w=2"], "input 'w' is given twice"),
        (["J = w*2", "w=1", "z=3"], "input z=3.0 is not used by the formula"),
        (["J = w*2", "w=1", "--highlight", "q"], "--highlight 'q': no input or assigned name"),
        (["J = w*2", "w=1", "--precision", "20"], "--precision 20"),
    ],
)
def test_errors_are_one_line_with_status_2(tmp_path: Path, args: list[str], message: str) -> None:
    done = run([*args, "-o", "out.svg"], tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("output", "message"), [("J.jpg", "suffix '.jpg'"), ("nowhere/J.svg", "does not exist")])
def test_bad_output_path_is_refused_before_any_work(tmp_path: Path, output: str, message: str) -> None:
    done = run([*WORKED, "-o", output], tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert message in done.stderr and done.stderr.count("\n") == 1


def test_without_dot_the_error_says_how_to_install(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    done = run([*WORKED, "-o", "J.svg"], tmp_path, path=str(empty))
    assert done.returncode == 1
    assert "apt install graphviz" in done.stderr and "brew install graphviz" in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert not (tmp_path / "J.svg").exists()
    # a .dot file needs no Graphviz
    assert run([*WORKED, "-o", "J.dot"], tmp_path, path=str(empty)).returncode == 0


def test_main_in_process(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*WORKED, "-o", str(tmp_path / "J.png")]) == 0
    assert (tmp_path / "J.png").read_bytes().startswith(b"\x89PNG")
    assert main(["J = x.y", "x=1"]) == 2
    captured = capsys.readouterr()
    assert captured.out.startswith("J = 2.0000   ∂J/∂w = -4.0000")
    assert captured.err.startswith("micrograd-viz: error: column 5: attribute access")


def test_help(tmp_path: Path) -> None:
    done = run(["--help"], tmp_path)
    assert done.returncode == 0 and "micrograd-viz" in done.stdout and "--edge-labels" in done.stdout


# -- --steps PAGE.html: the backward pass as a page to step through (issue 4) ----------------------

# The worked example's training step as the course writes it: the forward pass in topological
# order, the backward pass (ū = ∂J/∂u in total, ∂c/∂u the local derivative of op c) output first.
WORKED_STEPS = [
    "w = 2",
    "x = −2",
    "c = w × x = 2 × (−2) = −4",
    "b = 8",
    "a = c + b = −4 + 8 = 4",
    "y = 2",
    "d = a − y = 4 − 2 = 2",
    "v1 = d² = 2² = 4",
    "J = v1 / 2 = 4 / 2 = 2",
    "J̄ = 1",
    "v̄1 = ∂J/∂v1 × J̄ = 0.5 × 1 = 0.5   (J = v1 / 2, so ∂J/∂v1 = 1/2 = 0.5)",
    "d̄ = ∂v1/∂d × v̄1 = 4 × 0.5 = 2   (v1 = d², so ∂v1/∂d = 2d = 4)",
    "ȳ = ∂d/∂y × d̄ = −1 × 2 = −2   (d = a − y, so ∂d/∂y = −1)",
    "ā = ∂d/∂a × d̄ = 1 × 2 = 2   (d = a − y, so ∂d/∂a = 1)",
    "b̄ = ∂a/∂b × ā = 1 × 2 = 2   (a = c + b, so ∂a/∂b = 1)",
    "c̄ = ∂a/∂c × ā = 1 × 2 = 2   (a = c + b, so ∂a/∂c = 1)",
    "x̄ = ∂c/∂x × c̄ = 2 × 2 = 4   (c = w × x, so ∂c/∂x = w = 2)",
    "w̄ = ∂c/∂w × c̄ = −2 × 2 = −4   (c = w × x, so ∂c/∂w = x = −2)",
]
# With --lr 0.1 every input is updated, then J is recomputed at the new values.
WORKED_UPDATE = [
    "w ← w − η·w̄ = 2 − 0.1 × (−4) = 2.4",
    "x ← x − η·x̄ = −2 − 0.1 × 4 = −2.4",
    "b ← b − η·b̄ = 8 − 0.1 × 2 = 7.8",
    "y ← y − η·ȳ = 2 − 0.1 × (−2) = 2.2",
    "J = 0.0128 at the new values (was 2: down by 1.9872)",
]


def page_equations(path: Path) -> list[str]:
    import html
    import re

    return [html.unescape(e) for e in re.findall(r'<p class="equation">(.*?)</p>', path.read_text(encoding="utf-8"))]


def test_steps_writes_the_page(tmp_path: Path) -> None:
    done = run([*WORKED, "--steps", "backprop.html"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "J = 2.0000   ∂J/∂w = -4.0000   ∂J/∂x = 4.0000   ∂J/∂b = 2.0000   ∂J/∂y = -2.0000\nwrote backprop.html\n"
    )
    assert done.stderr == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backprop.html"]
    assert page_equations(tmp_path / "backprop.html") == WORKED_STEPS
    # the same bytes on a second run (a fresh interpreter, other addresses and hash seeds)
    first = (tmp_path / "backprop.html").read_bytes()
    assert run([*WORKED, "--steps", "backprop.html"], tmp_path).returncode == 0
    assert (tmp_path / "backprop.html").read_bytes() == first


def test_steps_with_a_drawing_and_options(tmp_path: Path) -> None:
    done = run(
        [*WORKED, "-o", "J.dot", "--steps", "p.html", "--edge-labels", "--precision", "2", "--color", "grad"], tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("wrote J.dot\nwrote p.html\n") and done.stderr == ""
    page = (tmp_path / "p.html").read_text(encoding="utf-8")
    assert "∂c/∂w = −2" in page and "grad −4<" in page  # edge labels reach the frames
    assert page_equations(tmp_path / "p.html") == WORKED_STEPS  # equations are always compact


def test_steps_without_o_notes_the_options_it_ignores(tmp_path: Path) -> None:
    done = run([*WORKED, "--steps", "p.html", "--color", "role"], tmp_path)
    assert done.returncode == 0
    assert "the --steps page uses only --edge-labels, --rankdir, --precision and --lr" in done.stderr
    assert run([*WORKED, "--steps", "p.html", "--edge-labels"], tmp_path).stderr == ""


@pytest.mark.parametrize(
    ("page", "message"), [("p.svg", "suffix '.svg'; use .html"), ("nowhere/p.html", "does not exist")]
)
def test_bad_steps_path_is_refused_before_any_work(tmp_path: Path, page: str, message: str) -> None:
    done = run([*WORKED, "--steps", page, "-o", "J.svg"], tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert message in done.stderr and done.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_committed_example_page_is_the_clis_worked_example() -> None:
    """docs/backprop.html is written by `python -m viz ... --steps docs/backprop.html --lr 0.1` (see README)."""
    page = REPO / "docs" / "backprop.html"
    assert page_equations(page) == WORKED_STEPS + WORKED_UPDATE
    text = page.read_text(encoding="utf-8")
    title = "Backprop step by step: J = (w × x + b − y)² / 2 at w = 2, x = −2, b = 8, y = 2"
    assert f"<title>{title}</title>" in text and "://" not in text


def test_steps_with_lr_adds_the_update(tmp_path: Path) -> None:
    done = run([*WORKED, "--steps", "p.html", "--lr", "0.1"], tmp_path)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert page_equations(tmp_path / "p.html") == WORKED_STEPS + WORKED_UPDATE
    page = (tmp_path / "p.html").read_text(encoding="utf-8")
    assert page.count('data-phase="update"') == 5 and page.count('<li class="update') == 5


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--lr", "0.1"], "--lr is for the --steps page"), (["--steps", "p.html", "--lr", "inf"], "finite learning rate")],
)
def test_bad_lr_is_refused(tmp_path: Path, extra: list[str], message: str) -> None:
    done = run([*WORKED, *extra], tmp_path)
    assert (done.returncode, done.stdout) == (2, "") and message in done.stderr
    assert list(tmp_path.iterdir()) == []
