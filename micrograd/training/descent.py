"""Gradient descent on a function of a few Values: the points an optimizer visits, step by step.

    J = lambda w: (2 * w - 1) ** 2 / 2
    run = descend(J, 0.0, optimizer="sgd", lr=0.1, steps=20)
    run.points[:, 0]     # w₀, w₁, ..., w₂₀;  run.values: J at each of them

The parameters are `Parameter` leaves fed to `f`; each step builds J's graph, runs `backward`, and
calls the optimizer of `micrograd.training.optim` (the same update rules `fit` uses, torch.optim's),
so a path here is the path PyTorch's optimizer takes on the same function. A run stops early, with
`diverged` set and a `message` saying where, the moment J, a gradient or a parameter is NaN or
infinite ("Learning rate: NaN!"): the points up to there are kept, so the overshooting shows.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..checks import check_int, check_number
from ..engine import Parameter, Value
from .optim import OPTIMIZERS, SGD, Optimizer

#: The most steps one run may take: a run keeps every point it visits.
MAX_STEPS = 100_000

#: The optimizer names `descend` takes: every Keras name of `OPTIMIZERS`, and "momentum" (SGD with
#: momentum 0.9 unless `momentum=` says otherwise).
DESCENT_OPTIMIZERS = ("momentum", *OPTIMIZERS)


@dataclass
class Descent:
    """What `descend` did: every point visited, J at each, and whether it stopped early.

    `points` has shape (visited, parameters): row 0 is the start, row k the point after step k.
    `values[k]` is J at `points[k]`. `names` are f's parameter names ("w1", "w2"), `label` says
    which optimizer and learning rate ran ("SGD, η = 0.1"). When J, a gradient or a parameter
    became NaN or infinite, `diverged` is True and `message` says at which step; the last point
    kept is the last finite one.
    """

    points: np.ndarray
    values: np.ndarray
    names: list[str]
    label: str
    diverged: bool = False
    message: str = ""

    @property
    def steps(self) -> int:
        """The steps taken (one fewer than the points)."""
        return len(self.points) - 1

    def __repr__(self) -> str:
        end = ", ".join(f"{n} = {v:.6g}" for n, v in zip(self.names, self.points[-1]))
        status = f"diverged: {self.message}" if self.diverged else f"J = {self.values[-1]:.6g}"
        return f"Descent({self.label}: {self.steps} steps, ending at {end}; {status})"


def parameter_names(f: Callable[..., Any], where: str) -> list[str]:
    """The names of f's positional parameters (`lambda w1, w2: ...` → ["w1", "w2"])."""
    if not callable(f):
        raise TypeError(f"{where}: f must be a function of Values, such as lambda w: (w - 1) ** 2; got {f!r:.60}")
    try:
        signature = inspect.signature(f)
    except (TypeError, ValueError):
        raise TypeError(f"{where}: cannot read the parameters of {f!r:.60}; pass a Python function") from None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    names = [p.name for p in signature.parameters.values() if p.kind in kinds and p.default is p.empty]
    if not names:
        raise ValueError(f"{where}: f must take the parameters as arguments, such as lambda w1, w2: ...")
    return names


def call_function(f: Callable[..., Any], args: Sequence[Value], where: str) -> Value:
    """f(*args), which must give a Value (a number that does not depend on the arguments is refused)."""
    out = f(*args)
    if not isinstance(out, Value):
        raise TypeError(
            f"{where}: f must return a Value computed from its arguments, got {type(out).__name__}: {out!r:.60}"
        )
    return out


def make_optimizer(
    optimizer: str | Optimizer, params: list[Parameter], lr: float, options: dict[str, Any]
) -> Optimizer:
    """The optimizer named (with `lr` and `options`), or the one given, bound to `params`."""
    if isinstance(optimizer, Optimizer):
        if options:
            raise TypeError(f"descend: give the options to {type(optimizer).__name__}(...) itself, not to descend")
        return optimizer.bind(params)
    if not isinstance(optimizer, str):
        raise TypeError(f"descend: optimizer must be a name or an Optimizer, got {optimizer!r:.60}")
    key = optimizer.strip().lower()
    if key == "momentum":
        return SGD(params, lr, **{"momentum": 0.9, **options})
    if key not in OPTIMIZERS:
        raise ValueError(f"descend: unknown optimizer {optimizer!r}; choose one of: {', '.join(DESCENT_OPTIMIZERS)}")
    return OPTIMIZERS[key](params, lr, **options)  # type: ignore[call-arg]


