"""Workload benchmark (issue 17): micrograd's `fit` against single-threaded PyTorch and hand-written NumPy.

    python benchmarks/bench_workloads.py            # 5 rounds; `--rounds 3 --steps 5` for a shorter run
    python benchmarks/bench_workloads.py --quick    # 1 round, fewer steps: a smoke run

Every figure is measured side by side in one run: each round starts one process per engine
(micrograd, PyTorch, NumPy), one after the other, and the table shows the median over rounds.
Each process gets one BLAS thread (OPENBLAS/OMP/MKL_NUM_THREADS=1, torch.set_num_threads(1)) and
runs without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (set on some machines for old OpenBLAS builds,
they slow a current NumPy; the processes print the BLAS kernel they run, with threadpoolctl).

Workloads, float64, ReLU hidden layers, plain SGD (lr 0.01):
  - moons   MLP(2, [16, 16, 1]),   sigmoid + binary cross-entropy, batch 100 (the README's model);
  - wide    MLP(2, [256, 256, 1]), the same loss, batch 100;
  - digits  MLP(64, [64, 64, 10]), softmax + cross-entropy, batch 32 and batch 256 (load_digits / 16);
  - mnist   MLP(784, [128, 10]),   softmax + cross-entropy, batch 64, random pixels and labels.
Figures:
  - ms per step: forward, loss, backward and the SGD update of one batch. micrograd runs as a user
    runs it, `Sequential([Dense...]).compile(...).fit(...)` for two epochs of `steps` batches; a
    callback stamps the clock at the start and end of each epoch, and a step is the second epoch's
    time over its steps (the first epoch, with the recording, warms up).
    PyTorch: `zero_grad, model(x), loss, backward, step`; NumPy: matrix products written by hand;
  - record: how long `fit` works before its first step (recording the model on its tape);
  - peak memory of one step: tracemalloc's peak above what was allocated before the step
    (micrograd and NumPy: NumPy reports its arrays to tracemalloc). PyTorch's allocator is
    invisible to tracemalloc, so its figure adds up the allocations and frees that
    torch.profiler(profile_memory=True) records during one step, in time order, and takes the peak;
  - ten epochs of the digits (all 1,797) with `fit`, batch 32, shuffled, recording included,
    against the same loop written in PyTorch.
Targets (issue 17): every step within 2x of PyTorch, the MNIST shape within 1.5x, the moons step
faster than PyTorch, peak memory per step within 10x of NumPy's, ten digits epochs under 1 s.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # micrograd from this checkout, imported by the workers only when they run

# name: (layer sizes, output, batch). "binary": one sigmoid unit; "softmax": cross-entropy over classes.
WORKLOADS: dict[str, tuple[list[int], str, int]] = {
    "moons MLP(2,[16,16,1]) b100": ([2, 16, 16, 1], "binary", 100),
    "MLP(2,[256,256,1]) b100": ([2, 256, 256, 1], "binary", 100),
    "digits MLP(64,[64,64,10]) b32": ([64, 64, 64, 10], "softmax", 32),
    "digits MLP(64,[64,64,10]) b256": ([64, 64, 64, 10], "softmax", 256),
    "MNIST MLP(784,[128,10]) b64": ([784, 128, 10], "softmax", 64),
}
ENGINES = ("micrograd", "torch", "numpy")
LR = 0.01
EPOCHS, EPOCH_BATCH = 10, 32
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
CORETYPE_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


# -- data (the same in every process) -------------------------------------------------------------


def data(name: str, rows: int) -> tuple[Any, Any]:
    """`rows` samples for a workload: X float64 (rows, inputs), y int64 (rows,)."""
    import numpy as np

    from micrograd.datasets import load_digits, make_moons

    sizes, _, _ = WORKLOADS[name]
    if sizes[0] == 2:
        return make_moons(rows, noise=0.1, seed=0)
    if sizes[0] == 64:
        X, y = load_digits()
        return np.resize(X / 16.0, (rows, 64)), np.resize(y, rows)
    rng = np.random.default_rng(0)
    return rng.random((rows, sizes[0])), rng.integers(0, sizes[-1], rows)


# -- the three engines: each returns {"step": [seconds...], "record": s, "memory": bytes} ----------


def run_micrograd(name: str, steps: int) -> dict[str, Any]:
    from micrograd import Dense, Sequential
    from micrograd.optim import SGD
    from micrograd.training.callbacks import Callback

    sizes, output, batch = WORKLOADS[name]
    X, y = data(name, (steps + 1) * batch)

    def model() -> Sequential:
        layers = [Dense(units, "relu") for units in sizes[1:-1]]
        layers.append(Dense(sizes[-1], "sigmoid" if output == "binary" else "softmax"))
        m = Sequential(layers, input_dim=sizes[0], seed=0)
        loss = "binary_crossentropy" if output == "binary" else "sparse_categorical_crossentropy"
        m.compile(loss=loss, optimizer=SGD(lr=LR))
        return m

    class Clock(Callback):
        # Epoch stamps only: a callback with an `on_batch_end` of its own makes `fit` write the
        # weights into the model's Values after every batch (so the callback can read them), a
        # cost a user's plain `fit` does not pay. Epoch 1 warms up; epoch 2's `steps` steps are timed.
        def on_train_begin(self, logs: Any = None) -> None:
            self.begun = time.perf_counter()
            self.epochs: list[tuple[float, float]] = []

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.epochs.append((self.started, time.perf_counter()))

    clock = Clock()
    start = time.perf_counter()
    model().fit(
        X[: steps * batch], y[: steps * batch], epochs=2, batch_size=batch, shuffle=False, verbose=0, callbacks=[clock]
    )
    begun, ended = clock.epochs[1]
    times = [(ended - begun) / steps]

    class Memory(Callback):
        """tracemalloc from the end of step 1 to the end of step 2."""

        def on_batch_end(self, batch: int, logs: Any = None) -> None:
            if batch == 0:
                gc.collect()
                tracemalloc.start()
                self.base = tracemalloc.get_traced_memory()[0]
            elif batch == 1:
                self.peak = tracemalloc.get_traced_memory()[1] - self.base
                tracemalloc.stop()

    memory = Memory()
    model().fit(
        X[: 3 * batch], y[: 3 * batch], epochs=1, batch_size=batch, shuffle=False, verbose=0, callbacks=[memory]
    )
    return {"step": times, "record": clock.begun - start, "memory": memory.peak}


def run_micrograd_epochs() -> float:
    """Ten epochs of the digits with `fit` (batch 32), recording included."""
    from micrograd import Dense, Sequential
    from micrograd.datasets import load_digits
    from micrograd.optim import SGD

    X, y = load_digits()
    model = Sequential([Dense(64, "relu"), Dense(64, "relu"), Dense(10, "softmax")], input_dim=64, seed=0)
    model.compile(loss="sparse_categorical_crossentropy", optimizer=SGD(lr=0.1))
    start = time.perf_counter()
    model.fit(X / 16.0, y, epochs=EPOCHS, batch_size=EPOCH_BATCH, seed=0, verbose=0)
    return time.perf_counter() - start


def torch_model(sizes: list[int]) -> Any:
    import torch

    layers: list[Any] = []
    for nin, nout in itertools.pairwise(sizes):
        layers += [torch.nn.Linear(nin, nout, dtype=torch.float64), torch.nn.ReLU()]
    return torch.nn.Sequential(*layers[:-1])  # logits: the loss applies the sigmoid / softmax


def torch_loss(output: str) -> Any:
    import torch

    if output == "binary":
        bce = torch.nn.BCEWithLogitsLoss()
        return lambda logits, y: bce(logits[:, 0], y)
    return torch.nn.CrossEntropyLoss()


def run_torch(name: str, steps: int) -> dict[str, Any]:
    import torch

    torch.manual_seed(0)
    sizes, output, batch = WORKLOADS[name]
    X, y = data(name, (steps + 1) * batch)
    Xt = torch.tensor(X, dtype=torch.float64)
    yt = torch.tensor(y, dtype=torch.float64 if output == "binary" else torch.int64)
    model, loss_fn = torch_model(sizes), torch_loss(output)
    opt = torch.optim.SGD(model.parameters(), lr=LR)

    def step(k: int) -> None:
        xb, yb = Xt[k * batch : (k + 1) * batch], yt[k * batch : (k + 1) * batch]
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()
        opt.step()

    times = time_each(step, steps + 1)[1:]
    return {"step": times, "record": None, "memory": torch_peak_bytes(lambda: step(0))}


def run_torch_epochs() -> float:
    import torch

    from micrograd.datasets import load_digits

    torch.manual_seed(0)
    X, y = load_digits()
    Xt, yt = torch.tensor(X / 16.0), torch.tensor(y)
    model, loss_fn = torch_model([64, 64, 64, 10]), torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    start = time.perf_counter()
    for _ in range(EPOCHS):
        order = torch.randperm(len(Xt))
        for i in range(0, len(Xt), EPOCH_BATCH):
            rows = order[i : i + EPOCH_BATCH]
            opt.zero_grad()
            loss_fn(model(Xt[rows]), yt[rows]).backward()
            opt.step()
    return time.perf_counter() - start


def numpy_init(sizes: list[int]) -> list[Any]:
    """[W1, b1, W2, b2, ...]: Glorot-uniform weights (rows: a layer's neurons), zero biases."""
    import numpy as np

    rng = np.random.default_rng(0)
    weights = []
    for nin, nout in itertools.pairwise(sizes):
        limit = (6.0 / (nin + nout)) ** 0.5
        weights += [rng.uniform(-limit, limit, (nout, nin)), np.zeros(nout)]
    return weights


def numpy_loss_and_grads(weights: list[Any], X: Any, y: Any, output: str) -> tuple[float, list[Any]]:
    """The MLP by hand: forward with matrix products, backward by the chain rule, mean loss."""
    import numpy as np

    n = len(X)
    activations = [X]
    for i in range(0, len(weights), 2):
        z = activations[-1] @ weights[i].T + weights[i + 1]
        activations.append(np.maximum(z, 0.0) if i + 2 < len(weights) else z)
    z = activations.pop()
    if output == "binary":
        p = 1.0 / (1.0 + np.exp(-z[:, 0]))
        loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
        dz = ((p - y) / n)[:, None]
    else:
        shifted = z - z.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -np.mean(log_p[np.arange(n), y])
        dz = np.exp(log_p)
        dz[np.arange(n), y] -= 1.0
        dz /= n
    grads: list[Any] = [None] * len(weights)
    for i in range(len(weights) - 2, -1, -2):
        h = activations[i // 2]
        grads[i], grads[i + 1] = dz.T @ h, dz.sum(axis=0)
        if i:
            dz = (dz @ weights[i]) * (h > 0)
    return float(loss), grads


def run_numpy(name: str, steps: int) -> dict[str, Any]:
    sizes, output, batch = WORKLOADS[name]
    X, y = data(name, (steps + 1) * batch)
    weights = numpy_init(sizes)

    def step(k: int) -> None:
        _, grads = numpy_loss_and_grads(weights, X[k * batch : (k + 1) * batch], y[k * batch : (k + 1) * batch], output)
        for w, g in zip(weights, grads):
            w -= LR * g

    times = time_each(step, steps + 1)[1:]
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    step(0)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return {"step": times, "record": None, "memory": peak}


def time_each(step: Callable[[int], None], steps: int) -> list[float]:
    times = []
    for k in range(steps):
        start = time.perf_counter()
        step(k)
        times.append(time.perf_counter() - start)
    return times


def torch_peak_bytes(step: Callable[[], None]) -> int:
    """Peak of the bytes PyTorch's CPU allocator holds during `step`, above what it held before:
    the allocations and frees torch.profiler records, added up in time order."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    events = [e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"]
    held = peak = 0
    for event in sorted(events, key=lambda e: e.start_ns()):
        held += event.nbytes()  # negative for a free
        peak = max(peak, held)
    return peak


def blas_report(engine: str) -> str:
    """Which BLAS (and kernel) this process runs, and with how many threads."""
    import numpy as np

    parts = [f"NumPy {np.__version__}"]
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            if pool.get("user_api") == "blas":
                parts.append(
                    f"{pool.get('internal_api')} {pool.get('version')} kernel {pool.get('architecture')}, "
                    f"{pool.get('num_threads')} thread(s)"
                )
    except ImportError:
        parts.append("BLAS kernel unknown (pip install threadpoolctl to see it)")
    if engine == "torch":
        import torch

        parts.append(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    return "; ".join(parts)


def worker(engine: str, steps: dict[str, int]) -> None:
    """One engine's round: every workload, then the ten epochs; one JSON line on stdout."""
    if engine == "torch":
        import torch

        torch.set_num_threads(1)
    run = {"micrograd": run_micrograd, "torch": run_torch, "numpy": run_numpy}[engine]
    results: dict[str, Any] = {"blas": blas_report(engine), "workloads": {}}
    for name in WORKLOADS:
        results["workloads"][name] = run(name, steps[name])
    if engine == "micrograd":
        results["epochs"] = run_micrograd_epochs()
    elif engine == "torch":
        results["epochs"] = run_torch_epochs()
    print(json.dumps(results))


# -- the parent: rounds, medians, the table -------------------------------------------------------


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    for key in THREAD_VARIABLES:
        env[key] = "1"
    for key in CORETYPE_VARIABLES:
        env.pop(key, None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return env


def run_round(engine: str, steps: dict[str, int]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", engine, "--steps-json", json.dumps(steps)],
        check=True,
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def check_numpy_against_torch() -> float:
    """The hand-written NumPy loss and gradients against PyTorch's autograd on every workload
    (1e-10 relative); returns the largest relative difference."""
    import numpy as np
    import torch

    worst = 0.0
    for name, (sizes, output, batch) in WORKLOADS.items():
        X, y = data(name, batch)
        weights = numpy_init(sizes)
        loss, grads = numpy_loss_and_grads(weights, X, y, output)
        model = torch_model(sizes)
        linears = [m for m in model if isinstance(m, torch.nn.Linear)]
        with torch.no_grad():
            for k, layer in enumerate(linears):
                layer.weight.copy_(torch.tensor(weights[2 * k]))
                layer.bias.copy_(torch.tensor(weights[2 * k + 1]))
        target = torch.tensor(y, dtype=torch.float64 if output == "binary" else torch.int64)
        torch_loss_value = torch_loss(output)(model(torch.tensor(X)), target)
        torch_loss_value.backward()
        theirs = [g for layer in linears for g in (layer.weight.grad.numpy(), layer.bias.grad.numpy())]
        for ours, ref in [(np.array(loss), np.array(torch_loss_value.item())), *zip(grads, theirs)]:
            scale = max(float(np.max(np.abs(ref))), 1e-300)
            difference = float(np.max(np.abs(ours - ref))) / scale
            if difference > 1e-10:
                raise SystemExit(f"{name}: the hand-written NumPy step disagrees with PyTorch ({difference:.1e})")
            worst = max(worst, difference)
    return worst


def median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def fmt_ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.2f}"


def fmt_bytes(n: float | None) -> str:
    if n is None:
        return "-"
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 round and few steps: a smoke run")
    parser.add_argument("--rounds", type=int, default=None, help="rounds, one process per engine each (default 5)")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per workload per round (default 10)")
    parser.add_argument("--worker", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--steps-json", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, json.loads(args.steps_json))
        return

    rounds = args.rounds or (1 if args.quick else 5)
    base_steps = args.steps or (3 if args.quick else 10)
    steps = {name: base_steps for name in WORKLOADS}
    worst = check_numpy_against_torch()

    results: dict[str, list[dict[str, Any]]] = {engine: [] for engine in ENGINES}
    for r in range(rounds):
        order = ENGINES if r % 2 == 0 else ENGINES[::-1]  # interleaved, in alternating order
        for engine in order:
            results[engine].append(run_round(engine, steps))
        print(f"round {r + 1}/{rounds} done", file=sys.stderr, flush=True)

    def figure(engine: str, name: str, key: str) -> float | None:
        if key == "step":  # the median of each round's median step
            return median([statistics.median(res["workloads"][name]["step"]) for res in results[engine]])
        return median([res["workloads"][name][key] for res in results[engine]])

    print(
        f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"medians of {rounds} rounds (one process per engine per round) x {base_steps} steps"
    )
    for engine in ENGINES:
        print(f"  {engine:9}: {results[engine][0]['blas']}")
    print(f"hand-written NumPy: loss and gradients agree with PyTorch's autograd to {worst:.1e} (relative)")

    checks: list[tuple[str, str, bool]] = []
    header = (
        f"\n{'workload (ms per step)':32} {'micrograd':>10} {'PyTorch':>9} {'NumPy':>8} {'vs torch':>9} "
        f"{'vs NumPy':>9} {'record':>9} {'mem micrograd*':>15} {'mem NumPy':>10} {'mem torch':>11}"
    )
    print(header)
    print("-" * (len(header) - 1))
    for name in WORKLOADS:
        ours, theirs, hand = (figure(e, name, "step") for e in ENGINES)
        assert ours is not None and theirs is not None and hand is not None
        record = figure("micrograd", name, "record")
        mem_ours, mem_torch, mem_hand = (figure(e, name, "memory") for e in ENGINES)
        print(
            f"{name:32} {fmt_ms(ours):>10} {fmt_ms(theirs):>9} {fmt_ms(hand):>8} {ours / theirs:8.1f}x "
            f"{ours / hand:8.1f}x {record:8.2f}s {fmt_bytes(mem_ours):>15} {fmt_bytes(mem_hand):>10} "
            f"{fmt_bytes(mem_torch):>11}"
        )
        ratio = ours / theirs
        if name.startswith("moons"):
            checks.append((f"{name}: faster than PyTorch", f"{ratio:.2f}x", ratio < 1.0))
        elif name.startswith("MNIST"):
            checks.append((f"{name}: within 1.5x of PyTorch", f"{ratio:.1f}x", ratio <= 1.5))
        else:
            checks.append((f"{name}: within 2x of PyTorch", f"{ratio:.1f}x", ratio <= 2.0))
        if mem_ours is not None and mem_hand:
            mem_ratio = mem_ours / mem_hand
            checks.append((f"{name}: memory within 10x of NumPy", f"{mem_ratio:.1f}x", mem_ratio <= 10.0))
    epochs_ours = median([res["epochs"] for res in results["micrograd"]])
    epochs_torch = median([res["epochs"] for res in results["torch"]])
    assert epochs_ours is not None and epochs_torch is not None
    print(
        f"\nten digits epochs (1,797 samples, batch 32, recording included): micrograd fit {epochs_ours:.2f} s, "
        f"PyTorch loop {epochs_torch:.2f} s ({epochs_ours / epochs_torch:.1f}x)"
    )
    checks.append(("ten digits epochs with fit under 1 s", f"{epochs_ours:.2f} s", epochs_ours < 1.0))
    print(
        "* memory: the peak bytes allocated during one step, above those held before it: tracemalloc for "
        "micrograd and NumPy, torch.profiler's allocation events for PyTorch (tracemalloc cannot see its allocator)"
    )
    print("\ntargets:")
    for what, value, met in checks:
        print(f"  {what:58} {value:>9}  {'MET' if met else 'NOT MET'}")


if __name__ == "__main__":
    main()
