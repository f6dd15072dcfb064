"""Loss landscapes: J over a grid of one or two parameters, and the paths optimizers take across it.

Two kinds, one record (`Landscape`):
- `function_landscape(f, span)`: a function of one or two Values, `lambda w: (2 * w - 1) ** 2 / 2`
  or `lambda w1, w2: ...`, evaluated on a grid of its parameters;
- `model_landscape(model, X, y)`: a model's loss on data along one or two directions d₁, d₂ through
  its current weights θ*, L(θ* + α·d₁ + β·d₂), as Li et al. draw them in "Visualizing the loss
  landscape of neural nets" (2018). The directions are random and filter-normalised
  (`random_directions`); the model's weights are put back afterwards.

`Landscape.trace(path)` places the points an optimizer visited on the landscape's axes: a `Descent`
(`micrograd.training.descent.descend`) for a function; for a model, the weights a
`WeightRecorder` callback kept during `fit`, projected onto the directions. Everything here is
numbers (NumPy arrays); `viz.plot_landscape` draws them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..checks import check_int, check_number, check_seed
from ..engine import Parameter, Value, no_grad
from .callbacks import WeightRecorder
from .descent import Descent, call_function, parameter_names
from .losses import get_loss

#: The most grid points one landscape may have (each is a loss evaluation).
MAX_GRID_POINTS = 40_000

#: Grid points per axis when `resolution` is not given.
DEFAULT_RESOLUTION = {1: 201, 2: 61}

Span = tuple[float, float]


@dataclass
class Trace:
    """A path on a landscape: its points on the landscape's axes and J at each.

    `coords` has shape (points, dims); `values[k]` is J at point k (for a model, the loss at the
    weights recorded, not at their projection on the plane).
    """

    coords: np.ndarray
    values: np.ndarray
    label: str = ""
    diverged: bool = False
    unit: str = "steps"  # what one move along the path is: "steps", "epochs" or "updates"


@dataclass
class Landscape:
    """J on a grid: `values` has shape (n,) along one axis, (n₂, n₁) on two (row j, column i is
    J at `axes[0][i]`, `axes[1][j]`, NumPy's meshgrid order). `names` name the axes ("w1", "w2";
    "α", "β" along directions), `value_name` the quantity ("J", "loss").

    A model's landscape also keeps its centre (the weights θ*, `origin`) and its `directions`.
    """

    axes: list[np.ndarray]
    values: np.ndarray
    names: list[str]
    value_name: str
    title: str = ""
    origin: np.ndarray | None = None
    directions: list[np.ndarray] | None = None
    evaluate: Callable[[np.ndarray], float] | None = field(default=None, repr=False)

    @property
    def dims(self) -> int:
        return len(self.axes)

    def coordinates(self, points: Any) -> np.ndarray:
        """Points of the parameter space (one per row) on this landscape's axes, shape (points, dims).

        A function's parameters are its axes. A model's weights θ are projected onto the
        directions: the (α, β) whose θ* + α·d₁ + β·d₂ is nearest θ (least squares; exact for any
        θ in the plane).
        """
        points = np.asarray(points, dtype=np.float64)
        if points.ndim == 1:
            points = points.reshape(-1, 1) if self.directions is None else points.reshape(1, -1)
        if self.directions is None or self.origin is None:
            if points.ndim != 2 or points.shape[1] != self.dims:
                raise ValueError(
                    f"a path on this landscape needs {self.dims} coordinates per point, got {points.shape}"
                )
            return points
        if points.ndim != 2 or points.shape[1] != self.origin.size:
            raise ValueError(
                f"a path on this model's landscape needs {self.origin.size} weights per point (the model's), "
                f"got shape {points.shape}"
            )
        basis = np.column_stack(self.directions)
        coords, *_ = np.linalg.lstsq(basis, (points - self.origin).T, rcond=None)
        return np.asarray(coords.T)

    def trace(self, path: Any, label: str = "") -> Trace:
        """A path's points on the landscape's axes and J at each.

        `path`: a `Descent` (its points and values), a `WeightRecorder` (the weights it kept; J is
        evaluated at each), or an array of points (one per row).
        """
        diverged = False
        unit = "steps"
        values: np.ndarray | None = None
        if isinstance(path, Descent):
            points, values, diverged = path.points, path.values, path.diverged
            label = label or path.label
        elif isinstance(path, WeightRecorder):
            if self.origin is None:
                raise ValueError("a WeightRecorder holds a model's weights: draw it on a model's landscape")
            points = path_weights(path, self.origin.size, "Landscape.trace")
            unit = "epochs" if path.every == "epoch" else "updates"
        else:
            points = np.asarray(path, dtype=np.float64)
        coords = self.coordinates(points)
        if len(coords) > MAX_GRID_POINTS:
            raise ValueError(f"a path may have at most {MAX_GRID_POINTS} points, got {len(coords)}")
        if values is None:
            if self.evaluate is None:
                raise ValueError("this landscape cannot evaluate J at other points")
            rows = points.reshape(len(coords), -1)
            values = np.array([self.evaluate(row) for row in rows], dtype=np.float64)
        return Trace(coords, np.asarray(values, dtype=np.float64), label, diverged, unit)


# -- the grid --------------------------------------------------------------------------------------


def check_span(where: str, span: Any, dims: int) -> list[Span]:
    """One (low, high) per axis: a pair for every axis, or one pair per axis."""
    pairs: Any = span
    if isinstance(span, (int, float)) and not isinstance(span, bool):
        pairs = [(-span, span)]
    elif isinstance(span, (tuple, list, np.ndarray)) and len(span) == 2 and all(np.isscalar(s) for s in span):
        pairs = [span]
    if not isinstance(pairs, (tuple, list)) or len(pairs) not in (1, dims):
        raise ValueError(f"{where}: span must be (low, high) or one (low, high) per axis ({dims}), got {span!r:.80}")
    checked = []
    for k, pair in enumerate(pairs):
        if not isinstance(pair, (tuple, list, np.ndarray)) or len(pair) != 2:
            raise ValueError(f"{where}: span[{k}] must be a pair (low, high), got {pair!r:.60}")
        low = check_number(where, f"span[{k}] low", pair[0])
        high = check_number(where, f"span[{k}] high", pair[1])
        if not low < high:
            raise ValueError(f"{where}: span[{k}] must have low < high, got ({low:g}, {high:g})")
        checked.append((low, high))
    return checked * dims if len(checked) == 1 else checked


def grid_axes(where: str, spans: list[Span], resolution: int | None) -> list[np.ndarray]:
    """`resolution` evenly spaced points across each span (both ends included), at most
    `MAX_GRID_POINTS` in all."""
    dims = len(spans)
    n = DEFAULT_RESOLUTION[dims] if resolution is None else check_int(where, "resolution", resolution, 2)
    if n**dims > MAX_GRID_POINTS:
        most = math.isqrt(MAX_GRID_POINTS) if dims == 2 else MAX_GRID_POINTS
        raise ValueError(
            f"{where}: resolution {n} makes {n**dims} grid points, more than the {MAX_GRID_POINTS} allowed; "
            f"use at most {most} per axis"
        )
    return [np.linspace(low, high, n) for low, high in spans]


def fill_grid(axes: list[np.ndarray], value_at: Callable[[list[float]], float]) -> np.ndarray:
    """J at every grid point: shape (n,) on one axis, (n₂, n₁) on two."""
    if len(axes) == 1:
        return np.array([value_at([float(a)]) for a in axes[0]], dtype=np.float64)
    return np.array([[value_at([float(a), float(b)]) for a in axes[0]] for b in axes[1]], dtype=np.float64)


def check_dims(where: str, dims: int) -> int:
    if dims not in (1, 2):
        raise ValueError(f"{where}: a landscape has 1 or 2 axes (a curve, or a contour/surface), got {dims!r:.20}")
    return dims


# -- a function of Values --------------------------------------------------------------------------


def function_landscape(f: Callable[..., Value], span: Any, resolution: int | None = None) -> Landscape:
    """J = f(w) or f(w1, w2) on a grid over `span`: (low, high) for every axis, or one pair per axis.

    `f` takes one Value per parameter and returns a Value; it is evaluated without building
    graphs. Points where J is NaN or infinite are kept as they are (a plot leaves them blank).
    """
    names = parameter_names(f, "function_landscape")
    dims = check_dims("function_landscape", len(names))
    axes = grid_axes("function_landscape", check_span("function_landscape", span, dims), resolution)

    def value_at(point: Sequence[float]) -> float:
        with no_grad():
            args = [Value(float(x), name) for x, name in zip(point, names)]
            try:
                return call_function(f, args, "function_landscape").data
            except (ArithmeticError, ValueError) as error:
                at = ", ".join(f"{n} = {x:.6g}" for n, x in zip(names, point))
                raise ValueError(f"function_landscape: f fails at {at}: {error}") from error

    return Landscape(
        axes=axes,
        values=fill_grid(axes, value_at),
        names=names,
        value_name="J",
        evaluate=lambda point: value_at(np.asarray(point, dtype=np.float64).tolist()),
    )


# -- a model's loss along directions ---------------------------------------------------------------

_NEURON_PARAMETER = re.compile(r"^(?P<neuron>.+)\.(?:w\d+|b)$")


def neuron_blocks(params: Sequence[Parameter]) -> tuple[list[list[int]], list[int]]:
    """([the indices of each neuron's weights], [the indices of the biases]).

    A neuron of `micrograd.nn` labels its parameters "L1.N0.w0", "L1.N0.w1", ... and "L1.N0.b": its
    weights are one row of its Dense layer's kernel, what Li et al. call a filter.
    """
    rows: dict[str, list[int]] = {}
    biases = []
    for i, p in enumerate(params):
        match = _NEURON_PARAMETER.match(p.label)
        if match is None:
            raise ValueError(
                f"parameter {i} is labelled {p.label!r:.40}, not as a neuron's weight or bias ('L1.N0.w0', "
                "'L1.N0.b'): filter normalisation needs the neurons of a micrograd MLP or Sequential"
            )
        if p.label.endswith(".b"):
            biases.append(i)
        else:
            rows.setdefault(match["neuron"], []).append(i)
    return list(rows.values()), biases


def random_directions(model: Any, count: int = 2, seed: int = 0) -> list[np.ndarray]:
    """`count` random directions in the model's weight space, filter-normalised (Li et al., 2018).

    Each direction starts as a standard normal draw per parameter (NumPy's generator, `seed`);
    then each neuron's block of weights (one row of a Dense kernel, a "filter") is rescaled to
    the norm of that neuron's weights, d_i ← d_i / ‖d_i‖ · ‖θ_i‖, so a step of 1 along it moves
    every neuron by as much as its own size: landscapes of models whose weights differ in scale
    become comparable. The biases' entries are set to 0, as Li et al. do, so the biases stay at
    their trained values across the landscape.
    """
    count = check_int("random_directions", "count", count)
    seed = check_seed("random_directions", seed)
    params = model.parameters()
    theta = np.array([p.data for p in params], dtype=np.float64)
    rows, biases = neuron_blocks(params)
    rng = np.random.default_rng(seed)
    directions = []
    for _ in range(count):
        d = rng.standard_normal(theta.size)
        for row in rows:
            norm = np.linalg.norm(d[row])
            d[row] *= np.linalg.norm(theta[row]) / norm if norm > 0 else 0.0
        d[biases] = 0.0
        directions.append(d)
    return directions


def path_weights(path: Any, size: int, where: str) -> np.ndarray:
    """The weights of a path (a `WeightRecorder`, or an array with one row of weights per point)."""
    if isinstance(path, WeightRecorder):
        if not path.weights:
            raise ValueError(f"{where}: the WeightRecorder holds no weights: pass it to fit(callbacks=[...]) first")
        points = np.array(path.weights, dtype=np.float64)
    else:
        points = np.asarray(path, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != size:
        raise ValueError(f"{where}: a path needs one row of {size} weights (the model's) per point, got {points.shape}")
    return points


def trajectory_directions(path: Any, origin: Any, count: int = 2) -> tuple[list[np.ndarray], list[float]]:
    """The `count` directions along which a training path varies most, and the fraction of its
    variance each explains (Li et al. 2018, section 7: random directions in a space of many
    weights are nearly orthogonal to the path, which then hardly moves on their plane).

    The principal components of the points' offsets from `origin` (the final weights θ*), unit length.
    """
    count = check_int("trajectory_directions", "count", count)
    origin = np.asarray(origin, dtype=np.float64)
    offsets = path_weights(path, origin.size, "trajectory_directions") - origin
    if len(offsets) < count + 1:
        raise ValueError(f"trajectory_directions: the path needs at least {count + 1} points, got {len(offsets)}")
    _, singular, vt = np.linalg.svd(offsets - offsets.mean(axis=0), full_matrices=False)
    variance = singular**2
    if variance.sum() == 0:
        raise ValueError("trajectory_directions: the path does not move (every point is the same)")
    directions = []
    for row in vt[:count]:
        k = int(np.argmax(np.abs(row)))
        directions.append(row if row[k] > 0 else -row)  # a fixed sign: the same picture on every run
    return directions, (variance[:count] / variance.sum()).tolist()


def loss_function(model: Any, X: Any, y: Any, loss: Any = None) -> Callable[[], float]:
    """A function giving the model's mean loss on (X, y) with its current weights.

    A compiled `Sequential` without `loss=` uses its compiled loss (`model.evaluate`); otherwise
    `loss` (a name such as "mse" or a function `loss(prediction, target)`) is applied to
    `model(x)` for each sample, without building graphs, as micrograd's MLP needs.
    """
    if loss is None:
        if getattr(model, "loss", None) is None or not callable(getattr(model, "evaluate", None)):
            raise ValueError("model_landscape: give loss= (e.g. 'mse'), or compile the model first")

        def compiled() -> float:
            figures = model.evaluate(X, y)
            return float(figures[0] if isinstance(figures, list) else figures)

        return compiled
    fn = get_loss(loss)
    rows = np.asarray(X, dtype=np.float64)
    targets = np.asarray(y, dtype=np.float64)
    if rows.ndim != 2 or targets.shape[0] != rows.shape[0]:
        raise ValueError(
            f"model_landscape: X must have shape (samples, features) and y one row per sample, got {rows.shape} and {targets.shape}"
        )
    data = list(zip(rows.tolist(), targets.tolist()))

    def mean_loss() -> float:
        with no_grad():
            return math.fsum(fn(model(x), t).data for x, t in data) / len(data)

    return mean_loss


def model_landscape(
    model: Any,
    X: Any,
    y: Any,
    *,
    dims: int = 2,
    span: Any = None,
    resolution: int | None = None,
    seed: int = 0,
    directions: str | Sequence[Any] = "random",
    path: Any = None,
    loss: Any = None,
) -> Landscape:
    """The model's loss on (X, y) at θ* + α·d₁ (+ β·d₂), α and β across `span`.

    θ* are the model's current weights, put back afterwards (also after an error). `directions`:
    "random" (`random_directions(model, dims, seed)`, filter-normalised; span −1 to 1 by default),
    "pca" (`trajectory_directions` of `path`, the weights a `WeightRecorder` kept; the default span
    covers the path), or one array of the model's size per axis. `loss`: see `loss_function` (a
    compiled Sequential uses its own).
    """
    dims = check_dims("model_landscape", dims)
    params = model.parameters()
    origin = np.array([p.data for p in params], dtype=np.float64)
    names = ["α", "β"][:dims]
    if isinstance(directions, str):
        if directions == "random":
            chosen = random_directions(model, dims, seed)
        elif directions == "pca":
            if path is None:
                raise ValueError("model_landscape: directions='pca' needs path= (a WeightRecorder passed to fit)")
            chosen, explained = trajectory_directions(path, origin, dims)
            names = [f"PC{k + 1} ({share:.0%} of the path)" for k, share in enumerate(explained)]
        else:
            raise ValueError(
                f"model_landscape: directions must be 'random', 'pca' or a list of arrays, got {directions!r:.40}"
            )
    else:
        chosen = [np.asarray(d, dtype=np.float64) for d in directions]
        if len(chosen) != dims or any(d.shape != origin.shape for d in chosen):
            raise ValueError(
                f"model_landscape: directions must be {dims} arrays of {origin.size} numbers (one per weight)"
            )
    if span is None:
        span = 1.0
        if path is not None:
            basis = np.column_stack(chosen)
            offsets = path_weights(path, origin.size, "model_landscape") - origin
            coords = np.linalg.lstsq(basis, offsets.T, rcond=None)[0].T
            low, high = np.minimum(coords.min(axis=0), 0.0), np.maximum(coords.max(axis=0), 0.0)
            margin = 0.25 * np.maximum(high - low, 1e-6)
            span = [(float(a), float(b)) for a, b in zip(low - margin, high + margin)]
    current_loss = loss_function(model, X, y, loss)

    def loss_at_weights(theta: np.ndarray) -> float:
        for p, w in zip(params, theta.tolist()):
            p.data = w
        try:
            return current_loss()
        finally:
            for p, w in zip(params, origin.tolist()):
                p.data = w

    axes = grid_axes("model_landscape", check_span("model_landscape", span, dims), resolution)

    def value_at(point: Sequence[float]) -> float:
        theta = origin.copy()
        for coefficient, d in zip(point, chosen):
            theta += coefficient * d
        return loss_at_weights(theta)

    return Landscape(
        axes=axes,
        values=fill_grid(axes, value_at),
        names=names,
        value_name="loss",
        origin=origin,
        directions=chosen,
        evaluate=loss_at_weights,
    )


__all__ = [
    "DEFAULT_RESOLUTION",
    "MAX_GRID_POINTS",
    "Landscape",
    "Trace",
    "function_landscape",
    "loss_function",
    "model_landscape",
    "neuron_blocks",
    "path_weights",
    "random_directions",
    "trajectory_directions",
]
