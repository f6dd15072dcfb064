"""Where each node of a drawing sits: in which scope cluster, or inside which collapsed box.

Nodes record the `micrograd.scope` they were built in ("L1.N0"). Leaves made outside any scope
(a model's parameters, the inputs) have none, so they are placed with the nodes that use them:
a weight used only by neuron L1.N0 is drawn inside that neuron, an input read by every neuron of
L1 inside the layer.
"""

from __future__ import annotations

from collections.abc import Iterable

from micrograd import Constant, Parameter, Value

COLLAPSE_LEVELS = ("neuron", "layer")


def uses_of(order: list[Value]) -> dict[Value, list[Value]]:
    """For each node, the nodes that take it as an operand (once per operand slot)."""
    uses: dict[Value, list[Value]] = {}
    for node in order:
        for child in node.children:
            uses.setdefault(child, []).append(node)
    return uses


def parent_scope(scope: str) -> str:
    """ "L1.N0" -> "L1"; "L1" -> ""."""
    return scope.rpartition(".")[0]


def _common_scope(scopes: Iterable[str]) -> str:
    """The innermost scope that holds all of `scopes` ("" if none does)."""
    common: list[str] | None = None
    for scope in scopes:
        parts = scope.split(".") if scope else []
        if common is None:
            common = parts
        else:
            n = 0
            while n < min(len(common), len(parts)) and common[n] == parts[n]:
                n += 1
            del common[n:]
        if not common:
            return ""
    return ".".join(common or [])


def placement(order: list[Value], uses: dict[Value, list[Value]]) -> dict[Value, str]:
    """The scope each node is drawn in: its own, or for an unscoped leaf that of its uses."""
    placed: dict[Value, str] = {}
    for node in order:
        scope = node.scope
        if not scope and not node.children and node in uses:
            scope = _common_scope(user.scope for user in uses[node])
        placed[node] = scope
    return placed


def group_name(scope: str, level: str) -> str:
    """The collapsed box a scope belongs to: itself for "neuron", one level up for "layer"."""
    if level == "layer" and "." in scope:
        return parent_scope(scope)
    return scope


def groups(order: list[Value], uses: dict[Value, list[Value]], level: str) -> dict[Value, str]:
    """The collapsed box of each node ("" if it is drawn on its own).

    An unscoped parameter or constant joins a box if every use of it is inside that box.
    Inputs stay visible, so a collapsed drawing still shows what flows into the model, and so
    does the root (last in `order`), so it still shows the result.
    """
    grouped: dict[Value, str] = {}
    for node in order[:-1]:
        name = group_name(node.scope, level) if node.scope else ""
        if not name and isinstance(node, (Parameter, Constant)) and node in uses:
            names = {group_name(user.scope, level) for user in uses[node]}
            name = names.pop() if len(names) == 1 else ""
        grouped[node] = name
    grouped[order[-1]] = ""
    return grouped


def folders(group_names: Iterable[str]) -> set[str]:
    """The scopes still drawn as clusters when `group_names` are boxes: only those that hold
    boxes ("L1" holds "L1.N0", "L1.N1", ...); a scope that is itself a box is no cluster."""
    found: set[str] = set()
    for name in group_names:
        scope = parent_scope(name)
        while scope and scope not in found:
            found.add(scope)
            scope = parent_scope(scope)
    return found - set(group_names)


def visible_scope(scope: str, clusters: set[str]) -> str:
    """The innermost of `clusters` around `scope` ("" for none)."""
    while scope and scope not in clusters:
        scope = parent_scope(scope)
    return scope
