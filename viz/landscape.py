"""Loss landscapes as pictures (`plot_landscape`): a curve over one parameter, a contour map or a
surface over two, with the paths optimizers took across them.

The numbers come from `micrograd.training.landscape` (`function_landscape`, `model_landscape`);
this module only draws them, on the figures of `viz.figures`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from micrograd.checks import check_choice
from micrograd.training.descent import Descent
from micrograd.training.landscape import Landscape, Trace, function_landscape, model_landscape

from .figures import PROJECTOR_STYLE, figure, projector_style, save_png

KINDS = ("curve", "contour", "surface")

#: The colours of the paths, in order: strong hues that stand out on the contour map's greens and blues.
PATH_COLOURS = ("#d62728", "#ff7f0e", "#e377c2", "#1f77b4", "#8c564b", "#17becf")


def _outlined() -> list[Any]:
    """A white outline under a path's line, so any colour reads on any part of the map."""
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=5, foreground="white"), patheffects.Normal()]


def _paths(path: Any) -> list[tuple[str, Any]]:
    """(label, path) pairs: one path, a list of them, or a dict {label: path}."""
    if path is None:
        return []
    if isinstance(path, Mapping):
        return [(str(label), p) for label, p in path.items()]
    if isinstance(path, (list, tuple)) and path and isinstance(path[0], Descent):
        return [("", p) for p in path]
    return [("", path)]


def _span_around(traces: list[Any], dims: int) -> list[tuple[float, float]]:
    """A span covering the (finite, not diverged) paths' points, with a margin: for a function without `span=`."""
    points = [p.points for _, p in traces if isinstance(p, Descent) and not p.diverged]
    points += [np.asarray(p, dtype=np.float64).reshape(-1, dims) for _, p in traces if not isinstance(p, Descent)]
    if not points:
        raise ValueError("plot_landscape: give span=(low, high) for each axis of a function (or a path to cover)")
    every = np.concatenate(points)
    low, high = every.min(axis=0), every.max(axis=0)
    margin = 0.2 * np.maximum(high - low, 1e-3)
    return [(float(a), float(b)) for a, b in zip(low - margin, high + margin)]


def plot_landscape(
    f: Any,
    X: Any = None,
    y: Any = None,
    *,
    span: Any = None,
    resolution: int | None = None,
    kind: str | None = None,
    dims: int = 2,
    directions: Any = "random",
    seed: int = 0,
    loss: Any = None,
    path: Any = None,
    title: str | None = None,
    file: str | os.PathLike[str] | None = None,
) -> Any:
    """Draw a loss landscape: J over one parameter (a curve) or two (`kind` "contour" or "surface").

    `f` is one of:
    - a function of one or two Values, `lambda w: (2 * w - 1) ** 2 / 2` or `lambda w1, w2: ...`,
      drawn over `span` ((low, high), or one pair per axis; default: around the paths);
    - a model (a micrograd MLP or Sequential) with data `X`, `y`: its loss along `dims` directions
      through its current weights (see `micrograd.training.landscape.model_landscape`: `directions`
      "random", filter-normalised with `seed`, or "pca" of `path`; `span` default −1..1; `loss`
      for a model that is not compiled); the weights are left as they were;
    - a `Landscape` already computed.

    `path`: the points an optimizer visited, drawn from a round start marker to a star at the end;
    a `Descent` (from `micrograd.training.descend`), a `WeightRecorder` that watched `fit`, or a
    dict {label: path} of several. A run that diverged ends in a cross, "NaN". Returns the Figure;
    `file=` also writes it as a PNG.
    """
    paths = _paths(path)
    if isinstance(f, Landscape):
        landscape = f
    elif hasattr(f, "parameters"):
        if X is None or y is None:
            raise ValueError("plot_landscape: a model's landscape needs its data: plot_landscape(model, X, y)")
        recorded = [p for _, p in paths if not isinstance(p, Descent)]
        landscape = model_landscape(
            f,
            X,
            y,
            dims=dims,
            span=span,
            resolution=resolution,
            seed=seed,
            directions=directions,
            path=recorded[0] if recorded else None,
            loss=loss,
        )
    elif callable(f):
        if span is None:
            arity = len(_paths_dims(paths)) if paths else 1
            span = _span_around(paths, arity)
        landscape = function_landscape(f, span, resolution)
    else:
        raise TypeError(
            f"plot_landscape draws a function of Values, a model or a Landscape, got {type(f).__name__}: {f!r:.60}"
        )
    if kind is None:
        kind = "curve" if landscape.dims == 1 else "contour"
    check_choice("plot_landscape", "kind", kind, KINDS, names=False)
    if (kind == "curve") != (landscape.dims == 1):
        need = "kind='curve'" if landscape.dims == 1 else "kind='contour' or 'surface'"
        raise ValueError(f"plot_landscape: a landscape over {landscape.dims} axes is drawn with {need}, not {kind!r}")
    traces = [landscape.trace(p, label) for label, p in paths]

    with projector_style():
        legend_outside = kind == "curve" and bool(traces)  # inside, it would sit on a zigzag
        if kind == "surface":
            fig = figure(7.5, 6.0)
            ax = fig.add_subplot(projection="3d", computed_zorder=False)  # paths stay in front of the surface
            _draw_surface(ax, landscape, traces)
        else:
            fig = figure(10.0 if legend_outside else 7.5, 5.5)
            ax = fig.subplots()
            if kind == "curve":
                _draw_curve(ax, landscape, traces)
            else:
                _draw_contour(fig, ax, landscape, traces)
        ax.set_title(title if title is not None else _title(landscape))
        loc = "outside" if legend_outside else "upper left" if kind == "surface" else "best"
        _legend(ax, bool(traces), any(t.diverged for t in traces), loc)
        ax.tick_params(labelsize=PROJECTOR_STYLE["xtick.labelsize"])  # ticks are made when drawn, after this block
        if kind != "surface":
            fig.tight_layout()
    save_png(fig, file)
    return fig


