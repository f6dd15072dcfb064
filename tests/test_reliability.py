"""Hardening of the engine: thread- and task-safe graph state, NaN as in PyTorch, copies and
pickles that keep node identity, linear naming, and a `fit` that Ctrl-C leaves consistent."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import math
import pickle
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from micrograd import Value, is_grad_enabled, no_grad, scope, topological_order
from micrograd.engine import Parameter, Tape, apply_op, weighted_sum
from micrograd.engine.names import node_names
from micrograd.engine.ops import OPS
from micrograd.nn import MLP, Dense, Dropout, Sequential
from micrograd.nn.mlp import ACTIVATIONS
from micrograd.training.loop import TrainingDivergedError

ROOT = Path(__file__).resolve().parents[1]


def run_python(code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter with this checkout on the path."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# -- naming is linear ----------------------------------------------------------------------------


def _names_by_rescanning(order: list[Value]) -> list[str]:
    """The naming rule written the slow, obvious way: the k-th node labelled "x" is "x_k", or the
    first "x_j" after it that no label and no earlier name holds."""
    taken = {node.label for node in order if node.label}
    count: dict[str, int] = {}
    out = []
    for node in order:
        count[node.label] = count.get(node.label, 0) + 1
        k = count[node.label]
        name = node.label
        while k > 1 and (name == node.label or name in taken):
            name = f"{node.label}_{k}"
            k += 1
        taken.add(name)
        out.append(name)
    return out


def test_names_of_repeated_labels_match_the_rule_on_random_label_mixes() -> None:
    rng = random.Random(5)
    for _ in range(200):
        labels = [rng.choice(["x", "x", "x_2", "x_3", "x_5", "y", "y_2", "x_2_2"]) for _ in range(rng.randint(1, 25))]
        order = [Value(1.0, label) for label in labels]
        names = node_names(order)
        assert [names[node] for node in order] == _names_by_rescanning(order), labels
        assert len(set(names.values())) == len(order)


def test_twenty_thousand_suffixed_labels_name_in_well_under_a_second() -> None:
    # x_2 ... x_10001 beside 10,000 nodes labelled x: the old search rescanned every taken suffix
    # for each repeat (quadratic: minutes); linear naming takes milliseconds. Timed in a fresh
    # interpreter, with a bound far above the linear time, so a busy machine does not fail it.
    result = run_python(
        """
        import time
        from micrograd import Value
        from micrograd.engine.names import node_names
        order = [Value(1.0, "x") for _ in range(10_000)] + [Value(1.0, f"x_{k}") for k in range(2, 10_002)]
        start = time.process_time()
        names = node_names(order)
        print(time.process_time() - start, len(set(names.values())))
        """
    )
    assert result.returncode == 0, result.stderr
    seconds, distinct = result.stdout.split()
    assert int(distinct) == 20_000
    assert float(seconds) < 1.0


def test_names_of_a_graph_are_unchanged() -> None:
    a, b = Value(1.0, "x"), Value(2.0, "x")
    out = (a + Value(3.0, "x_2")) * b
    assert [node_names(topological_order(out))[n] for n in topological_order(out)] == ["x", "x_2", "v1", "x_3", "v2"]


# -- grad mode and scopes per thread and per task --------------------------------------------------


def test_two_threads_interleaving_no_grad_leave_grad_on() -> None:
    # A enters, B enters, A leaves, B leaves: with a global flag B's exit restored A's "off".
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def a() -> None:
        with no_grad():
            a_in.set()
            b_in.wait(5)
            seen["a inside"] = is_grad_enabled()
        a_out.set()

    def b() -> None:
        a_in.wait(5)
        with no_grad():
            b_in.set()
            a_out.wait(5)
            seen["b inside"] = is_grad_enabled()
        seen["b after"] = is_grad_enabled()
        x = Value(2.0)
        seen["b builds"] = (x * x).children == (x, x)

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"a inside": False, "b inside": False, "b after": True, "b builds": True}
    assert is_grad_enabled()


def test_a_thread_outside_no_grad_builds_its_graph_while_another_is_inside() -> None:
    entered, done = threading.Event(), threading.Event()

    def inside() -> None:
        with no_grad():
            entered.set()
            done.wait(5)

    t = threading.Thread(target=inside)
    t.start()
    entered.wait(5)
    try:
        assert is_grad_enabled()
        w, x = Value(2.0), Value(3.0)
        assert (w * x).children == (w, x) and (w + x).children == (w, x) and (w / x).children == (w, x)
        assert weighted_sum(w, [w], [x]).children != ()
        assert x.tanh().children == (x,)
    finally:
        done.set()
        t.join(10)


def test_interleaved_scopes_in_two_threads_name_their_own_nodes() -> None:
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    scopes: dict[str, str] = {}

    def a() -> None:
        with scope("A"):
            a_in.set()
            b_in.wait(5)
            scopes["a"] = (Value(1.0) * 2).scope
        a_out.set()
        scopes["a after"] = (Value(1.0) * 2).scope

    def b() -> None:
        a_in.wait(5)
        with scope("B"), scope("inner"):
            b_in.set()
            a_out.wait(5)
            scopes["b"] = weighted_sum(Value(0.0), [Value(1.0)], [2.0]).scope
        scopes["b after"] = (Value(1.0) + 2).scope

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert scopes == {"a": "A", "b": "B.inner", "a after": "", "b after": ""}
    assert Value(1.0).scope == "" and Value(1.0).scope == ""


def test_asyncio_tasks_have_their_own_grad_mode_and_scope() -> None:
    async def task(name: str, grad: bool, first: asyncio.Event, second: asyncio.Event) -> tuple:
        with contextlib.ExitStack() as stack:
            if not grad:
                stack.enter_context(no_grad())
            stack.enter_context(scope(name))
            first.set()
            await second.wait()
            x = Value(1.0)
            y = x * 3
            return is_grad_enabled(), bool(y.children), y.scope

    async def main() -> list:
        e1, e2 = asyncio.Event(), asyncio.Event()
        return await asyncio.gather(task("t1", False, e1, e2), task("t2", True, e2, e1))

    (grad1, built1, scope1), (grad2, built2, scope2) = asyncio.run(main())
    assert (grad1, built1, scope1) == (False, False, "t1")
    assert (grad2, built2, scope2) == (True, True, "t2")
    assert is_grad_enabled() and Value(1.0).scope == ""


def test_walks_from_two_threads_over_shared_nodes_agree() -> None:
    shared = [Value(float(i), f"s{i}") for i in range(200)]
    roots = []
    for k in range(2):
        total = Value(float(k))
        for i, s in enumerate(shared):
            total = total * s + shared[(i * 7 + k) % 200]
        roots.append(total)
    expected = [[id(n) for n in topological_order(root)] for root in roots]
    problems: list[str] = []

    def walk(k: int) -> None:
        for _ in range(200):
            order = topological_order(roots[k])
            if [id(n) for n in order] != expected[k]:
                problems.append(f"walk of root {k}: {len(order)} nodes, {len({id(n) for n in order})} distinct")

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=walk, args=(k,)) for k in (0, 1, 0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        sys.setswitchinterval(interval)
    assert problems == []


# -- copies and pickles keep node identity ---------------------------------------------------------


def _round_trip(obj: object, how: str) -> Any:
    return copy.deepcopy(obj) if how == "deepcopy" else pickle.loads(pickle.dumps(obj))


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copied_root_and_leaf_are_the_nodes_of_one_graph(how: str) -> None:
    w, x = Value(2.0, "w"), Value(3.0, "x")
    J = (w * x + w).tanh()
    J2, w2 = _round_trip((J, w), how)
    assert w2 is not w and J2.children[0].children[1] is w2 and J2.children[0].children[0].children[0] is w2
    J2.backward()
    J.backward()
    assert w2.grad == w.grad != 0.0
    w3, J3 = _round_trip((w, J), how)  # the leaf first: the same sharing
    assert J3.children[0].children[1] is w3


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_several_roots_keep_the_nodes_they_share(how: str) -> None:
    a, b = Value(1.5, "a"), Value(-0.5, "b")
    h = (a * b).relu()
    roots = [h + a, h * b, (h - 1.0).exp(), h]
    copies = _round_trip(roots, how)
    assert copies[0].children[0] is copies[1].children[0] is copies[2].children[0].children[0] is copies[3]
    assert copies[0].children[1] is copies[3].children[0].children[0]
    assert [c.data for c in copies] == [r.data for r in roots]
    assert all(c.scope == r.scope and c.op == r.op for c, r in zip(copies, roots))


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_several_100k_deep_roots_sharing_a_chain_copy_without_recursion(how: str) -> None:
    x = Value(0.5, "x")
    z = x
    for _ in range(100_000):
        z = z * 1.0000001
    top = z + x
    z2, top2, x2 = _round_trip((z, top, x), how)
    assert top2.children == (z2, x2) and z2.data == z.data and topological_order(z2)[0] is x2


def test_copy_copy_is_shallow() -> None:
    a, b = Value(1.0, "a"), Value(2.0, "b")
    out = a * b
    out.label = "out"
    twin = copy.copy(out)
    assert twin is not out and twin.children == (a, b) and (twin.data, twin.op, twin.label) == (2.0, "*", "out")
    twin.label = "twin"
    assert out.label == "out"
    leaf = copy.copy(a)
    assert leaf is not a and type(leaf) is Value and (leaf.data, leaf.label) == (1.0, "a")
    p = Parameter(0.3, "p")
    assert type(copy.copy(p)) is Parameter


def test_an_mlp_pickles_with_every_activation() -> None:
    for activation in ACTIVATIONS:
        model = MLP(2, [3, 1], activation=activation, output_activation=activation, seed=1)
        again = pickle.loads(pickle.dumps(model))
        twin = copy.deepcopy(model)
        for other in (again, twin):
            assert other([0.3, -0.7]).data == model([0.3, -0.7]).data
            assert [p.data for p in other.parameters()] == [p.data for p in model.parameters()]


@pytest.mark.parametrize("seed", [None, 7])
def test_a_sequential_model_pickles_before_and_after_compile_and_fit(seed: int | None) -> None:
    X = np.random.default_rng(0).normal(size=(24, 2))
    y = (X[:, 0] > 0).astype(float)
    model = Sequential(
        [Dense(4, activation="relu", input_dim=2), Dropout(0.25), Dense(1, activation="sigmoid")], seed=seed
    )
    pickle.loads(pickle.dumps(model))
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(X, y, epochs=2, batch_size=8, verbose=0)
    again = pickle.loads(pickle.dumps(model))
    assert np.array_equal(again.predict(X), model.predict(X))
    assert again.optimizer.steps == model.optimizer.steps
    assert all(p is q for p, q in zip(again.optimizer.params, again.parameters()))  # one set of weights
    again.fit(X, y, epochs=1, batch_size=8, verbose=0)
    model.fit(X, y, epochs=1, batch_size=8, verbose=0)
    if seed is not None:  # its own generators came along: it trains on exactly as the original
        assert again.get_weights() == model.get_weights()


# -- NaN and ±inf as in PyTorch ------------------------------------------------------------------------

NAN, INF = math.nan, math.inf
SPECIAL = [NAN, INF, -INF]
ORDINARY = [0.0, -0.0, 1.0, 1.5, -2.0, 3.0]
#: Each op as torch computes it, and the constant parameters to try for ops that have one.
TORCH_OPS: dict[str, Callable[..., Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": lambda a, n: a**n,
    "pow": lambda a, b: torch.pow(a, b),
    "neg": lambda a: -a,
    "exp": lambda a: torch.exp(a),
    "log": lambda a: torch.log(a),
    "sqrt": lambda a: torch.sqrt(a),
    "sin": lambda a: torch.sin(a),
    "cos": lambda a: torch.cos(a),
    "tanh": lambda a: torch.tanh(a),
    "sigmoid": lambda a: torch.sigmoid(a),
    "relu": lambda a: torch.relu(a),
    "leaky_relu": lambda a, slope: torch.nn.functional.leaky_relu(a, slope),
    "elu": lambda a, alpha: torch.nn.functional.elu(a, alpha),
    "softplus": lambda a: torch.nn.functional.softplus(a),
    "abs": lambda a: torch.abs(a),
    "gelu": lambda a: torch.nn.functional.gelu(a),
    # torch.heaviside has no derivative; sign(relu(a)) is our step built from ops PyTorch
    # differentiates (0 at 0, sign's derivative 0 everywhere). The one deliberate difference: PyTorch
    # maps NaN to 0 (heaviside and sign alike), the engine lets NaN through, as numpy.heaviside.
    "step": lambda a: torch.where(a.isnan(), a.detach(), torch.sign(torch.relu(a))),
    "erf": lambda a: torch.erf(a),
}
PARAMETERS: dict[str, list[float]] = {
    "**": [2.0, 3.0, 0.5, -1.0, 0.0, NAN, INF, -INF],
    "leaky_relu": [0.01, 0.2],
    "elu": [1.0, 0.5],
}


def _cases() -> list[tuple[str, tuple[float, ...], float | None]]:
    """Every op on every combination of NaN, ±inf and ordinary numbers that has a NaN or an inf."""
    cases = []
    for name, op in OPS.items():
        for param in PARAMETERS.get(name, [None]):
            for args in itertools.product(SPECIAL + ORDINARY, repeat=op.arity):
                if any(not math.isfinite(v) for v in (*args, *([] if param is None else [param]))):
                    cases.append((name, args, param))
    return cases


def _engine_result(name: str, args: tuple[float, ...], param: float | None) -> tuple[float, list[float]]:
    leaves = [Value(a) for a in args]
    if name == "**":
        out = leaves[0] ** param
    elif name in ("+", "-", "*", "/", "pow"):
        method = {"+": "__add__", "-": "__sub__", "*": "__mul__", "/": "__truediv__", "pow": "__pow__"}[name]
        out = getattr(leaves[0], method)(leaves[1])
    elif name == "neg":
        out = -leaves[0]
    else:
        out = apply_op(leaves[0], name, param)
    out.backward()
    return out.data, [leaf.grad for leaf in leaves]


def _torch_result(name: str, args: tuple[float, ...], param: float | None) -> tuple[float, list[float]]:
    leaves = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args]
    out = TORCH_OPS[name](*leaves, *([] if param is None else [param]))
    out.backward()
    return out.item(), [0.0 if leaf.grad is None else leaf.grad.item() for leaf in leaves]


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def test_the_torch_table_covers_every_op() -> None:
    assert set(TORCH_OPS) == set(OPS)


def test_every_op_treats_nan_and_inf_as_pytorch_does() -> None:
    # Values and gradients equal torch's in float64 (NaN equal to NaN). The one difference allowed
    # is the engine's own: it refuses an input outside the op's real domain (log(-inf), 0 ** -inf,
    # (-inf) ** 1.5) with a domain error where PyTorch returns a number, but never an input or a
    # parameter that is NaN, which goes through as in PyTorch.
    mismatches, refused = [], []
    for name, args, param in _cases():
        expected = _torch_result(name, args, param)
        try:
            got = _engine_result(name, args, param)
        except (ValueError, ZeroDivisionError) as error:
            if any(math.isnan(v) for v in (*args, *([] if param is None else [param]))):
                refused.append(f"{name}{args} param={param}: {error}")
            continue
        if not _same(got[0], expected[0]) or not all(_same(g, e) for g, e in zip(got[1], expected[1])):
            mismatches.append(f"{name}{args} param={param}: engine {got}, torch {expected}")
    assert refused == []
    assert mismatches == []


def test_nan_goes_through_relu_and_powers_and_the_domain_checks() -> None:
    nan = Value(NAN)
    assert math.isnan(nan.relu().data) and math.isnan((nan**2).data) and math.isnan((nan / 0.0).data)
    assert (nan**0).data == 1.0 and (Value(1.0) ** NAN).data == 1.0  # as C's pow and PyTorch
    for name in ("log", "sqrt", "sin", "cos", "relu", "tanh", "gelu"):
        assert math.isnan(apply_op(nan, name).data), name
    with pytest.raises(ValueError, match=r"log\(-1.0\) is undefined"):
        Value(-1.0).log()  # an input outside the domain is still refused, naming the op
    with pytest.raises(ZeroDivisionError):
        Value(1.0) / 0.0


def test_the_tape_agrees_with_the_engine_on_nan_and_inf() -> None:
    by_op: dict[tuple[str, float | None], list[tuple[float, ...]]] = {}
    for name, args, param in _cases():
        try:
            _engine_result(name, args, param)
        except (ValueError, ZeroDivisionError):
            continue  # the tape refuses such a sample too (tests/test_tape.py)
        by_op.setdefault((name, param), []).append(args)
    problems = []
    for (name, param), rows in by_op.items():
        leaves = [Value(1.0, f"in{i}") for i in range(len(rows[0]))]
        if name == "**":
            out = leaves[0] ** param
        elif name in ("+", "-", "*", "/", "pow"):
            method = {"+": "__add__", "-": "__sub__", "*": "__mul__", "/": "__truediv__", "pow": "__pow__"}[name]
            out = getattr(leaves[0], method)(leaves[1])
        elif name == "neg":
            out = -leaves[0]
        else:
            out = apply_op(leaves[0], name, param)
        tape = Tape.record(out, inputs=leaves)
        columns = np.array(rows).T
        values = tape.forward({leaf: columns[i] for i, leaf in enumerate(leaves)})
        grads = tape.gradients(reduce="sum")
        for k, args in enumerate(rows):
            value, arg_grads = _engine_result(name, args, param)
            tape_grads = [float(grads[leaf][k]) for leaf in leaves]
            if not _same(float(values[k]), value) or not all(map(_same, tape_grads, arg_grads)):
                problems.append(
                    f"{name}{args} param={param}: tape {values[k]} {tape_grads}, engine {value} {arg_grads}"
                )
    assert problems == []


@pytest.mark.parametrize("engine", ["scalar", "tape"])
def test_fit_stops_when_a_hidden_pre_activation_is_inf_minus_inf(engine: str) -> None:
    # 1e200·1e200 − 1e200·1e200 is inf − inf: NaN, which relu used to turn into 0, so the model
    # predicted 0.5 and trained on. Now the NaN reaches the output and fit stops as it always has.
    model = Sequential([Dense(1, activation="relu", input_dim=2), Dense(1, activation="sigmoid")], seed=0)
    model.compile(loss="binary_crossentropy", optimizer="sgd")
    model.set_weights([1e200, 1e200, 0.0, 1.0, 0.0])
    X = np.array([[1e200, -1e200], [0.5, 0.5]])
    y = np.array([1.0, 0.0])
    with pytest.raises(
        TrainingDivergedError, match=r"training diverged at epoch 1/1, batch 1/1: the model's output is \[nan\]"
    ):
        model.fit(X, y, epochs=1, batch_size=2, verbose=0, shuffle=False, engine=engine)
    assert model.get_weights() == [1e200, 1e200, 0.0, 1.0, 0.0]


# -- a step is applied whole or not at all -----------------------------------------------------------


def _small_model(optimizer: str = "adam") -> Sequential:
    model = Sequential([Dense(8, activation="relu", input_dim=2), Dense(1, activation="sigmoid")], seed=3)
    model.compile(loss="binary_crossentropy", optimizer=optimizer)
    return model


def _xor_data() -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(0).normal(size=(32, 2))
    return X, (X[:, 0] * X[:, 1] > 0).astype(float)


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop", "adagrad"])
@pytest.mark.parametrize("engine", ["scalar", "tape"])
def test_an_interrupt_in_the_middle_of_an_update_undoes_the_whole_step(optimizer: str, engine: str) -> None:
    X, y = _xor_data()
    model, twin = _small_model(optimizer), _small_model(optimizer)
    if optimizer == "sgd":  # a momentum buffer, so that there is state to restore
        model.optimizer.momentum = twin.optimizer.momentum = 0.9
    twin.fit(X, y, epochs=1, batch_size=8, verbose=0, shuffle=False, engine=engine)  # 4 steps
    update = model.optimizer._update

    def update_then_interrupt(data: np.ndarray, grad: np.ndarray) -> None:
        update(data, grad)  # the weights and the state move ...
        if model.optimizer.steps == 5:
            raise KeyboardInterrupt  # ... when Ctrl-C arrives, before the step is done

    model.optimizer._update = update_then_interrupt
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y, epochs=2, batch_size=8, verbose=0, shuffle=False, engine=engine)
    assert model.optimizer.steps == 4
    assert model.get_weights() == twin.get_weights()
    state = model.optimizer.snapshot()
    del state["_update"]  # the stand-in above
    assert _same_state(state, twin.optimizer.snapshot())  # the step count, momenta, running averages
    del model.optimizer._update
    model.fit(X, y, epochs=1, batch_size=8, verbose=0, shuffle=False, engine=engine)  # trains on as the twin
    twin.fit(X, y, epochs=1, batch_size=8, verbose=0, shuffle=False, engine=engine)
    assert model.get_weights() == twin.get_weights()


def test_a_divergence_restores_the_optimizer_too() -> None:
    X, y = _xor_data()
    model = _small_model("adam")
    model.fit(X, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    before, state = model.get_weights(), model.optimizer.snapshot()
    model.optimizer.lr = 1e308
    model.optimizer._m = np.full(len(model.parameters()), 1e308)  # the next step overflows
    state["_m"], state["_lr"] = model.optimizer._m.copy(), 1e308
    with pytest.raises(TrainingDivergedError, match="the step made weight"):
        model.fit(X, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    assert model.get_weights() == before and _same_state(model.optimizer.snapshot(), state)


def _same_state(a: dict, b: dict) -> bool:
    """Two optimizer snapshots hold the same numbers (the per-parameter state is arrays)."""
    return a.keys() == b.keys() and all(np.array_equal(a[key], b[key]) for key in a)


# A training run in a child process, interrupted by SIGINT at a random moment; the child then
# checks that its model is the model of some whole number of steps (every weight and the
# optimizer's state equal those of a twin stopped after exactly that many steps), saves it, loads
# it, evaluates it and trains on.
_INTERRUPTED_TRAINING = """
import json, os, signal, sys, tempfile
import numpy as np
from micrograd.nn import Dense, Sequential, load_model
from micrograd.training.callbacks import Callback

