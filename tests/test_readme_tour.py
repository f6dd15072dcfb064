"""The README's tour runs as written, and prints what its comments say it prints.

The tour's Python blocks (from "## A tour" to the next section) are run one after another in a
fresh interpreter, in an empty folder (the tour writes J.svg there). A `print(...)` line whose
comment starts with numbers claims them: the text before the comment's first ": " or " (" must
appear in what the tour printed, so a changed number in the engine shows up here, not in a reader's
notebook.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def tour_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("\n## A tour")
    end = readme.index("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", readme[start:end], flags=re.S)


def claims(code: str) -> list[str]:
    """The printed text each `print(...)  # 1.0 2.0: ...` line promises."""
    found = []
    for line in code.splitlines():
        if not line.startswith("print(") or "  # " not in line:
            continue
        comment = line.split("  # ", 1)[1].strip()
        claim = re.split(r": | \(", comment, maxsplit=1)[0] if not comment.startswith("(") else comment.split(":")[0]
        if re.search(r"\d", claim):
            found.append(claim.strip())
    return found


def test_the_tour_has_its_blocks_and_claims() -> None:
    blocks = tour_blocks()
    assert len(blocks) >= 2
    assert "2.0 -4.0 4.0 2.0" in claims(blocks[0])


def test_the_readme_tour_runs_and_prints_what_it_says(tmp_path: Path) -> None:
    code = "\n".join(tour_blocks())
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stderr[-3000:]
    for claim in claims(code):
        assert claim in run.stdout, f"the README's tour says it prints {claim!r}; it printed:\n{run.stdout}"
    assert (tmp_path / "J.svg").is_file()
