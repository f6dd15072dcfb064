"""viz.plots: training curves and decision boundaries as matplotlib Figures and PNG files."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from micrograd.datasets import load_digits, make_blobs, make_moons, make_spirals
from micrograd.nn.sequential import Dense, Sequential
from micrograd.optim import Adam
from micrograd.training.callbacks import History
from viz.plots import plot_decision_boundary, plot_digits, plot_history

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path) -> bytes:
    data = Path(path).read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > len(PNG_SIGNATURE) + 1000
    return data


@pytest.fixture(scope="module")
def trained() -> tuple[Sequential, History, np.ndarray, np.ndarray]:
    X, y = make_moons(40, noise=0.1, seed=0)
    model = Sequential([Dense(8, activation="tanh"), Dense(1, activation="sigmoid")], input_dim=2, seed=0)
    model.compile(loss="binary_crossentropy", optimizer=Adam(lr=0.1), metrics=["accuracy"])
    history = model.fit(X, y, epochs=4, batch_size=10, validation_split=0.25, verbose=0)
    return model, history, X, y


def test_plot_history_draws_training_and_validation_curves(trained, tmp_path):
    _, history, _, _ = trained
    path = tmp_path / "history.png"
    fig = plot_history(history, path=path)
    assert_png(path)
    loss_ax, acc_ax = fig.axes
    assert [loss_ax.get_title(), acc_ax.get_title()] == ["loss", "accuracy"]
    assert [line.get_label() for line in loss_ax.get_lines()] == ["training", "validation"]
    train_line, val_line = loss_ax.get_lines()
    assert list(train_line.get_xdata()) == [1, 2, 3, 4]
    assert list(train_line.get_ydata()) == history.history["loss"]
    assert list(val_line.get_ydata()) == history.history["val_loss"]
    assert list(acc_ax.get_lines()[1].get_ydata()) == history.history["val_accuracy"]
    # The dict works too, and without a path nothing is written.
    assert len(plot_history(history.history).axes) == 2
    assert os.listdir(tmp_path) == ["history.png"]


def test_plot_decision_boundary_binary_and_multiclass(trained, tmp_path):
    model, _, X, y = trained
    path = tmp_path / "moons.png"
    fig = plot_decision_boundary(model, X, y, path=path, resolution=30)
    first = assert_png(path)
    plot_decision_boundary(model, X, y, path=path, resolution=30)
    assert Path(path).read_bytes() == first  # the same picture, byte for byte
    assert os.listdir(tmp_path) == ["moons.png"]  # written atomically: no temporary file left
    assert fig.axes[0].get_title() == "decision boundary"

    Xb, yb = make_blobs(30, centers=3, seed=0)
    softmax_model = Sequential([Dense(3, activation="softmax")], input_dim=2, seed=0)
    plot_decision_boundary(softmax_model, Xb, yb, path=tmp_path / "blobs.png", resolution=20)
    assert_png(tmp_path / "blobs.png")


def test_plots_reject_what_they_cannot_draw(trained):
    model, _, X, y = trained
    with pytest.raises(ValueError, match=r"shape \(samples, 2\), got \(40, 3\)"):
        plot_decision_boundary(model, np.ones((40, 3)), y)
    with pytest.raises(ValueError, match="X has 40 samples but y has 39"):
        plot_decision_boundary(model, X, y[:-1])
    with pytest.raises(ValueError, match="needs the History"):
        plot_history({})


def test_matplotlib_is_imported_only_when_plotting_and_pyplot_never(tmp_path):
    script = f"""