engine, hidden = sys.argv[1], int(sys.argv[2])
signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started with SIGINT ignored


def make():
    layers = [Dense(hidden, activation="relu", input_dim=2), Dense(hidden, activation="tanh"), Dense(1, activation="sigmoid")]
    model = Sequential(layers, seed=3)
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


class StopAfter(Callback):
    def __init__(self, steps):
        super().__init__()
        self.steps = steps

    def on_batch_end(self, batch, logs=None):
        if self.model.optimizer.steps == self.steps:
            raise StopIteration


class Ready(Callback):
    # Says "ready" once the first step is done, so a signal sent after it, however slow the
    # machine, lands mid-training rather than while the model is still being recorded.

    def on_batch_end(self, batch, logs=None):
        if self.model.optimizer.steps == 1:
            print("ready", flush=True)


X = np.random.default_rng(0).normal(size=(64, 2))
y = (X[:, 0] * X[:, 1] > 0).astype(float)
model = make()
try:
    model.fit(X, y, epochs=100_000, batch_size=16, verbose=0, seed=1, engine=engine, callbacks=[Ready()])
except KeyboardInterrupt:
    pass
steps = model.optimizer.steps
twin = make()
if steps:
    try:
        twin.fit(X, y, epochs=100_000, batch_size=16, verbose=0, seed=1, engine=engine, callbacks=[StopAfter(steps)])
    except StopIteration:
        pass
