"""The tape (micrograd.engine.tape): one recorded graph replayed on a batch with NumPy.

Reference: the scalar engine (itself checked against PyTorch in test_ops_vs_torch.py), run sample
by sample on fresh graphs, and the engine's backward through the graph of a whole batch; plus
PyTorch (float64) directly for a two-moons MLP. Per-sample values and per-sample gradients are
compared bit for bit (the tape calls the engine's own op functions, with C's libm for exp, log,
tanh, ...); a shared node's gradient, summed over the batch, is compared bit for bit with the
engine's backward through `((l0 + l1) + ...)`, whose order the tape follows, and to 1e-12 with
the mean of the per-sample gradients.
"""

from __future__ import annotations

import ast
import math
import warnings

import numpy as np
import pytest
import torch
from test_viz_examples import worked_example

from micrograd import Constant, Value
from micrograd.engine import apply_op
from micrograd.engine.ops import OPS
from micrograd.engine.tape import DataDependentGraphError, Tape
from micrograd.nn import MLP


def same_bits(a: float, b: float) -> bool:
    """Equal floats, NaN equal to NaN."""
    return a == b or (math.isnan(a) and math.isnan(b))


# Each case: a graph of one input x (one value per sample) and one parameter w, and the samples.
# Every op of micrograd.engine.ops appears with x on each side, and with a node used twice.
X_ANY = [-2.5, -1.0, -0.25, 0.0, 0.3, 1.0, 2.0, 3.5]
X_POS = [0.1, 0.5, 1.0, 1.5, 2.0, 4.0]
X_INT = [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]
CASES = {
    "x + w": (lambda x, w: x + w, X_ANY, 0.7),
    "w + x * x": (lambda x, w: w + x * x, X_ANY, 0.7),
    "x - w": (lambda x, w: x - w, X_ANY, 0.7),
    "w - x": (lambda x, w: w - x, X_ANY, 0.7),
    "x * w": (lambda x, w: x * w, X_ANY, -1.3),
    "x / w": (lambda x, w: x / w, X_ANY, -1.3),
    "w / x": (lambda x, w: w / x, X_POS, -1.3),
    "(x * w) ** 3": (lambda x, w: (x * w) ** 3, X_ANY, 0.9),
    "(x * w) ** -0.5": (lambda x, w: (x * w) ** -0.5, X_POS, 0.9),
    "x ** w": (lambda x, w: x**w, X_POS, 1.7),
    "w ** x": (lambda x, w: w**x, X_ANY, 1.7),
    "(-2) ** x": (lambda x, w: (-2.0) ** (x * w), X_INT, 1.0),
    "x ** x": (lambda x, w: (x * w) ** (x * w), X_POS, 1.0),
    "-(x * w)": (lambda x, w: -(x * w), X_ANY, 0.5),
    "exp(x * w)": (lambda x, w: (x * w).exp(), X_ANY, 0.8),
    "log(x * w)": (lambda x, w: (x * w).log(), X_POS, 1.2),
    "sqrt(x * w)": (lambda x, w: (x * w).sqrt(), [0.0, *X_POS], 1.2),
    "sin(x * w)": (lambda x, w: (x * w).sin(), X_ANY, 0.8),
    "cos(x * w)": (lambda x, w: (x * w).cos(), X_ANY, 0.8),
    "tanh(x * w)": (lambda x, w: (x * w).tanh(), X_ANY, 0.8),
    "sigmoid(x * w)": (lambda x, w: (x * w).sigmoid(), X_ANY, 0.8),
    "relu(x + w)": (lambda x, w: (x + w).relu(), X_ANY, 0.25),
    "leaky_relu(x + w, 0.1)": (lambda x, w: (x + w).leaky_relu(0.1), X_ANY, 0.25),
    "elu(x + w, 0.5)": (lambda x, w: (x + w).elu(0.5), X_ANY, 0.25),
    "softplus(x * w)": (lambda x, w: (x * w).softplus(), X_ANY, 0.8),
    "abs(x + w)": (lambda x, w: (x + w).abs(), X_ANY, 0.25),
    "gelu(x * w)": (lambda x, w: (x * w).gelu(), X_ANY, 0.8),
    "step(x + w)": (lambda x, w: (x + w).step(), X_ANY, 0.25),  # x = -0.25 lands on the jump
    "erf(x * w)": (lambda x, w: apply_op(x * w, "erf"), X_ANY, 0.8),
    "mixed": (lambda x, w: ((x * w).tanh() * x + (w * x).exp() / (1 + x * x)).sigmoid() * 2 - x.abs(), X_ANY, 0.6),
}


