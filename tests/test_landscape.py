"""Loss landscapes and optimizer paths: `descend` against torch.optim, landscapes against the loss
evaluated independently at their points, filter normalisation, and the pictures."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from micrograd import Dense, Sequential
from micrograd.datasets import make_moons
from micrograd.nn import MLP
from micrograd.optim import Adam
from micrograd.training import Descent, descend
from micrograd.training.callbacks import WeightRecorder
from micrograd.training.landscape import (
    MAX_GRID_POINTS,
    function_landscape,
    model_landscape,
    neuron_blocks,
    random_directions,
    trajectory_directions,
)


def two_minima(w1, w2):
    """A tilted double well: a global minimum near w1 = −1, a local one near w1 = +1 (Values and tensors alike)."""
    return (w1 * w1 - 1) ** 2 + 0.5 * w2 * w2 + 0.3 * w1 + 0.2 * w1 * w2


def bowl(w):
    return (2 * w - 1) ** 2 / 2


# -- descend ---------------------------------------------------------------------------------------


def torch_path(start, make_optimizer, steps):
    params = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in start]
    opt = make_optimizer(params)
    path = [[p.item() for p in params]]
    for _ in range(steps):
        opt.zero_grad()
        two_minima(*params).backward()
        opt.step()
        path.append([p.item() for p in params])
    return np.array(path)


@pytest.mark.parametrize(
    ("name", "options", "make_torch"),
    [
        ("sgd", {}, lambda ps: torch.optim.SGD(ps, lr=0.05, foreach=False)),
        ("momentum", {}, lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, foreach=False)),
        ("momentum", {"momentum": 0.5}, lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.5, foreach=False)),
        ("adam", {}, lambda ps: torch.optim.Adam(ps, lr=0.05, foreach=False)),
    ],
)
def test_descend_visits_the_points_torch_optim_visits(name, options, make_torch) -> None:
    run = descend(two_minima, (0.4, 1.5), optimizer=name, lr=0.05, steps=25, **options)
    expected = torch_path((0.4, 1.5), make_torch, 25)
    assert run.points.shape == (26, 2)
    np.testing.assert_allclose(run.points, expected, rtol=1e-13, atol=1e-15)
    values = [two_minima(*(torch.tensor(v, dtype=torch.float64) for v in row)).item() for row in expected]
    np.testing.assert_allclose(run.values, values, rtol=1e-13)
    assert run.names == ["w1", "w2"] and not run.diverged and run.steps == 25


def test_descend_takes_an_optimizer_object_with_its_own_settings() -> None:
    run = descend(two_minima, (0.4, 1.5), optimizer=Adam(lr=0.1, betas=(0.8, 0.99)), steps=10)
    expected = torch_path((0.4, 1.5), lambda ps: torch.optim.Adam(ps, lr=0.1, betas=(0.8, 0.99), foreach=False), 10)
    np.testing.assert_allclose(run.points, expected, rtol=1e-13)
    assert run.label == "Adam, η = 0.1"


def test_the_two_starts_end_in_different_minima() -> None:
    left = descend(two_minima, (-0.3, 1.5), optimizer="sgd", lr=0.05, steps=300)
    right = descend(two_minima, (0.3, 1.5), optimizer="sgd", lr=0.05, steps=300)
    assert left.points[-1, 0] < -0.9 and right.points[-1, 0] > 0.9
    assert left.values[-1] < right.values[-1]  # the left one is the global minimum


def test_three_learning_rates_on_a_bowl() -> None:
    """J = (2w − 1)²/2: J'' = 4, so a step multiplies w − ½ by 1 − 4η."""
    for lr in (0.02, 0.25, 0.4, 1.5):
        run = descend(bowl, 3.0, lr=lr, steps=40)
        errors = run.points[:, 0] - 0.5
        np.testing.assert_allclose(
            errors[1:], (1 - 4 * lr) * errors[:-1], rtol=1e-12, atol=1e-14
        )  # w − ½ near 0 carries w's rounding
    assert descend(bowl, 3.0, lr=0.25, steps=1).points[-1, 0] == 0.5  # η = 1/J'': one step
    slow = descend(bowl, 3.0, lr=0.02, steps=40)
    assert slow.values[-1] > 0.01 and np.all(np.diff(slow.values) < 0)  # too small: still far after 40 steps


def test_too_large_a_learning_rate_overshoots_then_stops_at_the_first_non_finite_value() -> None:
    run = descend(bowl, 3.0, lr=1.5, steps=1000)
    assert run.diverged
    assert "Learning rate: NaN!" in run.message and "1.5" in run.message
    assert np.all(np.isfinite(run.points)) and np.all(np.isfinite(run.values))
    assert len(run.values) == len(run.points) < 1001
    signs = np.sign(run.points[:, 0] - 0.5)
    assert np.all(signs[1:] == -signs[:-1])  # every step jumps across the minimum...
    assert np.all(np.diff(run.values) > 0)  # ...and lands higher
    # The next point would have made J infinite: it is where the message says the run stopped.
    w_next = run.points[-1, 0] - 1.5 * 2 * (2 * run.points[-1, 0] - 1)
    with np.errstate(over="ignore"):
        assert not math.isfinite(bowl(w_next))
    assert f"step {len(run.points)}" in run.message


def test_descend_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="takes 2 parameters"):
        descend(two_minima, 0.5)
    with pytest.raises(ValueError, match="unknown optimizer 'nesterov'"):
        descend(bowl, 0.0, optimizer="nesterov")
    with pytest.raises(ValueError, match="steps must be at most"):
        descend(bowl, 0.0, steps=10**6)
    with pytest.raises(TypeError, match="must return a Value"):
        descend(lambda w: 3.0, 0.0)
    with pytest.raises(ValueError, match="at the start"):
        descend(lambda w: w * math.inf, 1.0)
    with pytest.raises(ValueError, match="lr must be"):
        descend(bowl, 0.0, lr=0.0)


# -- a function's landscape ------------------------------------------------------------------------


def test_function_landscape_values_are_the_function_at_the_grid_points() -> None:
    land = function_landscape(two_minima, [(-2, 2), (-1, 3)], resolution=7)
    assert [a.tolist() for a in land.axes] == [np.linspace(-2, 2, 7).tolist(), np.linspace(-1, 3, 7).tolist()]
    for j, b in enumerate(land.axes[1]):
        for i, a in enumerate(land.axes[0]):  # row j: the second axis, column i: the first
            assert land.values[j, i] == pytest.approx((a * a - 1) ** 2 + 0.5 * b * b + 0.3 * a + 0.2 * a * b, rel=1e-14)
    curve = function_landscape(bowl, (-1, 2), resolution=4)
    assert curve.values.tolist() == [(2 * w - 1) ** 2 / 2 for w in np.linspace(-1, 2, 4)]
    assert curve.names == ["w"] and land.names == ["w1", "w2"]


def test_grids_are_bounded_and_spans_checked() -> None:
    with pytest.raises(ValueError, match=f"more than the {MAX_GRID_POINTS} allowed; use at most 200 per axis"):
        function_landscape(two_minima, (-1, 1), resolution=1000)
    with pytest.raises(ValueError, match="low < high"):
        function_landscape(bowl, (2, 1))
    with pytest.raises(ValueError, match="f fails at w = 0"):
        function_landscape(lambda w: w.log(), (0, 1), resolution=3)
    with pytest.raises(ValueError, match="1 or 2 axes"):
        function_landscape(lambda a, b, c: a + b + c, (0, 1))


# -- a model's landscape ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained():
    X, y = make_moons(40, noise=0.1, seed=0)
    model = Sequential([Dense(5, "tanh"), Dense(3, "relu", init="he"), Dense(1, "sigmoid")], input_dim=2, seed=1)
    model.compile(loss="binary_crossentropy", optimizer=Adam(lr=0.05))
    recorder = WeightRecorder()
    model.fit(X, y, epochs=15, batch_size=10, seed=0, verbose=0, callbacks=[recorder])
    return model, X, y, recorder


def test_filter_normalised_directions_have_each_neurons_norm_and_no_bias_part(trained) -> None:
    model, *_ = trained
    params = model.parameters()
    theta = np.array([p.data for p in params])
    rows, biases = neuron_blocks(params)
    assert len(rows) == 5 + 3 + 1 and len(biases) == 9
    assert [params[i].label for i in rows[5]] == ["L2.N0.w0", "L2.N0.w1", "L2.N0.w2", "L2.N0.w3", "L2.N0.w4"]
    d1, d2 = random_directions(model, 2, seed=3)
    for d in (d1, d2):
        for row in rows:
            assert np.linalg.norm(d[row]) == pytest.approx(np.linalg.norm(theta[row]), rel=1e-12)
        assert np.all(d[biases] == 0)
    assert not np.allclose(d1, d2)
    again = random_directions(model, 2, seed=3)
    assert np.array_equal(again[0], d1) and np.array_equal(again[1], d2)
    assert not np.allclose(random_directions(model, 1, seed=4)[0], d1)


def test_model_landscape_is_the_loss_with_those_weights(trained) -> None:
    model, X, y, _ = trained
    before = model.get_weights()
    land = model_landscape(model, X, y, dims=2, resolution=5, seed=7)
    assert model.get_weights() == before
    d1, d2 = random_directions(model, 2, seed=7)
    theta = np.array(before)
    for j, b in enumerate(land.axes[1]):
        for i, a in enumerate(land.axes[0]):
            model.set_weights((theta + a * d1 + b * d2).tolist())
            assert land.values[j, i] == pytest.approx(model.evaluate(X, y), rel=1e-12)
    model.set_weights(before)
    assert land.values[2, 2] == pytest.approx(model.evaluate(X, y), rel=1e-15)  # the centre: θ* itself
    # one corner again through PyTorch, as a model of its own: the same loss
    model.set_weights((theta - d1 - d2).tolist())
    corner = model.to_torch()
    model.set_weights(before)
    with torch.no_grad():
        p = corner(torch.tensor(X, dtype=torch.float64))[:, 0].clamp(1e-7, 1 - 1e-7)
        bce = torch.nn.functional.binary_cross_entropy(p, torch.tensor(y, dtype=torch.float64))
    assert land.values[0, 0] == pytest.approx(bce.item(), rel=1e-12)


def test_an_mlp_landscape_with_a_loss_by_name_and_its_weights_restored() -> None:
    X = np.array([[0.0, 1.0], [1.0, -1.0], [2.0, 0.5]])
    y = np.array([1.0, -1.0, 0.5])
    model = MLP(2, [3, 1], activation="tanh", seed=2)
    params = model.parameters()
    before = [p.data for p in params]
    land = model_landscape(model, X, y, dims=1, span=(-2, 2), resolution=5, seed=0, loss="mse")
    assert [p.data for p in params] == before
    (d,) = random_directions(model, 1, seed=0)
    for a, value in zip(land.axes[0], land.values):
        for p, w in zip(params, np.array(before) + a * d):
            p.data = float(w)
        expected = sum((model(x.tolist()).data - t) ** 2 for x, t in zip(X, y)) / 3
        assert value == pytest.approx(expected, rel=1e-13)
    for p, w in zip(params, before):
        p.data = w


def test_the_weights_come_back_after_an_error() -> None:
    model = MLP(2, [2, 1], seed=0)
    before = [p.data for p in model.parameters()]
    calls = []

    def failing(pred, target):
        calls.append(1)
        if len(calls) > 4:
            raise RuntimeError("stop")
        return (pred - target) ** 2

    with pytest.raises(RuntimeError, match="stop"):
        model_landscape(model, [[1.0, 2.0]], [0.0], dims=1, resolution=9, loss=failing)
    assert [p.data for p in model.parameters()] == before


def test_the_weight_recorder_and_its_path_on_the_landscape(trained) -> None:
    model, X, y, recorder = trained
    assert len(recorder.weights) == 16 and recorder.steps == list(range(16))
    assert recorder.weights[-1] == model.get_weights()
    land = model_landscape(model, X, y, dims=2, resolution=3, seed=0)
    trace = land.trace(recorder)
    assert trace.coords.shape == (16, 2)
    assert trace.coords[-1].tolist() == pytest.approx([0.0, 0.0], abs=1e-12)
    before = model.get_weights()
    for weights, value in zip(recorder.weights, trace.values):
        model.set_weights(weights)
        assert value == pytest.approx(model.evaluate(X, y), rel=1e-12)
    model.set_weights(before)
    # a point in the plane θ* + α·d₁ + β·d₂ projects back onto its (α, β)
    d1, d2 = land.directions
    in_plane = land.origin + 0.3 * d1 - 0.7 * d2
    assert land.coordinates(in_plane[None, :]).tolist()[0] == pytest.approx([0.3, -0.7], abs=1e-9)


def test_recording_every_batch_and_its_bound() -> None:
    X, y = make_moons(20, noise=0.1, seed=0)
    model = Sequential([Dense(2, "tanh"), Dense(1, "sigmoid")], input_dim=2, seed=0)
    model.compile(loss="binary_crossentropy", optimizer="sgd")
    recorder = WeightRecorder(every="batch")
    model.fit(X, y, epochs=3, batch_size=5, verbose=0, callbacks=[recorder])
    assert len(recorder.weights) == 1 + 3 * 4 and recorder.steps[-1] == 12
    with pytest.raises(ValueError, match="would keep 40001 copies"):
        model.fit(X, y, epochs=10000, batch_size=5, verbose=0, callbacks=[WeightRecorder(every="batch")])
    with pytest.raises(ValueError, match="every must be"):
        WeightRecorder(every="step")


def test_trajectory_directions_follow_the_path(trained) -> None:
    model, X, y, recorder = trained
    directions, explained = trajectory_directions(recorder, model.get_weights())
    d1, d2 = directions
    assert np.linalg.norm(d1) == pytest.approx(1.0) and np.linalg.norm(d2) == pytest.approx(1.0)
    assert abs(d1 @ d2) < 1e-12
    assert 0 < explained[1] <= explained[0] <= 1 and sum(explained) <= 1 + 1e-12
    land = model_landscape(model, X, y, dims=2, resolution=3, directions="pca", path=recorder)
    trace = land.trace(recorder)
    low = [a[0] for a in land.axes]
    high = [a[-1] for a in land.axes]
    assert np.all(trace.coords >= low) and np.all(trace.coords <= high)  # the span covers the path
    assert land.names[0].startswith("PC1 (")
    with pytest.raises(ValueError, match="needs path="):
        model_landscape(model, X, y, directions="pca")


def test_an_unlabelled_model_cannot_be_filter_normalised() -> None:
    class Bare:
        def parameters(self):
            from micrograd import Parameter

            return [Parameter(1.0, "a")]

    with pytest.raises(ValueError, match="labelled 'a'"):
        random_directions(Bare(), 1)


# -- the pictures ----------------------------------------------------------------------------------


def test_plot_landscape_draws_curves_contours_and_surfaces(tmp_path, trained) -> None:
    pytest.importorskip("matplotlib")
    from PIL import Image

    from viz import plot_landscape

    runs = {f"η = {lr}": descend(bowl, -1.0, lr=lr, steps=20 if lr < 1 else 1000) for lr in (0.05, 0.25, 1.5)}
    fig = plot_landscape(bowl, span=(-2, 3), path=runs, file=tmp_path / "curve.png")
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert labels[:2] == ["η = 0.05 (20 steps)", "η = 0.25 (20 steps)"]
    # the diverged run's last finite point is far outside the frame: the legend says where it is
    assert labels[2] == "η = 1.5: 219 steps, NaN after\n  ends off the plot:\n  w = 1.78e+153, J = 6.34e+306"
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert texts[-3:] == ["start", "end", "last finite point (then NaN)"]
    # η = 0.05 ends at w = 0.483, η = 0.25 at 0.5: the second star is drawn half as large, on top
    stars = [(line.get_xdata()[0], line.get_markersize()) for line in fig.axes[0].lines if line.get_marker() == "*"]
    assert stars == [(pytest.approx(0.4827, abs=1e-4), 20.0), (0.5, 10.0)]
    assert fig.axes[0].get_legend().get_bbox_to_anchor().x0 > fig.axes[0].bbox.x1  # right of the frame
    assert Image.open(tmp_path / "curve.png").size == (1000, 550)  # wider, for the legend beside the frame

    paths = [descend(two_minima, (-0.3, 1.5), steps=30), descend(two_minima, (0.3, 1.5), "momentum", lr=0.02, steps=30)]
    fig = plot_landscape(two_minima, path=paths, resolution=20)  # the span: around the paths
    assert fig.axes[0].get_xlabel() == "w1" and fig.axes[0].get_title() == "J(w1, w2)"
    plot_landscape(two_minima, span=[(-2, 2), (-2, 2)], kind="surface", resolution=15, file=tmp_path / "surface.png")
    assert Image.open(tmp_path / "surface.png").format == "PNG"

    model, X, y, recorder = trained
    before = model.get_weights()
    fig = plot_landscape(model, X, y, dims=1, resolution=5, path={"Adam": recorder})
    assert fig.axes[0].get_xlabel() == "α (along direction d1)"
    assert fig.axes[0].get_title() == "loss along a random filter-normalised direction"
    assert model.get_weights() == before
    with pytest.raises(ValueError, match="drawn with kind='contour' or 'surface'"):
        plot_landscape(two_minima, span=(-1, 1), kind="curve")
    with pytest.raises(ValueError, match="needs its data"):
        plot_landscape(model)
    with pytest.raises(ValueError, match="give span="):
        plot_landscape(bowl)
    assert isinstance(runs["η = 1.5"], Descent)


def test_a_recorded_path_counts_epochs_or_updates(trained) -> None:
    model, X, y, recorder = trained
    land = model_landscape(model, X, y, dims=1, resolution=3)
    assert land.trace(recorder).unit == "epochs"
    assert land.trace(recorder.weights).unit == "steps"
