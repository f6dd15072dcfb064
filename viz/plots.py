"""Training pictures: loss and metric curves (`plot_history`), a 2-D classifier's regions
(`plot_decision_boundary`) and small images with their labels (`plot_digits`). The activations
beside their derivatives are in `activations.py`, the gradient per layer in `gradient_flow.py`.

matplotlib is an optional extra, imported only inside these functions, so the rest of the
project works without it. Each function builds a `matplotlib.figure.Figure` on the Agg canvas
(never pyplot's global state, so nothing leaks or shows twice in a notebook), returns it
(Jupyter shows it after `%matplotlib inline`), and with `path=` also writes a PNG atomically.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from micrograd.checks import check_int

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
    (the threshold of `micrograd.training.metrics.accuracy`). A model that only answers 0 or 1 (a
    step output), or one with a `decision_function` (a `Perceptron`, as in scikit-learn), gets two
    flat colours and a legend "class 0" / "class 1" instead of a colour scale; with a
    `decision_function` the line is where that score is 0, drawn from the score itself, so a
    straight boundary comes out straight. Several outputs: each grid point is painted in the colour of its argmax class, one flat colour per class and nothing blended in
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


MAX_IMAGES = 100  # a grid of more would be too small to read


def plot_digits(
    images: Any,
    labels: Any,
    predicted: Any = None,
    columns: int = 10,
    path: str | os.PathLike[str] | None = None,
) -> Any:
    """Small grey-scale images (such as `load_digits()`'s 8×8 digits) in a grid, each titled with its label.

    `images` is (n, side, side) or (n, side·side), rows read row by row; ink is drawn dark on
    white, each image on the scale of the darkest pixel of them all. With `predicted`, each title
    reads "true 3 / pred 8", and a wrong prediction is drawn in red with a red frame. At most
    100 images, `columns` to a row. Returns the Figure.
    """
    try:
        pictures = np.asarray(images, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"plot_digits: images must be an array of pixel values, got {images!r:.60}") from None
    if pictures.ndim == 2:
        side = math.isqrt(pictures.shape[1])
        if side * side != pictures.shape[1] or side == 0:
            raise ValueError(
                f"plot_digits: each row of images must be a square picture read row by row (side·side "
                f"pixels), got {pictures.shape[1]} pixels"
            )
        pictures = pictures.reshape(len(pictures), side, side)
    if pictures.ndim != 3 or not 1 <= len(pictures) <= MAX_IMAGES:
        raise ValueError(
            f"plot_digits draws 1 to {MAX_IMAGES} images of shape (n, side, side) or (n, side·side), "
            f"got an array of shape {pictures.shape}"
        )
    if not np.all(np.isfinite(pictures)):
        raise ValueError("plot_digits: images hold a NaN or infinite pixel")
    true = _image_labels(labels, len(pictures), "labels")
    guess = None if predicted is None else _image_labels(predicted, len(pictures), "predicted")
    columns = min(check_int("plot_digits", "columns", columns), len(pictures))
    rows = -(-len(pictures) // columns)
    fig = _figure(1.2 * columns, (1.55 if guess is None else 1.8) * rows)
    axes = fig.subplots(rows, columns, squeeze=False)
    darkest = max(float(pictures.max()), 1e-12)
    low = min(float(pictures.min()), 0.0)
    for k, ax in enumerate(axes.ravel()):
        ax.set_xticks([])
        ax.set_yticks([])
        if k >= len(pictures):
            ax.set_axis_off()
            continue
        ax.imshow(pictures[k], cmap="gray_r", vmin=low, vmax=darkest, interpolation="nearest")
        if guess is None:
            ax.set_title(true[k], fontsize=13)
            continue
        wrong = true[k] != guess[k]
        colour = "#c00000" if wrong else "black"
        ax.set_title(f"true {true[k]}\npred {guess[k]}", fontsize=11, color=colour, linespacing=1.1)
        for spine in ax.spines.values():
            spine.set_edgecolor(colour)
            spine.set_linewidth(2.5 if wrong else 0.8)
    fig.tight_layout()
    _save_png(fig, path)
    return fig


def _image_labels(labels: Any, n: int, what: str) -> list[str]:
    """One short label per image: whole numbers without a decimal point, anything else as it prints."""
    values = np.asarray(labels).reshape(-1)
    if len(values) != n:
        raise ValueError(f"plot_digits: {n} images but {len(values)} {what}")
    if values.dtype.kind == "f" and np.all(np.isfinite(values)) and np.all(values == np.round(values)):
        values = values.astype(np.int64)
    return [str(v) for v in values.tolist()]


__all__ = ["plot_decision_boundary", "plot_digits", "plot_history"]