def _paths_dims(paths: list[tuple[str, Any]]) -> list[str]:
    """The names of the parameters of the first Descent among the paths (its dimensions)."""
    for _, p in paths:
        if isinstance(p, Descent):
            return p.names
    return ["w"]


def _title(landscape: Landscape) -> str:
    if landscape.directions is None:
        return f"{landscape.value_name}({', '.join(landscape.names)})"
    one = landscape.dims == 1
    if landscape.names[0].startswith("PC"):
        return f"loss along the training path's main direction{'' if one else 's'}"
    return (
        "loss along a random filter-normalised direction" if one else "loss along random filter-normalised directions"
    )


def _value_label(landscape: Landscape) -> str:
    if landscape.directions is None:
        return f"{landscape.value_name}({', '.join(landscape.names)})"
    return "loss"


def _axis_label(landscape: Landscape, k: int) -> str:
    name = landscape.names[k]
    if landscape.directions is None or name.startswith("PC"):
        return name
    return f"{name} (along direction d{k + 1})"


def _trace_label(trace: Trace, index: int, off_plot: str = "") -> str:
    """The path's legend entry; `off_plot` ("w = 14.2, J = 375") says where an end outside the frame is."""
    label = trace.label or f"path {index + 1}"
    steps = f"{len(trace.coords) - 1} {trace.unit}"
    text = f"{label}: {steps}, NaN after" if trace.diverged else f"{label} ({steps})"
    return f"{text}\n  ends off the plot:\n  {off_plot}" if off_plot else text


def _end_sizes(ends: list[tuple[float, float]], spans: tuple[float, float]) -> list[float]:
    """How large each path's end marker is drawn: one that lands on an earlier path's end (within 3% of
    the frame) is drawn half as large, on top of it, so both colours show."""
    sizes = []
    for i, (x, y) in enumerate(ends):
        near = sum(abs(x - u) < 0.03 * spans[0] and abs(y - v) < 0.03 * spans[1] for u, v in ends[:i])
        sizes.append(0.5**near)
    return sizes


def _draw_curve(ax: Any, landscape: Landscape, traces: list[Trace]) -> None:
    axis = landscape.axes[0]
    values = np.ma.masked_invalid(landscape.values)
    ax.plot(axis, values, color="black", linewidth=2.5, label=None, zorder=2)
    low, high = float(values.min()), float(values.max())
    pad = 0.08 * (high - low or 1.0)
    xlim, ylim = (float(axis[0]), float(axis[-1])), (low - pad, high + pad)
    ends = [(float(t.coords[-1, 0]), float(t.values[-1])) for t in traces]
    sizes = _end_sizes(ends, (xlim[1] - xlim[0], ylim[1] - ylim[0]))
    for i, trace in enumerate(traces):
        colour = PATH_COLOURS[i % len(PATH_COLOURS)]
        xs, zs = trace.coords[:, 0], trace.values
        x_end, z_end = ends[i]
        inside = xlim[0] <= x_end <= xlim[1] and ylim[0] <= z_end <= ylim[1]
        where = "" if inside else f"{landscape.names[0]} = {x_end:.3g}, {landscape.value_name} = {z_end:.3g}"
        ax.plot(
            xs,
            zs,
            "-o",
            color=colour,
            linewidth=1.5,
            markersize=6,
            label=_trace_label(trace, i, where),
            path_effects=_outlined(),
        )
        _ends(ax, [xs, zs], colour, trace.diverged, sizes[i])
    if landscape.origin is not None:
        ax.plot([0.0], [_centre_value(landscape)], "P", color="black", markersize=13, label="θ* (the trained weights)")
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)  # paths that overshoot leave the frame, as they leave the valley; the legend says where they end
    ax.set_xlabel(_axis_label(landscape, 0))
    ax.set_ylabel(_value_label(landscape))
    ax.grid(alpha=0.3)


