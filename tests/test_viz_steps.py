"""`viz.steps`: the backward pass one node at a time (issue 4).

Expected numbers come from the course's hand derivation of the worked example (dJ/dd = 2,
dJ/da = dd/da × dJ/dd = 1 × 2, ..., dJ/dw = -2 × 2 = -4), from arithmetic written out here, and
from PyTorch in float64; the final gradients must be bit for bit those of `backward()`.
"""

from __future__ import annotations

import copy
import re
import sys
import xml.etree.ElementTree as ET

import pytest
import torch
from test_viz_examples import neuron, reused_node, worked_example

from micrograd import Constant, Value, topological_order
from micrograd.nn import MLP
from viz import steps
from viz.steps import Frame, Steps

SVG = "{http://www.w3.org/2000/svg}"
HIGHLIGHT = "#e66101"


def snapshot(root: Value) -> list[tuple[float, float, str]]:
    return [(node.data, node.grad, node.label) for node in topological_order(root)]


def fresh_backward(root: Value) -> list[float]:
    """The gradients `backward()` gives on a fresh deep copy, in topological order."""
    twin = copy.deepcopy(root)
    twin.zero_grad()
    twin.backward()
    return [node.grad for node in topological_order(twin)]


def assert_final_grads_are_backwards(root: Value) -> Steps:
    frames = steps(root)
    expected = fresh_backward(root)
    final = frames[-1].grads
    order = topological_order(root)
    checked = 0
    for node, grad in zip(order, expected):
        if isinstance(node, Constant):
            assert node not in final
            continue
        # bitwise: the same float, and the same sign of zero
        assert final[node] == grad and str(final[node]) == str(grad), (node, final[node], grad)
        checked += 1
    assert checked == len(final) == len(frames)
    return frames


# -- the worked example: c = w*x, a = c + b, d = a - y, J = d**2/2 at w=2, x=-2, b=8, y=2 ----------

WORKED_EQUATIONS = [
    "dJ/dJ = 1",
    "dJ/dv1 = dJ/dv1 × dJ/dJ = 0.5 × 1 = 0.5",  # v1 = d**2, J = v1/2
    "dJ/dd = dv1/dd × dJ/dv1 = 4 × 0.5 = 2",  # dv1/dd = 2d = 4
    "dJ/dy = dd/dy × dJ/dd = -1 × 2 = -2",
    "dJ/da = dd/da × dJ/dd = 1 × 2 = 2",  # the issue's example line
    "dJ/db = da/db × dJ/da = 1 × 2 = 2",
    "dJ/dc = da/dc × dJ/da = 1 × 2 = 2",
    "dJ/dx = dc/dx × dJ/dc = 2 × 2 = 4",  # dc/dx = w = 2
    "dJ/dw = dc/dw × dJ/dc = -2 × 2 = -4",  # dc/dw = x = -2: the course's "= -2 × 2"
]
# By hand (the course notes): the gradient each step finds.
WORKED_GRADS = {"J": 1.0, "square": 0.5, "d": 2.0, "y": -2.0, "a": 2.0, "b": 2.0, "c": 2.0, "x": 4.0, "w": -4.0}
WORKED_ORDER = ["J", "square", "d", "y", "a", "b", "c", "x", "w"]


def test_worked_example_frames_count_order_and_equations() -> None:
    v = worked_example(backward=False)
    frames = steps(v["J"])
    assert len(frames) == 9  # ten nodes, less the constant 2
    assert [frame.node for frame in frames] == [v[name] for name in WORKED_ORDER]
    assert [frame.index for frame in frames] == list(range(9))
    assert [frame.equation for frame in frames] == WORKED_EQUATIONS
    assert [frame.equation for frame in frames] == str(frames).splitlines()
    assert [frame.name for frame in frames] == ["J", "v1", "d", "y", "a", "b", "c", "x", "w"]


