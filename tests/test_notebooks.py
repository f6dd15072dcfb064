"""The course notebooks run top to bottom in a clean kernel, and what they store is what they print.

Every notebooks/*.ipynb is executed the way scripts/run_notebooks.py stores it (that script's
`execute_all`: nbclient, a fresh ipykernel per notebook, notebooks side by side), and the fresh
outputs are compared with the stored ones, cell by cell:
- text must be identical: streams, errors, text/plain, text/html, text/markdown, text/latex.
  Every number a notebook shows is computed, so this is "re-execution gives the same numbers";
- pictures must be the same kinds in the same places. PNG bytes depend on the matplotlib and
  FreeType versions, and SVG coordinates on the Graphviz version, so neither is compared byte for
  byte; but the *text* of an SVG drawing (labels, data, gradients, edge labels) does not depend on
  them, and it is compared exactly.
A stale notebook fails with the cell that changed: re-run `python scripts/run_notebooks.py`.
"""

from __future__ import annotations

import asyncio
import copy
import html
import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("run_notebooks", ROOT / "scripts" / "run_notebooks.py")
runner = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(runner)

PATHS = runner.notebook_paths()
NAMES = [path.name for path in PATHS]
TEXT = ("text/plain", "text/html", "text/markdown", "text/latex", "application/json")
# Appended to each executed copy (never stored): which Python the kernel really ran.
PROBE = "import sys\nprint(sys.executable)\nprint(sys.prefix)"


def _svg_text(svg: str) -> list[str]:
    """The words and numbers an SVG drawing shows, without its coordinates."""
    return sorted(html.unescape(t).strip() for t in re.findall(r"<text\b[^>]*>(.*?)</text>", svg, re.S))


_SVG_IN_HTML = re.compile(r"<svg\b.*?</svg>", re.S)
# A picture embedded in a page (an animation's frames): its bytes depend on the library versions, as a PNG's do.
_PICTURE_IN_HTML = re.compile(r"data:image/(png|jpeg|gif);base64,[A-Za-z0-9+/=\\\s]+")


def _comparable(output: dict[str, Any]) -> tuple:
    kind = output["output_type"]
    if kind == "stream":
        return (kind, output["name"], output["text"])
    if kind == "error":
        return (kind, output["ename"], output["evalue"])
    shown = []
    for mime, content in sorted(output.get("data", {}).items()):
        if mime == "text/html":  # a step-through frame holds its whole SVG: compare that by its text only
            content = _PICTURE_IN_HTML.sub(lambda m: f"data:image/{m.group(1)};base64,", content)
            shown.append(
                (mime, _SVG_IN_HTML.sub(lambda m: "<svg>" + "|".join(_svg_text(m.group(0))) + "</svg>", content))
            )
        elif mime in TEXT:
            shown.append((mime, content))
        elif mime == "image/svg+xml":
            shown.append((mime, _svg_text(content)))
        else:
            shown.append((mime,))  # a PNG, or anything else binary: present, bytes not compared
    return (kind, *shown)


def _code_cells(nb: nbformat.NotebookNode) -> list:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


@pytest.fixture(scope="module")
def executed() -> dict[str, Any]:
    """Each notebook run afresh (or the exception that stopped it), with the probe's output."""
    fresh = []
    for path in PATHS:
        nb = nbformat.read(path, as_version=4)
        for cell in _code_cells(nb):
            cell.outputs, cell.execution_count = [], None
        nb.cells.append(nbformat.v4.new_code_cell(PROBE))
        fresh.append(nb)
    results = asyncio.run(runner.execute_all(fresh, runner.NOTEBOOKS))
    return dict(zip(NAMES, results))


def test_the_course_notebooks_are_all_there() -> None:
    for number in ("01", "02", "03", "04", "05", "06", "07", "08", "09", "10"):
        assert any(name.startswith(f"{number}_") for name in NAMES), f"no notebooks/{number}_*.ipynb"


@pytest.mark.parametrize("name", NAMES)
def test_stored_notebook_ran_top_to_bottom_cleanly(name: str) -> None:
    """Stored as one clean run: every code cell executed, in order, without an error."""
    nb = nbformat.read(runner.NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    cells = _code_cells(nb)
    assert [cell.execution_count for cell in cells] == list(range(1, len(cells) + 1)), (
        "cells were not run once each from the top in a fresh kernel: run scripts/run_notebooks.py"
    )
    for i, cell in enumerate(cells, 1):
        for output in cell.outputs:
            assert output.output_type != "error", f"cell [{i}] stored an error: {output.get('evalue')}"
            data = output.get("data", {})
            # A widget (a tqdm bar from fit(verbose=1)) shows nothing on GitHub and has a random id.
            assert "application/vnd.jupyter.widget-view+json" not in data, f"cell [{i}] stored a widget"
    assert runner.clean(copy.deepcopy(nb)) == nb, "stored outputs carry run-specific data: run scripts/run_notebooks.py"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_and_its_stored_outputs_are_current(name: str, executed: dict[str, Any]) -> None:
    result = executed[name]
    if isinstance(result, BaseException):
        pytest.fail(f"{name} failed in a clean kernel:\n{result}", pytrace=False)
    probe = result.cells.pop()
    assert probe.outputs and probe.outputs[0].get("text") == f"{sys.executable}\n{sys.prefix}\n", (
        f"the kernel ran another Python than this one ({sys.executable}): {probe.outputs}"
    )

    stored = _code_cells(nbformat.read(runner.NOTEBOOKS / name, as_version=4))
    fresh = _code_cells(result)
    assert len(fresh) == len(stored)
    for i, (old, new) in enumerate(zip(stored, fresh), 1):
        first_line = old.source.splitlines()[0] if old.source else ""
        assert [_comparable(o) for o in new.outputs] == [_comparable(o) for o in old.outputs], (
            f"{name}, cell [{i}] ({first_line!r}) prints something else than it stored: "
            "re-run `python scripts/run_notebooks.py` and review the difference"
        )