import sys
import viz.plots
assert "matplotlib" not in sys.modules, "importing viz.plots imported matplotlib"
viz.plots.plot_history({{"loss": [1.0, 0.5]}}, path={str(tmp_path / "h.png")!r})
assert "matplotlib" in sys.modules and "matplotlib.pyplot" not in sys.modules
"""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=repo)
    assert result.returncode == 0, result.stderr
    assert_png(tmp_path / "h.png")


class _Flat:
    """A model that learned nothing: 0.5 everywhere, give or take a millionth."""

    def predict(self, X):
        return 0.5 + 1e-6 * np.tanh(np.asarray(X)[:, :1])


def test_a_model_that_only_answers_0_or_1_gets_two_flat_colours_and_no_scale():
    X, y = make_moons(20, noise=0.1, seed=0)
    stepped = Sequential([Dense(4, "tanh"), Dense(1, "step")], input_dim=2, seed=0)
    fig = plot_decision_boundary(stepped, X, y, resolution=20)
    assert len(fig.axes) == 1  # no "model output" colour bar promising values between 0 and 1
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["class 0", "class 1"]
    mesh = _regions(fig)
    gx, gy = _grid(X, 20)
    expected = stepped.predict(np.column_stack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
    assert set(np.unique(expected)) == {0.0, 1.0}  # both answers appear on the grid
    assert np.array_equal(np.asarray(mesh.get_array()).reshape(gx.shape), expected)
    assert mesh.cmap.N == 2  # two flat colours, nothing blended between them
    # A model whose outputs lie between 0 and 1 keeps its continuous scale.
    assert len(plot_decision_boundary(_Flat(), X, y, resolution=10).axes) == 2


def test_a_flat_probability_is_drawn_on_the_full_0_to_1_scale():
    X, y = make_moons(20, noise=0.1, seed=0)
    fig = plot_decision_boundary(_Flat(), X, y)
    colorbar = fig.axes[1]
    assert colorbar.get_ylim() == (0.0, 1.0)


class _ThreeBands:
    """Class 0 left of x0 = 0, class 2 right of it, class 1 only above x1 = 1: a 0|2 border with no 1 near it."""

    def predict(self, X):
        X = np.asarray(X)
        scores = np.zeros((len(X), 3))
        scores[np.arange(len(X)), np.where(X[:, 1] > 1.0, 1, np.where(X[:, 0] < 0.0, 0, 2))] = 1.0
        return scores


def _regions(fig):
    """The QuadMesh of class numbers that plot_decision_boundary paints."""
    from matplotlib.collections import QuadMesh

    (mesh,) = [c for c in fig.axes[0].collections if isinstance(c, QuadMesh)]
    return mesh


def _grid(X, resolution):
    low, high = X.min(axis=0), X.max(axis=0)
    margin = 0.1 * np.maximum(high - low, 1e-9) + 0.1
    xs = np.linspace(low[0] - margin[0], high[0] + margin[0], resolution)
    ys = np.linspace(low[1] - margin[1], high[1] + margin[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    return gx, gy


def test_each_grid_point_is_painted_with_the_class_the_model_predicts_there(tmp_path):
    X, y = make_spirals(30, seed=0)
    model = Sequential([Dense(8, activation="tanh"), Dense(3, activation="softmax")], input_dim=2, seed=0)
    fig = plot_decision_boundary(model, X, y, resolution=25)
    gx, gy = _grid(X, 25)
    expected = np.argmax(model.predict(np.column_stack([gx.ravel(), gy.ravel()])), axis=1).reshape(gx.shape)
    mesh = _regions(fig)
    assert np.array_equal(np.asarray(mesh.get_array()).reshape(gx.shape), expected)
    # One flat colour per class: class k is exactly the k-th colour of the mesh's colormap.
    assert mesh.cmap.N == 3 and [mesh.cmap(mesh.norm(k)) for k in range(3)] == [mesh.cmap(k) for k in range(3)]
    # The cells are centred on the grid points, so each point's cell shows its own prediction.
    x0, x1 = mesh.get_coordinates()[0, :2, 0]
    assert np.isclose((x0 + x1) / 2, gx[0, 0])
    # Deterministic PNG.
    plot_decision_boundary(model, X, y, path=tmp_path / "a.png", resolution=25)
    plot_decision_boundary(model, X, y, path=tmp_path / "b.png", resolution=25)
    assert assert_png(tmp_path / "a.png") == assert_png(tmp_path / "b.png")


def test_no_false_class_band_is_drawn_where_two_other_classes_meet():
    # The old contourf over the class numbers painted a class-1 band along every 0|2 border.
    X = np.array([[-2.0, -2.0], [2.0, -2.0], [-2.0, 2.0], [2.0, 2.0]])
    y = _ThreeBands().predict(X).argmax(axis=1)
    fig = plot_decision_boundary(_ThreeBands(), X, y, resolution=40)
    for collection in fig.axes[0].collections[1:]:  # the data points: look at the regions only
        collection.set_visible(False)
    fig.axes[0].get_legend().set_visible(False)
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(np.int64)
    box = fig.axes[0].get_window_extent()
    height = pixels.shape[0]
    inside = pixels[int(height - box.y1) + 3 : int(height - box.y0) - 3, int(box.x0) + 3 : int(box.x1) - 3]
    cmap = _regions(fig).cmap
    palette = np.round(np.array([cmap(k)[:3] for k in range(3)]) * 255).astype(np.int64)
    # Each pixel is exactly one class's colour (no blend), and class 1's only in its band above x1 = 1.
    distance = np.abs(inside[:, :, None, :] - palette[None, None, :, :]).sum(axis=-1)
    assert distance.min(axis=-1).max() <= 3
    painted = distance.argmin(axis=-1)
    _, gy = _grid(X, 40)
    above = gy[:, 0] > 1.0  # the rows of grid points predicting class 1
    rows_with_1 = np.flatnonzero((painted == 1).any(axis=1))
    # Image rows go top-down; the class-1 band is the top part, about the same share as its grid rows.
    assert rows_with_1.max() < len(painted) * (above.sum() + 1) / len(above)
    lower = painted[rows_with_1.max() + 2 :]
    assert set(np.unique(lower)) == {0, 2}


def test_the_legend_lists_the_classes_by_number_or_by_name():
    X, y = make_blobs(30, centers=3, seed=0)
    model = Sequential([Dense(3, activation="softmax")], input_dim=2, seed=0)
    fig = plot_decision_boundary(model, X, y, resolution=10)
    legend = fig.axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["class 0", "class 1", "class 2"]
    fig = plot_decision_boundary(model, X, y, resolution=10, class_names=("setosa", "versicolor", "virginica"))
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["setosa", "versicolor", "virginica"]
    # One-hot targets work as the class numbers do.
    plot_decision_boundary(model, X, np.eye(3)[y], resolution=10)


def test_class_names_and_labels_are_checked(trained):
    X, y = make_blobs(30, centers=3, seed=0)
    model = Sequential([Dense(3, activation="softmax")], input_dim=2, seed=0)
    with pytest.raises(ValueError, match="class_names has 2 names but the model predicts 3 classes"):
        plot_decision_boundary(model, X, y, class_names=["a", "b"])
    with pytest.raises(TypeError, match="class_names must be a list of strings"):
        plot_decision_boundary(model, X, y, class_names="abc")
    with pytest.raises(TypeError, match="class_names must be a list of strings"):
        plot_decision_boundary(model, X, y, class_names=[0, 1, 2])
    with pytest.raises(ValueError, match="y must hold class numbers 0 to 2"):
        plot_decision_boundary(model, X, y + 1)
    with pytest.raises(TypeError, match="resolution must be an int >= 2"):
        plot_decision_boundary(model, X, y, resolution=2.5)
    with pytest.raises(ValueError, match="resolution must be an int >= 2"):
        plot_decision_boundary(model, X, y, resolution=1)
    # With one output, names label the two classes; without them the picture has no legend.
    binary, _, Xm, ym = trained
    assert plot_decision_boundary(binary, Xm, ym, resolution=10).axes[0].get_legend() is None
    fig = plot_decision_boundary(binary, Xm, ym, resolution=10, class_names=["outer", "inner"])
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["outer", "inner"]


# -- plot_gradient_flow -------------------------------------------------------------------------


def test_plot_gradient_flow_draws_each_layer_and_the_dead_relus(tmp_path):
    from micrograd.training.callbacks import GradientFlow
    from viz.gradient_flow import plot_gradient_flow

    X, y = make_moons(40, noise=0.1, seed=0)
    model = Sequential([Dense(6, "relu"), Dense(6, "sigmoid"), Dense(1, "sigmoid")], input_dim=2, seed=0)
    model.compile(loss="binary_crossentropy", optimizer=Adam(lr=0.05))
    history = model.fit(X, y, epochs=3, batch_size=10, verbose=0, callbacks=[GradientFlow(X)])
    path = tmp_path / "flow.png"
    fig = plot_gradient_flow(history, path=path)
    assert_png(path)
    by_epoch, by_layer, dead = fig.axes
    assert [line.get_label() for line in by_epoch.get_lines()] == ["L1", "L2", "L3"]
    assert by_epoch.get_yscale() == "log" and by_layer.get_yscale() == "log"
    for line, key in zip(by_epoch.get_lines(), ["grad_norm/L1", "grad_norm/L2", "grad_norm/L3"]):
        assert list(line.get_ydata()) == history.history[key]  # the recorded numbers, drawn as they are
    assert [t.get_text() for t in by_layer.get_xticklabels()] == ["L1", "L2", "L3"]
    first, last = by_layer.get_lines()
    assert list(first.get_ydata()) == [history.history[f"grad_norm/L{k}"][0] for k in (1, 2, 3)]
    assert list(last.get_ydata()) == [history.history[f"grad_norm/L{k}"][-1] for k in (1, 2, 3)]
    assert [line.get_label() for line in dead.get_lines()] == ["L1"]
    assert list(dead.get_lines()[0].get_ydata()) == history.history["dead_relu/L1"]
    # each line is named at its end (lines ending level share a name tag), not in a far-off legend
    assert sorted(" ".join(t.get_text() for t in by_epoch.texts).split()) == ["L1", "L2", "L3"]
    assert [t.get_text() for t in dead.texts] == ["L1"] and dead.get_legend() is None
    # the layer colours run from dark (L1, the input side) to light
    lightness = [sum(line.get_color()[:3]) for line in by_epoch.get_lines()]
    assert lightness == sorted(lightness)
    # plot_history leaves the per-layer records to plot_gradient_flow
    assert [ax.get_title() for ax in plot_history(history).axes] == ["loss"]


def test_layer_names_at_the_line_ends_do_not_overlap():
    """Ten lines ending almost level: their names are pushed apart, in the lines' order, none on another."""
    from matplotlib.text import Text

    from viz.gradient_flow import plot_gradient_flow

    ends = [1.0 + 0.01 * k for k in range(10)]  # L1 lowest, all within 10%
    history = {f"grad_norm/L{k + 1}": [0.5, end] for k, end in enumerate(ends)}
    history["grad_norm/L11"] = [0.5, ends[-1]]  # ends exactly where L10 does: one shared tag
    fig = plot_gradient_flow(history)
    fig.canvas.draw()
    tags = fig.axes[0].texts
    assert [t.get_text() for t in tags] == [f"L{k}" for k in range(1, 10)] + ["L10 L11"]
    boxes = [Text.get_window_extent(t) for t in tags]  # the name alone, without its stroke to the line
    # stacked upward, each clear of the one below
    assert all(low.y1 <= high.y0 + 0.5 for low, high in itertools.pairwise(boxes))
    assert all(box.x0 > fig.axes[0].get_window_extent().x1 for box in boxes)  # right of the panel