def test_worked_example_grads_known_after_each_step() -> None:
    v = worked_example(backward=False)
    frames = steps(v["J"])
    for k, frame in enumerate(frames):
        known = WORKED_ORDER[: k + 1]
        assert frame.grads == {v[name]: WORKED_GRADS[name] for name in known}, k
    assert frames.grads == {v[name]: grad for name, grad in WORKED_GRADS.items()}


def test_worked_example_terms_hold_the_local_and_upstream_numbers() -> None:
    v = worked_example(backward=False)
    frames = steps(v["J"])
    assert frames[0].terms == []
    (term,) = frames[8].terms  # dJ/dw
    assert (term.consumer, term.slot, term.local, term.upstream) == (v["c"], 0, -2.0, 2.0)
    (term,) = frames[3].terms  # dJ/dy: y is the second operand of d = a - y
    assert (term.consumer, term.slot, term.local, term.upstream) == (v["d"], 1, -1.0, 2.0)


def test_every_consumer_comes_before_the_node_it_uses() -> None:
    model = MLP(2, [3, 1], seed=1)
    out = model([Value(0.3, "x0"), Value(-0.7, "x1")])
    frames = steps(out)
    at = {frame.node: frame.index for frame in frames}
    for frame in frames:
        for term in frame.terms:
            assert at[term.consumer] < frame.index


def test_final_grads_equal_backward_bitwise_on_the_worked_example() -> None:
    assert_final_grads_are_backwards(worked_example(backward=False)["J"])


def test_worked_example_grads_match_torch() -> None:
    v = worked_example(backward=False)
    final = steps(v["J"]).grads
    t = {name: torch.tensor(v[name].data, dtype=torch.float64, requires_grad=True) for name in "wxby"}
    J = ((t["w"] * t["x"] + t["b"] - t["y"]) ** 2) / 2
    J.backward()
    for name in "wxby":
        assert final[v[name]] == t[name].grad.item(), name


# -- several consumers, and one node used twice by one op ---------------------------------------


def test_node_with_two_consumers_shows_the_sum() -> None:
    # J = a*b + a*c at a=2, b=3, c=2: dJ/da = b + c = 3 + 2 = 5 (the issue's example line).
    a, b, c = Value(2.0, "a"), Value(3.0, "b"), Value(2.0, "c")
    p = a * b
    p.label = "p"
    q = a * c
    q.label = "q"
    J = p + q
    J.label = "J"
    frames = assert_final_grads_are_backwards(J)
    by_node = {frame.node: frame for frame in frames}
    assert by_node[a].equation == "dJ/da = dp/da × dJ/dp + dq/da × dJ/dq = 3 × 1 + 2 × 1 = 5"
    assert by_node[a].index == len(frames) - 1  # a is known last: both uses must be done first
    assert frames.grads[a] == 5.0


def test_reused_node_in_one_op_gives_one_term_per_operand_slot() -> None:
    v = reused_node()  # s = a*a at a = 3, after backward()
    before = snapshot(v["s"])
    frames = assert_final_grads_are_backwards(v["s"])
    assert [frame.equation for frame in frames] == [
        "ds/ds = 1",
        "ds/da = ds/da × ds/ds + ds/da × ds/ds = 3 × 1 + 3 × 1 = 6",  # ∂(a·a)/∂a = a per slot
    ]
    assert [term.slot for term in frames[1].terms] == [0, 1]
    assert frames.grads == {v["s"]: 1.0, v["a"]: 6.0}
    assert snapshot(v["s"]) == before


def test_negative_factors_after_the_first_get_parentheses() -> None:
    # J = a*m + a*n at a=1, m=-3, n=-2: dJ/da = m + n = -5
    a, m, n = Value(1.0, "a"), Value(-3.0, "m"), Value(-2.0, "n")
    p, q = a * m, a * n
    J = p + q
    J.label = "J"
    (last,) = [frame for frame in steps(J) if frame.node is a]
    assert last.equation == "dJ/da = dv1/da × dJ/dv1 + dv2/da × dJ/dv2 = -3 × 1 + (-2) × 1 = -5"