def describe(optimizer: Optimizer) -> str:
    """ "SGD, η = 0.1", "SGD with momentum 0.9, η = 0.1", "Adam, η = 0.05"."""
    name = type(optimizer).__name__
    if isinstance(optimizer, SGD) and optimizer.momentum:
        name = f"{name} with momentum {optimizer.momentum:g}"
    return f"{name}, η = {optimizer.lr:g}"


def descend(
    f: Callable[..., Value],
    start: float | Sequence[float],
    optimizer: str | Optimizer = "sgd",
    lr: float = 0.1,
    steps: int = 100,
    **options: Any,
) -> Descent:
    """Minimise `f` from `start` with `steps` optimizer steps; returns every point visited.

    `f` takes one Value per parameter and returns J as a Value (`lambda w1, w2: ...`); `start`
    gives a number per parameter. `optimizer` is a Keras name ("sgd", "adam", "rmsprop", ...),
    "momentum" (SGD with momentum 0.9), or an `Optimizer` made without parameters
    (`Adam(lr=0.05, betas=(0.8, 0.99))`, whose own lr is used); `options` go to the named
    optimizer (`momentum=0.5`, `betas=...`). Stops early with `diverged=True` when J, a gradient
    or a parameter becomes NaN or infinite.
    """
    names = parameter_names(f, "descend")
    starts = [start] if not isinstance(start, (Sequence, np.ndarray)) or isinstance(start, str) else list(start)
    if len(starts) != len(names):
        raise ValueError(f"descend: f takes {len(names)} parameters ({', '.join(names)}), but start has {len(starts)}")
    params = [Parameter(check_number("descend", f"start[{i}]", s), n) for i, (s, n) in enumerate(zip(starts, names))]
    steps = check_int("descend", "steps", steps, 0)
    if steps > MAX_STEPS:
        raise ValueError(f"descend: steps must be at most {MAX_STEPS} (every point is kept), got {steps}")
    opt = make_optimizer(optimizer, params, check_number("descend", "lr", lr, 0.0, low_open=True), options)
    label = describe(opt)

    points = [[p.data for p in params]]
    values: list[float] = []
    message = ""
    for step in range(steps + 1):  # J at every point; a step from every point but the last
        J = call_function(f, params, "descend")
        at = ", ".join(f"{p.label} = {p.data:.6g}" for p in params)
        if not math.isfinite(J.data):
            if step == 0:
                raise ValueError(f"descend: J = {J.data} at the start ({at}); start where J is finite")
            message = f"J = {J.data} at step {step} ({at})"
            points.pop()
            break
        values.append(J.data)
        if step == steps:
            break
        opt.zero_grad()
        J.backward()
        bad = next((p for p in params if not math.isfinite(p.grad)), None)
        if bad is not None:
            message = f"∂J/∂{bad.label} = {bad.grad} at step {step} ({at})"
            break
        opt.step()
        bad = next((p for p in params if not math.isfinite(p.data)), None)
        if bad is not None:
            message = f"step {step + 1} made {bad.label} = {bad.data} (from {at})"
            break
        points.append([p.data for p in params])
    if message:
        message += f'; the learning rate {opt.lr:g} is too large ("Learning rate: NaN!")'
    return Descent(
        points=np.array(points, dtype=np.float64).reshape(len(points), len(names)),
        values=np.array(values, dtype=np.float64),
        names=names,
        label=label,
        diverged=bool(message),
        message=message,
    )


__all__ = ["DESCENT_OPTIMIZERS", "MAX_STEPS", "Descent", "descend"]