def test_the_cases_cover_every_op():
    used: set[str] = set()
    for f, xs, w in CASES.values():
        order = [f(Value(xs[-1]), Value(w))]
        while order:
            node = order.pop()
            used.add(node.op)
            order.extend(node.children)
    assert used - {""} == set(OPS)


def scalar_run(f, xs, w):
    """The engine, one fresh graph per sample: outputs, d out/d x per sample, d out/d w per sample."""
    outs, dxs, dws = [], [], []
    for xi in xs:
        x, wv = Value(xi, "x"), Value(w, "w")
        out = f(x, wv)
        out.backward()
        outs.append(out.data)
        dxs.append(x.grad)
        dws.append(wv.grad)
    return outs, dxs, dws


def batch_graph_grad(f, xs, w):
    """The engine's backward through the graph of the whole batch, ((l0 + l1) + ...): d sum / d w."""
    wv = Value(w, "w")
    total = None
    for xi in xs:
        out = f(Value(xi), wv)
        total = out if total is None else total + out
    total.backward()
    return wv.grad


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_op_on_a_batch_is_bit_for_bit_the_scalar_engine(case):
    f, xs, w_value = CASES[case]
    x, w = Value(xs[0], "x"), Value(w_value, "w")
    tape = Tape.record(f(x, w), inputs=[x])
    outs, dxs, dws = scalar_run(f, xs, w_value)

    got = tape.forward({x: np.array(xs)})
    assert got.shape == (len(xs),)
    assert all(same_bits(a, b) for a, b in zip(got.tolist(), outs)), (got.tolist(), outs)

    grads = tape.gradients(reduce="sum")
    assert all(same_bits(a, b) for a, b in zip(grads[x].tolist(), dxs)), (grads[x].tolist(), dxs)
    assert same_bits(grads[w], batch_graph_grad(f, xs, w_value))
    mean = tape.gradients(reduce="mean")[w]
    expected = math.fsum(dws) / len(dws)
    if math.isfinite(expected):
        assert mean == pytest.approx(expected, rel=1e-12, abs=1e-300)
    else:
        assert same_bits(mean, expected)


def test_a_shared_sub_expression_is_computed_once_and_its_gradient_agrees_to_rounding():
    """w.exp() does not depend on the sample: the tape computes it once (with the engine's own
    float functions) and sums its per-sample gradients before the chain rule goes on to w, where
    the engine's batch graph goes on per sample: the same sum, rounded differently."""
    x, w = Value(0.0, "x"), Value(0.6, "w")
    f = lambda x_, w_: (w_.exp() * x_ + w_ * w_).tanh()  # noqa: E731
    tape = Tape.record(f(x, w), inputs=[x])
    assert [ins.varying for ins in tape.instructions] == [False, True, False, True, True]
    xs = [-2.0, -0.5, 0.0, 0.7, 1.5, 3.0]
    outs, dxs, dws = scalar_run(f, xs, 0.6)
    assert tape.forward({x: np.array(xs)}).tolist() == outs
    grads = tape.gradients(reduce="mean")
    assert grads[x].tolist() == dxs
    assert grads[w] == pytest.approx(math.fsum(dws) / len(dws), rel=1e-12)


def test_backward_adds_the_batch_mean_gradient_to_each_parameter_and_accumulates():
    x, w, b = Value(1.0, "x"), Value(0.5, "w"), Value(-0.2, "b")
    tape = Tape.record((w * x + b).tanh(), inputs=[x])
    xs = np.array([-1.0, 0.0, 2.0, 3.0])
    tape.forward({x: xs})
    tape.backward()
    _, _, dws = scalar_run(lambda x_, w_: (w_ * x_ + Value(-0.2)).tanh(), xs.tolist(), 0.5)
    assert w.grad == pytest.approx(math.fsum(dws) / 4, rel=1e-12)
    first = (w.grad, b.grad)
    tape.backward()  # like Value.backward(): leaves accumulate until zeroed
    assert (w.grad, b.grad) == (2 * first[0], 2 * first[1])
    assert x.grad == 0.0  # an input's gradient is per sample: tape.gradients() has it, .grad is untouched


