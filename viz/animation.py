"""Training you can watch (`animate_training`): a 2-D classifier's decision boundary and its loss
curve, frame by frame as `fit` runs, made with matplotlib's animation module and Pillow.

`fit` runs once, with a callback (`BoundaryRecorder`) that keeps the model's outputs on the grid of
inputs every `every` epochs; the frames are drawn afterwards from those numbers, with the drawing
of `viz.plot_decision_boundary`. The result plays in Jupyter as a self-contained HTML5/JavaScript
player (`to_jshtml`, the frames embedded as PNGs) and saves as a GIF.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from micrograd.checks import check_int
from micrograd.files import write_atomic
from micrograd.training.callbacks import Callback, Logs

from .boundary import BoundaryGrid, boundary_grid, check_boundary_data, draw_boundary
from .figures import PROJECTOR_STYLE, figure, projector_style

#: Counts the pages made, for their element ids (itertools.count's next() is atomic).
_PAGES = itertools.count()

#: The most frames one animation may have (each is a picture kept in memory and in the page).
MAX_FRAMES = 100

#: The player's buttons as text: matplotlib's page draws them with Font Awesome icons fetched from a
#: CDN, which would leave the buttons blank offline; the page here needs nothing from the network.
BUTTON_SYMBOLS = {
    "fa fa-minus": "−",
    "fa fa-fast-backward": "|◀◀",
    "fa fa-step-backward": "|◀",
    "fa fa-play fa-flip-horizontal": "◀",
    "fa fa-pause": "||",
    "fa fa-play": "▶",
    "fa fa-step-forward": "▶|",
    "fa fa-fast-forward": "▶▶|",
    "fa fa-plus": "+",
}


class BoundaryRecorder(Callback):
    """Keeps `model.predict` on the grid's points before training and after every `every`-th epoch
    (and after the last one): `epochs[k]` and `outputs[k]` are frame k's epoch and outputs."""

    def __init__(self, grid: BoundaryGrid, every: int) -> None:
        self.grid = grid
        self.every = every
        self.epochs: list[int] = []
        self.outputs: list[np.ndarray] = []
        self.losses: list[float] = []

    def _keep(self, epoch: int) -> None:
        self.epochs.append(epoch)
        self.outputs.append(np.asarray(self.model.predict(self.grid.points), dtype=np.float64))

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.epochs, self.outputs, self.losses = [], [], []
        self._keep(0)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self.losses.append(float((logs or {})["loss"]))
        if (epoch + 1) % self.every == 0:
            self._keep(epoch + 1)

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.epochs[-1] != len(self.losses):  # stopped early, or epochs not a multiple of every
            self._keep(len(self.losses))