def test_plot_gradient_flow_needs_the_callbacks_records(trained):
    from viz.gradient_flow import plot_gradient_flow

    _, history, _, _ = trained
    with pytest.raises(ValueError, match=r"callbacks=\[GradientFlow\(\)\]"):
        plot_gradient_flow(history)
    with pytest.raises(TypeError, match="needs the History that fit returns"):
        plot_gradient_flow([1.0, 2.0])


def test_all_zero_gradients_are_drawn_on_a_linear_scale():
    from viz.gradient_flow import plot_gradient_flow

    fig = plot_gradient_flow({"loss": [1.0, 1.0], "grad_norm/L1": [0.0, 0.0], "grad_norm/L2": [0.0, 0.0]})
    assert fig.axes[0].get_yscale() == "linear"
    assert list(fig.axes[0].get_lines()[0].get_ydata()) == [0.0, 0.0]


# -- plot_digits ---------------------------------------------------------------------------------


def test_plot_digits_draws_each_image_with_its_label(tmp_path):
    X, y = load_digits()
    path = tmp_path / "digits.png"
    fig = plot_digits(X[:12], y[:12], columns=5, path=path)
    first = assert_png(path)
    plot_digits(X[:12], y[:12], columns=5, path=path)
    assert Path(path).read_bytes() == first  # deterministic, written atomically
    assert os.listdir(tmp_path) == ["digits.png"]
    axes = fig.axes
    assert len(axes) == 15  # 3 rows of 5; the last 3 cells empty and hidden
    assert [ax.get_title() for ax in axes[:12]] == [str(v) for v in y[:12]]
    assert not any(ax.axison for ax in axes[12:])
    # Each cell shows its image, row by row, ink dark: the 8×8 picture itself, on one scale for all.
    for ax, row in zip(axes[:12], X[:12]):
        (image,) = ax.get_images()
        assert np.array_equal(np.asarray(image.get_array()), row.reshape(8, 8))
        assert image.get_cmap().name == "gray_r" and image.get_clim() == (0.0, 16.0)
    # (n, 8, 8) images and float labels that are whole numbers give the same titles.
    again = plot_digits(X[:3].reshape(3, 8, 8), y[:3].astype(float))
    assert [ax.get_title() for ax in again.axes] == ["0", "1", "2"]