def test_unlabelled_root_and_a_lone_value() -> None:
    x = Value(3.0)
    frames = steps(x)
    assert [f.equation for f in frames] == ["dv1/dv1 = 1"]
    assert frames.grads == {x: 1.0}
    y = Value(0.5, "y")
    out = (y * y).tanh()  # tanh(0.25); d/dv1 = 1 - tanh(0.25)^2
    local = 1 - torch.tanh(torch.tensor(0.25, dtype=torch.float64)).item() ** 2
    assert steps(out)[1].equation == f"dv2/dv1 = dv2/dv1 × dv2/dv2 = {local:g} × 1 = {local:g}"
    assert f"{local:g}" == "0.940015"  # tanh(0.25) = 0.244919, squared 0.059985


# -- an MLP: the gradients bit for bit, and against PyTorch -------------------------------------


def test_mlp_final_grads_equal_backward_bitwise_and_torch() -> None:
    model = MLP(3, [4, 4, 1], activation="tanh", seed=7)
    xs = [Value(0.5, "x0"), Value(-1.0, "x1"), Value(2.0, "x2")]
    out = model(xs)
    loss = (out - 0.25) ** 2
    frames = assert_final_grads_are_backwards(loss)
    # PyTorch, float64, same weights
    params = model.parameters()
    tp = [torch.tensor(p.data, dtype=torch.float64, requires_grad=True) for p in params]
    lookup = dict(zip(params, tp))
    h = [torch.tensor(x.data, dtype=torch.float64) for x in xs]
    for layer in model.layers:
        h = [
            torch.tanh(lookup[n.b] + sum(lookup[w] * x for w, x in zip(n.w, h)))
            if n.activation == "tanh"
            else lookup[n.b] + sum(lookup[w] * x for w, x in zip(n.w, h))
            for n in layer.neurons
        ]
    t_loss = (h[0] - 0.25) ** 2
    t_loss.backward()
    assert abs(t_loss.item() - loss.data) < 1e-12
    for p, t in zip(params, tp):
        assert abs(frames.grads[p] - t.grad.item()) < 1e-12, p.label


def test_neuron_frames_use_the_nn_labels_and_torch_numbers() -> None:
    n, _, out = neuron()  # tanh(b + w0·x0 + w1·x1) with x0 = 0.5, x1 = -1.5
    frames = assert_final_grads_are_backwards(out)
    assert {"N0.w0", "N0.w1", "N0.b", "x0", "x1"} <= {frame.name for frame in frames}
    (w0,) = [frame for frame in frames if frame.name == "N0.w0"]
    (term,) = w0.terms  # the product w0·x0: ∂/∂w0 = x0
    assert term.local == 0.5
    assert w0.equation.startswith(f"d{frames[0].name}/dN0.w0 = d{frames.names[term.consumer]}/dN0.w0 × ")
    t = torch.tensor(n.b.data + n.w[0].data * 0.5 + n.w[1].data * -1.5, dtype=torch.float64)
    assert abs(frames.grads[n.w[0]] - 0.5 * (1 - torch.tanh(t).item() ** 2)) < 1e-15


# -- the user's graph is never touched ----------------------------------------------------------


def test_steps_leaves_every_grad_as_it_was() -> None:
    v = worked_example(backward=False)
    before = snapshot(v["J"])
    frames = steps(v["J"])
    for frame in frames:  # computing, reading and drawing every frame
        frame.grads, frame.graph().source
    frames[4].svg()
    assert snapshot(v["J"]) == before
    assert all(grad == 0.0 for _, grad, _ in before)


def test_steps_after_backward_twice_leaves_the_accumulated_grads() -> None:
    v = worked_example()
    v["J"].backward()  # leaves now hold twice the gradient: w.grad = -8
    before = snapshot(v["J"])
    assert v["w"].grad == -8.0
    frames = steps(v["J"])
    frames[-1].graph()
    assert snapshot(v["J"]) == before
    assert frames.grads[v["w"]] == -4.0  # one pass, not the user's accumulated -8


