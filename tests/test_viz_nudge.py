"""`viz.nudge`: move a value by eps, recompute the output, compare with gradient × eps (issue 4).

The expected changes are the formulas recomputed here in plain Python floats (the same operations
in the same order, so the same bits); the predictions are the course's hand gradients × eps.
"""

from __future__ import annotations

import math
import re

import pytest
import torch
from test_viz_examples import reused_node, worked_example

from micrograd import Constant, Value, topological_order
from micrograd.nn import MLP
from viz import nudge
from viz.nudge import Nudge, NudgeTable


def J_of(w: float = 2.0, x: float = -2.0, b: float = 8.0, y: float = 2.0) -> float:
    """The worked example in plain floats: J = (w*x + b - y)**2 / 2."""
    return (w * x + b - y) ** 2 / 2


def snapshot(root: Value) -> list[tuple[float, float]]:
    return [(node.data, node.grad) for node in topological_order(root)]


def test_worked_example_w_as_in_the_course_notes() -> None:
    v = worked_example(backward=False)
    before = snapshot(v["J"])
    result = nudge(v["J"], v["w"])
    assert isinstance(result, Nudge)
    assert result.change == J_of(w=2.0 + 0.001) - 2.0 == ((2.001 * -2 + 8 - 2) ** 2 / 2 - 2)
    assert abs(result.change - -0.003998) < 1e-15
    assert (result.leaf, result.eps, result.before, result.after) == (v["w"], 0.001, 2.0, J_of(w=2.001))
    assert result.grad == -4.0 and result.predicted == -4.0 * 0.001
    assert str(result) == "w ↑ 0.001 → J ↑ −0.003998 (w̄ × 0.001 = −0.004)"
    assert snapshot(v["J"]) == before  # the graph is untouched, grads still 0


def test_the_course_notes_d_and_a_lines_through_their_inputs() -> None:
    # "b ↑ 0.001  a ↑ 0.001  J ↑ 0.002": J = (w*x + b - y)²/2 with w*x + b - y = 2
    v = worked_example(backward=False)
    b = nudge(v["J"], v["b"])
    assert b.change == J_of(b=8.0 + 0.001) - 2.0 and b.predicted == 2.0 * 0.001
    assert str(b) == "b ↑ 0.001 → J ↑ 0.0020005 (b̄ × 0.001 = 0.002)"  # 2·eps + eps²/2
    # a computed value is not an input: the message says which are
    with pytest.raises(
        ValueError,
        match=re.escape("nudge: d is computed by the graph (op '-'), not an input; nudge an input (w, x, b, y)"),
    ):
        nudge(v["J"], v["d"])


def test_table_of_every_input() -> None:
    v = worked_example(backward=False)
    table = nudge(v["J"])
    assert isinstance(table, NudgeTable) and len(table) == 4  # the constant 2 is not an input
    eps = 0.001
    expected = {  # name: (exact change, hand gradient)
        "w": (J_of(w=2.0 + eps) - 2.0, -4.0),
        "x": (J_of(x=-2.0 + eps) - 2.0, 4.0),
        "b": (J_of(b=8.0 + eps) - 2.0, 2.0),
        "y": (J_of(y=2.0 + eps) - 2.0, -2.0),
    }
    assert [row.name for row in table] == ["w", "x", "b", "y"]
    for row in table:
        change, grad = expected[row.name]
        assert (row.change, row.grad, row.predicted) == (change, grad, grad * eps), row.name
    assert str(table).splitlines() == [
        "input u  value  J ↑ when u ↑ 0.001  ū × 0.001  ū (total ∂J/∂u)",
        "w        2      −0.003998           −0.004     −4",
        "x        −2     0.004002            0.004      4",
        "b        8      0.0020005           0.002      2",
        "y        2      −0.0019995          −0.002     −2",
    ]
    markdown = table.markdown().splitlines()
    assert markdown[0] == "| input u | value | J ↑ when u ↑ 0.001 | ū × 0.001 | ū (total ∂J/∂u) |"
    assert markdown[1] == "|---|---|---|---|---|" and markdown[2] == "| w | 2 | −0.003998 | −0.004 | −4 |"
    html = table._repr_html_()
    assert html.startswith("<table>") and html.count("<tr>") == 5
    assert "<td>x</td><td>−2</td><td>0.004002</td><td>0.004</td><td>4</td>" in html


