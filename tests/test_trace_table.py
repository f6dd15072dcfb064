"""viz.trace_table: the forward primal trace and reverse adjoint trace (Baydin et al. 2018).

Numbers are checked against the course's worked example (the handwritten notes *Train a Neural Network*: J = (w·x + b − y)²/2 at
w = 2, x = −2, b = 8, y = 2, whose notes give J = 2 and dJ/dd = dJ/da = dJ/dc = 2, dJ/dw = −4,
dJ/dx = 4, dJ/db = 2, dJ/dy = −2), against a node used twice worked by hand, and against PyTorch.
"""

from __future__ import annotations

import math

import pytest
import torch
from test_viz_examples import worked_example

from micrograd import Value
from viz.trace_table import trace_table


def worked_J() -> Value:
    """The course's worked example (tests/test_viz_examples.py), before backward()."""
    return worked_example(backward=False)["J"]


def final_adjoints(table) -> dict[str, float]:
    """The last row of each adjoint: the gradient of the output with respect to that node."""
    return {row.node: row.value for row in table.adjoint}


def test_worked_example_primal_trace():
    # written as the frames write them: × and the true minus, d² for d ** 2
    table = trace_table(worked_J())
    rows = [(r.name, r.definition, r.value) for r in table.primal]
    # c = 2·(−2) = −4, a = −4 + 8 = 4, d = 4 − 2 = 2, d² = 4, J = 4/2 = 2
    assert rows == [
        ("w", "input", 2.0),
        ("x", "input", -2.0),
        ("b", "input", 8.0),
        ("y", "input", 2.0),
        ("c", "w × x", -4.0),
        ("a", "c + b", 4.0),
        ("d", "a − y", 2.0),
        ("v1", "d²", 4.0),
        ("J", "v1 / 2", 2.0),
    ]


def test_worked_example_adjoint_trace_has_the_published_gradients():
    table = trace_table(worked_J())
    published = {"J": 1.0, "d": 2.0, "a": 2.0, "c": 2.0, "w": -4.0, "x": 4.0, "b": 2.0, "y": -2.0}
    got = final_adjoints(table)
    assert {name: got[name] for name in published} == published
    assert got["v1"] == 0.5  # ∂(v1/2)/∂v1
    # each row: local derivative × upstream adjoint = the adjoint (every node used once here)
    for row in table.adjoint[1:]:
        assert row.local * row.upstream == row.value
    assert [(r.adjoint, r.update, r.numbers) for r in table.adjoint[-2:]] == [
        ("w̄", "= ∂c/∂w × c̄", "−2 × 2"),
        ("x̄", "= ∂c/∂x × c̄", "2 × 2"),
    ]


def test_worked_example_as_plain_text():
    assert (
        str(trace_table(worked_J()))
        == """\
Forward primal trace
  variable   definition   value
  w          input            2
  x          input           −2
  b          input            8
  y          input            2
  c          w × x           −4
  a          c + b            4
  d          a − y            2
  v1         d²               4
  J          v1 / 2           2

Reverse adjoint trace (ū = ∂J/∂u)
  adjoint   update          numbers   value
  J̄         = 1                           1
  v̄1        = ∂J/∂v1 × J̄    0.5 × 1     0.5
  d̄         = ∂v1/∂d × v̄1   4 × 0.5       2
  ā         = ∂d/∂a × d̄     1 × 2         2
  ȳ         = ∂d/∂y × d̄     −1 × 2       −2
  c̄         = ∂a/∂c × ā     1 × 2         2
  b̄         = ∂a/∂b × ā     1 × 2         2
  w̄         = ∂c/∂w × c̄     −2 × 2       −4
  x̄         = ∂c/∂x × c̄     2 × 2         4"""
    )


def test_a_reused_node_sums_one_term_per_use():
    a = Value(3.0, "a")
    out = a * a + a  # d/da = 2a + 1 = 7 at a = 3
    table = trace_table(out)
    assert [(r.name, r.definition, r.value) for r in table.primal] == [
        ("a", "input", 3.0),
        ("v1", "a × a", 9.0),
        ("v2", "v1 + a", 12.0),
    ]
    assert [(r.adjoint, r.update, r.numbers, r.value) for r in table.adjoint] == [
        ("v̄2", "= 1", "", 1.0),
        ("v̄1", "= ∂v2/∂v1 × v̄2", "1 × 1", 1.0),
        ("ā", "= ∂v2/∂a × v̄2", "1 × 1", 1.0),  # the use in v2 = v1 + a
        ("ā", "+= ∂v1/∂a (1st) × v̄1", "3 × 1", 4.0),  # the two uses in v1 = a × a
        ("ā", "+= ∂v1/∂a (2nd) × v̄1", "3 × 1", 7.0),
    ]


def test_the_gradients_of_a_small_network_match_pytorch():
    inputs = {"x1": 0.5, "x2": -1.5, "w1": 0.8, "w2": -0.3, "b": 0.1}
    v = {k: Value(val, k) for k, val in inputs.items()}
    out = ((v["w1"] * v["x1"] + v["w2"] * v["x2"] + v["b"]).tanh() * v["x1"]).sigmoid().log()
    t = {k: torch.tensor(val, dtype=torch.float64, requires_grad=True) for k, val in inputs.items()}
    t_out = torch.log(torch.sigmoid(torch.tanh(t["w1"] * t["x1"] + t["w2"] * t["x2"] + t["b"]) * t["x1"]))
    t_out.backward()
    table = trace_table(out, precision=17)
    got = final_adjoints(table)
    assert table.primal[-1].value == pytest.approx(t_out.item(), rel=1e-12)
    for name in inputs:
        assert got[name] == pytest.approx(t[name].grad.item(), rel=1e-12), name


def test_the_users_graph_is_untouched():
    J = worked_J()
    J.backward()
    nodes = [J]
    before = []
    while nodes:
        node = nodes.pop()
        before.append((node, node.grad, node.data))
        nodes.extend(node.children)
    trace_table(J)
    assert all(node.grad == grad and node.data == data for node, grad, data in before)


def test_markdown_and_html_escape_labels():
    a = Value(1.5, "a|<b>&")
    table = trace_table(a * 2.0 + 1.0)
    md = table.markdown()
    assert "| a\\|&lt;b&gt;&amp; | input | 1.5 |" in md  # Markdown renders HTML: markup stays text
    assert md.splitlines()[:4] == [
        "**Forward primal trace**",
        "",
        "| variable | definition | value |",
        "|---|---|---:|",
    ]
    page = table._repr_html_()
    assert "a|&lt;b&gt;&amp;" in page and "<b>&" not in page
    assert page.count("<table>") == 2 and "Reverse adjoint trace (ū = ∂v2/∂u)" in page


def test_precision_and_bad_arguments():
    x = Value(1.0, "x")
    table = trace_table(x.exp(), precision=3)
    assert table.primal[-1].value == math.e
    assert "2.72" in str(table) and "2.718" not in str(table)
    with pytest.raises(TypeError, match="trace_table takes the output Value"):
        trace_table(3.0)
    with pytest.raises(ValueError, match="precision must be an int from 1 to 17"):
        trace_table(x, precision=0)
