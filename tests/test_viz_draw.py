"""What `viz.draw` puts in a drawing, option by option, checked on the DOT text.

The numbers are the worked example's hand-derived values (see test_viz_examples.py) and, for a
neuron, PyTorch's; the golden files (test_viz_golden.py) pin the exact text.
"""

from __future__ import annotations

import math
import re

import graphviz
import pytest
import torch
from test_viz_examples import mlp_batch_loss, neuron, reused_node, small_mlp, worked_example

from micrograd import Constant, Value, scope, topological_order
from micrograd.engine.ops import OPS
from viz import draw
from viz.colors import GRAD_NAN, GRAD_ZERO, HIGHLIGHT, ROLE_COLORS, grad_color
from viz.text import OP_SYMBOLS, format_number, op_symbol, picture_number

NODE = re.compile(r"^\s*(\w+) \[(.*)\]$", re.MULTILINE)
EDGE = re.compile(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?$", re.MULTILINE)


def nodes(graph: graphviz.Digraph) -> dict[str, str]:
    """Node id -> its attribute text."""
    return {name: attrs for name, attrs in NODE.findall(graph.source) if name not in ("graph", "node", "edge")}


def edges(graph: graphviz.Digraph) -> list[tuple[str, str, str]]:
    return EDGE.findall(graph.source)


def box(graph: graphviz.Digraph, label: str) -> str:
    """The attribute text of the one value box whose first field is `label`."""
    found = [attrs for attrs in nodes(graph).values() if re.search(r'label="\{ ' + re.escape(label) + r" \|", attrs)]
    assert len(found) == 1, (label, found)
    return found[0]


# -- boxes and op nodes ---------------------------------------------------------------------------


def test_every_value_has_label_value_and_grad_in_that_order() -> None:
    graph = draw(worked_example()["J"])
    by_hand = {
        "w": (2, -4),
        "x": (-2, 4),
        "b": (8, 2),
        "y": (2, -2),
        "c": (-4, 2),
        "a": (4, 2),
        "d": (2, 2),
        "J": (2, 1),
    }
    for label, (data, grad) in by_hand.items():  # as short as exact, with the true minus sign
        shown = f'label="{{ {label} | {data} | grad {grad} }}"'.replace("-", "−")
        assert shown in box(graph, label)
    # d**2 has no label: it is named v1, as in the step-through equations and the traces
    assert 'label="{ v1 | 4 | grad 0.5 }"' in graph.source


def test_op_nodes_sit_between_operands_and_result() -> None:
    graph = draw(worked_example()["J"])
    ops = {
        attrs.split('"')[1] if attrs.startswith('label="') else attrs.split()[0][6:]: name
        for name, attrs in nodes(graph).items()
        if name.startswith("o")
    }
    assert set(ops) == {"×", "+", "−", "^2", "÷"}
    ids = {
        label: name for name, attrs in nodes(graph).items() for label in "wxcbaydJ" if f'label="{{ {label} |' in attrs
    }
    pairs = {(tail, head) for tail, head, _ in edges(graph)}
    assert {(ids["w"], ops["×"]), (ids["x"], ops["×"]), (ops["×"], ids["c"])} <= pairs
    assert {(ids["a"], ops["−"]), (ids["y"], ops["−"]), (ops["−"], ids["d"]), (ops["÷"], ids["J"])} <= pairs


def test_operands_are_drawn_in_operand_order() -> None:
    """`a − y`: the edge from a is written first (with ordering=in, dot keeps it first)."""
    v = worked_example()
    v["a"].label, v["y"].label = "zzz", "aaa"  # order must not come from labels
    graph = draw(v["J"])
    minus = next(name for name, attrs in nodes(graph).items() if 'label="−"' in attrs)
    into_minus = [tail for tail, head, _ in edges(graph) if head == minus]
    labels = [re.search(r"\{ (\w+) \|", nodes(graph)[tail]).group(1) for tail in into_minus]
    assert labels == ["zzz", "aaa"]
    assert "ordering=in" in nodes(graph)[minus]


def test_reused_node_draws_two_edges() -> None:
    graph = draw(reused_node()["s"])
    a = next(name for name, attrs in nodes(graph).items() if '"{ a |' in attrs)
    times = next(name for name, attrs in nodes(graph).items() if 'label="×"' in attrs)
    assert [(t, h) for t, h, _ in edges(graph)].count((a, times)) == 2


def test_constants_are_drawn_as_small_plain_numbers() -> None:
    graph = draw(worked_example()["J"])
    constant = [attrs for attrs in nodes(graph).values() if "plaintext" in attrs]
    assert constant == ['label=2 fontcolor="#424242" fontsize=10 height=0 margin="0.05,0.03" shape=plaintext width=0']
    third = Value(2.0, "x") * (1 / 3)  # the engine labels this constant 0.3333333333333333
    assert "label=0.333333 " in draw(third).source
    assert 'label="−1" ' in draw(Value(2.0, "x") * -1).source  # the true minus sign, as in the boxes
    named = Constant(5.0)
    named.label = "five"
    assert "label=five " in draw(third + named).source


def test_every_engine_op_has_a_symbol() -> None:
    assert set(OP_SYMBOLS) == set(OPS)
    x = Value(0.5, "x")
    assert op_symbol(x**2) == "^2"
    assert op_symbol(x**0.5) == "^0.5"
    assert op_symbol(x**-1) == "^-1"
    assert op_symbol(x.leaky_relu(0.2)) == "LeakyReLU(0.2)"
    assert op_symbol(x.elu()) == "ELU(1)"
    assert op_symbol(2**x) == "^"
    assert op_symbol(x.gelu()) == "GELU"
    expected = {
        "*": "×",
        "/": "÷",
        "-": "−",
        "sigmoid": "σ",
        "sqrt": "√",
        "abs": "|x|",
        "relu": "ReLU",
        "neg": "neg",
        "gelu": "GELU",
    }
    assert {op: OP_SYMBOLS[op] for op in expected} == expected


def test_picture_number_is_as_short_as_exact_with_the_true_minus() -> None:
    assert [picture_number(x) for x in (2.0, -4.0, 0.5, 0.123456, -0.0, 0.0)] == ["2", "−4", "0.5", "0.1235", "0", "0"]
    assert picture_number(1 / 3, 2) == "0.33" and picture_number(0.999, 2) == "1" and picture_number(-2.5, 0) == "−2"
    assert picture_number(3e-7) == "3e−7" and picture_number(-1.5e20) == "−1.5e20"  # small stays non-zero
    assert picture_number(math.nan) == "nan" and picture_number(-math.inf) == "−inf"


def test_format_number() -> None:
    assert format_number(2.0) == "2.0000"
    assert format_number(-4.0) == "-4.0000"
    assert format_number(-0.0) == "0.0000"
    assert format_number(3e-7) == "3.0000e-07"  # a tiny gradient must not look like zero
    assert format_number(1e20) == "1.0000e+20"
    assert format_number(0.0001) == "0.0001"
    assert format_number(1 / 3, 2) == "0.33"
    assert format_number(math.nan) == "nan"
    assert format_number(-math.inf) == "-inf"


# -- show_grad ------------------------------------------------------------------------------------


def test_show_grad_default_hides_gradients_before_backward_and_shows_them_after() -> None:
    v = worked_example(backward=False)
    assert "| grad" not in draw(v["J"]).source
    v["J"].backward()
    assert draw(v["J"]).source.count("| grad ") == 9  # every box but the constant
    v["J"].zero_grad()
    assert "| grad" not in draw(v["J"]).source


def test_show_grad_explicit() -> None:
    fresh = worked_example(backward=False)["J"]
    assert "| grad 0 }" in draw(fresh, show_grad=True).source
    assert "| grad" not in draw(worked_example()["J"], show_grad=False).source


# -- edge labels ----------------------------------------------------------------------------------


def test_edge_labels_are_the_local_derivatives() -> None:
    graph = draw(worked_example()["J"], edge_labels=True)
    labels = sorted(re.findall(r'label="(∂[^"]*)"', graph.source))
    # c = w·x: ∂c/∂w = x = -2, ∂c/∂x = w = 2; sums: 1; d = a - y: -1 for y; (d²)' = 2d = 4;
    # J = s/2 with s = d² = 4: ∂J/∂s = 1/2. The edge from the constant 2 has no label: nothing
    # is traced back into a constant, so ∂J/∂2 would only be noise.
    assert labels == sorted(
        [
            "∂c/∂w = −2",
            "∂c/∂x = 2",
            "∂a/∂c = 1",
            "∂a/∂b = 1",
            "∂d/∂a = 1",
            "∂d/∂y = −1",
            "∂v1/∂d = 4",
            "∂J/∂v1 = 0.5",
        ]
    )
    assert len(edges(graph)) == 14 and sum(1 for *_, label in edges(graph) if label) == 8


def test_edge_labels_of_a_reused_node_are_per_operand_slot() -> None:
    assert draw(reused_node()["s"], edge_labels=True).source.count('label="∂s/∂a = 3"') == 2


def test_edge_label_of_tanh_matches_torch() -> None:
    _, _, out = neuron()
    pre = out.children[0]
    t = torch.tensor(pre.data, dtype=torch.float64, requires_grad=True)
    (local,) = torch.autograd.grad(torch.tanh(t), t)
    shown = re.findall(r'label="∂v5/∂v4 = ([−0-9.]+)"', draw(out, edge_labels=True, precision=10).source)  # tanh(pre)
    assert any(abs(float(s.replace("−", "-")) - local.item()) < 1e-10 for s in shown)


# -- colours --------------------------------------------------------------------------------------


def test_color_grad_fixed_scale_and_legend() -> None:
    graph = draw(worked_example()["J"], color="grad")
    assert 'fillcolor="#2166ac"' in box(graph, "w")  # -4: darkest blue
    assert 'fillcolor="#b2182b"' in box(graph, "x")  # +4: darkest red
    assert "fontcolor=white" in box(graph, "x")
    assert 'fillcolor="#d6604d"' in box(graph, "v1")  # 0.1 ≤ 0.5 < 1
    assert "<table" in graph.source and "gradient" in graph.source and "≥ 1" in graph.source
    assert graph.source.rstrip().endswith("labeljust=l labelloc=b\n}")  # set after any cluster


def test_grad_scale_boundaries() -> None:
    assert grad_color(0.0) == GRAD_ZERO
    assert grad_color(0.009) == "#fddbc7" and grad_color(-0.009) == "#d1e5f0"
    assert grad_color(0.01) == "#f4a582" and grad_color(-0.05) == "#92c5de"
    assert grad_color(0.1) == "#d6604d" and grad_color(-0.999) == "#4393c3"
    assert grad_color(1.0) == "#b2182b" and grad_color(-math.inf) == "#2166ac"
    assert grad_color(math.nan) == GRAD_NAN


def test_color_grad_legend_lists_nan_only_when_present() -> None:
    x = Value(-2.0, "x")
    y = x ** Value(2.0, "n")  # ∂/∂n of a negative base is undefined: nan, as in PyTorch
    y.backward()
    assert math.isnan(y.children[1].grad)
    assert ">nan<" in draw(y, color="grad").source
    assert ">nan<" not in draw(worked_example()["J"], color="grad").source


def test_color_role_tells_parameters_inputs_constants_intermediates_apart() -> None:
    _, _, out = neuron()
    graph = draw(out * 2, color="role")
    assert f'fillcolor="{ROLE_COLORS["parameter"]}"' in box(graph, "N0.w0")
    assert f'fillcolor="{ROLE_COLORS["input"]}"' in box(graph, "x0")
    constant = next(attrs for attrs in nodes(graph).values() if "label=2 " in attrs)
    assert f'fillcolor="{ROLE_COLORS["constant"]}"' in constant
    assert graph.source.count(f'fillcolor="{ROLE_COLORS["intermediate"]}"') == 6  # 4 sums/products, tanh, ×2
    assert all(role in graph.source for role in ROLE_COLORS)  # the legend


# -- highlight ------------------------------------------------------------------------------------


def test_highlight_marks_the_node_and_its_path_to_the_root() -> None:
    v = worked_example()
    graph = draw(v["J"], highlight=v["x"])
    marked = {name for name, attrs in nodes(graph).items() if HIGHLIGHT in attrs}
    labels = {name: attrs for name, attrs in nodes(graph).items()}
    marked_boxes = {
        re.search(r"\{ (\w+) \|", labels[n]).group(1)
        for n in marked
        if '"{ ' in labels[n] and "{ data" not in labels[n]
    }
    assert marked_boxes == {"x", "c", "a", "d", "v1", "J"}
    assert sum(1 for n in marked if n.startswith("o")) == 5  # ×, +, −, ^2, ÷
    assert sum(1 for *_, attrs in edges(graph) if HIGHLIGHT in attrs) == 10  # x→×→c→+→a→−→d→^2→s→÷→J
    assert HIGHLIGHT not in box(graph, "w") and HIGHLIGHT not in box(graph, "y")


def test_highlight_a_set_and_refuse_foreign_nodes() -> None:
    v = worked_example()
    graph = draw(v["J"], highlight={v["w"], v["y"]})
    assert HIGHLIGHT in box(graph, "w") and HIGHLIGHT in box(graph, "y") and HIGHLIGHT not in box(graph, "b")
    with pytest.raises(ValueError, match="not part of the graph"):
        draw(v["J"], highlight=Value(1.0, "stranger"))
    with pytest.raises(TypeError, match="highlight"):
        draw(v["J"], highlight=["w"])


# -- precision, rankdir, bad options --------------------------------------------------------------


def test_precision_and_rankdir() -> None:
    J = worked_example()["J"]
    assert 'label="{ w | 2 | grad −4 }"' in draw(J, precision=2).source
    assert 'label="{ w | 2 | grad −4 }"' in draw(J, precision=0).source
    assert 'label="{ v1 | 4 | grad 0.5 }"' in draw(J, precision=1).source
    _, _, out = neuron()  # tanh(…) = −0.3754…: precision is the most digits after the point
    assert f"{out.data:.6f}" == "-0.375425"
    assert 'label="{ v5 | −0.38 | grad 1 }"' in draw(out, precision=2).source
    assert 'label="{ v5 | −0.3754 | grad 1 }"' in draw(out).source
    tb = draw(J, rankdir="TB").source
    assert "rankdir=TB" in tb and 'label="w | 2 | grad −4"' in tb


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"color": "rainbow"}, "color='rainbow'"),
        ({"precision": -1}, "precision=-1"),
        ({"rankdir": "XY"}, "rankdir='XY'"),
        ({"collapse": "model"}, "collapse='model'"),
        ({"max_nodes": 0}, "max_nodes=0"),
    ],
)
def test_bad_options_are_named(options: dict, message: str) -> None:
    with pytest.raises(ValueError) as error:
        draw(worked_example()["J"], **options)
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"precision": 2.5}, "precision=2.5"),
        ({"precision": True}, "precision=True"),
        ({"max_nodes": "many"}, "max_nodes='many'"),
        ({"show_grad": "yes"}, "show_grad='yes'"),
        ({"edge_labels": 1}, "edge_labels=1"),
    ],
)
def test_options_of_the_wrong_type_are_type_errors(options: dict, message: str) -> None:
    with pytest.raises(TypeError) as error:
        draw(worked_example()["J"], **options)
    assert message in str(error.value)


