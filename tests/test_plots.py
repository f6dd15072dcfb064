"""viz.plots: training curves and decision boundaries as matplotlib Figures and PNG files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from micrograd.datasets import make_blobs, make_moons
from micrograd.nn.sequential import Dense, Sequential
from micrograd.optim import Adam
from micrograd.training.callbacks import History
from viz.plots import plot_decision_boundary, plot_history

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


def test_a_flat_probability_is_drawn_on_the_full_0_to_1_scale():
    X, y = make_moons(20, noise=0.1, seed=0)
    fig = plot_decision_boundary(_Flat(), X, y)
    colorbar = fig.axes[1]
    assert colorbar.get_ylim() == (0.0, 1.0)