def test_plot_digits_marks_wrong_predictions_in_red():
    X, y = load_digits()
    predicted = y[:4].copy()
    predicted[2] = 7
    fig = plot_digits(X[:4], y[:4], predicted)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["true 0\npred 0", "true 1\npred 1", "true 2\npred 7", "true 3\npred 3"]
    colours = [ax.title.get_color() for ax in fig.axes]
    assert colours == ["black", "black", "#c00000", "black"]
    assert fig.axes[2].spines["left"].get_edgecolor()[:3] == (0xC0 / 255, 0.0, 0.0)
    assert fig.axes[2].spines["left"].get_linewidth() > fig.axes[0].spines["left"].get_linewidth()


def test_plot_digits_rejects_what_it_cannot_draw():
    X, y = load_digits()
    with pytest.raises(ValueError, match="side·side pixels\\), got 63 pixels"):
        plot_digits(X[:5, :63], y[:5])
    with pytest.raises(ValueError, match="plot_digits: 5 images but 4 labels"):
        plot_digits(X[:5], y[:4])
    with pytest.raises(ValueError, match="plot_digits: 5 images but 6 predicted"):
        plot_digits(X[:5], y[:5], y[:6])
    with pytest.raises(ValueError, match=r"1 to 100 images .* got an array of shape \(101, 8, 8\)"):
        plot_digits(X[:101], y[:101])
    with pytest.raises(ValueError, match="NaN or infinite"):
        plot_digits(np.full((2, 64), np.nan), y[:2])
    with pytest.raises(TypeError, match="plot_digits: images must be an array of pixel values, got 'abc'"):
        plot_digits("abc", [1])
    with pytest.raises(TypeError, match="plot_digits: columns must be a positive int"):
        plot_digits(X[:2], y[:2], columns=2.5)