def test_reused_node() -> None:
    v = reused_node()  # s = a*a at a = 3, backward() done: a.grad = 6
    before = snapshot(v["s"])
    result = nudge(v["s"], v["a"])
    assert result.change == 3.001 * 3.001 - 9.0 and result.change == (3.0 + 0.001) * (3.0 + 0.001) - 9.0
    assert result.predicted == 6.0 * 0.001
    assert str(result) == "a ↑ 0.001 → s ↑ 0.006001 (ā × 0.001 = 0.006)"  # 2a·eps + eps²
    assert snapshot(v["s"]) == before


def test_the_users_stale_grad_is_not_used() -> None:
    v = worked_example()
    v["J"].backward()  # w.grad is now -8: accumulated over two calls
    v["w"].grad = 123.0  # or anything else the user left there
    before = snapshot(v["J"])
    assert nudge(v["J"], v["w"], eps=0.01).predicted == -4.0 * 0.01
    assert snapshot(v["J"]) == before


def test_negative_and_larger_steps() -> None:
    v = worked_example(backward=False)
    down = nudge(v["J"], v["x"], eps=-0.5)
    assert down.change == J_of(x=-2.0 - 0.5) - 2.0 == (2 * -2.5 + 8 - 2) ** 2 / 2 - 2
    assert str(down) == "x ↑ −0.5 → J ↑ −1.5 (x̄ × (−0.5) = −2)"


def test_nudge_converges_to_the_gradient_on_an_mlp_checked_by_torch() -> None:
    model = MLP(2, [4, 1], activation="tanh", seed=3)
    xs = [Value(0.7, "x0"), Value(-0.2, "x1")]
    out = model(xs)
    params = model.parameters()
    tp = [torch.tensor(p.data, dtype=torch.float64, requires_grad=True) for p in params]
    lookup = dict(zip(params, tp))
    hidden = [
        torch.tanh(lookup[n.b] + sum(lookup[w] * x.data for w, x in zip(n.w, xs))) for n in model.layers[0].neurons
    ]
    (last,) = model.layers[1].neurons
    t_out = lookup[last.b] + sum(lookup[w] * h for w, h in zip(last.w, hidden))
    t_out.backward()
    table = nudge(out, eps=1e-6)
    rows = {row.leaf: row for row in table}
    assert set(rows) == {*params, *xs}
    for p, t in zip(params, tp):
        assert abs(rows[p].grad - t.grad.item()) < 1e-12
        # forward difference: (f(p + eps) - f(p)) / eps = f' + O(eps)
        assert abs(rows[p].change / 1e-6 - t.grad.item()) < 1e-5, p.label


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda v: nudge(3.0), TypeError, "nudge() needs a micrograd Value"),
        (lambda v: nudge(v["J"], v["w"], eps=0), ValueError, "nudge(eps=0)"),
        (lambda v: nudge(v["J"], v["w"], eps=math.nan), ValueError, "nudge(eps=nan)"),
        (lambda v: nudge(v["J"], Value(1.0, "q")), ValueError, "is not part of the graph"),
        (lambda v: nudge(v["J"], 2.0), TypeError, "takes an input Value of the graph"),
        (
            lambda v: nudge(v["J"], next(n for n in topological_order(v["J"]) if isinstance(n, Constant))),
            ValueError,
            "nudge: 2 is a constant",
        ),
        (lambda v: nudge(Constant(2.0)), ValueError, "no inputs to move"),
    ],
)
def test_bad_input_is_refused_clearly(make, error, message) -> None:
    with pytest.raises(error, match=re.escape(message)):
        make(worked_example(backward=False))


def test_a_step_out_of_an_ops_domain_names_the_op() -> None:
    x = Value(0.0005, "x")
    J = (x * 2).log()
    J.label = "J"
    with pytest.raises(ValueError, match=re.escape("nudge: with x moved by −0.001, log(-0.001) is undefined")):
        nudge(J, x, eps=-0.001)
    assert nudge(J, x, eps=0.001).change == math.log(0.0015 * 2) - math.log(0.001)


def test_hostile_names_are_escaped_in_html_and_markdown() -> None:
    a = Value(1.0, "<b>|a&")
    J = a * 3
    J.label = "J"
    table = nudge(J)
    assert "<b>|a&" not in table._repr_html_() and "&lt;b&gt;|a&amp;" in table._repr_html_()
    assert "| &lt;b&gt;\\|a&amp; |" in table.markdown()  # Markdown renders HTML: markup stays text
