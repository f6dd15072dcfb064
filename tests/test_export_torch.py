"""The way out to PyTorch: models to torch and back with the same numbers, and the twin script of a graph."""

from __future__ import annotations

import math
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from test_viz_examples import worked_example

from micrograd.engine import Value, apply_op
from micrograd.engine.graph import gradients
from micrograd.engine.ops import OPS
from micrograd.export import TORCH_EXPRESSIONS, from_torch, to_torch, to_torch_code
from micrograd.nn import DENSE_ACTIVATIONS, MLP, Dense, Dropout, Sequential
from micrograd.nn.layer_specs import NOT_EXPORTED
from micrograd.nn.torch_export import TORCH_ACTIVATIONS
from micrograd.training.optim import SGD

ROOT = Path(__file__).resolve().parent.parent
X = np.random.default_rng(0).normal(size=(7, 3))


def _torch_out(module: torch.nn.Module, X: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return module.eval()(torch.tensor(X, dtype=torch.float64)).numpy()


# -- models ---------------------------------------------------------------------------------------


def test_every_model_activation_has_a_torch_module() -> None:
    assert set(DENSE_ACTIVATIONS) - set(NOT_EXPORTED) <= set(TORCH_ACTIVATIONS)
    assert set(NOT_EXPORTED) == {"step"}


@pytest.mark.parametrize(
    ("make", "where"),
    [
        (lambda: MLP(2, [3, 1], activation="step", seed=0), "layer L1"),
        (lambda: Sequential([Dense(3, "relu", input_dim=2), Dense(1, "step")], seed=0), "layer 1"),
    ],
)
def test_a_step_model_is_refused_naming_its_layer(make: object, where: str) -> None:
    with pytest.raises(ValueError, match=f"to_torch: {where} uses the step activation, which cannot be exported"):
        to_torch(make())  # type: ignore[operator]


@pytest.mark.parametrize(
    ("hidden", "output"), [("relu", "linear"), ("tanh", "sigmoid"), ("leaky_relu", "gelu"), ("elu", "tanh")]
)
def test_mlp_to_torch_gives_our_outputs_and_weights(hidden: str, output: str) -> None:
    model = MLP(3, [5, 4, 2], activation=hidden, output_activation=output, seed=3)
    module = model.to_torch()
    assert isinstance(module, torch.nn.Sequential)
    ours = np.array([[v.data for v in model(row)] for row in X.tolist()])
    np.testing.assert_allclose(_torch_out(module, X), ours, rtol=0, atol=1e-12)
    linears = [m for m in module if isinstance(m, torch.nn.Linear)]
    for layer, linear in zip(model.layers, linears):
        assert linear.weight.dtype == torch.float64
        assert linear.weight.tolist() == [[w.data for w in n.w] for n in layer.neurons]
        assert linear.bias.tolist() == [n.b.data for n in layer.neurons]
    # and back: the same weights in our Sequential, the same predictions
    back = Sequential.from_torch(module)
    assert back.get_weights() == [p.data for p in model.parameters()]
    np.testing.assert_allclose(back.predict(X), ours, rtol=0, atol=1e-12)


def test_mlp_to_torch_of_one_output_and_another_dtype() -> None:
    model = MLP(2, [3, 1], seed=0)
    module = to_torch(model, dtype=torch.float32)
    assert module[0].weight.dtype == torch.float32
    out = module(torch.tensor([0.5, -0.5], dtype=torch.float32)).item()
    assert out == pytest.approx(model([0.5, -0.5]).data, abs=1e-6)


@pytest.mark.parametrize(
    "layers",
    [
        lambda: [Dense(4, "relu", input_dim=3), Dense(2)],
        lambda: [Dense(5, "elu", input_dim=3), Dropout(0.25), Dense(4, "leaky_relu"), Dense(3, "softmax")],
        lambda: [Dense(4, "gelu", input_dim=3), Dense(4, "tanh"), Dropout(0.5), Dense(1, "sigmoid")],
    ],
)
def test_sequential_round_trip(layers: object) -> None:
    model = Sequential(layers(), seed=5)  # type: ignore[operator]
    module = model.to_torch()
    np.testing.assert_allclose(_torch_out(module, X), model.predict(X), rtol=0, atol=1e-12)
    dropouts = [m.p for m in module if isinstance(m, torch.nn.Dropout)]
    assert dropouts == [layer.rate for layer in model.layers if isinstance(layer, Dropout)]
    back = from_torch(module)
    assert repr(back) == repr(model)
    assert back.get_weights() == model.get_weights()
    np.testing.assert_array_equal(back.predict(X), model.predict(X))


def test_from_torch_reads_a_model_made_in_torch() -> None:
    torch.manual_seed(0)
    module = torch.nn.Sequential(
        torch.nn.Linear(3, 6),  # float32 weights: read exactly as float64
        torch.nn.ReLU(),
        torch.nn.Identity(),
        torch.nn.Linear(6, 2, bias=False),
        torch.nn.Softmax(dim=-1),
    ).double()
    model = Sequential.from_torch(module)
    assert repr(model) == "Sequential([Dense(6, activation='relu'), Dense(2, activation='softmax')], input_dim=3)"
    np.testing.assert_allclose(model.predict(X), _torch_out(module, X), rtol=0, atol=1e-12)


def test_ten_steps_here_then_ten_in_torch_equal_twenty_here() -> None:
    rng = np.random.default_rng(1)
    Xt, yt = rng.normal(size=(8, 3)), rng.normal(size=(8, 1))

    def trained(epochs: int) -> Sequential:
        model = Sequential([Dense(4, "tanh", input_dim=3), Dense(3, "elu"), Dense(1)], seed=11)
        model.compile(loss="mse", optimizer=SGD(lr=0.1))
        model.fit(Xt, yt, epochs=epochs, batch_size=len(Xt), shuffle=False, verbose=0)
        return model

    module = trained(10).to_torch()
    optimizer = torch.optim.SGD(module.parameters(), lr=0.1)
    inputs, targets = torch.tensor(Xt), torch.tensor(yt)
    for _ in range(10):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(module(inputs), targets)
        loss.backward()
        optimizer.step()
    twenty = trained(20)
    np.testing.assert_allclose(Sequential.from_torch(module).get_weights(), twenty.get_weights(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(_torch_out(module, Xt), twenty.predict(Xt), rtol=0, atol=1e-10)


@pytest.mark.parametrize(
    ("modules", "error", "words"),
    [
        ([torch.nn.Linear(3, 2), torch.nn.Conv1d(1, 1, 1)], TypeError, ["module 1", "Conv1d"]),
        ([torch.nn.Linear(3, 2), torch.nn.Softplus()], TypeError, ["module 1", "Softplus"]),
        ([torch.nn.Linear(3, 2), torch.nn.LeakyReLU(0.2)], ValueError, ["module 1", "slope"]),
        ([torch.nn.Linear(3, 2), torch.nn.ELU(alpha=0.5)], ValueError, ["module 1", "alpha"]),
        ([torch.nn.Linear(3, 2), torch.nn.GELU(approximate="tanh")], ValueError, ["module 1", "approximate"]),
        ([torch.nn.Linear(3, 2), torch.nn.Softmax(dim=0)], ValueError, ["module 1", "dim=-1"]),
        ([torch.nn.Linear(3, 2), torch.nn.ReLU(), torch.nn.Tanh()], ValueError, ["module 2", "Tanh", "after a Linear"]),
        ([torch.nn.ReLU(), torch.nn.Linear(3, 2)], ValueError, ["module 0", "ReLU"]),
        ([torch.nn.Linear(3, 2), torch.nn.Linear(4, 2)], ValueError, ["module 1", "4 inputs", "size 2"]),
        ([torch.nn.Dropout(0.5)], ValueError, ["no Linear"]),
    ],
)
def test_from_torch_refuses_what_it_cannot_represent(modules: list, error: type, words: list[str]) -> None:
    with pytest.raises(error) as info:
        Sequential.from_torch(torch.nn.Sequential(*modules))
    for word in words:
        assert word in str(info.value)


def test_from_torch_needs_a_torch_sequential() -> None:
    with pytest.raises(TypeError, match=r"torch\.nn\.Sequential"):
        Sequential.from_torch(torch.nn.Linear(2, 2))


def test_every_function_says_how_to_install_torch_when_it_is_missing() -> None:
    script = textwrap.dedent(
        """
        import sys
        sys.modules["torch"] = None  # as if PyTorch were not installed
        from micrograd.nn import MLP, Dense, Sequential
        from micrograd.export import from_torch, to_torch, to_torch_code
        from micrograd.engine import Value
        calls = [
            lambda: MLP(2, [1], seed=0).to_torch(),
            lambda: to_torch(Sequential([Dense(1, input_dim=2)], seed=0)),
            lambda: from_torch(object()),
        ]
        for call in calls:
            try:
                call()
            except ImportError as err:
                assert 'pip install "micrograd-lab[torch]"' in str(err), err
            else:
                raise SystemExit("no ImportError")
        assert "all gradients agree" in to_torch_code(Value(1.0, "a") * 2)  # only text: no torch needed
        print("ok")
        """
    )
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"


# -- the twin script of a graph -------------------------------------------------------------------


def test_every_op_has_a_torch_expression() -> None:
    assert set(TORCH_EXPRESSIONS) == set(OPS)


def _run_scripts(paths: list[Path]) -> subprocess.CompletedProcess:
    """Run each script as __main__ in one fresh interpreter (torch is imported once)."""
    runner = "import runpy, sys\nfor path in sys.argv[1:]:\n    runpy.run_path(path, run_name='__main__')\n"
    return subprocess.run(
        [sys.executable, "-c", runner, *map(str, paths)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_twin_script_of_the_worked_example(tmp_path: Path) -> None:
    v = worked_example(backward=False)
    code = to_torch_code(v["J"])
    for line in ("c = w * x", "a = c + b", "d = a - y", "J = v1 / _2"):
        assert f"    {line}" in code
    compile(code, "twin.py", "exec")
    path = tmp_path / "twin.py"
    path.write_text(code)
    run = _run_scripts([path])
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "all gradients agree"
    assert v["w"].grad == 0.0  # writing the script ran no backward on the user's graph


def _graph_for(name: str, rng: random.Random) -> Value:
    """A small random graph through op `name`, on inputs in its domain, labels with dots and a keyword."""
    op = OPS[name]
    a = Value(rng.uniform(0.5, 2.0), "L1.N0.w0")
    b = Value(rng.uniform(0.5, 2.0), "if")
    c = Value(rng.uniform(-2.0, 2.0), "c")
    if op.arity == 2:
        x, y = a * b, b + a
        out = {"+": x + y, "-": x - y, "*": x * y, "/": x / y, "pow": x**y}[name]
    elif name == "**":
        out = (a * b) ** rng.choice([2.0, 3.0, -1.5, 0.5])
    elif op.domain is not None and name in ("log", "sqrt"):
        out = apply_op(a * b, name)
    else:
        x = c * a  # either sign
        arg = rng.uniform(0.05, 0.5) if op.parameter is not None else None
        out = apply_op(x, name, arg)
    J = out * c + a
    J.label = "J"
    return J


def test_twin_scripts_of_a_random_graph_per_op(tmp_path: Path) -> None:
    rng = random.Random(7)
    paths = []
    for name in OPS:
        path = tmp_path / f"twin_{len(paths)}.py"
        path.write_text(to_torch_code(_graph_for(name, rng)))
        paths.append(path)
    run = _run_scripts(paths)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\n")[:-1] == ["all gradients agree"] * len(OPS)


def test_twin_script_fails_when_a_gradient_differs() -> None:
    a = Value(1.5, "a")
    J = (a * a).tanh()
    code = to_torch_code(J)
    right = f"('a', a, {gradients(J).grads[a]!r})"
    assert right in code
    namespace: dict[str, object] = {"__name__": "twin"}
    exec(code.replace(right, "('a', a, 0.5)"), namespace)
    with pytest.raises(AssertionError, match="a: PyTorch"):
        namespace["main"]()  # type: ignore[operator]


def test_twin_script_names_never_shadow_what_it_uses() -> None:
    x, y = Value(2.0, "float"), Value(3.0, "torch")
    J = (x * y).log()
    J.label = "leaf"
    namespace: dict[str, object] = {"__name__": "twin"}
    exec(to_torch_code(J), namespace)
    namespace["main"]()  # type: ignore[operator]


def test_twin_script_refuses_a_user_defined_op() -> None:
    x = Value(0.5, "x")
    out = Value(math.tanh(x.data), (x,), "mytanh")
    out._backward = lambda: None
    with pytest.raises(ValueError, match=r"user-defined op.*mytanh"):
        to_torch_code(out * 2)