report = {
    "steps": steps,
    "weights from another step": sum(a != b for a, b in zip(model.get_weights(), twin.get_weights())),
    "optimizer state matches": all(
        np.array_equal(a, b) for a, b in zip(model.optimizer.snapshot().values(), twin.optimizer.snapshot().values())
    ) and model.optimizer.snapshot().keys() == twin.optimizer.snapshot().keys(),
}
path = os.path.join(tempfile.mkdtemp(), "model.json")
model.save(path)
report["loaded model predicts the same"] = bool(np.array_equal(load_model(path).predict(X), model.predict(X)))
report["evaluates"] = bool(np.all(np.isfinite(model.evaluate(X, y, verbose=0))))
model.fit(X, y, epochs=1, batch_size=16, verbose=0, seed=1, engine=engine)
report["steps after one more epoch"] = model.optimizer.steps - steps
print(json.dumps(report), flush=True)
"""


def test_ctrl_c_at_random_moments_leaves_a_consistent_model_that_saves_and_trains_on() -> None:
    rng = random.Random(12)
    runs = [("tape", 60), ("tape", 60), ("tape", 60), ("scalar", 6), ("tape", 60), ("scalar", 6)]
    for engine, hidden in runs:
        child = subprocess.Popen(
            [sys.executable, "-c", _INTERRUPTED_TRAINING, engine, str(hidden)],
            cwd=ROOT,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.3, 1.5))
            child.send_signal(signal.SIGINT)
            out, err = child.communicate(timeout=240)
        finally:
            child.kill()
        assert child.returncode == 0, err
        report = json.loads(out)
        assert report["steps"] > 0, report  # interrupted mid-training, not before it began
        assert report == {
            "steps": report["steps"],
            "weights from another step": 0,
            "optimizer state matches": True,
            "loaded model predicts the same": True,
            "evaluates": True,
            "steps after one more epoch": 4,
        }