def test_parameters_are_read_at_every_forward_so_an_update_needs_no_recording():
    x, w = Value(1.0, "x"), Value(2.0, "w")
    tape = Tape.record(w * x + w, inputs=[x])
    assert tape.forward({x: np.array([1.0, 2.0])}).tolist() == [4.0, 6.0]
    w.data = -1.0
    assert tape.forward({x: np.array([1.0, 2.0])}).tolist() == [-2.0, -3.0]


def test_numbers_broadcast_and_a_single_re_evaluation_is_a_0d_array():
    """The stepper's nudge: `Tape.record(J, inputs=[leaf]).forward({leaf: value})`."""
    w, x, b, y = Value(2.0, "w"), Value(-2.0, "x"), Value(8.0, "b"), Value(2.0, "y")
    J = (w * x + b - y) ** 2 / 2
    nudged = Tape.record(J, inputs=[w]).forward({w: 2.001})
    assert nudged.shape == ()
    w2 = Value(2.001, "w")
    assert float(nudged) == ((w2 * x + b - y) ** 2 / 2).data  # bit for bit: the same operations
    # A number for one input, an array for another: the number is used for every sample.
    tape = Tape.record(J, inputs=[x, y])
    got = tape.forward({x: np.array([-2.0, 0.0, 1.0]), y: 2.0})
    assert got.tolist() == [2.0, 18.0, 32.0]  # ((2x + 8 - 2)^2)/2 by hand: 2, 18, 32
    assert tape.forward({x: np.float64(0.0), y: np.array(2.0)}).shape == ()


def test_several_outputs_give_one_column_each_and_take_a_gradient_per_output():
    x, w = Value(0.0, "x"), Value(1.5, "w")
    h = w * x
    tape = Tape.record([h.tanh(), h * h], inputs=[x])
    xs = np.array([-1.0, 0.5, 2.0])
    out = tape.forward({x: xs})
    assert out.shape == (3, 2)
    assert out[:, 0].tolist() == [math.tanh(1.5 * v) for v in xs]
    assert out[:, 1].tolist() == [(1.5 * v) * (1.5 * v) for v in xs]
    g = np.array([[1.0, 0.5], [2.0, -1.0], [0.0, 3.0]])
    tape.backward(reduce="sum", grad_output=g)
    # d/dw of Σ_i g_i0 tanh(w x_i) + g_i1 (w x_i)^2, by hand
    expected = sum(g0 * (1 - math.tanh(1.5 * v) ** 2) * v + g1 * 2 * (1.5 * v) * v for v, (g0, g1) in zip(xs, g))
    assert w.grad == pytest.approx(expected, rel=1e-12)


def test_a_two_moons_mlp_batch_gradient_matches_pytorch():
    """Karpathy's demo network and loss (SVM hinge + L2), the batch mean, against torch float64."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    Y = np.where(X[:, 0] * X[:, 1] > 0, 1.0, -1.0)
    model = MLP(2, [16, 16, 1], seed=3)
    params = model.parameters()
    x0, x1, y = Value(0.0, "x0"), Value(0.0, "x1"), Value(0.0, "y")
    loss = (1 + -y * model([x0, x1])).relu() + 1e-4 * sum(p * p for p in params)
    tape = Tape.record(loss, inputs=[x0, x1, y])
    losses = tape.forward({x0: X[:, 0], x1: X[:, 1], y: Y})
    tape.backward()

    layers = []
    for layer in model.layers:
        W = torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64, requires_grad=True)
        B = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64, requires_grad=True)
        layers.append((W, B))
    h = torch.tensor(X)
    for k, (W, B) in enumerate(layers):
        h = h @ W.T + B
        if k < len(layers) - 1:
            h = torch.relu(h)
    reg = 1e-4 * sum((W**2).sum() + (B**2).sum() for W, B in layers)
    per_sample = torch.relu(1 - torch.tensor(Y) * h[:, 0]) + reg
    per_sample.mean().backward()
    np.testing.assert_allclose(losses, per_sample.detach().numpy(), rtol=1e-12, atol=1e-15)
    expected = [v for W, B in layers for j in range(W.shape[0]) for v in [*W.grad[j].tolist(), B.grad[j].item()]]
    np.testing.assert_allclose([p.grad for p in params], expected, rtol=1e-12, atol=1e-15)


# -- printing -------------------------------------------------------------------------------------


def test_source_prints_the_forward_and_backward_pass_as_python():
    v = worked_example(backward=False)
    J, x, y = v["J"], v["x"], v["y"]
    tape = Tape.record(J, inputs=[x, y])
    expected = """\
