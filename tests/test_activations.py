"""The activations and their derivatives: the step op, and the gallery `viz.plot_activations`.

Every g′ is the engine's (`Value.backward`), checked against PyTorch's autograd in float64. The
step has no derivative in PyTorch (torch.heaviside has no backward): its forward is checked
against torch.heaviside(z, 0) and its derivative against the truth, 0 away from the origin.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from micrograd import Value
from micrograd.engine.ops import OPS
from micrograd.engine.tape import Tape
from micrograd.nn import ACTIVATIONS, MLP, Dense, Sequential
from viz import export_html, plot_activations, steps
from viz.activations import ACTIVATION_GALLERY, activation_values

Z = np.linspace(-4.0, 4.0, 161)  # 0.05 apart, 0 included

TORCH = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": F.leaky_relu,  # slope 0.01 in both
    "elu": F.elu,  # alpha 1 in both
    "softplus": F.softplus,  # |z| <= 4: below its threshold of 20, the exact formula
    "gelu": F.gelu,  # the exact one in both
}


def _torch_values(name: str, z: np.ndarray) -> tuple[list[float], list[float]]:
    t = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    out = TORCH[name](t)
    out.sum().backward()
    return out.tolist(), t.grad.tolist()  # type: ignore[union-attr]


# -- g and g′ against PyTorch -----------------------------------------------------------------


def test_the_gallery_is_the_courses_eight_and_each_is_an_activation_by_name() -> None:
    assert ACTIVATION_GALLERY == ("step", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "gelu")
    assert set(ACTIVATION_GALLERY) - {"softplus"} <= set(ACTIVATIONS)  # softplus is an op, not a model activation
    assert set(TORCH) == set(ACTIVATION_GALLERY) - {"step"}


@pytest.mark.parametrize("name", sorted(TORCH))
def test_g_and_its_derivative_match_pytorch(name: str) -> None:
    g, dg = activation_values(name, Z)
    tg, tdg = _torch_values(name, Z)
    # the kinks (relu, leaky_relu, elu at 0) follow PyTorch's convention exactly
    np.testing.assert_allclose(g, tg, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(dg, tdg, rtol=1e-12, atol=1e-300)


def test_step_is_heaviside_with_the_slides_value_at_zero() -> None:
    z = np.array([-np.inf, -4.0, -1e-300, -0.0, 0.0, 1e-300, 0.5, 4.0, np.inf])
    ours = [Value(float(x)).step().data for x in z]
    t = torch.tensor(z, dtype=torch.float64)
    # "1 if w·x + b > 0, 0 otherwise" (the course's slide): step(0) = 0, torch.heaviside's values=0
    assert ours == torch.heaviside(t, torch.zeros_like(t)).tolist()
    assert ours[3:5] == [0.0, 0.0]
    assert math.isnan(Value(math.nan).step().data)  # NaN goes through (torch.heaviside gives 0)


def test_step_has_derivative_zero_away_from_the_origin_and_the_engine_uses_zero_at_it() -> None:
    g, dg = activation_values("step", Z)
    assert dg == [0.0] * len(Z)
    assert g == [0.0 if z <= 0 else 1.0 for z in Z]
    h = 1e-6  # the truth away from 0: the central difference of a flat function is exactly 0
    for z in Z[Z != 0]:
        assert (Value(z + h).step().data - Value(z - h).step().data) / (2 * h) == 0.0
    assert OPS["step"].constant_derivatives == (0.0,)


# -- the gallery --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gallery():
    return plot_activations()


def test_the_gallery_has_a_g_and_a_g_prime_panel_per_activation(gallery, tmp_path) -> None:
    titles = [ax.get_title() for ax in gallery.axes]
    expected = []
    for name in ACTIVATION_GALLERY:
        shown = {"leaky_relu": "leaky_relu (slope 0.01)", "elu": "elu (alpha 1)"}.get(name, name)
        expected += [f"{shown}: g(z)", f"{shown}: g′(z)"]
    assert titles == expected
    path = tmp_path / "activations.png"
    plot_activations(["tanh"], path=path)
    assert path.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("k", range(len(ACTIVATION_GALLERY)))
def test_the_plotted_curves_are_the_engines_numbers(gallery, k: int) -> None:
    name = ACTIVATION_GALLERY[k]
    ax_g, ax_dg = gallery.axes[2 * k], gallery.axes[2 * k + 1]
    for ax, slot in ((ax_g, 0), (ax_dg, 1)):
        line = ax.get_lines()[0]
        x, y = np.asarray(line.get_xdata(), dtype=float), np.asarray(line.get_ydata(), dtype=float)
        kept = ~np.isnan(y)  # a NaN point breaks the line at a jump
        assert len(x[kept]) == 801 and x[kept][0] == -4.0 and x[kept][-1] == 4.0
        engine = activation_values(name, x[kept])[slot]
        assert y[kept].tolist() == engine
        if name in TORCH:  # and so PyTorch's
            np.testing.assert_allclose(y[kept], _torch_values(name, x[kept])[slot], rtol=1e-12, atol=1e-300)


def test_steps_jump_is_marked_and_its_derivative_said_to_be_zero(gallery) -> None:
    ax_g, ax_dg = gallery.axes[0], gallery.axes[1]
    curve, filled, hollow = ax_g.get_lines()[:3]  # then the axes' own lines at 0
    y = np.asarray(curve.get_ydata(), dtype=float)
    assert np.isnan(y).sum() == 1  # the line is broken once, at the jump
    assert (list(filled.get_xdata()), list(filled.get_ydata())) == ([0.0], [0.0])  # step(0) = 0
    assert (list(hollow.get_xdata()), list(hollow.get_ydata())) == ([0.0], [1.0])
    assert hollow.get_markerfacecolor() == "white"
    assert [t.get_text() for t in ax_dg.texts] == ["g′ = 0\n(undefined at 0)"]
    assert set(ax_dg.get_lines()[0].get_ydata()) == {0.0}
    # relu's derivative jumps at 0 too; the engine's value there (PyTorch's, 0) is the filled dot
    relu_dg = gallery.axes[2 * ACTIVATION_GALLERY.index("relu") + 1]
    assert list(relu_dg.get_lines()[1].get_ydata()) == [0.0] and len(relu_dg.texts) == 0


def test_a_small_slope_below_zero_is_written_on_the_panel_where_it_looks_like_zero(gallery) -> None:
    # leaky ReLU's g′ is 0.01 for z < 0: on a −0.25..1.25 scale its line lies on relu's 0
    leaky = gallery.axes[2 * ACTIVATION_GALLERY.index("leaky_relu") + 1]
    (note,) = leaky.texts
    assert note.get_text() == "0.01 for z < 0"
    assert note.xy[1] == activation_values("leaky_relu", [-2.0])[1][0] == 0.01  # the arrow points at the line
    for name in ("sigmoid", "tanh", "elu", "softplus", "gelu"):  # their g′ can be read off the curve
        assert len(gallery.axes[2 * ACTIVATION_GALLERY.index(name) + 1].texts) == 0
    assert plot_activations(["leaky_relu"]).axes[1].texts[0].get_text() == "0.01 for z < 0"
    # the figure reads at full size in a notebook cell: 11 inches (1100 px) wide, not 15.5
    assert gallery.get_size_inches()[0] == 11.0


def test_plot_activations_refuses_what_is_not_an_activation() -> None:
    with pytest.raises(ValueError, match=r"'swish' is not an activation here; choose from .*step"):
        plot_activations(["relu", "swish"])
    with pytest.raises(ValueError, match="'\\*' is not an activation"):
        plot_activations(["*"])
    with pytest.raises(TypeError, match="names must be a list"):
        plot_activations("relu")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="names is empty"):
        plot_activations([])


# -- the step through frames, the tape and models ---------------------------------------------


def _perceptron_loss() -> tuple[Value, Value, Value]:
    w, b = Value(0.5, "w"), Value(-0.3, "b")
    z = w * 2.0 + b
    z.label = "z"
    y_hat = z.step()
    y_hat.label = "ŷ"
    J = (y_hat - 0.0) ** 2
    J.label = "J"
    return J, w, b


def test_the_frames_say_the_steps_derivative_is_zero_and_why() -> None:
    J, w, b = _perceptron_loss()
    frames = steps(J, lr=0.1)
    frame = next(f for f in frames.phase("backward") if f.name == "z")
    assert frame.equation == "z̄ = ∂ŷ/∂z × ŷ̄ = 0 × 2 = 0   (ŷ = step(z), so ∂ŷ/∂z = 0)"
    assert frame.note.startswith("Step is flat on both sides of its jump: its derivative is 0 wherever it exists")
    assert "gradient descent cannot change the weights before it" in frame.note
    assert "Note: Step is flat" in frame.caption_html()
    assert [f.note for f in frames if f is not frame] == [""] * (len(frames) - 1)  # said once, where it applies
    assert frames.grads[w] == frames.grads[b] == 0.0
    updates = [f.equation for f in frames.phase("update")]
    assert updates[:2] == ["w ← w − η·w̄ = 0.5 − 0.1 × 0 = 0.5", "b ← b − η·b̄ = −0.3 − 0.1 × 0 = −0.3"]
    assert updates[2].endswith("(was 1: nowhere)")  # gradient descent went nowhere


def test_the_page_shows_the_note_with_the_worked_equation(tmp_path) -> None:
    J, _, _ = _perceptron_loss()
    path = tmp_path / "step.html"
    export_html(steps(J), path)
    assert '<span class="note">Note: Step is flat on both sides of its jump' in path.read_text(encoding="utf-8")


def test_the_step_on_the_tape_is_the_scalar_engine() -> None:
    x, w = Value(0.0, "x"), Value(0.5, "w")
    out = (x * w - 0.25).step() * 3.0
    tape = Tape.record(out, inputs=[x])
    xs = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    got = tape.forward({x: xs})
    assert np.asarray(got).tolist() == [0.0, 0.0, 0.0, 3.0, 3.0]  # 0.5·0.5 − 0.25 = 0: step(0) = 0
    tape.backward()
    assert w.grad == 0.0


def test_step_is_an_activation_by_name_in_every_model() -> None:
    assert list(ACTIVATIONS)[-1] == "step"
    mlp = MLP(2, [3, 1], activation="step", output_activation="step", seed=0)
    out = mlp([0.5, -1.0])
    assert out.op == "step" and out.data in (0.0, 1.0)
    out.backward()
    assert all(p.grad == 0.0 for p in mlp.parameters())  # nothing below a step learns
    model = Sequential([Dense(3, "step", input_dim=2), Dense(1, "sigmoid")], seed=0)
    hidden = model.layers[0]([Value(0.5), Value(-1.0)])  # type: ignore[operator]
    assert all(v.op == "step" and v.data in (0.0, 1.0) for v in hidden)
    predictions = Sequential([Dense(2, "step", input_dim=2)], seed=1).predict([[1.0, 2.0], [-3.0, 0.5]])
    assert set(np.unique(predictions)) <= {0.0, 1.0}
