"""Training pictures: loss and metric curves (`plot_history`) and a 2-D classifier's regions
(`plot_decision_boundary`). The activations beside their derivatives are in `activations.py`.

matplotlib is an optional extra, imported only inside these functions, so the rest of the
project works without it. Each function builds a `matplotlib.figure.Figure` on the Agg canvas
(never pyplot's global state, so nothing leaks or shows twice in a notebook), returns it
(Jupyter shows it after `%matplotlib inline`), and with `path=` also writes a PNG atomically.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .boundary import boundary_grid, check_boundary_data, draw_boundary
from .figures import figure as _figure
from .figures import save_png as _save_png


def plot_history(history: Any, path: str | os.PathLike[str] | None = None) -> Any:
    """One panel per figure `fit` logged (loss, accuracy, ...): training solid, validation dashed.

    `history` is what `fit` returns (a `History`) or its `.history` dict. Per-layer records
    ("grad_norm/L1", ...) are left to `plot_gradient_flow`. Returns the Figure.
    """
    data: Mapping[str, list[float]] = getattr(history, "history", history)
    if not isinstance(data, Mapping) or not data.get("loss"):
        raise ValueError("plot_history needs the History that fit returns (with at least one epoch of 'loss')")
    names = [key for key in data if not key.startswith("val_") and "/" not in key]
    fig = _figure(4.5 * len(names), 3.6)
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names):
        epochs = np.arange(1, len(data[name]) + 1)
        ax.plot(epochs, data[name], marker="." if len(epochs) < 30 else None, label="training")
        val = data.get(f"val_{name}")
        if val:
            ax.plot(np.arange(1, len(val) + 1), val, linestyle="--", label="validation")
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    _save_png(fig, path)
    return fig


def plot_decision_boundary(
    model: Any,
    X: Any,
    y: Any,
    path: str | os.PathLike[str] | None = None,
    resolution: int = 60,
    class_names: Sequence[str] | None = None,
) -> Any:
    """The regions a model assigns to each class over 2-D inputs, with the data points on top.

    One output: its value as shaded contours and the 0.5 line, where the predicted class changes
    (the threshold of `micrograd.training.metrics.accuracy`); for a model with a
    `decision_function` (a `Perceptron`, as in scikit-learn), the line is where that score is 0,
    drawn from the score itself, so a straight boundary comes out straight. Several outputs: each grid point is
    painted in the colour of its argmax class, one flat colour per class and nothing blended in
    between, with a legend naming the classes ("class 0", "class 1", ... or `class_names`).
    The grid has `resolution` × `resolution` points, each a `model.predict` row. Returns the Figure.
    """
    X, labels = check_boundary_data("plot_decision_boundary", X, y)
    grid = boundary_grid("plot_decision_boundary", X, resolution)
    outputs = np.asarray(model.predict(grid.points), dtype=np.float64)
    score = getattr(model, "decision_function", None)  # a perceptron's w·x + b: its line is exact
    scores = np.asarray(score(grid.points), dtype=np.float64) if callable(score) else None
    fig = _figure(5.5, 4.5)
    ax = fig.subplots()
    draw_boundary(fig, ax, grid, outputs, X, labels, class_names, scores=scores)
    fig.tight_layout()
    _save_png(fig, path)
    return fig


__all__ = ["plot_decision_boundary", "plot_history"]