# inputs (one value per sample): x, y
# parameters (read from .data): w, b
# forward pass
c = w * x
a = c + b
d = a - y
v1 = d ** 2
J = v1 / 2
# backward pass: grad_u = d output / d u, starting at 0; dv_du = local derivative of line v
grad_J = 1.0
grad_v1 += dJ_dv1 * grad_J
grad_d += dv1_dd * grad_v1
grad_a += dd_da * grad_d
grad_y += dd_dy * grad_d
grad_c += da_dc * grad_a
grad_b += da_db * grad_a
grad_w += dc_dw * grad_c
grad_x += dc_dx * grad_c"""
    assert tape.source() == expected
    assert str(tape) == expected
    ast.parse(tape.source())


def test_names_become_unique_python_identifiers():
    a, b, c, k = Value(1.0, "L1.N0.w2"), Value(2.0, "L1_N0_w2"), Value(3.0, "2x"), Value(4.0, "lambda")
    out = ((a * b) + c * (-3.0)) ** 2 * k + (a * a).leaky_relu(0.1)
    tape = Tape.record(out)
    source = tape.source()
    ast.parse(source)
    assert tape.identifiers[:3] == ["L1_N0_w2", "L1_N0_w2_2", "v1"]
    assert "_2x" in tape.identifiers and "lambda_" in tape.identifiers
    assert "v2 = _2x * (-3)" in source
    assert "v7 = leaky_relu(v6, 0.1)" in source
    # a node used twice in one line: the two local derivatives are told apart
    assert "grad_L1_N0_w2 += dv6_dL1_N0_w2_1st * grad_v6" in source
    assert "grad_L1_N0_w2 += dv6_dL1_N0_w2_2nd * grad_v6" in source


def test_constants_are_folded_into_the_instructions():
    x, w = Value(1.0, "x"), Value(2.0, "w")
    out = 2 ** (w * x) + Constant(0.5) * x
    tape = Tape.record(out, inputs=[x])
    assert [tape.kinds[tape.slot_of[n]] for n in (x, w)] == ["input", "parameter"]
    assert len(tape.nodes) == 6  # x, w, w*x, 2**(w*x), 0.5*x, out: no slot for 2 or 0.5
    assert tape.line(1) == "v2 = 2 ** v1"


# -- bad input ----------------------------------------------------------------------------------


def simple_tape():
    x, y, w = Value(1.0, "x"), Value(2.0, "y"), Value(0.5, "w")
    return Tape.record(w * x + y, inputs=[x, y]), x, y, w


def test_arrays_of_different_lengths_name_both_inputs():
    tape, x, y, _ = simple_tape()
    with pytest.raises(ValueError, match=r"inputs differ in length: 'x' has 3 samples but 'y' has 2"):
        tape.forward({x: [1.0, 2.0, 3.0], y: [1.0, 2.0]})


def test_a_missing_input_is_named():
    tape, x, _, _ = simple_tape()
    with pytest.raises(ValueError, match=r"missing input 'y' \(inputs: 'x', 'y'\)"):
        tape.forward({x: [1.0]})


def test_feeding_a_parameter_or_a_foreign_value_is_an_error():
    tape, x, y, w = simple_tape()
    with pytest.raises(ValueError, match=r"parameter 'w' is not an input of this tape"):
        tape.forward({x: [1.0], y: [1.0], w: [1.0]})
    with pytest.raises(ValueError, match=r"'z' \(not in the recorded graph\) is not an input"):
        tape.forward({x: [1.0], y: [1.0], Value(0.0, "z"): [1.0]})
    with pytest.raises(ValueError, match=r"the keys are the input Values themselves"):
        tape.forward({"x": [1.0], y: [1.0]})


def test_inputs_must_be_leaves_of_the_recorded_graph():
    x, w = Value(1.0, "x"), Value(2.0, "w")
    h = w * x
    with pytest.raises(ValueError, match=r"input 'z' is not a leaf of the recorded graph"):
        Tape.record(h, inputs=[x, Value(0.0, "z")])
    h.label = "h"
    with pytest.raises(ValueError, match=r"input 'h' is not a leaf: it is computed \(op '\*'\)"):
        Tape.record(h + 1, inputs=[h])
    with pytest.raises(ValueError, match=r"input 'x' is given twice"):
        Tape.record(h, inputs=[x, x])
    with pytest.raises(TypeError, match=r"inputs must be a list"):
        Tape.record(h, inputs=x)


def test_bad_arrays_and_backward_misuse_are_explained():
    tape, x, y, _ = simple_tape()
    with pytest.raises(ValueError, match=r"input 'x' must be a number or a 1-D array .* got shape \(2, 2\)"):
        tape.forward({x: np.ones((2, 2)), y: 1.0})
    with pytest.raises(TypeError, match=r"input 'x' must hold real numbers"):
        tape.forward({x: ["a"], y: 1.0})
    with pytest.raises(ValueError, match=r"input 'x' is empty"):
        tape.forward({x: [], y: []})
    with pytest.raises(RuntimeError, match=r"call tape.forward"):
        tape.backward()
    tape.forward({x: [1.0, 2.0], y: 0.0})
    with pytest.raises(ValueError, match=r"reduce must be 'mean' or 'sum'"):
        tape.backward(reduce="max")
    with pytest.raises(ValueError, match=r"grad_output must have shape \(2,\)"):
        tape.backward(grad_output=[1.0, 2.0, 3.0])


def test_a_domain_error_names_the_op_the_value_and_the_sample_without_numpy_warnings():
    x, w = Value(1.0, "x"), Value(1.0, "w")
    tape = Tape.record((w * x).log() + (w / x), inputs=[x])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a NumPy RuntimeWarning would fail here
        message = (
            r"log\(-2.0\) is undefined \(node 'v1'\): the logarithm .*\(at sample 7, tape line 2: `v2 = log\(v1\)`"
        )
        with pytest.raises(ValueError, match=message):
            tape.forward({x: [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, -2.0, -3.0]})
        w.data = -1.0
        with pytest.raises(ValueError, match=r"log\(-1.0\) is undefined .*\(at sample 0"):
            tape.forward({x: [1.0, -2.0]})
        w.data = 1.0
        division = Tape.record(w / x, inputs=[x])
        with pytest.raises(ZeroDivisionError, match=r"a = 1.0 \(node 'w'\), b = 0.0 \(node 'x'\) \(at sample 2"):
            division.forward({x: [1.0, 2.0, 0.0]})
        single = r"log\(0.0\) is undefined \(node 'x'\): .* \(tape line 1: `v1 = log\(x\)`\)$"
        with pytest.raises(ValueError, match=single):
            Tape.record(x.log(), inputs=[x]).forward({x: 0.0})  # a single evaluation: no sample index
        # Overflow is not an error (the engine gives inf as well) and raises no warning either.
        big = Tape.record((w * x).exp(), inputs=[x])
        assert big.forward({x: [1.0, 1000.0]}).tolist() == [math.e, math.inf]


def test_a_graph_built_with_a_python_if_on_data_is_caught_by_recording_twice():
    """Tape.record cannot see an `if` on .data (it replays one branch); two recordings can."""
    w = Value(0.5, "w")

    def model(x_value: float):
        x = Value(x_value, "x")
        h = w * x
        out = h * h if h.data > 0 else -h  # data-dependent structure
        return Tape.record(out, inputs=[x])

    same = model(1.0)
    same.check_same_structure(model(2.0))  # same branch: the same program
    with pytest.raises(DataDependentGraphError, match=r"instruction 2 \(op '\*'\): `v2 = v1 \* v1` versus `v2 = -v1`"):
        same.check_same_structure(model(-1.0), "the recordings")


def test_lines_of_one_level_run_together_and_still_give_the_engines_bits():
    """The tape runs same-op lines of one level as one NumPy call (micrograd.engine.tape._Schedule):
    different constants, exponents and slopes in one call, a node used by many lines at
    different levels; every number is still the engine's, bit for bit."""

    def f(x, w):
        h = [x * 0.5, x * -3.0, x * w, w * x]  # one level: four products, two constants
        powers = [h[0] ** 2, h[1] ** 3, h[2] ** 4]
        leaky = [h[3].leaky_relu(0.1), h[0].leaky_relu(0.3), (h[1] + x).leaky_relu(0.2)]
        total = x
        for v in powers + leaky + h:  # x itself is used at many levels
            total = total + v * x
        return total

    xs = [-1.5, -0.2, 0.0, 0.7, 2.0]
    x, w = Value(xs[0], "x"), Value(1.3, "w")
    tape = Tape.record(f(x, w), inputs=[x])
    sizes = {(g.op.name, len(g.ks)) for g in tape._schedule.groups}  # what this test is about
    assert {("**", 3), ("leaky_relu", 2)} <= sizes  # x ** 2, ** 3, ** 4 in one call; two slopes
    outs, dxs, _ = scalar_run(f, xs, 1.3)
    assert tape.forward({x: np.array(xs)}).tolist() == outs
    grads = tape.gradients(reduce="sum")
    assert grads[x].tolist() == dxs
    assert grads[w] == batch_graph_grad(f, xs, 1.3)