def _draw_contour(fig: Any, ax: Any, landscape: Landscape, traces: list[Trace]) -> None:
    gx, gy = np.meshgrid(landscape.axes[0], landscape.axes[1])
    values = np.ma.masked_invalid(landscape.values)
    filled = ax.contourf(gx, gy, values, levels=30, cmap="viridis")
    ax.contour(gx, gy, values, levels=15, colors="white", linewidths=0.6, alpha=0.6)
    fig.colorbar(filled, ax=ax, label=_value_label(landscape))
    spans = (float(np.ptp(landscape.axes[0])), float(np.ptp(landscape.axes[1])))
    sizes = _end_sizes([(float(t.coords[-1, 0]), float(t.coords[-1, 1])) for t in traces], spans)
    for i, trace in enumerate(traces):
        colour = PATH_COLOURS[i % len(PATH_COLOURS)]
        xs, ys = trace.coords[:, 0], trace.coords[:, 1]
        ax.plot(xs, ys, "-", color=colour, linewidth=2.5, label=_trace_label(trace, i), path_effects=_outlined())
        ax.plot(xs, ys, "o", color=colour, markersize=3.5)
        _ends(ax, [xs, ys], colour, trace.diverged, sizes[i])
    if landscape.origin is not None:
        ax.plot(
            [0.0], [0.0], "P", color="white", markeredgecolor="black", markersize=15, label="θ* (the trained weights)"
        )
    ax.set_xlim(landscape.axes[0][0], landscape.axes[0][-1])
    ax.set_ylim(landscape.axes[1][0], landscape.axes[1][-1])
    ax.set_xlabel(_axis_label(landscape, 0))
    ax.set_ylabel(_axis_label(landscape, 1))


def _draw_surface(ax: Any, landscape: Landscape, traces: list[Trace]) -> None:
    gx, gy = np.meshgrid(landscape.axes[0], landscape.axes[1])
    values = np.where(np.isfinite(landscape.values), landscape.values, np.nan)
    from matplotlib.ticker import MaxNLocator

    ax.plot_surface(gx, gy, values, cmap="viridis", alpha=0.75, linewidth=0, antialiased=True, zorder=1)
    for i, trace in enumerate(traces):
        colour = PATH_COLOURS[i % len(PATH_COLOURS)]
        xs, ys, zs = trace.coords[:, 0], trace.coords[:, 1], trace.values
        ax.plot(xs, ys, zs, "-o", color=colour, linewidth=2.5, markersize=3, label=_trace_label(trace, i), zorder=3)
        _ends(ax, [xs, ys, zs], colour, trace.diverged)
    if landscape.origin is not None:
        ax.plot(
            [0.0],
            [0.0],
            [_centre_value(landscape)],
            "P",
            color="black",
            markersize=13,
            label="θ* (the trained weights)",
        )
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(5))  # fewer ticks: the default ones run into each other
    ax.set_xlabel(_axis_label(landscape, 0), labelpad=10)
    ax.set_ylabel(_axis_label(landscape, 1), labelpad=10)
    ax.set_zlabel(_value_label(landscape), labelpad=8)


def _legend(ax: Any, with_paths: bool, with_divergence: bool, loc: str) -> None:
    """The paths' and the centre's entries, then what the start and end markers mean."""
    from matplotlib.lines import Line2D

    handles, labels = ax.get_legend_handles_labels()
    if with_paths:
        marker: dict[str, Any] = {"color": "lightgray", "markeredgecolor": "black", "linestyle": "none"}
        handles += [
            Line2D([], [], marker="o", markersize=11, **marker),
            Line2D([], [], marker="*", markersize=16, **marker),
        ]
        labels += ["start", "end"]
        if with_divergence:
            handles.append(Line2D([], [], marker="X", markersize=13, **marker))
            labels.append("last finite point (then NaN)")
    if handles and loc == "outside":  # right of the frame, where it covers nothing
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, framealpha=0.9)
    elif handles:
        ax.legend(handles, labels, loc=loc, framealpha=0.9)


def _ends(ax: Any, coords: Sequence[np.ndarray], colour: str, diverged: bool, scale: float = 1.0) -> None:
    """A round marker at the start, a star at the end (a cross where a run diverged), `scale` times the usual size."""
    first = [[c[0]] for c in coords]
    last = [[c[-1]] for c in coords]
    ax.plot(*first, "o", color=colour, markeredgecolor="black", markersize=13, zorder=5)
    marker, size = ("X", 16) if diverged else ("*", 20)
    ax.plot(*last, marker, color=colour, markeredgecolor="black", markersize=size * scale, zorder=5)


def _centre_value(landscape: Landscape) -> float:
    if landscape.evaluate is None or landscape.origin is None:
        return float("nan")
    return landscape.evaluate(landscape.origin)


__all__ = ["KINDS", "PATH_COLOURS", "plot_landscape"]
