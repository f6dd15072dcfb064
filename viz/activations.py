"""The activation functions beside their derivatives (`viz.plot_activations`), both computed by
the engine: g is the op's value on a `Value`, g′ the gradient `backward()` leaves, so a kink or a
jump is drawn as backpropagation sees it, not as a formula typed a second time."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from micrograd.engine import Value, apply_op
from micrograd.engine.ops import OPS

from .figures import figure as _figure
from .figures import save_png as _save_png

#: The activations `plot_activations` draws by default, in the order the course meets them.
ACTIVATION_GALLERY = ("step", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "gelu")
_Z = np.linspace(-4.0, 4.0, 801)  # z from −4 to 4 in steps of 0.01; z = 0 is one of the points
_JUMP = 0.5  # a change larger than this between neighbouring points (0.01 apart) is a jump
_G_COLOUR, _DG_COLOUR = "#1f5fa8", "#c0392b"  # g(z) blue, g′(z) red, in every panel
_TITLE_SIZE, _NOTE_SIZE, _TICK_SIZE = 12, 13, 12  # points, on an 11-inch figure
_SMALL = 0.1  # a constant g′ below this (but not 0) looks like 0 on the g′ panels' scale: say its value


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
    row on 11 inches, to read at full size in a notebook cell: step, sigmoid, tanh, relu,
    leaky_relu, elu, softplus and gelu unless `names` lists others (any unary op of the engine).
    Both curves come from the engine (`activation_values`), so g′ is what backpropagation uses,
    kinks included. Where a curve jumps, it is broken there, a filled dot marking the engine's
    value at the jump and an open one the other side; a g′ that is 0 wherever it exists says so,
    and so does a small constant slope below 0 (leaky ReLU's "0.01 for z < 0"), which would look
    like 0. Returns the Figure (axes in reading order: g, g′, g, g′, ...)."""
    chosen = list(ACTIVATION_GALLERY if names is None else _activation_names(names))
    rows = (len(chosen) + 1) // 2
    # 11 inches: a notebook cell shows it at (nearly) full size, so the sizes below are what a
    # projector shows, not shrunk to 60% as a wider figure would be.
    fig = _figure(11.0, 2.75 * rows + 0.5)
    fig.set_layout_engine("constrained", w_pad=0.04, h_pad=0.04, wspace=0.03, hspace=0.03)
    # Four columns of panels, a narrow empty one between the two pairs so each g stays with its g′.
    grid = fig.add_gridspec(rows, 5, width_ratios=[1, 1, 0.3, 1, 1])
    axes = []
    for k, name in enumerate(chosen):
        g, dg = activation_values(name, _Z)
        column = 0 if k % 2 == 0 else 3
        ax_g, ax_dg = fig.add_subplot(grid[k // 2, column]), fig.add_subplot(grid[k // 2, column + 1])
        axes += [ax_g, ax_dg]
        title = _activation_title(name)
        jumps = _draw_curve(ax_g, _Z, np.array(g), _G_COLOUR)
        _draw_curve(ax_dg, _Z, np.array(dg), _DG_COLOUR)
        ax_g.set_title(f"{title}: g(z)", fontsize=_TITLE_SIZE)
        ax_dg.set_title(f"{title}: g′(z)", fontsize=_TITLE_SIZE)
        ax_dg.set_ylim(-0.25, 1.25)
        ax_dg.set_yticks([0.0, 0.5, 1.0])
        if not any(dg):
            where = ", ".join(f"{_plain(_Z[i + 1] if _Z[i + 1] == 0 else _Z[i])}" for i in jumps)
            ax_dg.text(
                0.5,
                0.62,
                "g′ = 0" + (f"\n(undefined at {where})" if jumps else ""),
                transform=ax_dg.transAxes,
                ha="center",
                fontsize=_NOTE_SIZE,
                color=_DG_COLOUR,
            )
        else:
            _note_a_small_left_slope(ax_dg, name, np.array(dg))
    for ax in axes:
        ax.axhline(0.0, color="0.6", linewidth=0.8, zorder=0)
        ax.axvline(0.0, color="0.6", linewidth=0.8, zorder=0)
        ax.grid(alpha=0.3)
        ax.set_xticks([-4, -2, 0, 2, 4])
        ax.tick_params(labelsize=_TICK_SIZE, pad=2)
        ax.set_xlabel("z", fontsize=_TICK_SIZE, labelpad=0)
    fig.suptitle("Activations g(z) and their derivatives g′(z), both computed by the engine", fontsize=15)
    _save_png(fig, path)
    return fig


def _note_a_small_left_slope(ax: Any, name: str, dg: np.ndarray) -> None:
    """Say what g′ is below 0 when it is a constant too small to tell from 0 at this scale (leaky
    ReLU's slope 0.01): set by the op's parameter, it is the point of the activation."""
    left = dg[_Z < 0]
    if OPS[name].parameter is None or not (np.all(left == left[0]) and 0 < abs(left[0]) < _SMALL):
        return
    ax.annotate(
        f"{_plain(float(left[0]))} for z < 0",
        xy=(-2.0, float(left[0])),
        xytext=(-3.8, 0.4),
        ha="left",
        fontsize=_NOTE_SIZE,
        color=_DG_COLOUR,
        arrowprops={"arrowstyle": "->", "color": _DG_COLOUR, "linewidth": 1.5},
    )


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


__all__ = ["ACTIVATION_GALLERY", "activation_values", "plot_activations"]
