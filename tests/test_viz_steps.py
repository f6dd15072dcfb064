"""`viz.steps`: a training step one frame at a time: forward, backward, update (issue 4).

Expected numbers come from the course's hand derivation of the worked example (d̄ = 2,
ā = ∂d/∂a × d̄ = 1 × 2, ..., w̄ = −2 × 2 = −4), from arithmetic written out here, and from
PyTorch in float64; the final gradients must be bit for bit those of `backward()`. Most tests of
the backward pass ask for it alone (`forward=False`); the three phases have tests of their own.
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
CURRENT = "#e66101"  # the node of the frame: an orange outline (on a light orange fill)
USED = "#2166ac"  # the consumer whose gradient it multiplies: blue
EDGE = "#5e3c99"  # the edge of the local derivative: purple


def snapshot(root: Value) -> list[tuple[float, float, str]]:
    return [(node.data, node.grad, node.label) for node in topological_order(root)]


def fresh_backward(root: Value) -> list[float]:
    """The gradients `backward()` gives on a fresh deep copy, in topological order."""
    twin = copy.deepcopy(root)
    twin.zero_grad()
    twin.backward()
    return [node.grad for node in topological_order(twin)]


def assert_final_grads_are_backwards(root: Value) -> Steps:
    frames = steps(root, forward=False)
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

# ū is the total gradient ∂J/∂u, ∂c/∂u the local derivative of the op c, with its formula.
WORKED_EQUATIONS = [
    "J̄ = 1",
    "v̄1 = ∂J/∂v1 × J̄ = 0.5 × 1 = 0.5   (J = v1 / 2, so ∂J/∂v1 = 1/2 = 0.5)",  # v1 = d**2, J = v1/2
    "d̄ = ∂v1/∂d × v̄1 = 4 × 0.5 = 2   (v1 = d², so ∂v1/∂d = 2d = 4)",  # the issue's ∂(d²)/∂d = 2d = 4
    "ȳ = ∂d/∂y × d̄ = −1 × 2 = −2   (d = a − y, so ∂d/∂y = −1)",
    "ā = ∂d/∂a × d̄ = 1 × 2 = 2   (d = a − y, so ∂d/∂a = 1)",
    "b̄ = ∂a/∂b × ā = 1 × 2 = 2   (a = c + b, so ∂a/∂b = 1)",
    "c̄ = ∂a/∂c × ā = 1 × 2 = 2   (a = c + b, so ∂a/∂c = 1)",
    "x̄ = ∂c/∂x × c̄ = 2 × 2 = 4   (c = w × x, so ∂c/∂x = w = 2)",
    "w̄ = ∂c/∂w × c̄ = −2 × 2 = −4   (c = w × x, so ∂c/∂w = x = −2)",  # the course's "= −2 × 2"
]
WORKED_FORWARD = [
    "w = 2",
    "x = −2",
    "c = w × x = 2 × (−2) = −4",
    "b = 8",
    "a = c + b = −4 + 8 = 4",
    "y = 2",
    "d = a − y = 4 − 2 = 2",
    "v1 = d² = 2² = 4",
    "J = v1 / 2 = 4 / 2 = 2",
]
# η = 0.1; every labelled leaf learns (the worked example has no Parameter). At the new values:
# c = 2.4 × (−2.4) = −5.76, a = 2.04, d = −0.16, J = 0.0256 / 2 = 0.0128.
WORKED_UPDATE = [
    "w ← w − η·w̄ = 2 − 0.1 × (−4) = 2.4",
    "x ← x − η·x̄ = −2 − 0.1 × 4 = −2.4",
    "b ← b − η·b̄ = 8 − 0.1 × 2 = 7.8",
    "y ← y − η·ȳ = 2 − 0.1 × (−2) = 2.2",
    "J = 0.0128 at the new values (was 2: down by 1.9872)",
]
# By hand (the course notes): the gradient each step finds.
WORKED_GRADS = {"J": 1.0, "square": 0.5, "d": 2.0, "y": -2.0, "a": 2.0, "b": 2.0, "c": 2.0, "x": 4.0, "w": -4.0}
WORKED_ORDER = ["J", "square", "d", "y", "a", "b", "c", "x", "w"]


def test_worked_example_frames_count_order_and_equations() -> None:
    v = worked_example(backward=False)
    frames = steps(v["J"], forward=False)
    assert len(frames) == 9  # ten nodes, less the constant 2
    assert [frame.node for frame in frames] == [v[name] for name in WORKED_ORDER]
    assert [frame.index for frame in frames] == list(range(9))
    assert [frame.equation for frame in frames] == WORKED_EQUATIONS
    assert [frame.equation for frame in frames] == str(frames).splitlines()
    assert [frame.name for frame in frames] == ["J", "v1", "d", "y", "a", "b", "c", "x", "w"]


def test_worked_example_grads_known_after_each_step() -> None:
    v = worked_example(backward=False)
    frames = steps(v["J"], forward=False)
    for k, frame in enumerate(frames):
        known = WORKED_ORDER[: k + 1]
        assert frame.grads == {v[name]: WORKED_GRADS[name] for name in known}, k
    assert frames.grads == {v[name]: grad for name, grad in WORKED_GRADS.items()}


def test_worked_example_terms_hold_the_local_and_upstream_numbers() -> None:
    v = worked_example(backward=False)
    frames = steps(v["J"], forward=False)
    assert frames[0].terms == []
    (term,) = frames[8].terms  # w̄
    assert (term.consumer, term.slot, term.local, term.upstream) == (v["c"], 0, -2.0, 2.0)
    (term,) = frames[3].terms  # ȳ: y is the second operand of d = a - y
    assert (term.consumer, term.slot, term.local, term.upstream) == (v["d"], 1, -1.0, 2.0)


def test_every_consumer_comes_before_the_node_it_uses() -> None:
    model = MLP(2, [3, 1], seed=1)
    out = model([Value(0.3, "x0"), Value(-0.7, "x1")])
    frames = steps(out, forward=False)
    at = {frame.node: frame.index for frame in frames}
    for frame in frames:
        for term in frame.terms:
            assert at[term.consumer] < frame.index


def test_final_grads_equal_backward_bitwise_on_the_worked_example() -> None:
    assert_final_grads_are_backwards(worked_example(backward=False)["J"])


def test_worked_example_grads_match_torch() -> None:
    v = worked_example(backward=False)
    final = steps(v["J"], forward=False).grads
    t = {name: torch.tensor(v[name].data, dtype=torch.float64, requires_grad=True) for name in "wxby"}
    J = ((t["w"] * t["x"] + t["b"] - t["y"]) ** 2) / 2
    J.backward()
    for name in "wxby":
        assert final[v[name]] == t[name].grad.item(), name


# -- several consumers, and one node used twice by one op ---------------------------------------


def test_node_with_two_consumers_shows_the_sum() -> None:
    # J = a*b + a*c at a=2, b=3, c=2: ā = b + c = 3 + 2 = 5, each term named by its consumer.
    a, b, c = Value(2.0, "a"), Value(3.0, "b"), Value(2.0, "c")
    p = a * b
    p.label = "p"
    q = a * c
    q.label = "q"
    J = p + q
    J.label = "J"
    frames = assert_final_grads_are_backwards(J)
    by_node = {frame.node: frame for frame in frames}
    assert by_node[a].equation == (
        "ā = ∂p/∂a × p̄ + ∂q/∂a × q̄ = 3 × 1 + 2 × 1 = 5   (p = a × b, so ∂p/∂a = b = 3; q = a × c, so ∂q/∂a = c = 2)"
    )
    assert by_node[a].index == len(frames) - 1  # a is known last: both uses must be done first
    assert frames.grads[a] == 5.0


def test_reused_node_in_one_op_gives_one_term_per_operand_slot() -> None:
    v = reused_node()  # s = a*a at a = 3, after backward()
    before = snapshot(v["s"])
    frames = assert_final_grads_are_backwards(v["s"])
    assert [frame.equation for frame in frames] == [
        "s̄ = 1",
        # ∂(a·a)/∂a = a per operand slot, the two terms told apart as in the trace table
        "ā = ∂s/∂a (1st) × s̄ + ∂s/∂a (2nd) × s̄ = 3 × 1 + 3 × 1 = 6   "
        "(s = a × a, so ∂s/∂a (1st) = a = 3 and ∂s/∂a (2nd) = a = 3)",
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
    (last,) = [frame for frame in steps(J, forward=False) if frame.node is a]
    assert last.equation.startswith("ā = ∂v1/∂a × v̄1 + ∂v2/∂a × v̄2 = −3 × 1 + (−2) × 1 = −5   ")


def test_unlabelled_root_and_a_lone_value() -> None:
    x = Value(3.0)
    frames = steps(x, forward=False)
    assert [f.equation for f in frames] == ["v̄1 = 1"]
    assert [f.equation for f in steps(x)] == ["v1 = 3", "v̄1 = 1"]
    assert frames.grads == {x: 1.0}
    y = Value(0.5, "y")
    out = (y * y).tanh()  # tanh(0.25); d/dv1 = 1 - tanh(0.25)^2
    local = 1 - torch.tanh(torch.tensor(0.25, dtype=torch.float64)).item() ** 2
    assert steps(out, forward=False)[1].equation == (
        f"v̄1 = ∂v2/∂v1 × v̄2 = {local:g} × 1 = {local:g}   (v2 = tanh(v1), so ∂v2/∂v1 = 1 − v2² = {local:g})"
    )
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
    assert w0.equation.startswith(f"N̄0.w0 = ∂{frames.names[term.consumer]}/∂N0.w0 × ")
    t = torch.tensor(n.b.data + n.w[0].data * 0.5 + n.w[1].data * -1.5, dtype=torch.float64)
    assert abs(frames.grads[n.w[0]] - 0.5 * (1 - torch.tanh(t).item() ** 2)) < 1e-15


# -- the user's graph is never touched ----------------------------------------------------------


def test_steps_leaves_every_grad_as_it_was() -> None:
    v = worked_example(backward=False)
    before = snapshot(v["J"])
    frames = steps(v["J"], lr=0.1)
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
    frames = steps(v["J"], lr=0.5)
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
        frames = steps(out, forward=False)
        final = frames.grads[x]
        equation = frames[-1].equation
    finally:
        sys.setrecursionlimit(limit)
    assert len(frames) == 601
    assert abs(final - 1.0001**600) < 1e-12
    assert equation.startswith("x̄ = ∂v1/∂x × v̄1 = 1.0001 × ")


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
    frame = steps(v["J"], forward=False)[3]  # ȳ: J, v1, d and y are known
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
    assert drawn["y"][1] == CURRENT  # the node of this step, drawn apart from...
    assert drawn["d"][1] == USED  # ...the node whose gradient d̄ it multiplies
    assert drawn["J"][1] == "black" and drawn["a"][1] == "black" and drawn["w"][1] == "black"
    assert drawn["y"][0][1] == "2"
    # the edge of ∂d/∂y, purple with its local derivative, and the legend naming the three marks
    root = ET.fromstring(frame.svg())
    edges = [g for g in root.iter(f"{SVG}g") if g.get("class") == "edge"]
    purple = [[t.text for t in g.iter(f"{SVG}text")] for g in edges if g.find(f"{SVG}path").get("stroke") == EDGE]
    assert purple == [["∂d/∂y = −1"]]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"ū: the gradient this step finds", "c̄: the gradient it multiplies"} <= set(texts)
    assert any("∂c/∂u: the local derivative it uses" in (t or "") for t in texts)


def test_frame_dot_is_draws_with_names_and_known_grads() -> None:
    v = worked_example(backward=False)
    frames = steps(v["J"], forward=False)
    first = frames[0].graph().source
    assert re.search(r'label="\{ J \| 2 \| grad 1 \}" .*color="#e66101"', first)
    assert re.search(r'label="\{ w \| 2 \| grad [\u2007\u2008]+ \}" height=0', first)
    # the last frame shows what draw() shows after backward(), plus the name v1 and the highlight
    golden = (__import__("pathlib").Path(__file__).parent / "golden" / "worked_example.dot").read_text("utf-8")
    expected = set(re.findall(r'label="(\{[^"]*\})"', golden))
    assert set(re.findall(r'label="(\{[^"]*\})"', frames[-1].graph().source)) == expected


def test_frame_layout_is_stable_from_step_to_step() -> None:
    """Blank fields are as wide as the numbers to come, so the boxes do not jump between steps."""
    v = worked_example(backward=False)
    # the pictures as the page shows them, its legend in HTML: the SVG legends differ by phase.
    # (The update changes the numbers themselves, so its frames may differ in width.)
    frames = steps(v["J"], lr=0.1)
    widths = [
        float(ET.fromstring(f.render_svg(legend=False)).get("viewBox").split()[2])
        for f in frames
        if f.phase != "update"
    ]
    assert max(widths) - min(widths) <= 0.01 * max(widths), widths


def test_frame_in_jupyter() -> None:
    a = Value(2.0, "<b>&a")
    J = a * a
    J.label = "J"
    frame = steps(J, forward=False)[1]
    bundle = frame._repr_mimebundle_()
    assert set(bundle) == {"text/html", "image/svg+xml", "text/plain"}
    assert bundle["image/svg+xml"] == frame._repr_svg_() == frame.svg()
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml")
    assert "<b>&a" not in bundle["text/html"] and "∂J/∂&lt;b&gt;&amp;a" in bundle["text/html"]
    assert "step 2 / 2" in bundle["text/html"] and "(backward)" in bundle["text/html"]
    assert bundle["text/plain"].startswith(
        "<Frame 2/2 backward: <̄b>&a = ∂J/∂<b>&a (1st) × J̄ + ∂J/∂<b>&a (2nd) × J̄ = 2 × 1 + 2 × 1 = 4   "
    )


def test_steps_is_a_sequence_of_frames() -> None:
    v = worked_example(backward=False)
    frames = steps(v["J"])
    assert isinstance(frames[0], Frame) and frames[-1] is frames[17] and list(frames)[2] is frames[2]
    assert [f.index for f in frames[2:4]] == [2, 3]
    assert repr(frames) == "<Steps: 18 frames (9 forward, 9 backward) of a training step from J>"
    with pytest.raises(IndexError):
        frames[18]


def test_drawing_options_reach_the_frames() -> None:
    v = worked_example(backward=False)
    source = steps(v["J"], forward=False, edge_labels=True, precision=0, rankdir="TB")[8].graph().source
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
    frames = steps(v["J"], forward=False)
    widget = frames.widget()
    assert isinstance(widget, ipywidgets.VBox)
    back, slider, forward, counter, equation, picture = widget_parts(widget)
    assert (slider.min, slider.max, slider.value) == (1, 9, 1)
    assert equation.value == "<b>backward</b>&nbsp; <code>J̄ = 1</code>" and counter.value == "1 / 9 · backward"
    assert back.disabled and not forward.disabled
    first_picture = picture.value
    assert first_picture.startswith('<div class="micrograd-drawing"') and "grad 1<" in first_picture
    assert "min-width" in first_picture  # shrinks with the cell only while its text stays readable

    slider.value = 5
    assert equation.value == f"<b>backward</b>&nbsp; <code>{WORKED_EQUATIONS[4]}</code>"
    assert counter.value == "5 / 9 · backward" and picture.value != first_picture and "grad −2<" in picture.value
    forward.click()
    assert slider.value == 6 and equation.value == f"<b>backward</b>&nbsp; <code>{WORKED_EQUATIONS[5]}</code>"
    back.click()
    back.click()
    assert slider.value == 4 and counter.value == "4 / 9 · backward"
    slider.value = 9
    assert forward.disabled and equation.value == f"<b>backward</b>&nbsp; <code>{WORKED_EQUATIONS[8]}</code>"
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
    frames = steps(out, forward=False)
    assert len(frames) == 1201 and frames[-1].equation.startswith("x̄ = ∂v1/∂x × v̄1 = ")
    with pytest.raises(ValueError, match="more than max_nodes=2000"):
        frames[0].graph()


def test_the_issues_import_line() -> None:
    import viz
    from viz import export_html, nudge, trace_table  # noqa: F401  (the line of issue 4)

    assert {"steps", "nudge", "trace_table", "export_html"} <= set(viz.__all__)


# -- the three phases: forward, backward, update --------------------------------------------------


def test_worked_example_in_all_three_phases() -> None:
    v = worked_example(backward=False)
    before = snapshot(v["J"])
    frames = steps(v["J"], lr=0.1)
    assert [f.phase for f in frames] == ["forward"] * 9 + ["backward"] * 9 + ["update"] * 5
    assert [f.equation for f in frames.phase("forward")] == WORKED_FORWARD
    assert [f.equation for f in frames.phase("backward")] == WORKED_EQUATIONS
    assert [f.equation for f in frames.phase("update")] == WORKED_UPDATE
    assert [f.node for f in frames.phase("forward")] == topological_order(v["J"])[:6] + [v["d"], v["square"], v["J"]]
    # the numbers each frame finds: values, gradients, new values, the new output
    assert [f.answer for f in frames.phase("forward")] == [None, None, -4.0, None, 4.0, None, 2.0, 4.0, 2.0]
    assert [f.answer for f in frames.phase("update")][:4] == [2.4, -2.4, 7.8, 2.2]
    assert abs(frames[-1].answer - ((2.4 * -2.4 + 7.8 - 2.2) ** 2) / 2) < 1e-15
    assert frames[-1].node is v["J"] and frames.new_values == {v["w"]: 2.4, v["x"]: -2.4, v["b"]: 7.8, v["y"]: 2.2}
    assert str(frames).splitlines() == WORKED_FORWARD + WORKED_EQUATIONS + WORKED_UPDATE
    assert snapshot(v["J"]) == before  # nothing of the user's graph moved, not even .data


def test_forward_is_the_default_and_lr_adds_the_update() -> None:
    v = worked_example(backward=False)
    assert [f.phase for f in steps(v["J"])] == ["forward"] * 9 + ["backward"] * 9
    assert [f.phase for f in steps(v["J"], forward=False, lr=1)] == ["backward"] * 9 + ["update"] * 5


def test_a_square_in_all_three_phases() -> None:
    x = Value(3.0, "x")
    y = x * x
    y.label = "y"
    frames = steps(y, lr=0.1)
    assert str(frames).splitlines() == [
        "x = 3",
        "y = x × x = 3 × 3 = 9",
        "ȳ = 1",
        # the issue's "dy/dx = dy/dx × dy/dy + ...", now with nothing on both sides
        "x̄ = ∂y/∂x (1st) × ȳ + ∂y/∂x (2nd) × ȳ = 3 × 1 + 3 × 1 = 6   "
        "(y = x × x, so ∂y/∂x (1st) = x = 3 and ∂y/∂x (2nd) = x = 3)",
        "x ← x − η·x̄ = 3 − 0.1 × 6 = 2.4",
        "y = 5.76 at the new values (was 9: down by 3.24)",
    ]


def test_which_leaves_learn() -> None:
    from micrograd import Parameter

    w, b, x = Parameter(0.5, "w"), Parameter(0.1, "b"), Value(2.0, "x")
    out = (w * x + b).tanh()
    out.label = "out"
    learn = [f.node for f in steps(out, lr=0.1).phase("update")]
    assert learn == [w, b, out]  # the Parameters (x is an input), then the recomputed output
    assert [f.node for f in steps(out, lr=0.1, params=[x]).phase("update")] == [x, out]
    u = Value(1.0)  # unlabelled: not learned by default
    z = u * Value(2.0, "k")
    assert [f.name for f in steps(z, lr=0.1).phase("update")] == ["k", "v2"]
    for bad, message in [([out], "computed"), ([Value(1.0, "q")], "not part of the graph"), (w, "takes a list")]:
        with pytest.raises((ValueError, TypeError), match=message):
            steps(out, lr=0.1, params=bad)
    with pytest.raises(ValueError, match="learning rate"):
        steps(out, lr=float("nan"))


def test_every_op_of_the_registry_has_its_formulas() -> None:
    from micrograd.engine.ops import OPS
    from viz.op_formulas import FORMULAS, ops_without_formula

    assert ops_without_formula(list(OPS)) == []
    for name, op in OPS.items():
        assert len(FORMULAS[name].derivatives) == op.arity, name


def test_local_derivative_formulas_per_op() -> None:
    a = Value(0.5, "a")
    cases = {
        a.tanh(): "(v1 = tanh(a), so ∂v1/∂a = 1 − v1² = ",
        a.exp(): "(v1 = exp(a), so ∂v1/∂a = exp(a) = ",
        a.log(): "(v1 = log(a), so ∂v1/∂a = 1/a = 2)",
        a.sigmoid(): "(v1 = σ(a), so ∂v1/∂a = v1·(1 − v1) = ",
        a**3: "(v1 = a³, so ∂v1/∂a = 3a² = 0.75)",
        a.relu(): "(v1 = ReLU(a), so ∂v1/∂a = 1 if a > 0 else 0 = 1)",
        1 / a: "∂v1/∂a = −1/a² = −4)",
    }
    for out, expected in cases.items():
        assert expected in steps(out, forward=False)[-1].equation, (out.op, steps(out, forward=False)[-1].equation)


# An equation is circular when a symbol is on both sides of its "=": the issue's "dy/dx = dy/dx
# × dy/dy". Each frame's chain ("lhs = rhs = numbers = result") and each clause in parentheses is
# checked; an update "w ← w − η·w̄" is an assignment, the only place a name may repeat.
SYMBOL = re.compile(r"∂\S+?/∂[^\s×)]+(?: \((?:1st|2nd)\))?|[^\W\d_][\u0304]?[\w.]*", re.UNICODE)


def circular(equation: str) -> list[str]:
    found = []
    clauses = [equation.split("   (")[0], *re.findall(r"\(([^()]*(?:\([^()]*\)[^()]*)*)\)$", equation)]
    for clause in clauses:
        for part in clause.split("; "):
            if "←" in part:
                continue
            for piece in part.split(", so "):
                sides = piece.split(" = ")
                lhs = set(SYMBOL.findall(sides[0]))
                for rhs in sides[1:]:
                    found += sorted(lhs & set(SYMBOL.findall(rhs)))
    return found


def test_no_equation_is_circular() -> None:
    a = Value(2.0, "a")
    p, q = a * Value(3.0, "b"), a * Value(2.0, "c")
    p.label, q.label = "p", "q"
    twice = p + q
    x = Value(3.0, "x")
    square = x * x
    model = MLP(2, [2, 1], seed=1)
    graphs = [
        worked_example(backward=False)["J"],
        twice,
        square,
        (square + x).tanh(),
        (Value(0.5, "u") ** 2).log() / Value(2.0, "v") - Value(1.0, "t").exp(),
        model([Value(0.3, "x0"), Value(-0.7, "x1")]),
    ]
    assert circular("dy/dx = dy/dx × dy/dy") == ["dx", "dy"] and circular("x̄ = ∂y/∂x × ȳ = 3 × 1 = 3") == []
    assert circular("ā = ∂s/∂a (1st) × s̄   (s = a × a, so ∂s/∂a (1st) = ∂s/∂a (1st))") == ["∂s/∂a (1st)"]
    checked = 0
    for graph in graphs:
        for frame in steps(graph, lr=0.05):
            assert circular(frame.equation) == [], frame.equation
            checked += 1
    assert checked > 60


def test_exercise_answers_questions_and_hints() -> None:
    from viz.steps import check_answer

    v = worked_example(backward=False)
    frames = steps(v["J"], lr=0.1)
    w_frame = frames.phase("backward")[-1]
    assert w_frame.question == "w̄ = ∂c/∂w × c̄ = ?   (c = w × x)" and w_frame.answer == -4.0
    assert w_frame.hint == "w̄ = ∂c/∂w × c̄: ∂c/∂w = x for c = w × x; read c̄ in the picture"
    assert frames[0].question is None and frames[0].answer is None  # a given input asks nothing
    assert frames.phase("update")[0].question == "w ← w − η·w̄ = ?   (η = 0.1)"
    assert [check_answer(t, -4.0) for t in ("-4", "−4", " -4.003 ", "-4.1", "4", "abc", "")] == [
        True,
        True,
        True,
        False,
        False,
        None,
        None,
    ]
    assert check_answer("0", 0.0) is True and check_answer("0.001", 0.0) is False


def test_the_exercise_picture_hides_the_number_the_frame_finds() -> None:
    v = worked_example(backward=False)
    frame = steps(v["J"], forward=False)[8]  # w̄
    asked, shown = boxes(frame.render_svg(hide_answer=True)), boxes(frame.svg())
    assert shown["w"][0][-1].strip() == "grad −4" and asked["w"][0][-1].strip() == "grad"
    # the local derivative is the student's to find: its edge asks for it
    assert "∂c/∂w = −2" in frame.svg() and "∂c/∂w = ?" in frame.render_svg(hide_answer=True)
    assert "∂c/∂w = −2" not in frame.render_svg(hide_answer=True)
    forward = steps(v["J"])[2]  # c = w × x
    assert (
        boxes(forward.svg())["c"][0][1] == "−4" and boxes(forward.render_svg(hide_answer=True))["c"][0][1].strip() == ""
    )


def test_steps_shows_itself_in_jupyter(monkeypatch: pytest.MonkeyPatch) -> None:
    import ipywidgets
    from IPython.display import HTML

    shown: list[object] = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    frames = steps(worked_example(backward=False)["J"], forward=False)
    frames._ipython_display_()
    assert isinstance(shown[-1], ipywidgets.VBox)
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    frames._ipython_display_()
    assert isinstance(shown[-1], HTML)
    page = shown[-1].data
    assert page.count("<svg") == 9 and "step 9 / 9" in page and "w̄ = ∂c/∂w × c̄" in page


def test_widget_exercise_checks_hints_and_reveals() -> None:
    frames = steps(worked_example(backward=False)["J"], forward=False)
    widget = frames.widget(exercise=True)
    controls, equation, quiz, picture = widget.children
    answer, check, reveal, feedback = quiz.children
    slider = controls.children[1]
    slider.value = 9
    assert "w̄ = ∂c/∂w × c̄ = ?" in equation.value and "grad −4<" not in picture.value
    answer.value = "4"
    check.click()
    assert "not quite" in feedback.value and "∂c/∂w = x for c = w × x" in feedback.value
    answer.value = "-4"
    check.click()
    assert "right" in feedback.value and "= −2 × 2 = −4" in equation.value and "grad −4<" in picture.value
    slider.value = 8
    reveal.click()
    assert "x̄ = ∂c/∂x × c̄ = 2 × 2 = 4" in equation.value
