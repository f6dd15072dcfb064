"""Tape benchmark: one two-moons training step on the tape, side by side with the alternatives.

    python benchmarks/bench_tape.py [--runs 5] [--steps 20]

The step is Karpathy's demo.ipynb loop body (as in moons_step.py): MLP(2, [16, 16, 1]) with ReLU,
SVM loss mean((1 - y·score)+) + 1e-4·Σp², batch 100, backward, SGD update. Printed per step,
medians over `runs` × `steps` timed steps (garbage collector on, as users run it):
  - the tape (micrograd.engine.tape): the graph of one sample recorded once, replayed on the batch;
  - this project's scalar engine (moons_step.py's step: 65,814 nodes per step);
  - Karpathy's micrograd 0.1.0, through bench_engine.py's virtual environment
    (benchmarks/.venv-micrograd, made by `python benchmarks/bench_engine.py`), if present;
  - the same network and loss written by hand in NumPy (matrix products), whose loss and
    gradients are first checked against the tape's to 1e-12;
and the peak memory one step allocates (tracemalloc), tape against scalar engine.
Targets (issue 7): tape <= 5 ms per step, and within 20x of hand-written NumPy.
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_engine import PEER_VENV, run  # noqa: E402
from moons_step import make_step, moons  # noqa: E402

from micrograd import Value  # noqa: E402
from micrograd.engine.tape import Tape  # noqa: E402
from micrograd.nn import MLP  # noqa: E402

ALPHA = 1e-4  # the L2 penalty's weight


def learning_rate(k: int) -> float:
    return 1.0 - 0.9 * k / 100  # the demo's schedule


def tape_step(model: MLP, X: np.ndarray, y: np.ndarray) -> tuple[Callable[[int], float], Tape]:
    """The demo's step on a tape: record one sample's loss (hinge + penalty), replay it on the batch."""
    params = model.parameters()
    x0, x1, yv = Value(0.0, "x0"), Value(0.0, "x1"), Value(0.0, "y")
    loss = (1 + -yv * model([x0, x1])).relu() + ALPHA * sum(p * p for p in params)
    tape = Tape.record(loss, inputs=[x0, x1, yv])
    feed = {x0: X[:, 0], x1: X[:, 1], yv: y}

    def step(k: int) -> float:
        losses = tape.forward(feed)
        model.zero_grad()
        tape.backward(reduce="mean")
        lr = learning_rate(k)
        for p in params:
            p.data -= lr * p.grad
        return float(losses.mean())

    return step, tape


def numpy_weights(model: MLP) -> list[np.ndarray]:
    """[W1, b1, W2, b2, W3, b3] from the model's parameters."""
    arrays = []
    for layer in model.layers:
        arrays.append(np.array([[w.data for w in n.w] for n in layer.neurons]))
        arrays.append(np.array([n.b.data for n in layer.neurons]))
    return arrays


def numpy_loss_and_grads(weights: list[np.ndarray], X: np.ndarray, y: np.ndarray) -> tuple[float, list[np.ndarray]]:
    """The same network and loss by hand: forward with matrix products, backward by the chain rule."""
    W1, b1, W2, b2, W3, b3 = weights
    z1 = X @ W1.T + b1
    h1 = np.maximum(z1, 0.0)
    z2 = h1 @ W2.T + b2
    h2 = np.maximum(z2, 0.0)
    score = (h2 @ W3.T + b3)[:, 0]
    margin = 1.0 - y * score
    n = len(y)
    loss = np.maximum(margin, 0.0).mean() + ALPHA * sum((w * w).sum() for w in weights)
    dscore = (-y * (margin > 0) / n)[:, None]
    dW3, db3 = dscore.T @ h2, dscore.sum(0)
    dz2 = (dscore @ W3) * (z2 > 0)
    dW2, db2 = dz2.T @ h1, dz2.sum(0)
    dz1 = (dz2 @ W2) * (z1 > 0)
    dW1, db1 = dz1.T @ X, dz1.sum(0)
    grads = [dW1, db1, dW2, db2, dW3, db3]
    return float(loss), [g + 2 * ALPHA * w for g, w in zip(grads, weights)]


def numpy_step(weights: list[np.ndarray], X: np.ndarray, y: np.ndarray) -> Callable[[int], float]:
    def step(k: int) -> float:
        loss, grads = numpy_loss_and_grads(weights, X, y)
        lr = learning_rate(k)
        for w, g in zip(weights, grads):
            w -= lr * g
        return loss

    return step


