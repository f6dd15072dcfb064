"""The DOT text of each drawing is byte-identical to a reviewed golden file in tests/golden/.

Goldens make any change to a drawing visible in review. To regenerate them after an intended
change, run

    MICROGRAD_REGENERATE_GOLDEN=1 python3 -m pytest -q tests/test_viz_golden.py

which rewrites the files and then FAILS every regenerated case on purpose; read the diff
(`git diff tests/golden`), then run again without the variable. Tests never regenerate on their own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import graphviz
import pytest
from test_viz_examples import mlp_batch_loss, neuron, reused_node, small_mlp, worked_example

from micrograd import Value
from viz import draw

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("MICROGRAD_REGENERATE_GOLDEN") == "1"


def _escaping() -> graphviz.Digraph:
    """Labels with every character that means something to DOT, records or HTML labels."""
    a = Value(1.0, "a<b> | {c} \"q\" \\ &amp; 's'")
    b = Value(2.0, "two\nlines")
    out = a * b
    out.label = "<html>"
    out.backward()
    return draw(out, edge_labels=True)


CASES: dict[str, Callable[[], graphviz.Digraph]] = {
    "worked_example_fresh": lambda: draw(worked_example(backward=False)["J"]),
    "worked_example": lambda: draw(worked_example()["J"]),
    "worked_example_edge_labels": lambda: draw(worked_example()["J"], edge_labels=True),
    "worked_example_color_grad": lambda: draw(worked_example()["J"], color="grad"),
    "worked_example_color_role": lambda: draw(worked_example()["J"], color="role"),
    "worked_example_highlight_x": lambda: (lambda v: draw(v["J"], highlight=v["x"]))(worked_example()),
    "worked_example_precision_2": lambda: draw(worked_example()["J"], precision=2),
    "worked_example_rankdir_TB": lambda: draw(worked_example()["J"], rankdir="TB"),
    "worked_example_show_grad_false": lambda: draw(worked_example()["J"], show_grad=False),
    "reused_node": lambda: draw(reused_node()["s"], edge_labels=True),
    "neuron": lambda: draw(neuron()[2], edge_labels=True),
    "mlp_clusters": lambda: draw(small_mlp()[2]),
    "mlp_collapse_neuron": lambda: draw(small_mlp()[2], collapse="neuron"),
    "mlp_collapse_layer": lambda: draw(small_mlp()[2], collapse="layer"),
    "mlp_batch_collapse_layer": lambda: draw(mlp_batch_loss(3, loss_scope=True)[1], collapse="layer"),
    "escaping": _escaping,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_dot_text_matches_golden(name: str) -> None:
    source = CASES[name]().source
    path = GOLDEN / f"{name}.dot"
    if REGENERATE:
        path.write_text(source, encoding="utf-8")
        pytest.fail(f"regenerated {path}: review the diff, then run without MICROGRAD_REGENERATE_GOLDEN")
    assert path.exists(), f"no golden file {path}; see this file's docstring to create it"
    assert source == path.read_text(encoding="utf-8")


def test_same_program_same_dot_text_across_processes(tmp_path: Path) -> None:
    """Node ids come from the walk, not from id() or hashing: two interpreters with different
    hash seeds (and different object addresses) print the same DOT text."""
    script = (
        "from micrograd import Value\n"
        "from micrograd.nn import MLP\n"
        "from viz import draw\n"
        "out = MLP(2, [3, 1], seed=0)([Value(1.0, 'x0'), Value(-1.0, 'x1')])\n"
        "out.backward()\n"
        "print(draw(out, edge_labels=True).source + draw(out, collapse='neuron').source)\n"
    )
    outputs = [
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    ]
    assert outputs[0] == outputs[1]
    assert outputs[0].count("digraph micrograd") == 2
