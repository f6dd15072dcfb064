"""The shared node names: labels, constants by their number, v1, v2, ... for the rest."""

from micrograd import Value, topological_order
from micrograd.engine.names import node_names


def names_of(root):
    order = topological_order(root)
    names = node_names(order)
    return [names[node] for node in order]


def test_worked_example_unlabelled_intermediates_are_numbered_in_topological_order():
    w, x, b, y = Value(2.0, "w"), Value(-2.0, "x"), Value(8.0, "b"), Value(2.0, "y")
    J = ((w * x + b - y) ** 2) / 2
    assert names_of(J) == ["w", "x", "v1", "b", "v2", "y", "v3", "v4", "2", "v5"]


def test_duplicate_labels_get_suffixes_and_generated_names_skip_user_labels():
    a, a2, v1 = Value(1.0, "a"), Value(2.0, "a"), Value(3.0, "v1")
    out = (a + a2) * v1
    assert names_of(out) == ["a", "a_2", "v2", "v1", "v3"]


def test_a_reused_node_has_one_name():
    a = Value(3.0, "a")
    out = a * a
    names = node_names(topological_order(out))
    assert len(names) == 2 and names[a] == "a" and names[out] == "v1"
