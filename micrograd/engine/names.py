"""Readable names for the nodes of a graph, shared by every view that writes a node in words.

The step-through equations, the evaluation-trace table and the tape's printed source all name
nodes the same way, so a learner can match a line in one with a box in another:
- a labelled node is called by its label ("w", "L1.N0.b"); a constant by its number ("2");
- every other node is `v1`, `v2`, ... numbered in topological order, as in the evaluation traces
  of Baydin et al. (2018);
- if two different nodes carry the same label, the later ones get a suffix ("x", "x_2"), so one
  name never stands for two nodes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from .value import Constant, Value

__all__ = ["adjoint_name", "bar", "derivative_name", "node_names", "partial_name"]


def node_names(order: Sequence[Value]) -> dict[Value, str]:
    """A name for each node of `order` (a `topological_order`), deterministic for a given graph."""
    names: dict[Value, str] = {}
    taken: set[str] = {node.label for node in order if node.label}
    used: dict[str, int] = {}
    counter = 0
    for node in order:
        if node in names:
            continue
        if isinstance(node, Constant):
            names[node] = node.label  # constants may repeat: "2" is "2" wherever it appears
        elif node.label:
            # The k-th node labelled "x" is "x_k", or the first free "x_j" after it. The search
            # resumes where the last one for this label stopped (every suffix below it is
            # taken), so labels "x_2" ... "x_k" beside a repeated "x" are skipped once, not
            # once per repeat: linear in the graph's size.
            label = node.label
            seen = used.get(label, 0) + 1
            name = label if seen == 1 else f"{label}_{seen}"
            while seen > 1 and name in taken:
                seen += 1
                name = f"{label}_{seen}"
            used[label] = seen
            taken.add(name)
            names[node] = name
        else:
            counter += 1
            name = f"v{counter}"
            while name in taken:  # a user label "v1" keeps its name; the generated one moves on
                counter += 1
                name = f"v{counter}"
            names[node] = name
    return names


def bar(name: str) -> str:
    """The adjoint's name, ū = ∂J/∂u: a bar on the first character ("w" -> "w̄", "v3" -> "v̄3"), in
    Unicode's composed form (NFC), so "ā" is the one character a keyboard or a search would give."""
    return unicodedata.normalize("NFC", name[:1] + "\u0304" + name[1:])


def partial_name(of: str, wrt: str) -> str:
    """∂of/∂wrt as text: "∂c/∂w"; a name that is itself a fraction (a gradient named "∂J/∂w") is
    put in parentheses, "∂(∂J/∂w)/∂x", so the text reads one way only."""
    return f"∂{_grouped(of)}/∂{_grouped(wrt)}"


def _grouped(name: str) -> str:
    return f"({name})" if "/" in name else name


def adjoint_name(root: str, name: str) -> str:
    """The total gradient ∂root/∂name in the views: ū in the course's notation. When the root is
    itself a derivative (a gradient's own graph, "∂J/∂w"), whose nodes include adjoints named ū
    already, it is written as the derivative it is: ∂²J/∂u∂w (local derivatives there are written
    ∂(∂J/∂w)/∂u, so the two never look alike)."""
    return derivative_name(root, name) if root.startswith("∂") else bar(name)


_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_PLAIN = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")


def _power(name: str, k: int) -> str:
    return name if k == 1 else name + str(k).translate(_SUPERSCRIPT)


def derivative_name(of: str, wrt: str) -> str:
    """The name of ∂of/∂wrt: ("J", "w") -> "∂J/∂w"; ("∂J/∂w", "w") -> "∂²J/∂w²";
    ("∂J/∂w", "b") -> "∂²J/∂b∂w" (the derivative taken last written first, as in ∂/∂b ∂J/∂w)."""
    if "/" in wrt:  # with respect to a derivative (the output itself, in its own graph's views)
        return partial_name(of, wrt)
    head, slash, tail = of.partition("/")
    if of.startswith("∂") and slash and tail.startswith("∂") and len(tail) > 1 and "/" not in tail:
        order = head[1:]
        digits = len(order) - len(order.lstrip("⁰¹²³⁴⁵⁶⁷⁸⁹"))
        k = int(order[:digits].translate(_PLAIN)) if digits else 1
        numerator = order[digits:]
        parts = [p for p in tail.split("∂") if p]
        first = parts[0].rstrip("⁰¹²³⁴⁵⁶⁷⁸⁹")
        if first == wrt:
            count = parts[0][len(first) :]
            parts[0] = _power(wrt, (int(count.translate(_PLAIN)) if count else 1) + 1)
        else:
            parts.insert(0, wrt)
        return f"∂{_power('', k + 1)}{numerator}/" + "".join("∂" + p for p in parts)
    simple = of and not any(c in of for c in " /+−-×*()")
    return f"∂{of}/∂{wrt}" if simple else f"∂({of})/∂{wrt}"