def test_no_recursion_over_a_deep_chain() -> None:
    x = Value(0.1, "x")
    out = x
    for _ in range(600):
        out = out * 1.0001
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(150)
    try:
        frames = steps(out)
        final = frames.grads[x]
        equation = frames[-1].equation
    finally:
        sys.setrecursionlimit(limit)
    assert len(frames) == 601
    assert abs(final - 1.0001**600) < 1e-12
    assert equation.startswith("dv600/dx = dv1/dx × dv600/dv1 = 1.0001 × ")


# -- the pictures ----------------------------------------------------------------------------------


def boxes(svg: str) -> dict[str, tuple[list[str], str]]:
    """For each record box of a frame's SVG: its name -> (its texts, its outline colour)."""
    found = {}
    for group in ET.fromstring(svg).iter(f"{SVG}g"):
        if group.get("class") != "node":
            continue
        texts = [t.text or "" for t in group.iter(f"{SVG}text")]
        if len(texts) >= 3:
            outline = group.find(f"{SVG}polygon")
            found[texts[0]] = (texts, outline.get("stroke"))
    return found


def test_frame_svg_shows_known_grads_and_blanks_for_the_rest() -> None:
    v = worked_example(backward=False)
    frame = steps(v["J"])[3]  # dJ/dy: J, v1, d and y are known
    drawn = boxes(frame.svg())
    assert set(drawn) == {"w", "x", "c", "b", "a", "y", "d", "v1", "J"}  # v1: the equation's name
    shown = {name: texts[-1].strip() for name, (texts, _) in drawn.items()}
    assert shown == {
        "J": "grad 1",
        "v1": "grad 0.5",
        "d": "grad 2",
        "y": "grad −2",
        "a": "grad",
        "b": "grad",
        "c": "grad",
        "x": "grad",
        "w": "grad",
    }  # blank, not 0
    assert drawn["y"][1] == HIGHLIGHT  # the node of this step...
    assert drawn["d"][1] == HIGHLIGHT and drawn["J"][1] == HIGHLIGHT  # ...and its path to J
    assert drawn["a"][1] == "black" and drawn["w"][1] == "black"
    assert drawn["y"][0][1] == "2"


def test_frame_dot_is_draws_with_names_and_known_grads() -> None:
    v = worked_example(backward=False)
    frames = steps(v["J"])
    first = frames[0].graph().source
    assert re.search(r'label="\{ J \| 2 \| grad 1 \}" color="#e66101"', first)
    assert re.search(r'label="\{ w \| 2 \| grad [\u2007\u2008]+ \}" height=0', first)
    # the last frame shows what draw() shows after backward(), plus the name v1 and the highlight
    golden = (__import__("pathlib").Path(__file__).parent / "golden" / "worked_example.dot").read_text("utf-8")
    expected = set(re.findall(r'label="(\{[^"]*\})"', golden))
    assert set(re.findall(r'label="(\{[^"]*\})"', frames[-1].graph().source)) == expected


def test_frame_layout_is_stable_from_step_to_step() -> None:
    """Blank fields are as wide as the numbers to come, so the boxes do not jump between steps."""
    v = worked_example(backward=False)
    widths = [float(ET.fromstring(f.svg()).get("viewBox").split()[2]) for f in steps(v["J"])]
    assert max(widths) - min(widths) <= 0.01 * max(widths), widths


def test_frame_in_jupyter() -> None:
    a = Value(2.0, "<b>&a")
    J = a * a
    J.label = "J"
    frame = steps(J)[1]
    bundle = frame._repr_mimebundle_()
    assert set(bundle) == {"text/html", "image/svg+xml", "text/plain"}
    assert bundle["image/svg+xml"] == frame._repr_svg_() == frame.svg()
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml")
    assert "<b>&a" not in bundle["text/html"] and "d&lt;b&gt;&amp;a" in bundle["text/html"]
    assert "step 2 / 2" in bundle["text/html"]
    assert bundle["text/plain"] == "<Frame 2/2: dJ/d<b>&a = dJ/d<b>&a × dJ/dJ + dJ/d<b>&a × dJ/dJ = 2 × 1 + 2 × 1 = 4>"


