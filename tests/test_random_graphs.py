"""Property-based: random expression graphs with shared sub-expressions and reused leaves,
evaluated by micrograd and by PyTorch (float64); the output and every leaf's gradient agree.

A graph is a program: a few leaves, then steps (op, i, j) that apply an op to earlier nodes
i and j (indices taken modulo the number of nodes so far). Any node can be used many times,
so leaves and intermediate results fan out, and `a * a`-style self-operands occur.
The op set is safe by construction (divisors >= 1, logs and roots of 1 + x², exponents of
tanh), so no draw leaves a domain. Hypothesis runs derandomized: the same examples every run.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from micrograd import Value, topological_order
from micrograd.engine import apply_op, ops

# name -> (micrograd, PyTorch). Many formulas are the same text for both; each takes (a, b).
OPS = {
    "a+b": (lambda a, b: a + b, lambda a, b: a + b),
    "a-b": (lambda a, b: a - b, lambda a, b: a - b),
    "a*b": (lambda a, b: a * b, lambda a, b: a * b),
    "a/(1+b*b)": (lambda a, b: a / (1 + b * b), lambda a, b: a / (1 + b * b)),
    "2/(1+a*a)": (lambda a, b: 2 / (1 + a * a), lambda a, b: 2 / (1 + a * a)),
    "3-a": (lambda a, b: 3 - a, lambda a, b: 3 - a),
    "0.5*a+b": (lambda a, b: 0.5 * a + b, lambda a, b: 0.5 * a + b),
    "-a": (lambda a, b: -a, lambda a, b: -a),
    "a**2": (lambda a, b: a**2, lambda a, b: a**2),
    "a**3": (lambda a, b: a**3, lambda a, b: a**3),
    "(1+a*a)**-0.5": (lambda a, b: (1 + a * a) ** -0.5, lambda a, b: (1 + a * a) ** -0.5),
    "(1+a*a)**tanh(b)": (lambda a, b: (1 + a * a) ** b.tanh(), lambda a, b: (1 + a * a) ** b.tanh()),
    "2**tanh(a)": (lambda a, b: 2 ** a.tanh(), lambda a, b: 2 ** a.tanh()),
    "sqrt(1+a*a)": (lambda a, b: (1 + a * a).sqrt(), lambda a, b: (1 + a * a).sqrt()),
    "log(1+a*a)": (lambda a, b: (1 + a * a).log(), lambda a, b: (1 + a * a).log()),
    "exp(tanh(a))": (lambda a, b: a.tanh().exp(), lambda a, b: a.tanh().exp()),
    "tanh": (lambda a, b: a.tanh(), lambda a, b: a.tanh()),
    "sigmoid": (lambda a, b: a.sigmoid(), lambda a, b: a.sigmoid()),
    "sin": (lambda a, b: a.sin(), lambda a, b: a.sin()),
    "cos": (lambda a, b: a.cos(), lambda a, b: a.cos()),
    "relu": (lambda a, b: a.relu(), lambda a, b: a.relu()),
    "abs": (lambda a, b: a.abs(), lambda a, b: a.abs()),
    "leaky_relu(0.1)": (lambda a, b: a.leaky_relu(0.1), lambda a, b: F.leaky_relu(a, 0.1)),
    "elu(0.5)": (lambda a, b: a.elu(0.5), lambda a, b: F.elu(a, 0.5)),
    # F.softplus switches to x above its threshold (20); the bound below keeps values under 20.
    "softplus": (lambda a, b: a.softplus(), lambda a, b: F.softplus(a)),
    "gelu": (lambda a, b: a.gelu(), lambda a, b: F.gelu(a)),
    # torch.heaviside has no derivative; sign(relu(a)) is the same step, with sign's derivative 0.
    "step": (lambda a, b: a.step(), lambda a, b: torch.sign(torch.relu(a))),
    "erf": (lambda a, b: apply_op(a, "erf"), lambda a, b: torch.erf(a)),
}


def test_the_programs_can_use_every_registered_op() -> None:
    """A new op in micrograd.engine.ops must get an entry above, or this fails."""
    used = {
        node.op for micrograd_fn, _ in OPS.values() for node in topological_order(micrograd_fn(Value(0.5), Value(0.25)))
    }
    assert used - {""} == set(ops.OPS)


BOUND = 20.0  # graphs with a node outside [-20, 20] are discarded (a*a*... grows fast)

leaves = st.lists(st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False), min_size=1, max_size=4)
steps = st.lists(
    st.tuples(st.sampled_from(sorted(OPS)), st.integers(0, 1000), st.integers(0, 1000)), min_size=1, max_size=25
)
DETERMINISTIC = settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much],
)


def build(inputs: list, program: list, ops: int, sum_all: bool):
    """Run a program on leaves (Values or tensors); ops = 0 for micrograd, 1 for PyTorch.

    Returns (output, every node of the program), or None once a micrograd node leaves the bound.
    """
    pool = list(inputs)
    for name, i, j in program:
        pool.append(OPS[name][ops](pool[i % len(pool)], pool[j % len(pool)]))
        if ops == 0 and not abs(pool[-1].data) <= BOUND:
            return None
    if not sum_all:
        return pool[-1], pool
    total = pool[len(inputs)]
    for node in pool[len(inputs) + 1 :]:
        total = total + node
    return total, pool


@DETERMINISTIC
@given(xs=leaves, program=steps, sum_all=st.booleans())
def test_random_graph_matches_pytorch(xs: list, program: list, sum_all: bool, same) -> None:
    values = [Value(x, f"x{i}") for i, x in enumerate(xs)]
    built = build(values, program, 0, sum_all)
    assume(built is not None)
    out, _ = built
    out.backward()

    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    t_out, _ = build(tensors, program, 1, sum_all)
    t_out.backward()

    same(out.data, t_out.item(), rtol=1e-12, atol=1e-15, what="output")
    # A gradient is a sum over paths; when terms cancel, its error is relative to the largest
    # term, not to the sum. The largest gradient anywhere in the graph bounds those terms' size.
    scale = max(1.0, *(abs(node.grad) for node in topological_order(out)))
    for i, (v, t) in enumerate(zip(values, tensors)):
        expected = 0.0 if t.grad is None else t.grad.item()
        same(v.grad, expected, rtol=1e-12, atol=1e-13 * scale, what=f"d out / d x{i}")


def _check_topological(order: list, root: Value) -> None:
    assert order[-1] is root
    assert len({id(node) for node in order}) == len(order), "a node appears twice"
    position = {id(node): k for k, node in enumerate(order)}
    for node in order:
        for child in node.children:
            assert position[id(child)] < position[id(node)], "a child comes after its parent"


@DETERMINISTIC
@given(xs=leaves, program=steps, sum_all=st.booleans())
def test_topological_order_is_valid_complete_and_deterministic(xs: list, program: list, sum_all: bool) -> None:
    built = build([Value(x) for x in xs], program, 0, sum_all)
    assume(built is not None)
    out, pool = built
    order = topological_order(out)
    _check_topological(order, out)

    # Complete: exactly the nodes reachable from the root (found here by a plain search).
    reachable, stack = set(), [out]
    while stack:
        node = stack.pop()
        if id(node) not in reachable:
            reachable.add(id(node))
            stack.extend(node.children)
    assert {id(node) for node in order} == reachable

    # Deterministic: the same program built again gives the same order, node for node.
    again, pool_again = build([Value(x) for x in xs], program, 0, sum_all)  # type: ignore[misc]
    index = {id(node): k for k, node in enumerate(pool + [out])}
    index_again = {id(node): k for k, node in enumerate(pool_again + [again])}
    # Constants and the inner nodes of composite ops are not in the pool: compare them by op and value.
    key = [(index.get(id(n)), n.op, n.data) for n in order]
    key_again = [(index_again.get(id(n)), n.op, n.data) for n in topological_order(again)]
    assert key == key_again
