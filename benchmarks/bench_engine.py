"""Engine benchmark: this project against Karpathy's micrograd 0.1.0, side by side.

    python benchmarks/bench_engine.py [--runs 5] [--steps 9]

Installs `micrograd==0.1.0` (and NumPy) into benchmarks/.venv-micrograd on first use, then runs
moons_step.py alternately under both engines and prints the median of the runs for:
  - one training step of Karpathy's two-moons demo (MLP(2, [16, 16, 1]), 100 points, SVM loss
    + 1e-4 L2, SGD), with the garbage collector on, as users run it, and off;
  - backward() through a 1,000,000-node chain;
  - bytes of memory per graph node.
Targets (issue 2): step >= 10x faster than micrograd with gc on; bytes per node <= half.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEER_VENV = HERE / ".venv-micrograd"


def peer_python() -> Path:
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        print("creating benchmarks/.venv-micrograd with micrograd==0.1.0 ...", flush=True)
        venv.create(PEER_VENV, with_pip=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "micrograd==0.1.0", "numpy"], check=True)
    return python


def run(python: str, steps: int, extra_path: str | None) -> dict:
    env = {"PATH": "/usr/bin:/bin"}
    if extra_path:
        env["PYTHONPATH"] = extra_path
    out = subprocess.run(
        [python, str(HERE / "moons_step.py"), str(steps)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=HERE,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def median(values: list) -> float | str:
    numbers = [v for v in values if isinstance(v, (int, float))]
    return statistics.median(numbers) if numbers else values[0]


def fmt(x: float | str, unit: str) -> str:
    if isinstance(x, str):
        return x
    return f"{x * 1000:.1f} ms" if unit == "s" else f"{x:.0f} B"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="processes per engine (median taken)")
    parser.add_argument("--steps", type=int, default=9, help="timed steps per process (median taken)")
    args = parser.parse_args()

    ours_python, theirs_python = sys.executable, str(peer_python())
    results: dict[str, list[dict]] = {"ours": [], "micrograd": []}
    for i in range(args.runs):  # alternate, so both see the same machine conditions
        results["micrograd"].append(run(theirs_python, args.steps, None))
        results["ours"].append(run(ours_python, args.steps, str(ROOT)))
        print(f"run {i + 1}/{args.runs} done", file=sys.stderr, flush=True)

    keys = [
        ("step_gc_on", "s", "two-moons step, gc on (as users run it)"),
        ("step_gc_off", "s", "two-moons step, gc off"),
        ("chain_backward_1e6", "s", "backward, 1,000,000-node chain"),
        ("bytes_per_node", "B", "memory per node"),
    ]
    print(
        f"\nmachine: {platform.machine()}, {platform.processor() or 'cpu'}, Python {platform.python_version()},"
        f" medians of {args.runs} runs x {args.steps} steps"
    )
    print(f"{'figure':42} {'micrograd 0.1.0':>16} {'micrograd-lab':>14} {'ratio':>8}")
    summary = {}
    for key, unit, title in keys:
        theirs = median([r[key] for r in results["micrograd"]])
        ours = median([r[key] for r in results["ours"]])
        ratio = f"{theirs / ours:.1f}x" if not isinstance(theirs, str) and not isinstance(ours, str) else "-"
        summary[key] = (theirs, ours)
        print(f"{title:42} {fmt(theirs, unit):>16} {fmt(ours, unit):>14} {ratio:>8}")

    theirs, ours = summary["step_gc_on"]
    mem_theirs, mem_ours = summary["bytes_per_node"]
    print("\ntargets:")
    print(f"  step >= 10x faster (gc on): {theirs / ours:.1f}x  {'MET' if theirs / ours >= 10 else 'NOT MET'}")
    print(
        f"  bytes per node <= half:     {mem_ours / mem_theirs:.2f} of micrograd's  "
        f"{'MET' if mem_ours <= mem_theirs / 2 else 'NOT MET'}"
    )
    chain = summary["chain_backward_1e6"][1]
    print(f"  1e6-node chain backward:    {fmt(chain, 's')}  {'MET' if not isinstance(chain, str) else 'NOT MET'}")


if __name__ == "__main__":
    main()