def check_numpy_against_tape(model: MLP, X: np.ndarray, y: np.ndarray) -> float:
    """Loss and every gradient of the hand-written NumPy step against the tape's, to 1e-12 relative
    (plus 1e-13 of the largest gradient, for a gradient that is a sum of cancelling terms: matrix
    products add in another order). Returns the largest difference relative to the largest value."""
    _, tape = tape_step(model, X, y)
    losses = tape.forward({tape.inputs[0]: X[:, 0], tape.inputs[1]: X[:, 1], tape.inputs[2]: y})
    model.zero_grad()
    tape.backward(reduce="mean")
    loss, grads = numpy_loss_and_grads(numpy_weights(model), X, y)
    flat = [v for W, b in zip(grads[0::2], grads[1::2]) for j in range(len(b)) for v in [*W[j], b[j]]]
    ours = np.array([p.grad for p in model.parameters()] + [float(np.mean(losses))])
    theirs = np.array(flat + [loss])
    scale = float(np.max(np.abs(theirs)))
    bad = np.abs(ours - theirs) > 1e-12 * np.abs(theirs) + 1e-13 * scale
    if bad.any():
        i = int(np.argmax(bad))
        raise SystemExit(f"hand-written NumPy and the tape disagree at value {i}: {ours[i]!r} != {theirs[i]!r}")
    worst = float(np.max(np.abs(ours - theirs))) / scale
    model.zero_grad()
    return worst


def time_steps(step: Callable[[int], float], runs: int, steps: int) -> float:
    """Median seconds per step over runs × steps timed steps (after one warm-up step)."""
    step(0)
    times = []
    for _ in range(runs):
        for k in range(steps):
            start = time.perf_counter()
            step(k)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_bytes(step: Callable[[int], float]) -> int:
    """Peak memory allocated during one step, beyond what was allocated before it (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    step(1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - base


def fresh_model() -> MLP:
    return MLP(2, [16, 16, 1], seed=1337)  # Karpathy's demo network: 337 parameters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds of timed steps (median of all steps)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per round")
    parser.add_argument("--peer-steps", type=int, default=3, help="timed steps of micrograd 0.1.0 per round")
    args = parser.parse_args()

    X_list, y_list = moons(100, 0.1, seed=0)
    X, y = np.array(X_list), np.array(y_list)
    worst = check_numpy_against_tape(fresh_model(), X, y)

    model = fresh_model()
    tape_fn, tape = tape_step(model, X, y)
    tape_s = time_steps(tape_fn, args.runs, args.steps)
    numpy_s = time_steps(numpy_step(numpy_weights(fresh_model()), X, y), args.runs, args.steps)
    scalar_model = fresh_model()
    scalar_fn = make_step(scalar_model, X_list, y_list)
    scalar_s = time_steps(scalar_fn, args.runs, max(1, args.steps // 4))
    tape_peak = peak_bytes(tape_step(fresh_model(), X, y)[0])
    scalar_peak = peak_bytes(make_step(fresh_model(), X_list, y_list))

    peer_python = PEER_VENV / "bin" / "python"
    if peer_python.exists():
        peer = statistics.median(run(str(peer_python), args.peer_steps, None)["step_gc_on"] for _ in range(args.runs))
        peer_text = f"{peer * 1000:.1f} ms"
    else:
        peer = None
        peer_text = "not run"

    print(
        f"\nmachine: {platform.machine()}, {platform.processor() or 'cpu'}, Python {platform.python_version()}, "
        f"NumPy {np.__version__}; medians of {args.runs} x {args.steps} steps (scalar engine: "
        f"{args.runs} x {max(1, args.steps // 4)}, micrograd 0.1.0: {args.runs} processes x {args.peer_steps})"
    )
    print(
        f"tape: {len(tape.instructions)} instructions "
        f"({sum(i.varying for i in tape.instructions)} per sample, the rest shared), "
        f"{len(tape.nodes)} slots; hand-written NumPy's loss and gradients agree with it to {worst:.1e} (of the largest)"
    )
    print(f"\n{'two-moons step (batch 100)':34} {'ms/step':>10} {'tape is':>14}")
    rows = [
        ("tape (micrograd.engine.tape)", tape_s),
        ("scalar engine (micrograd-lab)", scalar_s),
        ("micrograd 0.1.0", peer),
        ("hand-written NumPy", numpy_s),
    ]
    for title, seconds in rows:
        if seconds is None:
            print(f"{title:34} {peer_text:>10}")
            continue
        ratio = (
            "-"
            if seconds is tape_s
            else (f"{seconds / tape_s:.0f}x faster" if seconds > tape_s else f"{tape_s / seconds:.1f}x slower")
        )
        print(f"{title:34} {seconds * 1000:10.2f} {ratio:>14}")
    print(
        f"\npeak memory per step: tape {tape_peak / 1e3:.0f} kB, scalar engine {scalar_peak / 1e6:.1f} MB "
        f"({scalar_peak / tape_peak:.0f}x more)"
    )
    if peer is None:
        print(
            "micrograd 0.1.0: benchmarks/.venv-micrograd is missing; `python benchmarks/bench_engine.py` "
            "creates it (the README's engine table has its figure)"
        )
    print("\ntargets:")
    print(f"  tape <= 5 ms per step:            {tape_s * 1000:.2f} ms  {'MET' if tape_s <= 5e-3 else 'NOT MET'}")
    print(
        f"  tape within 20x of NumPy:         {tape_s / numpy_s:.1f}x  {'MET' if tape_s <= 20 * numpy_s else 'NOT MET'}"
    )


if __name__ == "__main__":
    main()