class TrainingAnimation:
    """An animation of training: shows itself in Jupyter (`_repr_html_`, a self-contained player),
    `to_jshtml()` gives that page, `save("training.gif")` writes a GIF (atomically).

    `frames` is the number of frames, `epochs[k]` the epoch frame k shows, `outputs[k]` the model's
    outputs on the grid then (one row per grid point), `history` what `fit` returned.
    """

    def __init__(self, draw: Callable[[], Any], recorder: BoundaryRecorder, history: Any, fps: int, dpi: int) -> None:
        # matplotlib's Animation is made when it is played or saved, each time anew: one left
        # unplayed (in a script) would warn "Animation was deleted without rendering anything".
        self._draw = draw
        self.epochs = recorder.epochs
        self.outputs = recorder.outputs
        self.history = history
        self.fps = fps
        self.dpi = dpi

    @property
    def frames(self) -> int:
        return len(self.epochs)

    def to_jshtml(self) -> str:
        """The animation as one HTML page (player controls and JavaScript, the frames embedded as
        PNG data) that loads nothing from elsewhere.

        matplotlib names the page's elements with a random id; here the id is made from the
        animation's numbers and a count of the pages made so far in this process, so a notebook
        run afresh stores the same text, and two players on one page never share an id.
        """
        html = self._draw().to_jshtml(fps=self.fps, embed_frames=True, default_mode="loop")
        html = re.sub(r'<link rel="stylesheet"\s+href="https?://[^"]*">', "", html)
        html = re.sub(r'<i class="(fa [^"]*)"></i>', lambda icon: BUTTON_SYMBOLS.get(icon[1], "•"), html)
        digest = hashlib.sha256(f"{self.epochs}|{self.fps}|{self.dpi}|{next(_PAGES)}".encode())
        for output in self.outputs:
            digest.update(output.tobytes())
        for random_id in set(re.findall(r"_anim_img([0-9a-f]{32})", html)):
            html = html.replace(random_id, digest.hexdigest()[:32])
        return html

    def _repr_html_(self) -> str:
        return self.to_jshtml()

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the animation as a looping GIF (matplotlib's PillowWriter), atomically."""
        from matplotlib.animation import PillowWriter

        if not os.fspath(path).lower().endswith(".gif"):
            raise ValueError(f"TrainingAnimation.save writes a GIF: give a path ending in .gif, got {path!r:.80}")
        with tempfile.TemporaryDirectory() as folder:
            temporary = Path(folder) / "animation.gif"
            self._draw().save(temporary, writer=PillowWriter(fps=self.fps))
            write_atomic(path, temporary.read_bytes())

    def __repr__(self) -> str:
        return f"TrainingAnimation({self.frames} frames, epochs {self.epochs[0]} to {self.epochs[-1]})"


def animate_training(
    model: Any,
    X: Any,
    y: Any,
    epochs: int = 50,
    every: int = 5,
    *,
    resolution: int = 40,
    fps: int = 4,
    dpi: int = 75,
    **fit_options: Any,
) -> TrainingAnimation:
    """Train a compiled model on 2-D data and animate its decision boundary and loss curve.

    Runs `model.fit(X, y, epochs=epochs, verbose=0, **fit_options)` (its callbacks, batch_size,
    seed, ...) once, keeping the model's outputs on a `resolution` × `resolution` grid before
    training and every `every` epochs: 1 + ⌈epochs / every⌉ frames, at most `MAX_FRAMES`. `fps`
    frames per second, `dpi` the frames' resolution (the default keeps a page and a GIF small).
    The model ends trained, as after `fit`.
    """
    epochs = check_int("animate_training", "epochs", epochs)
    every = check_int("animate_training", "every", every)
    fps = check_int("animate_training", "fps", fps)
    dpi = check_int("animate_training", "dpi", dpi, minimum=20)
    frames = 1 + math.ceil(epochs / every)
    if frames > MAX_FRAMES:
        raise ValueError(
            f"animate_training: epochs={epochs} with every={every} makes {frames} frames, more than {MAX_FRAMES}; "
            f"take a frame every {math.ceil(epochs / (MAX_FRAMES - 1))} epochs or more"
        )
    X, labels = check_boundary_data("animate_training", X, y)
    grid = boundary_grid("animate_training", X, resolution)
    recorder = BoundaryRecorder(grid, every)
    callbacks = [*list(fit_options.pop("callbacks", None) or []), recorder]
    fit_options.setdefault("verbose", 0)
    history = model.fit(X, y, epochs=epochs, callbacks=callbacks, **fit_options)
    return TrainingAnimation(lambda: _animation(grid, recorder, X, labels, epochs, dpi), recorder, history, fps, dpi)


def _animation(
    grid: BoundaryGrid, recorder: BoundaryRecorder, X: np.ndarray, labels: np.ndarray, epochs: int, dpi: int
) -> Any:
    from matplotlib.animation import FuncAnimation

    losses = np.array(recorder.losses, dtype=np.float64)
    with projector_style():
        fig = figure(8.5, 3.8)
        boundary_ax, loss_ax = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1.0]})
    fig.set_dpi(dpi)  # the frames of the page and of the GIF are drawn at the figure's dpi
    fig.subplots_adjust(left=0.1, right=0.98, bottom=0.18, top=0.89, wspace=0.3)  # once: the frames keep one layout

    def draw(k: int) -> None:
        epoch = recorder.epochs[k]
        with projector_style():
            boundary_ax.clear()
            draw_boundary(
                fig, boundary_ax, grid, recorder.outputs[k], X, labels, colorbar=False, title=f"epoch {epoch}/{epochs}"
            )
            loss_ax.clear()
            shown = np.arange(1, epoch + 1)
            loss_ax.plot(shown, losses[:epoch], color="#1f77b4", linewidth=2.5)
            if epoch > 0:
                loss_ax.plot([epoch], [losses[epoch - 1]], "o", color="#d62728", markersize=10)
            loss_ax.set_xlim(0, max(len(losses), 1))
            top = float(np.nanmax(losses)) if len(losses) else 1.0
            loss_ax.set_ylim(0, 1.05 * top)
            loss_ax.set_xlabel("epoch")
            loss_ax.set_ylabel("training loss")
            loss_ax.set_title("loss" if epoch == 0 else f"loss {losses[epoch - 1]:.3f}")
            loss_ax.grid(alpha=0.3)
            for ax in (boundary_ax, loss_ax):  # ticks are made when drawn, after this block: size them now
                ax.tick_params(labelsize=PROJECTOR_STYLE["xtick.labelsize"])

    return FuncAnimation(fig, draw, frames=len(recorder.epochs), repeat=False, cache_frame_data=False)


__all__ = ["BUTTON_SYMBOLS", "MAX_FRAMES", "BoundaryRecorder", "TrainingAnimation", "animate_training"]