def test_steps_is_a_sequence_of_frames() -> None:
    v = worked_example(backward=False)
    frames = steps(v["J"])
    assert isinstance(frames[0], Frame) and frames[-1] is frames[8] and list(frames)[2] is frames[2]
    assert [f.index for f in frames[2:4]] == [2, 3]
    assert "9 frames" in repr(frames)
    with pytest.raises(IndexError):
        frames[9]


def test_drawing_options_reach_the_frames() -> None:
    v = worked_example(backward=False)
    source = steps(v["J"], edge_labels=True, precision=0, rankdir="TB")[8].graph().source
    assert "rankdir=TB" in source and 'label="∂c/∂w = −2"' in source and 'label="∂J/∂v1 = 5e−1"' in source
    assert "grad −4" in source and "grad 5e−1" in source  # 0.5 has no digit before the point at precision 0


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: steps(2.0), TypeError, "needs a micrograd Value"),
        (lambda: steps(Value(1.0), precision=99), ValueError, "precision=99"),
        (lambda: steps(Value(1.0), rankdir="XY"), ValueError, "rankdir='XY'"),
    ],
)
def test_bad_input_is_refused_clearly(call, error, message) -> None:
    with pytest.raises(error, match=re.escape(message)):
        call()


# -- the Jupyter widget ----------------------------------------------------------------------------


def widget_parts(widget):
    controls, equation, picture = widget.children
    back, slider, forward, counter = controls.children
    return back, slider, forward, counter, equation, picture


def test_widget_slider_and_buttons_move_through_the_frames() -> None:
    import ipywidgets

    v = worked_example(backward=False)
    frames = steps(v["J"])
    widget = frames.widget()
    assert isinstance(widget, ipywidgets.VBox)
    back, slider, forward, counter, equation, picture = widget_parts(widget)
    assert (slider.min, slider.max, slider.value) == (1, 9, 1)
    assert equation.value == "<code>dJ/dJ = 1</code>" and counter.value == "1 / 9"
    assert back.disabled and not forward.disabled
    first_picture = picture.value
    assert first_picture.startswith('<div class="micrograd-drawing"') and "grad 1<" in first_picture
    assert "min-width" in first_picture  # shrinks with the cell only while its text stays readable

    slider.value = 5
    assert equation.value == "<code>dJ/da = dd/da × dJ/dd = 1 × 2 = 2</code>"
    assert counter.value == "5 / 9" and picture.value != first_picture and "grad −2<" in picture.value
    forward.click()
    assert slider.value == 6 and equation.value == f"<code>{WORKED_EQUATIONS[5]}</code>"
    back.click()
    back.click()
    assert slider.value == 4 and counter.value == "4 / 9"
    slider.value = 9
    assert forward.disabled and equation.value == "<code>dJ/dw = dc/dw × dJ/dc = -2 × 2 = -4</code>"
    forward.click()
    assert slider.value == 9


def test_widget_without_ipywidgets_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # makes `import ipywidgets` fail
    with pytest.raises(ImportError, match="pip install ipywidgets"):
        steps(Value(1.0)).widget()


def test_a_graph_too_large_to_draw_still_has_its_equations() -> None:
    x = Value(0.5, "x")
    out = x
    for _ in range(1200):  # 2401 nodes to draw, above draw()'s limit of 2000
        out = out.tanh()
    frames = steps(out)
    assert len(frames) == 1201 and frames[-1].equation.startswith("dv1200/dx = dv1/dx × dv1200/dv1 = ")
    with pytest.raises(ValueError, match="more than max_nodes=2000"):
        frames[0].graph()


def test_the_issues_import_line() -> None:
    import viz
    from viz import export_html, nudge, trace_table  # noqa: F401  (the line of issue 4)

    assert {"steps", "nudge", "trace_table", "export_html"} <= set(viz.__all__)
