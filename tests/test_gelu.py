"""gelu, the first op added the registry way (one `Op` in micrograd.engine.ops and a one-line
`Value.gelu`), followed into every part that should know it without an edit of its own: values
and gradients against PyTorch and the true function, the tape, models by activation name, saving,
the formula language and command line, drawings and step-through frames.

gelu(x) = x·Φ(x) = x/2·(1 + erf(x/√2)), as `torch.nn.functional.gelu(x)` (approximate='none').
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import mpmath
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from micrograd import Dense, Sequential, Value, gradcheck, load_model
from micrograd.datasets import make_moons
from micrograd.engine.tape import Tape
from micrograd.nn import ACTIVATIONS, Layer, Neuron
from micrograd.optim import Adam
from viz import draw, steps
from viz.formula import FUNCTIONS, evaluate

mpmath.mp.dps = 50
REPO = Path(__file__).resolve().parent.parent
POINTS = [0.0, 1e-3, -1e-3, 0.5, -0.5, 1.0, -1.0, 2.5, -2.5, 3.0, -3.0, 10.0, -10.0, 40.0, -40.0]


def _torch_gelu(x: float) -> tuple[float, float]:
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out = F.gelu(t)
    out.backward()
    return out.item(), t.grad.item()


def _ours(x: float) -> tuple[float, float]:
    v = Value(x)
    out = v.gelu()
    out.backward()
    return out.data, v.grad


@pytest.mark.parametrize("x", POINTS)
def test_value_and_gradient_match_torch_float64(x: float, same) -> None:
    """Same operations as PyTorch's kernel, so at most libm's last-bit differences (1e-12 is
    generous; on a machine where both call the same erf and exp the results are identical)."""
    value, grad = _ours(x)
    t_value, t_grad = _torch_gelu(x)
    same(value, t_value, rtol=1e-12, what=f"gelu({x})")
    same(grad, t_grad, rtol=1e-12, what=f"gelu'({x})")


@pytest.mark.parametrize("x", POINTS)
def test_value_and_gradient_against_the_true_function(x: float) -> None:
    """Against x·Φ(x) and Φ(x) + x·φ(x) at 50 digits. For x < -1, 1 + erf(x/√2) cancels, as in
    PyTorch: the error is then absolute (a few ulps of 1, times |x|), not relative."""
    exact_value = x * mpmath.ncdf(x)
    exact_grad = mpmath.ncdf(x) + x * mpmath.npdf(x)
    value, grad = _ours(x)
    tolerance = 1e-15 * max(1.0, abs(x))
    assert abs(value - float(exact_value)) <= max(tolerance * (x < -1), 1e-15 * abs(float(exact_value)), 5e-324)
    assert abs(grad - float(exact_grad)) <= max(tolerance * (x < -1), 1e-15 * abs(float(exact_grad)), 5e-324)


def test_far_out_it_is_x_on_the_right_and_zero_on_the_left() -> None:
    assert _ours(40.0) == (40.0, 1.0)
    value, grad = _ours(-40.0)
    assert value == 0.0 and grad == 0.0


@pytest.mark.parametrize("x", [-3.0, -1.0, -1e-3, 0.0, 1e-3, 0.7, 3.0])
def test_gradcheck_agrees_with_central_differences(x: float) -> None:
    report = gradcheck(lambda v: v.gelu(), [x])
    assert report.ok, str(report)
    composite = gradcheck(lambda a, b: (a * b).gelu() * a.gelu(), [x, 0.8])
    assert composite.ok, str(composite)


def test_the_tape_is_the_scalar_engine_bit_for_bit() -> None:
    xs = np.array([-40.0, -10.0, -3.0, -1.0, -1e-3, 0.0, 1e-3, 0.3, 1.0, 3.0, 10.0, 40.0])

    def f(x: Value, w: Value, b: Value) -> Value:
        return (x * w + b).gelu() * x.gelu()

    x, w, b = Value(0.0, "x"), Value(0.9, "w"), Value(-0.2, "b")
    out = f(x, w, b)
    tape = Tape.record(out, inputs=[x])
    assert "gelu(" in str(tape)
    values = tape.forward({x: xs})
    tape.backward(reduce="sum")
    w_batch, b_batch = w.grad, b.grad

    # The engine on the batch's graph ((l0 + l1) + ...), whose order the tape's sum follows.
    wv, bv = Value(0.9), Value(-0.2)
    outputs = [f(Value(xi), wv, bv) for xi in xs.tolist()]
    total = outputs[0]
    for o in outputs[1:]:
        total = total + o
    total.backward()
    assert values.tolist() == [o.data for o in outputs]
    assert (w_batch, b_batch) == (wv.grad, bv.grad)


def test_gelu_is_an_activation_by_name() -> None:
    assert "gelu" in ACTIVATIONS and list(ACTIVATIONS).index("gelu") == 6  # after linear and the five before it
    n = Neuron(2, activation="gelu", seed=0)
    out = n([0.5, -1.5])
    assert out.op == "gelu" and repr(n) == "Neuron(2, activation='gelu')"
    pre = out.children[0].data
    assert out.data == _torch_gelu(pre)[0]
    assert Layer(2, 3, "gelu", seed=0).activation == "gelu"


def _trained(tmp_path: Path) -> tuple[Sequential, Path, list[float]]:
    X, y = make_moons(40, noise=0.1, seed=0)
    model = Sequential([Dense(6, activation="gelu"), Dense(1, activation="sigmoid")], input_dim=2, seed=0)
    model.compile(loss="binary_crossentropy", optimizer=Adam(lr=0.05))
    history = model.fit(X, y, epochs=15, batch_size=10, verbose=0)
    path = tmp_path / "gelu.json"
    model.save(path)
    return model, path, history.history["loss"]


def test_a_dense_gelu_model_trains_saves_and_loads(tmp_path: Path) -> None:
    model, path, losses = _trained(tmp_path)
    assert losses[-1] < losses[0]
    assert '"activation": "gelu"' in path.read_text()
    loaded = load_model(path)
    X = np.random.default_rng(1).normal(size=(20, 2))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert repr(loaded) == repr(model)


def test_the_formula_language_and_the_command_line_know_gelu(tmp_path: Path) -> None:
    assert "gelu" in FUNCTIONS
    result = evaluate("J = gelu(x)", {"x": 1.0})
    result.output.backward()
    assert (result.output.data, result.inputs["x"].grad) == _ours(1.0)

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "viz", "J = gelu(x)", "x=1", "-o", "J.dot"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "J = 0.8413   ∂J/∂x = 1.0833\nwrote J.dot\n"
    assert "label=GELU" in (tmp_path / "J.dot").read_text(encoding="utf-8")

    refused = subprocess.run(
        [sys.executable, "-m", "viz", "J = gelu(x, 2)", "x=1"], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert refused.returncode == 2 and "gelu takes exactly one argument" in refused.stderr


def test_drawings_and_frames_show_gelu() -> None:
    x = Value(0.5, "x")
    h = (x * 2.0).gelu()
    h.label = "h"
    J = h * x
    J.label = "J"
    assert "label=GELU" in draw(J).source
    frames = steps(J, forward=False)
    (frame_h,) = [frame for frame in frames if frame.name == "h"]
    assert frame_h.equation.startswith("h̄ = ∂J/∂h × J̄ = ")
    assert "label=GELU" in frame_h.graph().source
    # The next frame is gelu's input 2x: its one chain-rule term is through gelu, with gelu'(1).
    (through_gelu,) = frames[frame_h.index + 1].terms
    assert through_gelu.consumer is h and through_gelu.local == _torch_gelu(1.0)[1]
    name = frames[frame_h.index + 1].name
    assert f"∂h/∂{name}" in frames[frame_h.index + 1].equation
    assert f"(h = GELU({name}), so ∂h/∂{name} = Φ({name}) + {name}·φ({name}) = " in frames[frame_h.index + 1].equation
    assert steps(J)[2].equation.startswith("h = GELU(v1) = GELU(1) = 0.841")  # the forward frame of h
    J.backward()
    assert frames[-1].grads[x] == x.grad
    assert not math.isnan(x.grad)
