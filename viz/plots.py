"""Training pictures: loss and metric curves (`plot_history`) and a 2-D classifier's regions
(`plot_decision_boundary`).

matplotlib is an optional extra, imported only inside these functions, so the rest of the
project works without it. Each function builds a `matplotlib.figure.Figure` on the Agg canvas
(never pyplot's global state, so nothing leaks or shows twice in a notebook), returns it
(Jupyter shows it after `%matplotlib inline`), and with `path=` also writes a PNG atomically.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from micrograd.files import write_atomic


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
    model: Any, X: Any, y: Any, path: str | os.PathLike[str] | None = None, resolution: int = 60
) -> Any:
    """The regions a model assigns to each class over 2-D inputs, with the data points on top.

    One output: its value as shaded contours and the 0.5 line, where the predicted class changes
    (the threshold of `micrograd.training.metrics.accuracy`). Several outputs: the argmax class's region.
    The grid has `resolution` × `resolution` points, each a `model.predict` row. Returns the Figure.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary draws 2-D data: X must have shape (samples, 2), got {X.shape}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"plot_decision_boundary: X has {X.shape[0]} samples but y has {y.shape[0]}")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"resolution must be an int >= 2, got {resolution!r:.60}")
    labels = np.argmax(y, axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1)

    low, high = X.min(axis=0), X.max(axis=0)
    margin = 0.1 * np.maximum(high - low, 1e-9) + 0.1
    xs = np.linspace(low[0] - margin[0], high[0] + margin[0], resolution)
    ys = np.linspace(low[1] - margin[1], high[1] + margin[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    out = np.asarray(model.predict(np.column_stack([gx.ravel(), gy.ravel()])), dtype=np.float64)
    out = out.reshape(len(gx.ravel()), -1)

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
        cmap = "RdBu_r"
    else:
        z = np.argmax(out, axis=1).reshape(gx.shape)
        ax.contourf(gx, gy, z, levels=np.arange(out.shape[1] + 1) - 0.5, cmap="tab10", vmin=0, vmax=9, alpha=0.35)
        cmap = "tab10"
    ax.scatter(
        X[:, 0],
        X[:, 1],
        c=labels,
        cmap=cmap,
        vmin=0 if cmap == "tab10" else None,
        vmax=9 if cmap == "tab10" else None,
        edgecolors="black",
        linewidths=0.5,
        s=20,
    )
    ax.set_xlabel("x0")
    ax.set_ylabel("x1")
    ax.set_title("decision boundary")
    fig.tight_layout()
    _save_png(fig, path)
    return fig


__all__ = ["plot_decision_boundary", "plot_history"]
