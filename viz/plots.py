"""Training pictures: loss and metric curves (`plot_history`), a 2-D classifier's regions
(`plot_decision_boundary`) and small images with their labels (`plot_digits`).

matplotlib is an optional extra, imported only inside these functions, so the rest of the
project works without it. Each function builds a `matplotlib.figure.Figure` on the Agg canvas
(never pyplot's global state, so nothing leaks or shows twice in a notebook), returns it
(Jupyter shows it after `%matplotlib inline`), and with `path=` also writes a PNG atomically.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from micrograd.checks import check_int
from micrograd.files import write_atomic

RGB = tuple[float, float, float]  # a colour, each part in 0..1


def _figure(width: float, height: float) -> Any:
    """A Figure drawn by the Agg renderer, independent of pyplot and of the session's backend."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install matplotlib") from None
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _save_png(fig: Any, path: str | os.PathLike[str] | None) -> None:
    if path is None:
        return
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    write_atomic(path, buffer.getvalue())


def plot_history(history: Any, path: str | os.PathLike[str] | None = None) -> Any:
    """One panel per figure `fit` logged (loss, accuracy, ...): training solid, validation dashed.

    `history` is what `fit` returns (a `History`) or its `.history` dict. Returns the Figure.
    """
    data: Mapping[str, list[float]] = getattr(history, "history", history)
    if not isinstance(data, Mapping) or not data.get("loss"):
        raise ValueError("plot_history needs the History that fit returns (with at least one epoch of 'loss')")
    names = [key for key in data if not key.startswith("val_")]
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
    (the threshold of `micrograd.training.metrics.accuracy`). Several outputs: each grid point is
    painted in the colour of its argmax class, one flat colour per class and nothing blended in
    between, with a legend naming the classes ("class 0", "class 1", ... or `class_names`).
    The grid has `resolution` × `resolution` points, each a `model.predict` row. Returns the Figure.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary draws 2-D data: X must have shape (samples, 2), got {X.shape}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"plot_decision_boundary: X has {X.shape[0]} samples but y has {y.shape[0]}")
    resolution = check_int("plot_decision_boundary", "resolution", resolution, minimum=2)
    labels = np.argmax(y, axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1)

    low, high = X.min(axis=0), X.max(axis=0)
    margin = 0.1 * np.maximum(high - low, 1e-9) + 0.1
    xs = np.linspace(low[0] - margin[0], high[0] + margin[0], resolution)
    ys = np.linspace(low[1] - margin[1], high[1] + margin[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    out = np.asarray(model.predict(np.column_stack([gx.ravel(), gy.ravel()])), dtype=np.float64)
    out = out.reshape(len(gx.ravel()), -1)
    n_classes = max(out.shape[1], 2)
    names = _class_names(class_names, n_classes)

    fig = _figure(5.5, 4.5)
    ax = fig.subplots()
    if out.shape[1] == 1:
        z = out[:, 0].reshape(gx.shape)
        # Probabilities get a fixed 0..1 scale: auto-scaling would stretch a flat 0.5 ± 1e-6 (a
        # model that learned nothing) into what looks like a confident boundary.
        levels = np.linspace(0.0, 1.0, 21) if z.min() >= 0.0 and z.max() <= 1.0 else 20
        filled = ax.contourf(gx, gy, z, levels=levels, cmap="RdBu_r", alpha=0.6)
        fig.colorbar(filled, ax=ax, label="model output")
        if z.min() < 0.5 < z.max():
            ax.contour(gx, gy, z, levels=[0.5], colors="black", linewidths=1.5)
        ax.scatter(X[:, 0], X[:, 1], c=labels, cmap="RdBu_r", edgecolors="black", linewidths=0.5, s=20)
        if class_names is not None:
            _class_legend(ax, names, [_rgb("RdBu_r", 0.0), _rgb("RdBu_r", 1.0)])
    else:
        _check_labels(labels, n_classes)
        colours = _class_colours(n_classes)
        # The class index itself is drawn, one flat cell per grid point: contours of the class
        # numbers would blend 0 into 2 through 1, painting a class-1 band that no point predicts.
        regions = np.argmax(out, axis=1).reshape(gx.shape)
        pale = [(0.35 * r + 0.65, 0.35 * g + 0.65, 0.35 * b + 0.65) for r, g, b in colours]  # alpha 0.35 on white
        ax.pcolormesh(
            xs, ys, regions, shading="nearest", cmap=_listed(pale), vmin=-0.5, vmax=n_classes - 0.5, antialiased=False
        )
        point_colours = np.array(colours)[labels.astype(np.int64)]
        ax.scatter(X[:, 0], X[:, 1], c=point_colours, edgecolors="black", linewidths=0.5, s=20)
        _class_legend(ax, names, colours)
    ax.set_xlabel("x0")
    ax.set_ylabel("x1")
    ax.set_title("decision boundary")
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


__all__ = ["plot_decision_boundary", "plot_digits", "plot_history"]
