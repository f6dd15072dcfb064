"""One engine's side of bench_engine.py: times Karpathy's two-moons training step.

Run by bench_engine.py once with this project's Python and once with a virtual environment holding
Karpathy's `micrograd==0.1.0`; both import `micrograd`, so the same code measures both engines.
Prints one JSON line: seconds per step (gc on and off), 1e6-node chain backward, bytes per node.
"""

from __future__ import annotations

import gc
import json
import random
import statistics
import sys
import time
import tracemalloc

import numpy as np

from micrograd.engine import Value
from micrograd.nn import MLP


def moons(n: int, noise: float, seed: int) -> tuple[list[list[float]], list[float]]:
    """sklearn's make_moons, in NumPy: two interleaved half circles, labels ±1 as in the demo."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, np.pi, n // 2)
    upper = np.c_[np.cos(t), np.sin(t)]
    lower = np.c_[1 - np.cos(t), 0.5 - np.sin(t)]
    X = np.r_[upper, lower] + rng.normal(0, noise, (n, 2))
    y = np.r_[np.ones(n // 2), -np.ones(n // 2)]
    return X.tolist(), y.tolist()


def make_step(model, X, y):
    """Karpathy's demo.ipynb loop body: SVM max-margin loss + 1e-4 L2, backward, SGD update."""
    params = model.parameters()

    def step(k: int) -> float:
        inputs = [list(map(Value, xrow)) for xrow in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum(p * p for p in params)
        total_loss = data_loss + reg_loss
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in params:
            p.data -= learning_rate * p.grad
        return total_loss.data

    return step


def time_steps(step, steps: int) -> float:
    times = []
    for k in range(steps):
        start = time.perf_counter()
        step(k)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def chain_backward(n: int) -> float | str:
    """Seconds for backward() through a chain of n nodes, or the error the engine raises."""
    z = Value(1.0)
    for _ in range(n // 2):
        z = z * 1.0  # two nodes per link: the product and its constant leaf
    start = time.perf_counter()
    try:
        z.backward()
    except RecursionError:
        return "RecursionError"
    return time.perf_counter() - start


def bytes_per_node(n: int) -> float:
    """Memory held by a graph of n `+` nodes on shared leaves, per node (tracemalloc)."""
    a, b = Value(1.0), Value(2.0)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    nodes = [a + b for _ in range(n)]
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(nodes) == n
    return (after - before) / n


def main() -> None:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    X, y = moons(100, 0.1, seed=0)
    random.seed(1337)
    model = MLP(2, [16, 16, 1])  # Karpathy's demo network: 337 parameters
    step = make_step(model, X, y)
    step(0)  # warm up
    gc_on = time_steps(step, steps)
    gc.disable()
    gc_off = time_steps(step, steps)
    gc.enable()
    print(
        json.dumps(
            {
                "step_gc_on": gc_on,
                "step_gc_off": gc_off,
                "chain_backward_1e6": chain_backward(1_000_000),
                "bytes_per_node": bytes_per_node(100_000),
            }
        )
    )


if __name__ == "__main__":
    main()
