"""`viz.draw_network`: the network view of the slides, checked against Han, Kamber & Pei's Example 9.1.

The DOT text of the 3-2-1 network is compared with golden files in tests/golden/, as in
test_viz_golden.py; to regenerate them after an intended change, run

    MICROGRAD_REGENERATE_GOLDEN=1 python3 -m pytest -q tests/test_viz_network.py

which rewrites the files and then FAILS every regenerated case on purpose; read the diff, then run
again without the variable.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import graphviz
import pytest

from micrograd import Value
from micrograd.nn import MLP, Dense, Dropout, Neuron, Sequential, SequentialLayer
from viz import draw_network, save
from viz.network import NetworkOptions
from viz.render import render

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("MICROGRAD_REGENERATE_GOLDEN") == "1"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")

X, T = [1.0, 0.0, 1.0], 1.0  # Example 9.1: x1 = 1, x2 = 0, x3 = 1, class label 1


def han_network() -> MLP:
    """Figure 9.5's network: units 1-3 (inputs), 4 and 5 (hidden), 6 (output), all sigmoid."""
    model = MLP(3, [2, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
    (n4, n5), (n6,) = model.layers[0].neurons, model.layers[1].neurons
    for neuron, weights, bias in (
        (n4, [0.2, 0.4, -0.5], -0.4),  # w14 w24 w34, θ4
        (n5, [-0.3, 0.1, 0.2], 0.2),  # w15 w25 w35, θ5
        (n6, [-0.3, -0.2], 0.1),  # w46 w56, θ6
    ):
        for p, value in zip(neuron.w, weights):
            p.data = value
        neuron.b.data = bias
    return model


def node_label(source: str, node: str) -> str:
    """The label of `node` in DOT text, its HTML markup removed: one text per line."""
    match = re.search(rf"^\s*{node} \[label=<(.*)> ", source, re.MULTILINE)
    assert match, f"no node {node}"
    return re.sub(r"<br/>", "\n", re.sub(r"<(?!br/)[^>]*>", "", match.group(1)))


def edge_label(source: str, tail: str, head: str) -> str:
    match = re.search(rf'^\s*{tail} -> {head} \[label="([^"]*)"', source, re.MULTILINE)
    assert match, f"no labelled edge {tail} -> {head}"
    return match.group(1).replace("\\n", "\n")


def shown(label: str, name: str) -> float:
    """The number after `name = ` in a label."""
    match = re.search(rf"(?:^|\n){re.escape(name)} = (-?\d[\d.e+-]*)(?:\n|$)", label)
    assert match, f"no {name} in {label!r}"
    return float(match.group(1))


# -- golden DOT text -------------------------------------------------------------------------------

CASES: dict[str, Callable[[], graphviz.Digraph]] = {
    "network_han": lambda: draw_network(han_network()),
    "network_han_forward": lambda: draw_network(han_network(), X),
    "network_han_backward": lambda: draw_network(han_network(), X, T),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_dot_text_matches_golden(name: str) -> None:
    source = CASES[name]().source
    path = GOLDEN / f"{name}.dot"
    if REGENERATE:
        path.write_text(source, encoding="utf-8")
        pytest.fail(f"regenerated {path}: review the diff, then run without MICROGRAD_REGENERATE_GOLDEN")
    assert path.exists(), f"no golden file {path}; see this file's docstring to create it"
    assert source == path.read_text(encoding="utf-8")


# -- the textbook's numbers ------------------------------------------------------------------------


def test_weights_and_biases_only_without_an_input() -> None:
    source = draw_network(han_network()).source
    assert node_label(source, "u4") == "4\nσ,  b = -0.4"
    assert node_label(source, "u6") == "6\nσ,  b = 0.1"
    assert node_label(source, "u1") == "x1"
    assert edge_label(source, "u1", "u4") == "w14 = 0.2"
    assert edge_label(source, "u5", "u6") == "w56 = -0.2"
    assert "net =" not in source and "∂E" not in source and "loss" not in source


def test_forward_pass_matches_table_9_3() -> None:
    """Table 9.3, printed to 3 decimals: the labels at precision=3 read the same."""
    source = draw_network(han_network(), X, precision=3).source
    published = {"u4": (-0.7, 0.332), "u5": (0.1, 0.525), "u6": (-0.105, 0.474)}
    for node, (net, out) in published.items():
        label = node_label(source, node)
        assert (shown(label, "net"), shown(label, "out")) == (net, out), node
    assert node_label(source, "u2") == "x2\n= 0"
    assert "∂E" not in source  # no target, no loss


def test_errors_match_table_9_4_with_the_sign_the_legend_states() -> None:
    """Each neuron shows ∂E/∂net; the book's Err is −∂E/∂net (Table 9.4, 4 decimals).

    Err6 is printed 0.1311 in the book, from the rounded O6 = 0.474; exact arithmetic gives 0.13117,
    so the label reads -0.1312 (see test_course_examples.py)."""
    source = draw_network(han_network(), X, T).source
    err = {j: -shown(node_label(source, f"u{j}"), "∂E/∂net") for j in (4, 5, 6)}
    assert (err[4], err[5]) == (-0.0087, -0.0065)
    assert err[6] == 0.1312 and abs(err[6] - 0.1311) < 1.5e-4
    assert "Err = −∂E/∂net" in source  # the legend says which quantity is shown
    assert "E = 0.1384" in node_label(source, "loss")
    # ∂E/∂w = ∂E/∂net of the neuron entered × out of the unit left: w46 gets −Err6 × O4
    assert shown(edge_label(source, "u4", "u6"), "∂E/∂w") == -0.0435
    assert shown(edge_label(source, "u2", "u4"), "∂E/∂w") == 0.0  # x2 = 0


# -- the gradients are backward()'s, and the model is untouched ------------------------------------


def _reference(model: MLP | Sequential, x: list[float], target: list[float]) -> tuple[MLP | Sequential, Value]:
    """A fresh copy of `model`, with its loss E = ½ Σ (t − out)² after backward()."""
    twin = copy.deepcopy(model)
    out = twin.forward(x) if isinstance(twin, Sequential) else twin(x)
    outs = out if isinstance(out, list) else [out]
    total = (target[0] - outs[0]) ** 2
    for t, o in zip(target[1:], outs[1:]):
        total = total + (t - o) ** 2
    loss = total * 0.5
    twin.zero_grad()
    loss.backward()
    return twin, loss


def _neurons(model: MLP | Sequential) -> list[list[Neuron]]:
    """Per column, its neurons."""
    if isinstance(model, MLP):
        return [layer.neurons for layer in model.layers]
    return [layer.layer.neurons for layer in model.layers if isinstance(layer, Dense) and layer.layer is not None]


@pytest.mark.parametrize(
    "make, x, target",
    [
        (han_network, X, [T]),
        (lambda: MLP(3, [4, 3, 2], activation="tanh", seed=3), [0.5, -1.5, 2.0], [0.25, -0.75]),
        (
            lambda: Sequential(
                [Dense(3, "relu", input_dim=2), Dropout(0.3), Dense(3, "gelu"), Dense(2, "softmax")], seed=5
            ),
            [1.5, -0.5],
            [1.0, 0.0],
        ),
    ],
    ids=["han", "mlp_tanh", "sequential_softmax"],
)
def test_gradients_are_backwards_and_the_model_is_untouched(
    make: Callable[[], MLP | Sequential], x: list[float], target: list[float]
) -> None:
    model = make()
    params = model.parameters()
    for i, p in enumerate(params):
        p.grad = 100.0 + i  # whatever a learner left there
    before = [(p.data, p.grad) for p in params]
    source = draw_network(model, x, target if len(target) > 1 else target[0], precision=15, weight_labels=True).source
    assert [(p.data, p.grad) for p in params] == before

    twin, loss = _reference(model, x, target)
    assert shown(node_label(source, "loss"), "E") == pytest.approx(loss.data, abs=1e-15)
    tails = list(range(1, len(x) + 1))  # units 1..n are the inputs, then the neurons in order
    for column in _neurons(twin):
        heads = [max(tails) + j + 1 for j in range(len(column))]
        for head, neuron in zip(heads, column):
            # ∂E/∂net of a neuron is its bias's gradient, as backward() leaves it
            assert shown(node_label(source, f"u{head}"), "∂E/∂net") == pytest.approx(neuron.b.grad, abs=1e-15)
            for tail, w in zip(tails, neuron.w):
                assert shown(edge_label(source, f"u{tail}", f"u{head}"), "∂E/∂w") == pytest.approx(w.grad, abs=1e-15)
        tails = heads


# -- large networks --------------------------------------------------------------------------------


@needs_dot
def test_a_16_16_network_renders_without_weight_labels_by_default() -> None:
    model = MLP(2, [16, 16, 1], activation="tanh", seed=1)
    graph = draw_network(model, [0.5, -1.0], 0.3)
    source = graph.source
    assert source.count(" -> ") == 304 + 1 + (2 - 1) + (16 - 1) * 2  # weights, into the loss, order in columns
    assert not re.search(r"-> u\d+ \[label=", source)
    assert "weight_labels=True writes them" in source
    svg = render(graph, "svg").decode("utf-8")
    assert "<svg" in svg and "∂E/∂net" in svg and "w3,19" not in svg
    labelled = draw_network(model, weight_labels=True).source
    assert 'label="w3,19 = ' in labelled  # two-digit unit numbers get a comma
    assert len(re.findall(r"-> u\d+ \[label=", labelled)) == 304


def test_auto_labels_follow_the_size_of_the_network() -> None:
    assert 'label="w14' in draw_network(han_network()).source
    assert 'label="w' not in draw_network(MLP(3, [4, 4, 1], seed=0)).source
    assert 'label="w' not in draw_network(han_network(), weight_labels=False).source


def test_fonts_are_at_least_9_points() -> None:
    """12 px at 100%: dot's points are 4/3 px."""
    source = draw_network(han_network(), X, T).source
    sizes = [float(s) for s in re.findall(r'(?:fontsize|point-size)="?([\d.]+)', source)]
    assert sizes and min(sizes) >= 9


def test_the_same_network_gives_the_same_text() -> None:
    assert draw_network(han_network(), X, T).source == draw_network(han_network(), X, T).source


def test_dropout_is_noted_not_drawn() -> None:
    model = Sequential([Dense(2, "tanh", input_dim=2), Dropout(0.5), Dense(1)], seed=0)
    source = draw_network(model).source
    assert "D1: Dropout(0.5) is not drawn" in source
    assert source.count("circle") == 1 and "u5 [" in source and "u6 [" not in source


def test_save_writes_a_drawing(tmp_path: Path) -> None:
    graph = draw_network(han_network(), X, T)
    assert save(graph, tmp_path / "net.dot").read_text(encoding="utf-8") == graph.source


@needs_dot
def test_save_renders_svg(tmp_path: Path) -> None:
    path = save(draw_network(han_network(), X, T), tmp_path / "net.svg")
    assert "w14 = 0.2" in path.read_text(encoding="utf-8")


# -- errors ----------------------------------------------------------------------------------------


class _Doubler(SequentialLayer):
    """A layer type draw_network does not know (no type_name: not registered for other tests)."""

    def __call__(self, x: Any, training: bool = False) -> list[Value]:
        return [2 * v for v in x]


@pytest.mark.parametrize(
    "model, error, words",
    [
        (Value(1.0), TypeError, "got Value"),
        ("MLP", TypeError, "got str"),
        (Sequential([Dense(2, input_dim=2), _Doubler()]), TypeError, "layer 1 of the model, X1, is _Doubler"),
        (Sequential([Dense(2)]), ValueError, "input size"),
        (Sequential([Dropout(0.5)], input_dim=2), ValueError, "no Dense layer"),
        (MLP(40, [30, 1], seed=0), ValueError, "1230 weights, more than max_weights=1000"),
    ],
)
def test_models_it_cannot_draw(model: Any, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=re.escape(words)):
        draw_network(model)


@pytest.mark.parametrize(
    "x, target, error, words",
    [
        ([1.0, 0.0], None, ValueError, "x must have 3 numbers"),
        (1.0, None, TypeError, "x must be a list of numbers"),
        ("101", None, TypeError, "x must be a list of numbers"),
        ([1.0, "0", 1.0], None, TypeError, "x[1] must be a number, got str"),
        ([1.0, True, 1.0], None, TypeError, "x[1] must be a number, got bool"),
        ([1.0, float("nan"), 1.0], None, ValueError, "x[1] must be finite"),
        (None, 1.0, ValueError, "a target needs an input x"),
        (X, [1.0, 0.0], ValueError, "target must have 1 numbers"),
        (X, "1", TypeError, "target must be a list of numbers"),
        (X, float("inf"), ValueError, "target[0] must be finite"),
    ],
)
def test_bad_inputs_and_targets(x: Any, target: Any, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=re.escape(words)):
        draw_network(han_network(), x, target)


@pytest.mark.parametrize(
    "options, error",
    [
        ({"weight_labels": "auto"}, TypeError),
        ({"weight_labels": 1}, TypeError),
        ({"precision": 2.0}, TypeError),
        ({"precision": True}, TypeError),
        ({"precision": -1}, ValueError),
        ({"precision": 16}, ValueError),
        ({"max_weights": "10"}, TypeError),
        ({"max_weights": 0}, ValueError),
    ],
)
def test_bad_options(options: dict[str, Any], error: type[Exception]) -> None:
    name = next(iter(options))
    with pytest.raises(error, match=re.escape(f"draw_network({name}=")):
        draw_network(han_network(), **options)
    with pytest.raises(error):
        NetworkOptions(**options)


def test_an_unknown_option_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="colour"):
        draw_network(han_network(), colour="grad")


def test_gradients_off_inside_no_grad() -> None:
    from micrograd.engine import no_grad

    with no_grad(), pytest.raises(RuntimeError, match="no_grad"):
        draw_network(han_network(), X, T)
    with no_grad():
        assert "out = 0.3318" in draw_network(han_network(), X).source  # a forward pass needs no gradients


@needs_dot
def test_names_from_the_model_are_escaped() -> None:
    """The model's names reach the SVG tooltips: characters that mean something to DOT stay text."""
    model = han_network()
    model.layers[0].neurons[0].w[0].label = 'w<1> "q" \\ & {x}'
    model.layers[0].neurons[0].name = "<b>N4</b>"
    svg = render(draw_network(model, X, T), "svg").decode("utf-8")
    assert "w&lt;1&gt; &quot;q&quot; \\ &amp; {x} = 0.2" in svg
    assert "&lt;b&gt;N4&lt;/b&gt;" in svg