def test_draw_needs_a_value() -> None:
    with pytest.raises(TypeError, match="needs a micrograd Value"):
        draw([Value(1.0)])


# -- scopes: clusters and collapse ----------------------------------------------------------------


def test_scopes_become_nested_clusters_with_parameters_inside_their_neuron() -> None:
    model, _, out = small_mlp()
    source = draw(out).source
    # cluster L1 holds clusters L1.N0..N2 and the inputs that all of them read
    l1 = source.index("label=L1 ")
    for name in ("L1.N0", "L1.N1", "L1.N2"):
        assert source.index(f'label="{name}"') > l1
    w = model.layers[0].neurons[1].w[0]
    start = source.index('label="L1.N1"')
    assert start < source.index(f"{w.label} |") < source.index('label="L1.N2"')


def test_user_scopes_nest() -> None:
    with scope("outer"):
        with scope("inner"):
            y = Value(1.0, "x") * 3
        z = y + 1
    source = draw(z).source
    assert 'label="outer.inner"' in source and "label=outer " in source
    assert source.index("label=outer ") < source.index('label="outer.inner"')


def test_collapse_neuron_and_layer_deduplicate_edges() -> None:
    _, loss = mlp_batch_loss(4, loss_scope=True)
    neuron_view = draw(loss, collapse="neuron")
    boxes = {
        re.search(r"\{ ([\w.]+) [|}]", attrs).group(1): name
        for name, attrs in nodes(neuron_view).items()
        if name.startswith("g")
    }
    assert set(boxes) == {f"L1.N{i}" for i in range(16)} | {f"L2.N{i}" for i in range(16)} | {"L3.N0", "loss"}
    pairs = [(t, h) for t, h, _ in edges(neuron_view)]
    assert len(pairs) == len(set(pairs))  # each edge once, though 4 samples go through it
    # every L1 neuron feeds every L2 neuron, every L2 neuron feeds L3.N0, which feeds the loss box;
    # the root (the mean, built in the loss scope) stays a box of its own: box -> ÷ -> root
    assert len(pairs) == 16 * 16 + 16 + 1 + 2
    layer_view = draw(loss, collapse="layer")
    drawn = nodes(layer_view)
    boxes = {re.search(r"\{ ([\w.]+) [|}]", attrs).group(1): name for name, attrs in drawn.items() if name[0] == "g"}
    assert set(boxes) == {"L1", "L2", "L3", "loss"}
    root = next(name for name, attrs in drawn.items() if f"| {loss.data:.4f} | grad 1 }}" in attrs)
    divide = next(name for name, attrs in drawn.items() if 'label="÷"' in attrs)
    assert len(drawn) == 6
    assert sorted(edges(layer_view)) == sorted(
        [
            (boxes["L1"], boxes["L2"], ""),
            (boxes["L2"], boxes["L3"], ""),
            (boxes["L3"], boxes["loss"], ""),
            (boxes["loss"], divide, ""),
            (divide, root, ""),
        ]
    )


