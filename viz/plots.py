"""Training pictures: loss and metric curves (`plot_history`), a 2-D classifier's regions
(`plot_decision_boundary`) and the activation functions beside their derivatives
(`plot_activations`).

matplotlib is an optional extra, imported only inside these functions, so the rest of the
project works without it. Each function builds a `matplotlib.figure.Figure` on the Agg canvas
(never pyplot's global state, so nothing leaks or shows twice in a notebook), returns it
(Jupyter shows it after `%matplotlib inline`), and with `path=` also writes a PNG atomically.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from micrograd.checks import check_int
from micrograd.engine import Value, apply_op
from micrograd.engine.ops import OPS
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
    (the threshold of `micrograd.training.metrics.accuracy`); for a model with a
    `decision_function` (a `Perceptron`, as in scikit-learn), the line is where that score is 0,
    drawn from the score itself, so a straight boundary comes out straight. Several outputs: each grid point is
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
    # A few points (XOR's four corners) are drawn large, ringed in white to stand out from their own
    # class's colour; many points small, so that they do not hide the regions.
    size, edge, width = (90, "white", 2.0) if len(X) <= 50 else (20, "black", 0.5)
    if out.shape[1] == 1:
        z = out[:, 0].reshape(gx.shape)
        # Probabilities get a fixed 0..1 scale: auto-scaling would stretch a flat 0.5 ± 1e-6 (a
        # model that learned nothing) into what looks like a confident boundary.
        levels = np.linspace(0.0, 1.0, 21) if z.min() >= 0.0 and z.max() <= 1.0 else 20
        filled = ax.contourf(gx, gy, z, levels=levels, cmap="RdBu_r", alpha=0.6)
        fig.colorbar(filled, ax=ax, label="model output")
        score = getattr(model, "decision_function", None)
        if callable(score):  # the class changes where the score changes sign
            z, at = np.asarray(score(np.column_stack([gx.ravel(), gy.ravel()])), dtype=np.float64), 0.0
            z = z.reshape(gx.shape)
        else:
            at = 0.5
        if z.min() < at < z.max():
            ax.contour(gx, gy, z, levels=[at], colors="black", linewidths=1.5)
        ax.scatter(X[:, 0], X[:, 1], c=labels, cmap="RdBu_r", edgecolors=edge, linewidths=width, s=size)
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
        ax.scatter(X[:, 0], X[:, 1], c=point_colours, edgecolors=edge, linewidths=width, s=size)
        _class_legend(ax, names, colours)
    ax.set_xlabel("x0")
    ax.set_ylabel("x1")
    ax.set_title("decision boundary")
    fig.tight_layout()
    _save_png(fig, path)
    return fig


#: The activations `plot_activations` draws by default, in the order the course meets them.
ACTIVATION_GALLERY = ("step", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "gelu")
_Z = np.linspace(-4.0, 4.0, 801)  # z from −4 to 4 in steps of 0.01; z = 0 is one of the points
_JUMP = 0.5  # a change larger than this between neighbouring points (0.01 apart) is a jump
_G_COLOUR, _DG_COLOUR = "#1f5fa8", "#c0392b"  # g(z) blue, g′(z) red, in every panel


def activation_values(name: str, z: Sequence[float] | np.ndarray) -> tuple[list[float], list[float]]:
    """(g(z), g′(z)) of the unary op `name` at each z, both from the engine: g is the op's value on
    a `Value`, g′ the gradient `backward()` leaves on it (the op's parameter at its default)."""
    values, slopes = [], []
    for point in z:
        x = Value(float(point))
        out = apply_op(x, name)
        out.backward()
        values.append(out.data)
        slopes.append(x.grad)
    return values, slopes


def plot_activations(names: Sequence[str] | None = None, path: str | os.PathLike[str] | None = None) -> Any:
    """Each activation g(z) beside its derivative g′(z), for z from −4 to 4, two activations per
    row: step, sigmoid, tanh, relu, leaky_relu, elu, softplus and gelu unless `names` lists others
    (any unary op of the engine). Both curves come from the engine (`activation_values`), so g′ is
    what backpropagation uses, kinks included. Where a curve jumps, it is broken there, a filled
    dot marking the engine's value at the jump and an open one the other side; a g′ that is 0
    wherever it exists says so. Returns the Figure (axes in reading order: g, g′, g, g′, ...)."""
    chosen = list(ACTIVATION_GALLERY if names is None else _activation_names(names))
    rows = (len(chosen) + 1) // 2
    fig = _figure(15.5, 3.1 * rows + 0.6)
    # Four columns of panels, a narrow empty one between the two pairs so each g stays with its g′.
    grid = fig.add_gridspec(rows, 5, width_ratios=[1, 1, 0.12, 1, 1])
    axes = []
    for k, name in enumerate(chosen):
        g, dg = activation_values(name, _Z)
        column = 0 if k % 2 == 0 else 3
        ax_g, ax_dg = fig.add_subplot(grid[k // 2, column]), fig.add_subplot(grid[k // 2, column + 1])
        axes += [ax_g, ax_dg]
        title = _activation_title(name)
        jumps = _draw_curve(ax_g, _Z, np.array(g), _G_COLOUR)
        _draw_curve(ax_dg, _Z, np.array(dg), _DG_COLOUR)
        ax_g.set_title(f"{title}: g(z)", fontsize=14)
        ax_dg.set_title(f"{title}: g′(z)", fontsize=14)
        ax_dg.set_ylim(-0.25, 1.25)
        if not any(dg):
            where = ", ".join(f"{_plain(_Z[i + 1] if _Z[i + 1] == 0 else _Z[i])}" for i in jumps)
            ax_dg.text(
                0.5,
                0.62,
                "g′ = 0" + (f"\n(undefined at {where})" if jumps else ""),
                transform=ax_dg.transAxes,
                ha="center",
                fontsize=14,
                color=_DG_COLOUR,
            )
    for ax in axes:
        ax.axhline(0.0, color="0.6", linewidth=0.8, zorder=0)
        ax.axvline(0.0, color="0.6", linewidth=0.8, zorder=0)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=11)
        ax.set_xlabel("z", fontsize=12)
    fig.suptitle("Activations g(z) and their derivatives g′(z), both computed by the engine", fontsize=16)
    fig.tight_layout()
    _save_png(fig, path)
    return fig


def _activation_names(names: Sequence[str]) -> list[str]:
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise TypeError(
            f"plot_activations: names must be a list of op names, such as ['relu', 'tanh'], got {names!r:.60}"
        )
    usable = [
        n for n, op in OPS.items() if op.arity == 1 and (op.parameter is None or op.parameter.default is not None)
    ]
    for name in names:
        if name not in usable:
            raise ValueError(
                f"plot_activations: {name!r:.40} is not an activation here; choose from {', '.join(usable)}"
            )
    if not names:
        raise ValueError("plot_activations: names is empty; leave it out for the usual eight")
    return list(names)


def _activation_title(name: str) -> str:
    parameter = OPS[name].parameter
    return name if parameter is None else f"{name} ({parameter.name} {_plain(parameter.default or 0.0)})"


def _plain(x: float) -> str:
    return f"{x:g}".replace("-", "−")


def _draw_curve(ax: Any, z: np.ndarray, y: np.ndarray, colour: str) -> list[int]:
    """y over z as one line, broken (a NaN point between) where it jumps; returns the jumps' left
    indices. At each jump a filled dot marks the value at z = 0 (or the left point), an open one
    the other side's."""
    jumps = [int(i) for i in np.flatnonzero(np.abs(np.diff(y)) > _JUMP)]
    xs, ys = list(z), list(y)
    for i in reversed(jumps):  # a NaN point between the two sides breaks the line there
        xs.insert(i + 1, (z[i] + z[i + 1]) / 2)
        ys.insert(i + 1, np.nan)
    ax.plot(xs, ys, color=colour, linewidth=2.5)
    for i in jumps:
        at, other = (i + 1, i) if z[i + 1] == 0 else (i, i + 1)
        ax.plot([z[at]], [y[at]], "o", color=colour, markersize=9)
        ax.plot(
            [z[at]], [y[other]], "o", markerfacecolor="white", markeredgecolor=colour, markeredgewidth=2, markersize=9
        )
    return jumps


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


__all__ = ["ACTIVATION_GALLERY", "activation_values", "plot_activations", "plot_decision_boundary", "plot_history"]
