"""How long the collapsed drawing of an MLP's batch loss takes: build, draw (DOT text), render (SVG).

    python3 benchmarks/bench_viz_collapse.py [batch sizes...]      (default: 20 50 100)

The graph is the mean squared error of MLP(2, [16, 16, 1]) on a batch. "loss in scope" wraps the
loss arithmetic in `micrograd.scope("loss")`, so it collapses into one box too; without it, each
sample's (prediction - target)**2 stays drawn on its own. A benchmark, not a test: it prints.
"""

from __future__ import annotations

import random
import sys
import time

from micrograd import scope, topological_order
from micrograd.nn import MLP
from viz import draw
from viz.render import render


def batch_loss(n: int, loss_in_scope: bool):
    model = MLP(2, [16, 16, 1], activation="tanh", seed=0)
    rng = random.Random(0)
    points = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(n)]
    targets = [1.0 if x * y > 0 else -1.0 for x, y in points]
    predictions = [model(p) for p in points]
    if loss_in_scope:
        with scope("loss"):
            loss = sum((p - t) ** 2 for p, t in zip(predictions, targets)) / n
    else:
        loss = sum((p - t) ** 2 for p, t in zip(predictions, targets)) / n
    loss.backward()
    return loss


def main(sizes: list[int]) -> None:
    print(
        f"{'batch':>5} {'loss':<14} {'collapse':<8} {'graph nodes':>11} {'drawn':>6} "
        f"{'build s':>8} {'draw s':>7} {'render s':>9}"
    )
    for n in sizes:
        for loss_in_scope in (False, True):
            start = time.perf_counter()
            loss = batch_loss(n, loss_in_scope)
            built = time.perf_counter() - start
            size = len(topological_order(loss))
            for level in ("neuron", "layer"):
                start = time.perf_counter()
                graph = draw(loss, collapse=level, max_nodes=10_000)
                drawn = time.perf_counter() - start
                start = time.perf_counter()
                render(graph, "svg")
                rendered = time.perf_counter() - start
                count = sum(1 for line in graph.body if "[label=" in line and "->" not in line)
                where = "in scope" if loss_in_scope else "unscoped"
                print(
                    f"{n:>5} {where:<14} {level:<8} {size:>11} {count:>6} {built:>8.3f} {drawn:>7.3f} {rendered:>9.3f}",
                    flush=True,
                )


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [20, 50, 100])
