"""viz.animate_training: the frames it keeps, the GIF it writes, the page it shows."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from PIL import Image

from micrograd import Dense, Sequential
from micrograd.datasets import make_moons
from micrograd.training.callbacks import History
from viz import animate_training
from viz.animation import MAX_FRAMES
from viz.boundary import boundary_grid


def moons_model():
    model = Sequential([Dense(4, "tanh"), Dense(1, "sigmoid")], input_dim=2, seed=0)
    model.compile(loss="binary_crossentropy", optimizer="adam")
    return model


@pytest.fixture(scope="module")
def animation():
    X, y = make_moons(30, noise=0.1, seed=0)
    model = moons_model()
    seen = History()
    movie = animate_training(model, X, y, epochs=5, every=2, resolution=12, batch_size=10, seed=0, callbacks=[seen])
    return movie, model, X, y, seen


def test_frames_at_the_start_every_few_epochs_and_at_the_end(animation) -> None:
    movie, model, X, _, seen = animation
    assert movie.epochs == [0, 2, 4, 5] and movie.frames == 4
    assert seen.epoch == [0, 1, 2, 3, 4]  # the caller's callbacks ran too
    assert movie.history.history["loss"] == seen.history["loss"]
    # the last frame shows the trained model: its outputs on the grid are predict's
    grid = boundary_grid("test", X, 12)
    assert np.array_equal(movie.outputs[-1], model.predict(grid.points))
    # and the first the untrained one
    np.testing.assert_array_equal(movie.outputs[0], moons_model().predict(grid.points))


def test_the_gif_has_one_frame_per_kept_epoch(animation, tmp_path) -> None:
    movie, *_ = animation
    path = tmp_path / "training.gif"
    movie.save(path)
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 4
        assert gif.size == (int(8.5 * movie.dpi), int(3.8 * movie.dpi))
    assert os.listdir(tmp_path) == ["training.gif"]  # written atomically: no temporary file left
    with pytest.raises(ValueError, match=r"ending in \.gif"):
        movie.save(tmp_path / "training.mp4")


def test_the_page_is_self_contained_and_the_same_every_time(animation) -> None:
    movie, *_ = animation
    html = movie.to_jshtml()
    again = movie._repr_html_()
    ids = {re.search(r"_anim_img([0-9a-f]{32})", page)[1] for page in (html, again)}
    assert len(ids) == 2  # two players on one page never share an id
    first, second = ids
    assert html.replace(first, "ID").replace(second, "ID") == again.replace(first, "ID").replace(second, "ID")
    assert len(re.findall(r"data:image/png;base64,", html)) == 4
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html)  # nothing fetched from elsewhere
    assert "<script" in html and "Animation" in html


def test_the_number_of_frames_is_bounded() -> None:
    X, y = make_moons(10, noise=0.1, seed=0)
    with pytest.raises(ValueError, match=f"makes 1001 frames, more than {MAX_FRAMES}; take a frame every 11 epochs"):
        animate_training(moons_model(), X, y, epochs=1000, every=1)
    with pytest.raises(ValueError, match="X must have shape"):
        animate_training(moons_model(), X[:, :1], y)