def test_collapsed_box_shows_what_it_computes_and_keeps_inputs_visible() -> None:
    model, _, out = small_mlp()
    graph = draw(out, collapse="layer")
    # L1: three ReLU neurons; L2: one linear neuron, whose last sum is the root, drawn on its own
    assert '"{ L1 | 3 × ReLU }"' in graph.source and '"{ L2 | linear }"' in graph.source
    assert re.search(
        rf'"\{{ v\d+ \| {out.data:.3f} \| grad 1 \}}"'.replace("-", "−"), graph.source
    )  # the root, named v…
    assert '"{ x0 | 1 | grad' in graph.source and '"{ x1 | −1 | grad' in graph.source
    # a neuron's box: its activation, its output and the output's gradient, in the boxes' numbers
    neurons = draw(out, collapse="neuron").source
    for unit in model.layers[0].neurons:
        (relu,) = [node for node in topological_order(out) if node.scope == unit.name and node.op == "relu"]
        shown = f'"{{ {unit.name} | ReLU | {picture_number(relu.data)} | grad {picture_number(relu.grad)} }}"'
        assert shown in neurons and " nodes }" not in neurons
    assert '"{ L2.N0 | linear }"' in neurons  # its output is the root, drawn right after it


def test_collapsed_highlight_marks_boxes_on_the_path() -> None:
    model, _, out = small_mlp()
    graph = draw(out, collapse="neuron", highlight=model.layers[0].neurons[1].w[0])
    marked = {name: attrs for name, attrs in nodes(graph).items() if HIGHLIGHT in attrs}
    assert sorted(re.search(r"\{ ([\w.]+) \|", attrs).group(1) for name, attrs in marked.items() if name[0] == "g") == [
        "L1.N1",
        "L2.N0",
    ]
    assert sorted(name[0] for name in marked) == ["g", "g", "n", "o"]  # and the root with its op


def test_too_big_a_graph_is_refused_with_its_size_and_a_hint() -> None:
    _, loss = mlp_batch_loss(20)
    with pytest.raises(ValueError) as error:
        draw(loss)
    message = str(error.value)
    size = int(re.search(r"has (\d+) nodes", message).group(1))
    assert size > 20_000 and "max_nodes=2000" in message and "collapse='neuron'" in message
    assert draw(loss, collapse="neuron", max_nodes=1000).source.startswith("digraph")
    with pytest.raises(ValueError, match="collapse='layer'"):
        draw(loss, collapse="neuron", max_nodes=50)
