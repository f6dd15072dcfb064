"""The figures every matplotlib picture of `viz` is drawn on, and how they are written to PNG.

matplotlib is an optional extra, imported only here and inside the drawing functions, so the rest
of the project works without it. A picture is a `matplotlib.figure.Figure` on the Agg canvas (never
pyplot's global state, so nothing leaks or shows twice in a notebook); `path=`/`file=` also writes
it as a PNG, atomically.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from typing import Any

from micrograd.files import write_atomic

#: Sizes that read on a projector from the back of a room (matplotlib's rcParams names).
PROJECTOR_STYLE: dict[Any, Any] = {
    "font.size": 14,
    "axes.titlesize": 16,
    "axes.labelsize": 15,
    "xtick.labelsize": 13,
    "ytick.labelsize": 13,
    "legend.fontsize": 12,
    "lines.linewidth": 2.5,
    "lines.markersize": 7,
}


def figure(width: float, height: float) -> Any:
    """A Figure drawn by the Agg renderer, independent of pyplot and of the session's backend."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install matplotlib") from None
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


@contextlib.contextmanager
def projector_style() -> Iterator[None]:
    """Draw with `PROJECTOR_STYLE` inside the block (matplotlib reads the sizes as it makes each text)."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install matplotlib") from None
    with matplotlib.rc_context(PROJECTOR_STYLE):
        yield


def png_bytes(fig: Any, dpi: int = 100) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def save_png(fig: Any, path: str | os.PathLike[str] | None) -> None:
    """Write `fig` to `path` as a PNG, atomically; nothing when `path` is None."""
    if path is not None:
        write_atomic(path, png_bytes(fig))


__all__ = ["PROJECTOR_STYLE", "figure", "png_bytes", "projector_style", "save_png"]