def test_a_domain_error_inside_a_group_names_the_failing_line():
    x, w = Value(1.0, "x"), Value(1.0, "w")
    a, b = (x * x + w).log(), ((x + w) * 1.0).log()  # two logs of one level: only the second fails
    tape = Tape.record(a + b, inputs=[x])
    message = r"log\(-0.5\) is undefined \(node 'v5'\).*\(at sample 1, tape line 6: `v6 = log\(v5\)`\)"
    with pytest.raises(ValueError, match=message):
        tape.forward({x: [1.0, -1.5]})


@pytest.mark.parametrize("lower", [True, False])
def test_input_gradients_are_each_samples_gradient_with_respect_to_the_inputs(lower):
    """Tape.input_gradients against the scalar engine, sample by sample: a lowered layer reading
    only the tape's inputs still passes its G @ W back to them; grad_output weighs each sample."""
    rng = np.random.default_rng(3)
    model = MLP(3, [4, 2], seed=1)
    xs = [Value(0.0, f"x{j}") for j in range(3)]
    out = model(xs)
    loss = (out[0] - 0.5) ** 2 + out[1].tanh()
    tape = Tape.record(loss, inputs=xs, lower=lower)
    assert bool(tape.layers) == lower
    X = rng.normal(size=(6, 3))
    weights = rng.normal(size=6)
    tape.forward(X)
    got = tape.input_gradients(weights)
    assert got.shape == (6, 3)
    for i in range(6):
        leaves = [Value(v) for v in X[i].tolist()]
        outs = model(leaves)
        ((outs[0] - 0.5) ** 2 + outs[1].tanh()).backward()
        expected = [weights[i] * leaf.grad for leaf in leaves]
        np.testing.assert_allclose(got[i], expected, rtol=1e-12, atol=1e-15)
    every = tape.gradients(reduce="sum", grad_output=weights)
    np.testing.assert_array_equal(got, np.column_stack([every[x] for x in xs]))


