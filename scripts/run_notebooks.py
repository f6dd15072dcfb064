"""Execute the course notebooks from a clean kernel and store them with their outputs.

    python scripts/run_notebooks.py                      # every notebooks/*.ipynb
    python scripts/run_notebooks.py notebooks/03_xor.ipynb

The stored outputs are what GitHub shows a learner who does not run anything, so they must be
exactly what a fresh run prints. tests/test_notebooks.py runs the notebooks the same way (it
imports `execute_all` and `clean` from here) and compares. Each notebook gets its own kernel,
the interpreter running this script (the "python3" kernelspec of ipykernel resolves to
`sys.executable`); notebooks run side by side, up to one per CPU, because they share nothing.

Runs are deterministic: cells are seeded, timings are not recorded, and the text fallback of a
picture (`<graphviz.graphs.Digraph at 0x7f...>`, a memory address) is dropped, so re-running
an unchanged notebook rewrites the same bytes. Files are written atomically.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterable
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from micrograd.files import write_atomic

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
KERNEL = "python3"
CELL_TIMEOUT = 300  # seconds; a notebook should take well under a minute in total
PICTURES = ("image/png", "image/svg+xml")
# Stored notebook metadata: the same on every machine (nbclient would add the Python version).
METADATA = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": KERNEL},
    "language_info": {"name": "python", "pygments_lexer": "ipython3"},
}


def notebook_paths() -> list[Path]:
    """Every notebook of the course, in reading order."""
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop what changes from run to run without being content; returns `nb` itself."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if any(kind in data for kind in PICTURES):
                data.pop("text/plain", None)  # "<... at 0x7f...>": an object's address, not its content
    nb.metadata = nbformat.from_dict(METADATA)
    return nb


async def execute(nb: nbformat.NotebookNode, workdir: Path) -> nbformat.NotebookNode:
    """Run every cell of `nb` in order in a new kernel started in `workdir`; raises on the first error."""
    client = NotebookClient(
        nb,
        kernel_name=KERNEL,
        timeout=CELL_TIMEOUT,
        record_timing=False,
        coalesce_streams=True,
        resources={"metadata": {"path": str(workdir)}},
    )
    await client.async_execute()
    return clean(nb)


async def execute_all(notebooks: Iterable[nbformat.NotebookNode], workdir: Path, jobs: int | None = None) -> list:
    """Execute notebooks side by side, at most `jobs` at once (default: one per CPU).

    Returns, in order, each executed notebook, or the exception that stopped it.
    """
    limit = asyncio.Semaphore(jobs or os.cpu_count() or 1)

    async def one(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
        async with limit:
            return await execute(nb, workdir)

    return await asyncio.gather(*(one(nb) for nb in notebooks), return_exceptions=True)


def main(argv: list[str]) -> int:
    paths = [Path(arg).resolve() for arg in argv] or notebook_paths()
    fresh = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        fresh.append(nb)
    results = asyncio.run(execute_all(fresh, NOTEBOOKS))
    failed = 0
    for path, result in zip(paths, results):
        if isinstance(result, BaseException):
            failed += 1
            print(f"FAILED {path.name}: {type(result).__name__}: {result}", file=sys.stderr)
            continue
        text = nbformat.writes(result)
        write_atomic(path, (text if text.endswith("\n") else text + "\n").encode("utf-8"))
        print(f"wrote {path.relative_to(NOTEBOOKS.parent)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
