"""How much gradient reaches each layer (`viz.plot_gradient_flow`), from the figures the
`GradientFlow` callback records into `History` during `fit`: the picture of vanishing and
exploding gradients."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from .figures import figure as _figure
from .figures import save_png as _save_png


def plot_gradient_flow(history: Any, path: str | os.PathLike[str] | None = None) -> Any:
    """How much gradient reaches each layer, from a `fit` with the `GradientFlow` callback.

    Left: each layer's gradient norm ‖∂J/∂W‖ by epoch, on a log scale, one line per layer (L1, the
    input side, darkest), each named at its right end. Middle: the same norms across the layers at the first and the last
    epoch, input on the left: a line falling toward the input is a vanishing gradient, rising
    toward it an exploding one. Right, when recorded: the fraction of dead ReLU units of each ReLU
    layer, named the same way.
    `history` is what `fit` returns or its `.history` dict. Returns the Figure.
    """
    data: Mapping[str, list[float]] = getattr(history, "history", history)
    if not isinstance(data, Mapping):
        raise TypeError(f"plot_gradient_flow needs the History that fit returns, got {type(history).__name__}")
    norms = {key.removeprefix("grad_norm/"): data[key] for key in data if key.startswith("grad_norm/")}
    dead = {key.removeprefix("dead_relu/"): data[key] for key in data if key.startswith("dead_relu/")}
    if not norms or not all(len(v) for v in norms.values()):
        raise ValueError(
            "plot_gradient_flow needs a History recorded with the GradientFlow callback: "
            "model.fit(X, y, callbacks=[GradientFlow()])"
        )
    from matplotlib import colormaps
    from matplotlib.ticker import MaxNLocator

    names = list(norms)
    # plasma from its darkest to orange (its yellow end is unreadable on white): L1 darkest
    colours = {name: colormaps["plasma"](0.8 * k / max(1, len(names) - 1)) for k, name in enumerate(names)}
    values = np.array([norms[name] for name in names], dtype=np.float64)  # (layers, epochs)
    log = bool(np.any(values > 0.0))  # all zeros (a constant start) is drawn on a linear scale
    fig = _figure(5.0 * (3 if dead else 2) + 1.0, 4.2)
    axes = fig.subplots(1, 3 if dead else 2, squeeze=False)[0]

    ax = axes[0]
    epochs = np.arange(1, values.shape[1] + 1)
    for name, row in zip(names, values):
        ax.plot(epochs, np.where(row > 0.0, row, np.nan) if log else row, color=colours[name], label=name, lw=2)
    ax.set_title("gradient norm ‖∂J/∂W‖ per layer")

    ax = axes[1]
    layers = np.arange(1, len(names) + 1)
    for column, style, when in ((0, "o--", "first epoch"), (-1, "s-", "last epoch")):
        shown = values[:, column]
        ax.plot(layers, np.where(shown > 0.0, shown, np.nan) if log else shown, style, color="black", label=when)
        if values.shape[1] == 1:
            break
    ax.set_xticks(layers, names)
    ax.set_title("across the layers (input → output)")
    ax.set_xlabel("layer")
    ax.legend(fontsize="small", loc="best")
    for ax in axes[:2]:
        ax.set_yscale("log" if log else "linear")
        ax.grid(alpha=0.3, which="both")

    if dead:
        ax = axes[2]
        for name, row in dead.items():
            ax.plot(np.arange(1, len(row) + 1), row, color=colours.get(name, "black"), label=name, lw=2)
        ax.set_ylim(-0.03, 1.03)
        ax.set_title("dead ReLU units (output 0 on every sample)")
        ax.set_ylabel("fraction of the layer's units")
        ax.grid(alpha=0.3)
    for ax in (axes[0], *axes[2:]):  # the panels by epoch: whole epochs only
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        _name_line_ends(ax, fig)
    fig.tight_layout()
    _save_png(fig, path)
    return fig


def _name_line_ends(ax: Any, fig: Any) -> None:
    """Write each line's label just right of the panel, level with where the line ends, in its colour.

    Ten shades of one colour map cannot be told apart in a legend; a name beside each line's end
    can. Lines ending at the same value share one label ("L1 L4"); labels closer than a line of text
    are pushed apart (keeping their order) and joined to their line's end by a thin stroke.
    """
    ax.get_xlim(), ax.get_ylim()  # settle the axis limits the labels are placed against
    to_axes = ax.transAxes.inverted()
    ends: dict[tuple[float, float], list[Any]] = {}
    for line in ax.get_lines():
        xs, ys = np.asarray(line.get_xdata(), dtype=np.float64), np.asarray(line.get_ydata(), dtype=np.float64)
        shown = np.flatnonzero(np.isfinite(ys))
        if shown.size:
            x, y = xs[shown[-1]], ys[shown[-1]]
            ends.setdefault((float(x), float(y)), []).append(line)
    if not ends:
        return
    points = sorted(ends, key=lambda end: (to_axes.transform(ax.transData.transform(end))[1], end))
    wanted = [float(to_axes.transform(ax.transData.transform(end))[1]) for end in points]
    fontsize = 11.0
    gap = 1.25 * fontsize / (ax.get_window_extent().height * 72.0 / fig.dpi)  # one line of text, in axes units
    placed = _spread(wanted, gap)
    for end, y in zip(points, placed):
        lines = ends[end]
        ax.annotate(
            " ".join(str(line.get_label()) for line in lines),
            xy=end,
            xytext=(1.04, y),
            textcoords="axes fraction",
            va="center",
            ha="left",
            fontsize=fontsize,
            fontweight="bold",
            color=lines[0].get_color(),
            arrowprops={"arrowstyle": "-", "color": lines[0].get_color(), "lw": 0.8, "shrinkA": 0, "shrinkB": 2},
            annotation_clip=False,
        )


def _spread(wanted: list[float], gap: float) -> list[float]:
    """Positions as near `wanted` (ascending) as possible, at least `gap` apart, within [0, 1] if they fit."""
    placed = list(wanted)
    for k in range(1, len(placed)):  # upward: each clear of the one below
        placed[k] = max(placed[k], placed[k - 1] + gap)
    top = max(1.0, gap * (len(placed) - 1))
    for k in range(len(placed) - 1, -1, -1):  # then down from the top: each clear of the one above
        ceiling = top if k == len(placed) - 1 else placed[k + 1] - gap
        placed[k] = min(placed[k], ceiling)
    return placed


__all__ = ["plot_gradient_flow"]