def test_a_chain_of_sums_runs_as_one_accumulate_with_the_scalar_engines_bits():
    """A softmax's denominator e0 + e1 + e2 + e3 is a chain of three sums, which the tape adds in
    one np.add.accumulate, row by row in the chain's order: every value, every per-sample gradient
    and every term of the adjoint trace must still be the scalar engine's, bit for bit."""
    rows = np.array([[0.3, -1.2, 2.5, 0.7], [-0.4, 0.9, 0.1, -2.2], [1.7, 1.7, -0.6, 0.05]])

    def softmax0(xs: list[Value]) -> Value:
        exps = [x.exp() for x in xs]
        return exps[0] / (((exps[0] + exps[1]) + exps[2]) + exps[3])

    xs = [Value(float(v), f"x{j}") for j, v in enumerate(rows[0])]
    tape = Tape.record(softmax0(xs), inputs=xs)
    got = tape.forward({x: rows[:, j] for j, x in enumerate(xs)})
    fused = [step for step in tape._schedule.steps if type(step).__name__ == "_SumChain"]
    assert len(fused) == 1 and len(fused[0].groups) == 3  # the three sums run as one accumulate
    grads = tape.gradients(reduce="sum")
    for i, row in enumerate(rows):
        sample = [Value(float(v)) for v in row]
        out = softmax0(sample)
        out.backward()
        assert same_bits(got[i], out.data)
        for j, x in enumerate(xs):
            assert same_bits(float(grads[x][i]), sample[j].grad), (i, j)
    assert np.array_equal(tape.input_gradients(), np.array([[float(grads[x][i]) for x in xs] for i in range(3)]))
    # the trace still has a term for every operand of every sum, and its terms add up to the gradients
    trace = tape.adjoint_trace()
    sums = [k for k, ins in enumerate(tape.instructions) if ins.op.name == "+"]
    assert len(sums) == 3 and {(s.k, s.pos) for s in trace if s.k in sums} == {(k, p) for k in sums for p in (0, 1)}
    for x in xs:
        total = np.zeros(len(rows))
        for step in trace:
            if tape.instructions[step.k].operands[step.pos] == tape.slot_of[x]:
                total = total + step.local * step.upstream
        assert np.array_equal(total, grads[x])
