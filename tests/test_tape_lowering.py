"""The tape's lowering: layers found in a scalar graph by structure and run as matrix products.

Claims checked against the scalar engine (one graph per sample, `Value.backward()`) and against
the same tape run op by op (`lower=False`): outputs, every parameter's gradient and every input's
gradient agree to 1e-12 relative, for every activation and several batch sizes; graphs that are
not layers (a weight shared by two neurons, a sum written `w * x + b`) run op by op with the same
numbers; the printed matrix program; the checks on what `record` and `forward` take.
"""

from __future__ import annotations

import numpy as np
import pytest

from micrograd import Value
from micrograd.engine.tape import Tape
from micrograd.nn import MLP
from micrograd.nn.mlp import ACTIVATIONS

RTOL = 1e-12


def _close(got, expected, what: str) -> None:
    """Equal to rounding: 1e-12 relative, plus 1e-12 of the largest value (a gradient that is a sum
    of cancelling terms has no relative precision of its own)."""
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    scale = float(np.max(np.abs(expected), initial=0.0))
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=RTOL * scale + 1e-300, err_msg=what)


def _record(model: MLP, nin: int, lower: bool = True) -> tuple[Tape, list[Value]]:
    xs = [Value(0.0, f"x{j}") for j in range(nin)]
    out = model(xs)
    outputs = out if isinstance(out, list) else [out]
    return Tape.record(outputs, inputs=xs, parameters=model.parameters(), lower=lower), xs


