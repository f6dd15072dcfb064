"""A 2-D classifier's regions, drawn once (`viz.plot_decision_boundary`) or frame by frame
(`viz.animate_training`): the grid of inputs, the checks on the data, and the drawing itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from micrograd.checks import check_int

RGB = tuple[float, float, float]  # a colour, each part in 0..1


@dataclass
class BoundaryGrid:
    """`resolution` × `resolution` inputs covering the data with a margin: `xs` and `ys` along the
    axes, `points` every grid point as a row (x0, x1), the rows of `np.meshgrid(xs, ys)`."""

    xs: np.ndarray
    ys: np.ndarray
    points: np.ndarray


def check_boundary_data(where: str, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """(X as floats of shape (samples, 2), the class label of each sample: y, or argmax of one-hot y)."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"{where} draws 2-D data: X must have shape (samples, 2), got {X.shape}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"{where}: X has {X.shape[0]} samples but y has {y.shape[0]}")
    labels = np.argmax(y, axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1)
    return X, labels


def boundary_grid(where: str, X: np.ndarray, resolution: int) -> BoundaryGrid:
    resolution = check_int(where, "resolution", resolution, minimum=2)
    low, high = X.min(axis=0), X.max(axis=0)
    margin = 0.1 * np.maximum(high - low, 1e-9) + 0.1
    xs = np.linspace(low[0] - margin[0], high[0] + margin[0], resolution)
    ys = np.linspace(low[1] - margin[1], high[1] + margin[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    return BoundaryGrid(xs, ys, np.column_stack([gx.ravel(), gy.ravel()]))


def draw_boundary(
    fig: Any,
    ax: Any,
    grid: BoundaryGrid,
    outputs: np.ndarray,
    X: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str] | None = None,
    colorbar: bool = True,
    title: str = "decision boundary",
    scores: np.ndarray | None = None,
) -> None:
    """Draw the model's `outputs` at the grid's points (one row each) and the data on `ax`.

    One output: its value as shaded contours and the 0.5 line; an output that is only ever 0 or 1
    (a step), or one given with the model's `scores` at the grid's points (a perceptron's w·x + b),
    as two flat colours with a legend "class 0" / "class 1" and the line where the answer flips
    (where the score is 0, given scores); several: each grid point in the colour of its argmax
    class (see `viz.plot_decision_boundary`). A few points (XOR's four corners) are drawn large,
    ringed in white to stand out from their own class's colour; many points small, so that they
    do not hide the regions.
    """
    gx, gy = np.meshgrid(grid.xs, grid.ys)
    out = np.asarray(outputs, dtype=np.float64).reshape(gx.size, -1)
    n_classes = max(out.shape[1], 2)
    names = _class_names(class_names, n_classes)
    size, edge, width = (90, "white", 2.0) if len(X) <= 50 else (20, "black", 0.5)
    if out.shape[1] == 1 and (scores is not None or bool(np.isin(out, (0.0, 1.0)).all())):
        # A model that answers only 0 or 1 (a step, a perceptron): two flat colours and a legend
        # naming the classes; a colour scale from 0 to 1 would promise values it never outputs.
        colours = [_rgb("RdBu_r", 0.0), _rgb("RdBu_r", 1.0)]
        _flat_regions(ax, grid, (out[:, 0] > 0.5).astype(np.int64).reshape(gx.shape), colours)
        z, at = (out[:, 0].reshape(gx.shape), 0.5) if scores is None else (np.reshape(scores, gx.shape), 0.0)
        if z.min() < at < z.max():  # where the answer flips: the score's 0 line, exact for a perceptron
            ax.contour(gx, gy, z, levels=[at], colors="black", linewidths=1.5)
        ax.scatter(X[:, 0], X[:, 1], c=labels, cmap="RdBu_r", vmin=0, vmax=1, edgecolors=edge, linewidths=width, s=size)
        _class_legend(ax, names, colours)
    elif out.shape[1] == 1:
        z = out[:, 0].reshape(gx.shape)
        # Probabilities get a fixed 0..1 scale: auto-scaling would stretch a flat 0.5 ± 1e-6 (a
        # model that learned nothing) into what looks like a confident boundary.
        levels = np.linspace(0.0, 1.0, 21) if z.min() >= 0.0 and z.max() <= 1.0 else 20
        filled = ax.contourf(gx, gy, z, levels=levels, cmap="RdBu_r", alpha=0.6)
        if colorbar:
            fig.colorbar(filled, ax=ax, label="model output")
        if z.min() < 0.5 < z.max():  # the class changes where the output crosses 0.5
            ax.contour(gx, gy, z, levels=[0.5], colors="black", linewidths=1.5)
        ax.scatter(X[:, 0], X[:, 1], c=labels, cmap="RdBu_r", edgecolors=edge, linewidths=width, s=size)
        if class_names is not None:
            _class_legend(ax, names, [_rgb("RdBu_r", 0.0), _rgb("RdBu_r", 1.0)])
    else:
        _check_labels(labels, n_classes)
        colours = _class_colours(n_classes)
        # The class index itself is drawn, one flat cell per grid point: contours of the class
        # numbers would blend 0 into 2 through 1, painting a class-1 band that no point predicts.
        _flat_regions(ax, grid, np.argmax(out, axis=1).reshape(gx.shape), colours)
        point_colours = np.array(colours)[labels.astype(np.int64)]
        ax.scatter(X[:, 0], X[:, 1], c=point_colours, edgecolors=edge, linewidths=width, s=size)
        _class_legend(ax, names, colours)
    ax.set_xlabel("x0")
    ax.set_ylabel("x1")
    ax.set_title(title)


def _flat_regions(ax: Any, grid: BoundaryGrid, regions: np.ndarray, colours: Sequence[RGB]) -> None:
    """Each grid cell flat in the pale colour of its class (`regions` holds class indices)."""
    ax.pcolormesh(
        grid.xs,
        grid.ys,
        regions,
        shading="nearest",
        cmap=_listed(_pale(colours)),
        vmin=-0.5,
        vmax=len(colours) - 0.5,
        antialiased=False,
    )


def _class_colours(n_classes: int) -> list[RGB]:
    """One distinct colour per class: tab10's, tab20's beyond 10 classes, turbo's beyond 20."""
    from matplotlib import colormaps

    if n_classes <= 20:
        rgba = colormaps["tab10" if n_classes <= 10 else "tab20"](np.arange(n_classes))
    else:
        rgba = colormaps["turbo"](np.linspace(0.0, 1.0, n_classes))
    return [(float(r), float(g), float(b)) for r, g, b, _ in rgba]


def _rgb(cmap: str, at: float) -> RGB:
    from matplotlib import colormaps

    r, g, b, _ = colormaps[cmap](at)
    return (float(r), float(g), float(b))


def _pale(colours: Sequence[RGB]) -> list[RGB]:
    """Each colour at alpha 0.35 on white: a region's colour, under points drawn in the full one."""
    return [(0.35 * r + 0.65, 0.35 * g + 0.65, 0.35 * b + 0.65) for r, g, b in colours]


def _listed(colours: Sequence[RGB]) -> Any:
    from matplotlib.colors import ListedColormap

    return ListedColormap(list(colours))


def _class_names(class_names: Sequence[str] | None, n_classes: int) -> list[str]:
    if class_names is None:
        return [f"class {k}" for k in range(n_classes)]
    if isinstance(class_names, str) or not isinstance(class_names, Sequence):
        raise TypeError(f"class_names must be a list of strings, one per class, got {class_names!r:.60}")
    if not all(isinstance(name, str) for name in class_names):
        raise TypeError(f"class_names must be a list of strings, got {list(class_names)!r:.60}")
    if len(class_names) != n_classes:
        raise ValueError(f"class_names has {len(class_names)} names but the model predicts {n_classes} classes")
    return list(class_names)


def _check_labels(labels: np.ndarray, n_classes: int) -> None:
    whole = labels.dtype.kind in "iub" or (labels.dtype.kind == "f" and bool(np.all(labels == np.round(labels))))
    if not whole or labels.min() < 0 or labels.max() >= n_classes:
        raise ValueError(
            f"plot_decision_boundary: y must hold class numbers 0 to {n_classes - 1} (the model has {n_classes} "
            f"outputs), got {np.unique(labels)[:10]}"
        )


def _class_legend(ax: Any, names: list[str], colours: Sequence[RGB]) -> None:
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=colour, edgecolor="black", label=name) for name, colour in zip(names, colours)]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)


__all__ = ["BoundaryGrid", "boundary_grid", "check_boundary_data", "draw_boundary"]
