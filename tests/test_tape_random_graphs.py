"""Property-based: random expression graphs of inputs and parameters, recorded once on a tape and
replayed on a batch, against the scalar engine run sample by sample on fresh graphs.

Programs as in test_random_graphs.py: leaves, then steps (op, i, j) on earlier nodes, so nodes
fan out and `a * a` occurs. The first leaves are inputs (one value per sample), the rest
parameters. The op set is safe by construction (divisors >= 1, logs and roots of 1 + x²), so no
draw leaves a domain. Claims checked, per sample: the output and every input's gradient are bit
for bit the engine's; for a parameter, the batch's summed gradient is bit for bit the engine's
backward through `((l0 + l1) + ...)` when no node depends on parameters alone (else it agrees to
rounding), and the batch mean equals the mean of the per-sample gradients to 1e-12.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from micrograd import Value, topological_order
from micrograd.engine import apply_op, ops
from micrograd.engine.tape import Tape

OPS = {
    "a+b": lambda a, b: a + b,
    "a-b": lambda a, b: a - b,
    "a*b": lambda a, b: a * b,
    "a/(1+b*b)": lambda a, b: a / (1 + b * b),
    "3-a": lambda a, b: 3 - a,
    "-a": lambda a, b: -a,
    "a**2": lambda a, b: a**2,
    "(1+a*a)**-0.5": lambda a, b: (1 + a * a) ** -0.5,
    "(1+a*a)**tanh(b)": lambda a, b: (1 + a * a) ** b.tanh(),
    "2**tanh(a)": lambda a, b: 2 ** a.tanh(),
    "sqrt(1+a*a)": lambda a, b: (1 + a * a).sqrt(),
    "log(1+a*a)": lambda a, b: (1 + a * a).log(),
    "exp(tanh(a))": lambda a, b: a.tanh().exp(),
    "tanh": lambda a, b: a.tanh(),
    "sigmoid": lambda a, b: a.sigmoid(),
    "sin": lambda a, b: a.sin(),
    "cos": lambda a, b: a.cos(),
    "relu": lambda a, b: a.relu(),
    "abs": lambda a, b: a.abs(),
    "leaky_relu(0.1)": lambda a, b: a.leaky_relu(0.1),
    "elu(0.5)": lambda a, b: a.elu(0.5),
    "softplus": lambda a, b: a.softplus(),
    "gelu": lambda a, b: a.gelu(),
    "step": lambda a, b: a.step(),
    "erf": lambda a, b: apply_op(a, "erf"),
}


def test_the_programs_can_use_every_registered_op() -> None:
    """A new op in micrograd.engine.ops must get an entry above, or this fails."""
    used = {node.op for f in OPS.values() for node in topological_order(f(Value(0.5), Value(0.25)))}
    assert used - {""} == set(ops.OPS)


BOUND = 20.0  # programs with a node outside [-20, 20] on any sample are discarded

numbers = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)
programs = st.lists(
    st.tuples(st.sampled_from(sorted(OPS)), st.integers(0, 1000), st.integers(0, 1000)), min_size=1, max_size=20
)
DETERMINISTIC = settings(
    max_examples=120,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much],
)


def build(leaves: list[Value], program: list) -> Value | None:
    pool = list(leaves)
    for name, i, j in program:
        pool.append(OPS[name](pool[i % len(pool)], pool[j % len(pool)]))
        if not abs(pool[-1].data) <= BOUND:
            return None
    return pool[-1]


@st.composite
def batches(draw):
    n_inputs = draw(st.integers(1, 3))
    n_params = draw(st.integers(0, 2))
    n_samples = draw(st.integers(1, 5))
    samples = [[draw(numbers) for _ in range(n_inputs)] for _ in range(n_samples)]
    params = [draw(numbers) for _ in range(n_params)]
    return samples, params, draw(programs)


def same_bits(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


@DETERMINISTIC
@given(batch=batches())
def test_a_random_graph_on_a_batch_is_the_scalar_engine_sample_by_sample(batch):
    samples, param_values, program = batch

    # The scalar engine: a fresh graph per sample, and one graph for the whole batch.
    params = [Value(p, f"p{k}") for k, p in enumerate(param_values)]
    outs, input_grads, param_grads, total = [], [], [], None
    for row in samples:
        xs = [Value(v, f"x{k}") for k, v in enumerate(row)]
        fresh = [Value(p.data) for p in params]
        out = build(xs + fresh, program)
        assume(out is not None)
        out.backward()
        outs.append(out.data)
        input_grads.append([x.grad for x in xs])
        param_grads.append([p.grad for p in fresh])
        shared = build([Value(v) for v in row] + params, program)
        total = shared if total is None else total + shared
    total.backward()  # params now hold the engine's gradient of the batch's sum

    # The tape, recorded on the first sample.
    xs = [Value(v, f"x{k}") for k, v in enumerate(samples[0])]
    out = build(xs + params, program)
    in_graph = set(topological_order(out))
    assume(any(x in in_graph for x in xs))  # else there is no batch: one evaluation, tested elsewhere
    tape = Tape.record(out, inputs=[x for x in xs if x in in_graph])  # an unused input is an error
    columns = np.array(samples).T
    got = tape.forward({x: columns[k] for k, x in enumerate(xs) if x in in_graph})
    assert all(same_bits(a, b) for a, b in zip(got.tolist(), outs))
    sums = tape.gradients(reduce="sum")
    means = tape.gradients(reduce="mean")
    for k, x in enumerate(xs):
        expected = [row[k] for row in input_grads]
        got_k = sums[x].tolist() if x in sums else [0.0] * len(samples)
        assert all(same_bits(a, b) for a, b in zip(got_k, expected)), (k, got_k, expected)
    shared_only = any(not ins.varying for ins in tape.instructions)
    # As in test_random_graphs: when terms cancel, the error is relative to the largest gradient.
    grad_scale = max(1.0, *(abs(g) for row in input_grads + param_grads for g in row))
    for k, p in enumerate(params):
        if p not in sums:  # the output does not use this parameter
            assert p.grad == 0.0
            continue
        if shared_only:
            assert math.isclose(sums[p], p.grad, rel_tol=1e-12, abs_tol=1e-13 * grad_scale * len(samples))
        else:
            assert same_bits(sums[p], p.grad), (sums[p], p.grad)
        mean = math.fsum(row[k] for row in param_grads) / len(samples)
        assert math.isclose(means[p], mean, rel_tol=1e-12, abs_tol=1e-13 * grad_scale), (means[p], mean)