def _scalar_engine(model: MLP, X: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(outputs, Σ over samples of d(Σ outputs)/d(parameter), d(Σ outputs)/d(input) per sample)."""
    params = model.parameters()
    for p in params:
        p.grad = 0.0
    outs, input_grads = [], []
    for row in X.tolist():
        xs = [Value(v) for v in row]
        out = model(xs)
        outputs = out if isinstance(out, list) else [out]
        total = outputs[0]
        for o in outputs[1:]:
            total = total + o
        total.backward()
        outs.append([o.data for o in outputs])
        input_grads.append([x.grad for x in xs])
    grads = np.array([p.grad for p in params])
    for p in params:
        p.grad = 0.0
    return np.array(outs), grads, np.array(input_grads)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("n", [1, 3, 17])
def test_a_lowered_mlp_agrees_with_the_scalar_engine_for_every_activation(activation, n):
    model = MLP(4, [6, 5, 3], activation=activation, output_activation=activation, seed=7)
    tape, xs = _record(model, 4)
    assert [layer.name for layer in tape.layers] == ["L1", "L2", "L3"]
    X = np.random.default_rng(n).normal(size=(n, 4))
    weights = np.array([p.data for p in model.parameters()])
    out = tape.forward(X, parameters=weights)
    expected_out, expected_grads, expected_input_grads = _scalar_engine(model, X, weights)
    _close(out, expected_out, "outputs")
    grads = tape.parameter_gradients(reduce="sum")
    _close(grads, expected_grads, "parameter gradients")
    per_node = tape.gradients(reduce="sum")
    _close(np.array([per_node[x] for x in xs]).T, expected_input_grads, "input gradients")
    # The same tape run op by op: the scalar engine's numbers, bit for bit.
    op_by_op, _ = _record(model, 4, lower=False)
    assert op_by_op.layers == ()
    assert op_by_op.forward(X).tolist() == expected_out.tolist()


def test_values_and_gradients_inside_a_lowered_layer_are_still_every_nodes():
    """The products and partial sums a matrix product replaces are recomputed when asked for."""
    model = MLP(3, [4, 2], seed=2)
    tape, _ = _record(model, 3)
    reference, _ = _record(model, 3, lower=False)
    X = np.random.default_rng(0).normal(size=(5, 3))
    tape.forward(X)
    reference.forward(X)
    values, expected_values = tape.values(), reference.values()
    grads, expected_grads = tape.gradients(), reference.gradients()
    assert values.keys() == set(tape.nodes)
    assert len(tape.nodes) == len(reference.nodes)  # the same graph, built twice: slot by slot
    for node, twin in zip(tape.nodes, reference.nodes):
        _close(values[node], expected_values[twin], f"value of {node!r}")
        _close(grads[node], expected_grads[twin], f"gradient of {node!r}")


def test_backward_adds_the_batch_mean_gradient_to_each_parameter():
    model = MLP(2, [3, 1], seed=4)
    tape, xs = _record(model, 2)
    X = np.array([[0.5, -1.0], [2.0, 0.25]])
    tape.forward({xs[0]: X[:, 0], xs[1]: X[:, 1]})  # a dict feed works as before
    model.zero_grad()
    tape.backward()
    added = [p.grad for p in model.parameters()]
    _, expected, _ = _scalar_engine(model, X, np.array([p.data for p in model.parameters()]))
    _close(added, expected / 2, "batch-mean gradient")


def test_a_graph_that_is_not_a_layer_runs_op_by_op_and_says_so():
    x0, x1 = Value(0.0, "x0"), Value(0.0, "x1")
    w, v, b, c = Value(0.5, "w"), Value(-1.5, "v"), Value(0.25, "b"), Value(2.0, "c")
    shared = (b + w * x0 + v * x1).tanh() + (c + w * x0)  # w is read by two neurons: a shared weight
    backwards = w * x0 + b  # the product first: not the chain `b + w * x`
    input_added = c * (b + x0)  # `b + x`: an input added, no product
    for out in (shared, backwards, input_added):
        tape = Tape.record(out, inputs=[x0, x1] if out is shared else [x0])
        assert tape.layers == ()
        assert tape.lowering().startswith("0 layer(s) as matrix products (none)")
        assert str(tape) == tape.source()  # nothing lowered: the scalar program
        X = np.array([[0.3, -0.7], [1.1, 0.2], [-2.0, 0.4]])[:, : len(tape.inputs)]
        got = tape.forward(X)
        grads = tape.gradients(reduce="sum")
        # the scalar engine, sample by sample, on the recorded graph itself
        expected_out, expected_grad = [], {p: 0.0 for p in (w, v, b, c)}
        for row in X.tolist():
            leaves = dict(zip(tape.inputs, row))
            fresh_out, fresh_params = _rebuild(out, leaves)
            fresh_out.backward()
            expected_out.append(fresh_out.data)
            for p, q in fresh_params.items():
                expected_grad[p] += q.grad
        assert got.tolist() == expected_out  # op by op: bit for bit
        for p in tape.parameters:
            _close(grads[p], expected_grad[p], f"gradient of {p.label}")


def _rebuild(out: Value, inputs: dict[Value, float]) -> tuple[Value, dict[Value, Value]]:
    """The graph below `out` built again with fresh leaves (inputs set to the given numbers)."""
    from micrograd import topological_order

    fresh: dict[Value, Value] = {}
    params: dict[Value, Value] = {}
    for node in topological_order(out):
        if not node.children:
            fresh[node] = Value(inputs.get(node, node.data))
            if node not in inputs:
                params[node] = fresh[node]
        elif node.op in ("+", "*"):
            a, b = (fresh[c] for c in node.children)
            fresh[node] = a + b if node.op == "+" else a * b
        else:
            fresh[node] = getattr(fresh[node.children[0]], node.op)()
    return fresh[out], params


def test_a_graph_with_layers_and_other_parts_lowers_the_layers_only():
    """Two moons' SVM loss with an L2 penalty: three layers lowered; the loss and Σw² op by op."""
    model = MLP(2, [5, 4, 1], seed=3)
    params = model.parameters()
    x0, x1, y = Value(0.0, "x0"), Value(0.0, "x1"), Value(0.0, "y")
    loss = (1 + -y * model([x0, x1])).relu() + 1e-3 * sum(p * p for p in params)
    tape = Tape.record(loss, inputs=[x0, x1, y])
    assert [layer.name for layer in tape.layers] == ["L1", "L2", "L3"]
    assert "3 layer(s) as matrix products (L1 2→5, L2 5→4, L3 4→1)" in tape.lowering()
    reference = Tape.record(loss, inputs=[x0, x1, y], lower=False)
    X = np.random.default_rng(1).normal(size=(9, 2))
    Y = np.sign(X[:, 0])
    feed = {x0: X[:, 0], x1: X[:, 1], y: Y}
    _close(tape.forward(feed), reference.forward(feed), "losses")
    _close(tape.parameter_gradients(), reference.parameter_gradients(), "gradients with the penalty")
    # Σw² runs on arrays (one reduction); every node's value and gradient is still there.
    values, expected_values = tape.values(), reference.values()
    grads, expected_grads = tape.gradients(), reference.gradients()
    for node in tape.nodes:
        _close(values[node], expected_values[node], f"value of {node!r}")
        _close(grads[node], expected_grads[node], f"gradient of {node!r}")
    # A parameter moved out of an op's domain: the engine's error, naming the line.
    saved, params[0].data = params[0].data, 200.0
    logged = Tape.record(loss + (params[0] - 100.0).log() + 1e-3 * sum(p * p for p in params), inputs=[x0, x1, y])
    params[0].data = saved
    with pytest.raises(ValueError, match=r"log\(-100\.\d+\) is undefined.*tape line \d+: `v\d+ = log\(v\d+\)`"):
        logged.forward(feed)


def test_the_matrix_view_prints_each_layer_as_one_matrix_line_beside_its_scalar_form():
    model = MLP(2, [3, 1], seed=0)
    tape, _ = _record(model, 2)
    text = str(tape)
    assert text == tape.matrix_source()
    lines = text.splitlines()
    assert lines[0].startswith("# matrix form: what runs, a row per sample (2 layer(s) as matrix products")
    assert lines[3] == (
        "h1 = relu(X @ W1.T + b1)                     # L1: 3 neurons x 2 inputs; "
        "v5 = relu(L1_N0_b + L1_N0_w0 * x0 + L1_N0_w1 * x1)"
    )
    assert lines[4] == (
        "v21 = h1 @ W2.T + b2                         # L2: 1 neuron x 3 inputs; "
        "v21 = L2_N0_b + L2_N0_w0 * v5 + L2_N0_w1 * v12 + L2_N0_w2 * v19"
    )
    assert lines[5:] == [
        "# output: v21",
        "# backward pass: G_v = d output / d v (a row per sample), dv_du = local derivative (micrograd.engine.ops)",
        "G_v21 = 1",
        "grad_W2 = G_v21.T @ h1",
        "grad_b2 = G_v21.sum(axis=0)",
        "G_h1 += G_v21 @ W2",
        "G_z1 = dh1_dz1 * G_h1",
        "grad_W1 = G_z1.T @ X",
        "grad_b1 = G_z1.sum(axis=0)",
    ]
    # The scalar program it came from is still there, line by line.
    assert "v5 = relu(v4)" in tape.source().splitlines()


def test_a_lowered_tape_has_no_term_by_term_trace_and_says_how_to_get_one():
    tape, _ = _record(MLP(2, [2, 1], seed=0), 2)
    tape.forward(np.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"runs 2 layer\(s\) as matrix products.*lower=False"):
        tape.adjoint_trace()


def test_record_and_forward_check_the_parameter_order_and_the_matrix_feed():
    model = MLP(2, [2, 1], seed=0)
    xs = [Value(0.0, "x0"), Value(0.0, "x1")]
    out = model(xs)
    params = model.parameters()
    with pytest.raises(ValueError, match=r"parameters must list every parameter leaf of the graph once: 'L2.N0.b' is"):
        Tape.record(out, inputs=xs, parameters=params[:-1])
    with pytest.raises(ValueError, match=r"once: one is listed twice"):
        Tape.record(out, inputs=xs, parameters=params + params[:1])
    with pytest.raises(TypeError, match=r"parameters must be a list of leaf Values"):
        Tape.record(out, inputs=xs, parameters=params[0])
    tape = Tape.record(out, inputs=xs, parameters=params)
    assert tape.parameters == tuple(params)
    with pytest.raises(ValueError, match=r"a matrix feed must be a non-empty \(samples, 2\) array"):
        tape.forward(np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"parameters must be a float64 array of shape \(9,\)"):
        tape.forward(np.zeros((3, 2)), parameters=np.zeros(8))


def test_parameters_in_any_order_give_the_same_numbers():
    """In `parameters()` order a layer's weights lie on a grid of the flat array (read and written
    as views); in another order they are gathered and scattered: the same numbers."""
    model = MLP(3, [4, 2], seed=5)
    xs = [Value(0.0, f"x{j}") for j in range(3)]
    out = model(xs)
    params = model.parameters()
    shuffled = params[::-1]
    on_grid = Tape.record(out, inputs=xs, parameters=params)
    gathered = Tape.record(out, inputs=xs, parameters=shuffled)
    assert all(mm.weights_on_grid for mm in _matmuls(on_grid))
    assert not any(mm.weights_on_grid for mm in _matmuls(gathered))
    X = np.random.default_rng(3).normal(size=(6, 3))
    theta = np.array([p.data for p in params])
    _close(gathered.forward(X, parameters=theta[::-1].copy()), on_grid.forward(X, parameters=theta), "outputs")
    _close(gathered.parameter_gradients()[::-1], on_grid.parameter_gradients(), "gradients")


def _matmuls(tape: Tape) -> list:
    return [g for g in tape._schedule.groups if not hasattr(g, "ks")]
