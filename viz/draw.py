"""Draw a micrograd graph: one box per value (name │ value │ grad g), one small node per op.

Pictures are for a class: every number is as short as it is exact at the chosen precision (2,
−4, 0.5; `text.picture_number`), op nodes are small circles with the symbol, and constants are
small plain numbers with no box and no derivative (nothing in a picture is a derivative with
respect to a constant). The total gradient is marked "grad", because "∂" marks the local
derivatives written on edges (∂c/∂w). In Jupyter a `Drawing` shrinks to the cell only as far as
its text stays readable, and scrolls beyond (`viz.svg`).

The drawing is built from `micrograd.topological_order`, so node ids ("n0", "o3", "g1") are
positions in that walk: the same graph gives byte-identical DOT text on every run, and `a * a`
draws two edges because each operand slot is an edge. Nothing here computes a derivative:
edge labels are read from `Value.local_grads()`, the engine's single source of them.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import graphviz

from micrograd import Constant, Parameter, Value, topological_order
from micrograd.engine.higher import Derivative
from micrograd.engine.names import node_names, partial_name
from micrograd.engine.ops import OPS

from . import colors, dot
from .dot import run_dot
from .scopes import COLLAPSE_LEVELS, folders, group_name, groups, parent_scope, placement, uses_of, visible_scope
from .svg import fitted_html
from .text import (
    MINUS,
    op_symbol,
    picture_number,
    plain_label,
    record_field,
    record_label,
    short_number,
)

RANKDIRS = ("LR", "TB", "RL", "BT")
COLORINGS = ("grad", "role")
MAX_NODES = 2000  # dot takes about a second per thousand nodes, then grows much faster
# Edges cost dot more than nodes: one value used by 100 ops (w*w*...*w) takes it seconds, by 300
# minutes, by 500 three minutes and 800 MB. So both the edges of one drawn node and all edges
# are limited, and checked before anything is built.
MAX_FAN = 64  # edges into or out of one drawn node
MAX_EDGES = 4000
# A graph is walked (to count it) only this far before it is refused: counting a graph of a
# million nodes would cost seconds and a gigabyte before saying no. Collapsed drawings may come
# from graphs much larger than what they draw, so they get more room.
MAX_WALK = 100_000
MAX_SCOPE_DEPTH = 40  # scope clusters nested deeper make dot fail (3000 levels broke its input)
FONT = "Helvetica,Arial,sans-serif"  # a list that SVG viewers and fontconfig both understand
# Limits on dot's layout effort. Small drawings finish before reaching them (the worked example
# lays out identically), but a loss summed over a batch, whose shared nodes feed edges across
# hundreds of ranks, took dot 10 minutes without them and takes seconds with them.
LAYOUT_LIMITS = {"nslimit": "1", "mclimit": "0.5"}
# Font sizes in points (Graphviz's unit; 1 pt = 4/3 px). The smallest, 10 pt, is 13 px at natural
# size, so a drawing may shrink to 3/4 of it before its text falls below viz.svg.MIN_TEXT_PX.
FONT_SIZES = {"value": "12", "op": "12", "constant": "10", "edge": "10", "cluster": "11", "legend": "10"}
# Room between ranks and between nodes of a rank, in inches (dot's defaults: 0.5 and 0.25): the
# chain of the worked example is 11 ranks long, and its gaps were a third of its width.
SPACING = {"ranksep": "0.22", "nodesep": "0.18"}
# A box as small as its text (dot's default minimum is 0.75 × 0.5 inches), with little padding.
TIGHT = {"width": "0", "height": "0", "margin": "0.05,0.03"}

Highlight = Value | Iterable[Value] | None

# The three marks of a step-through frame (viz/steps.py), each drawn its own way so a legend can
# name them: the value this step finds (an orange box), the edge whose local derivative it uses
# (a thick purple arrow, its derivative written on it) and the value whose gradient or number it
# multiplies (a blue box).
FOCUS_CURRENT = ("#e66101", "#fee0b6")  # outline, fill
FOCUS_EDGE = "#5e3c99"
FOCUS_USED = ("#2166ac", "#d1e5f0")

# A gradient's own graph (`micrograd.grad(J, [w], create_graph=True)`) is made of new nodes and of
# the forward nodes its formulas use (the t of 1 − t × t): those are drawn grey with a dashed
# outline, and a caption under the picture says so.
REUSED = ("#616161", "#e8e8e8")  # outline, fill
REUSED_CAPTION = "a forward node the gradient’s graph reuses"


@dataclass(frozen=True)
class Focus:
    """What one frame of `steps()` points at (see the colours above); `legend` is an HTML-like
    Graphviz label drawn under the picture, or "" for none."""

    current: frozenset[Value] = frozenset()
    edges: frozenset[tuple[Value, int]] = frozenset()  # (consumer, operand slot)
    used: frozenset[Value] = frozenset()
    legend: str = ""
    ask: bool = False  # an exercise's question: the marked edges say "?" instead of their number


@dataclass(frozen=True)
class _Style:
    show_grad: bool
    edge_labels: bool
    color: str | None
    precision: int
    braces: bool  # record fields run left to right only inside braces when rankdir is LR/RL
    grads: Mapping[Value, float] | None = None  # see draw_with: shown instead of .grad
    known: Collection[Value] | None = None  # see draw_with: the others get a blank grad field
    names: Mapping[Value, str] = field(default_factory=dict)  # every node's name (micrograd.engine.names.node_names)
    mark: tuple[Any, Any] | None = None  # (consumer, slot) of the edge marked wrong (DrawOptions.mark_edge)
    values: Mapping[Value, float] | None = None  # see draw_with: shown instead of .data
    shown: Collection[Value] | None = None  # see draw_with: the others get a blank value field
    focus: Focus | None = None  # see draw_with
    reused: bool = False  # a gradient's graph: its forward (non-Derivative) nodes are drawn apart

    def grad(self, node: Value) -> float | None:
        """The gradient to show for `node`, None when it is not known yet (a blank field)."""
        if self.known is not None and node not in self.known:
            return None
        return node.grad if self.grads is None else self.grads[node]

    def grad_field(self, node: Value) -> str:
        grad = self.grad(node)
        if grad is not None:
            return f"grad {picture_number(grad, self.precision)}"
        # Blank, but as wide as the number to come, so the boxes keep their size from frame to
        # frame: figure spaces are as wide as digits (and about as wide as "−"), punctuation
        # spaces as wide as ".".
        final = node.grad if self.grads is None else self.grads[node]
        text = picture_number(final, self.precision)
        return "grad " + "".join("\u2007" if ch.isdigit() or ch == MINUS else "\u2008" for ch in text)

    def value_field(self, node: Value) -> str:
        value = node.data if self.values is None else self.values[node]
        text = picture_number(value, self.precision)
        if self.shown is None or node in self.shown:
            return text
        return "".join("\u2007" if ch.isdigit() or ch == MINUS else "\u2008" for ch in text)

    def name(self, node: Value) -> str:
        return self.names[node]


@dataclass
class _Item:
    """One Graphviz node, and the scope cluster it is drawn in ("" for none)."""

    scope: str
    name: str
    attrs: dict[str, str]


class Drawing(graphviz.Digraph):
    """What `draw()` returns: a `graphviz.Digraph` (`.source`, `.pipe`, `.render`, ... as ever)
    that Jupyter shows at its natural size where the cell is wide enough, else shrunk to the cell
    only as far as its text stays readable, and scrolled sideways beyond (`viz.svg`)."""

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kwargs: Any) -> dict[str, str]:
        svg = run_dot(self.source.encode("utf-8"), "svg", dot.DOT_TIMEOUT).decode("utf-8")
        # Jupyter prefers the HTML (it applies the rule); the SVG is for viewers that show no HTML.
        # text/plain has no address, so a stored notebook is the same from run to run.
        return {
            "text/html": fitted_html(svg),
            "image/svg+xml": svg,
            "text/plain": f"<micrograd drawing: {self.source.count(' -> ')} edges>",
        }


@dataclass(frozen=True)
class DrawOptions:
    """Every drawing option, its default and its check, in one place: `draw(J, precision=2)`,
    `save`, the frames of `steps` and the command line all read them from here.

    - show_grad: None (default) shows gradients once any node of the graph has a non-zero
      gradient, i.e. after `backward()`, and hides them before, so a fresh graph is not covered
      in zeros that look like results. True or False decides explicitly.
    - edge_labels: write on each edge into an op the local derivative ∂out/∂in of that operand
      slot, read from `local_grads()` (`a * a` gets two edges, each with ∂s/∂a = a). Edges from
      constants get none: nothing is learned or traced back through a constant.
    - color: "grad" fills boxes on a fixed blue-white-red scale by gradient; "role" tells
      parameters, inputs, constants and intermediate values apart. Both add a legend.
    - highlight: a node or nodes; they and every path from them to `root` are drawn in orange.
    - precision: digits after the point at most (2 stays "2", 0.123456 is "0.1235" at 4).
      rankdir: "LR" (default), "TB", "RL" or "BT".
    - collapse: "neuron" or "layer" draws each scope group (`micrograd.scope`, which `nn` uses)
      as one box: a neuron's box shows what it computes (its activation, "ReLU", "σ", or
      "linear"), its output and, with gradients, the output's gradient; a layer's box shows its
      size and activation ("3 × ReLU"). Without it, scopes are drawn as nested clusters.
    - max_nodes: a larger drawing is refused with a ValueError suggesting `collapse`.
    - mark_edge: one edge to mark as wrong, in red: `gradcheck(J).first_wrong_edge`, or a pair
      (consumer, operand slot); its local derivative is written on it.
    """

    show_grad: bool | None = None
    edge_labels: bool = False
    color: str | None = None
    highlight: Highlight = None
    precision: int = 4
    rankdir: str = "LR"
    collapse: str | None = None
    max_nodes: int = MAX_NODES
    mark_edge: Any = None

    def __post_init__(self) -> None:
        """Check every option: a wrong type is a TypeError, a wrong value a ValueError."""
        color, precision, rankdir, collapse, max_nodes = (
            self.color,
            self.precision,
            self.rankdir,
            self.collapse,
            self.max_nodes,
        )
        if self.show_grad is not None and not isinstance(self.show_grad, bool):
            raise TypeError(f"draw(show_grad={self.show_grad!r:.40}): choose None, True or False")
        if not isinstance(self.edge_labels, bool):
            raise TypeError(f"draw(edge_labels={self.edge_labels!r:.40}): choose True or False")
        if color is not None and color not in COLORINGS:
            raise ValueError(f"draw(color={color!r:.40}): choose None, 'grad' or 'role'")
        if isinstance(precision, bool) or not isinstance(precision, int):
            raise TypeError(f"draw(precision={precision!r:.40}): give a whole number of digits from 0 to 15")
        if not 0 <= precision <= 15:
            raise ValueError(f"draw(precision={precision!r:.40}): give a whole number of digits from 0 to 15")
        if rankdir not in RANKDIRS:
            raise ValueError(f"draw(rankdir={rankdir!r:.40}): choose one of {', '.join(RANKDIRS)}")
        if collapse is not None and collapse not in COLLAPSE_LEVELS:
            raise ValueError(f"draw(collapse={collapse!r:.40}): choose None, 'neuron' or 'layer'")
        if isinstance(max_nodes, bool) or not isinstance(max_nodes, int):
            raise TypeError(f"draw(max_nodes={max_nodes!r:.40}): give a positive whole number")
        if max_nodes < 1:
            raise ValueError(f"draw(max_nodes={max_nodes!r:.40}): give a positive whole number")
        if self.mark_edge is not None:
            consumer, slot = marked_edge(self.mark_edge)
            if not isinstance(consumer, Value) or slot not in range(len(consumer.children)):
                raise ValueError(
                    f"draw(mark_edge={self.mark_edge!r:.60}): give gradcheck(J).first_wrong_edge or a pair "
                    "(node, operand slot 0 or 1) of the graph"
                )


def marked_edge(mark: Any) -> tuple[Any, Any]:
    """(consumer, slot) from `gradcheck(J).first_wrong_edge` (an EdgeCheck) or from a pair."""
    if hasattr(mark, "consumer") and hasattr(mark, "slot"):
        return mark.consumer, mark.slot
    if isinstance(mark, tuple) and len(mark) == 2:
        return mark[0], mark[1]
    raise TypeError(f"draw(mark_edge={mark!r:.60}): give gradcheck(J).first_wrong_edge or a pair (node, operand slot)")


def draw(root: Value, **options: Any) -> Drawing:
    """The graph that computed `root`, as a `Drawing` (a `graphviz.Digraph`, shown inline in Jupyter).

    The options (show_grad, edge_labels, color, highlight, precision, rankdir, collapse,
    max_nodes) are keywords, described in `DrawOptions`.
    """
    return draw_with(root, DrawOptions(**options))


def draw_with(
    root: Value,
    options: DrawOptions,
    grads: Mapping[Value, float] | None = None,
    known: Collection[Value] | None = None,
    *,
    values: Mapping[Value, float] | None = None,
    shown: Collection[Value] | None = None,
    focus: Focus | None = None,
) -> Drawing:
    """`draw()` with its options made, and hooks for the step-through frames (viz/steps.py):

    - grads: show these gradients (one for every node) instead of each node's `.grad`.
    - known: show only these nodes' gradients; the others get a blank "grad" field, so "not
      known yet" never looks like 0.
    - values, shown: the same for the values (the forward pass, or the values after an update).
    - focus: mark the frame's node, edges and used values (`Focus`), with a legend.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw() needs a micrograd Value (the root of the graph), got {type(root).__name__}")
    color, rankdir, collapse, max_nodes = options.color, options.rankdir, options.collapse, options.max_nodes
    check_drawable(root, options)  # counted before anything is built
    order = topological_order(root)
    index = {node: i for i, node in enumerate(order)}  # Values hash by identity
    on_path = _on_path(order, index, options.highlight)
    show_grad = options.show_grad
    if show_grad is None:
        show_grad = grads is not None or any(node.grad != 0.0 for node in order)
    names = node_names(order)  # every view names nodes alike: the `v3` of a drawing is the `v3` of a trace
    style = _Style(
        bool(show_grad),
        bool(options.edge_labels),
        color,
        options.precision,
        rankdir in ("LR", "RL"),
        grads,
        known,
        names,
        None if options.mark_edge is None else marked_edge(options.mark_edge),
        values,
        shown,
        focus,
        any(isinstance(node, Derivative) for node in order),
    )
    uses = uses_of(order)
    if collapse is None:
        _check_size(len(order) + sum(1 for node in order if node.children), max_nodes, collapse)
        items, edges = _expanded(order, index, uses, on_path, style)
    else:
        items, edges = _collapsed(order, index, uses, on_path, style, collapse, max_nodes)
        _check_edges(_Size(len(items), len(edges), _widest(edges)[0]), collapse)
    _check_depth(items)

    graph = Drawing(
        "micrograd",
        graph_attr={"rankdir": rankdir, "fontname": FONT, **SPACING, **LAYOUT_LIMITS},
        node_attr={"fontname": FONT, "fontsize": FONT_SIZES["value"]},
        edge_attr={"fontname": FONT, "fontsize": FONT_SIZES["edge"], "fontcolor": "#444444", "arrowsize": "0.7"},
    )
    _add_items(graph, items)
    for tail, head, attrs in edges:
        graph.edge(tail, head, **attrs)
    legends = []
    if color is not None:
        has_nan = color == "grad" and any(math.isnan(style.grad(node) or 0.0) for node in order)
        legends.append(colors.grad_legend(has_nan) if color == "grad" else colors.role_legend())
    elif focus is not None and focus.legend:
        legends.append(focus.legend)
    if style.reused and any(_is_reused(node, style) for node in order):
        legends.append(_reused_legend())
    if legends:
        # Set last: a graph label set before the clusters would be inherited by them.
        graph.attr(label=_stacked(legends), labelloc="b", labeljust="l", fontsize=FONT_SIZES["legend"])
    return graph


def _is_reused(node: Value, style: _Style) -> bool:
    """In a gradient's graph, a node of the forward graph (a constant is just a number)."""
    return style.reused and not isinstance(node, (Derivative, Constant))


def _reused_legend() -> str:
    outline, fill = REUSED
    cell = f'<td bgcolor="{fill}" color="{outline}" style="dashed" border="1">{REUSED_CAPTION}</td>'
    return f'<<table border="0" cellborder="1" cellspacing="6" cellpadding="3"><tr>{cell}</tr></table>>'


def _stacked(legends: list[str]) -> str:
    """HTML-like labels (each `<...>`), one above the other in one label."""
    if len(legends) == 1:
        return legends[0]
    rows = "".join(f'<tr><td align="left">{legend[1:-1]}</td></tr>' for legend in legends)
    return f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="0">{rows}</table>>'


@dataclass(frozen=True)
class _Size:
    """What a drawing holds: its nodes and edges, and its busiest node (most edges in or out)."""

    nodes: int
    edges: int
    widest: int = 0
    widest_name: str = ""


def check_drawable(root: Value, options: DrawOptions | None = None) -> _Size:
    """Refuse (ValueError, saying what to do) a graph too large for `dot` to lay out in seconds:
    more than max_nodes nodes, MAX_EDGES edges, or MAX_FAN edges at one node. The graph is only
    walked as far as needed to say no, so a huge graph is refused at once. Returns the size of
    the drawing without collapse (for collapse, `draw` checks what it draws)."""
    options = options or DrawOptions()
    collapse, max_nodes = options.collapse, options.max_nodes
    limit = MAX_WALK if collapse is not None else max(MAX_WALK, max_nodes)
    seen: dict[int, Value] = {id(root): root}
    uses: dict[int, int] = {}  # times each node is an operand (each slot an edge)
    stack = [root]
    edges = ops = 0
    while stack:
        node = stack.pop()
        children = node.children
        if children:
            ops += 1
            edges += len(children) + 1  # each operand into the op, the op into its result
        for child in children:
            uses[id(child)] = uses.get(id(child), 0) + 1
            if id(child) not in seen:
                seen[id(child)] = child
                stack.append(child)
        if len(seen) > limit:
            _check_size(limit, max_nodes if collapse is None else -1, collapse, exact=False)
    if collapse is not None:
        return _Size(len(seen), edges)
    _check_size(len(seen) + ops, max_nodes, collapse)
    # The busiest drawn node: a value (its uses, plus the edge from its op) or an op (its operands and result).
    key, widest = max(
        ((key, count + (1 if seen[key].children else 0)) for key, count in uses.items()),
        key=lambda pair: pair[1],
        default=(id(root), 0),
    )
    widest_op = max((len(node.children) + 1 for node in seen.values() if node.children), default=0)
    size = _Size(len(seen) + ops, edges, max(widest, widest_op), seen[key].label if widest >= widest_op else "")
    _check_edges(size, collapse)
    return size


def _widest(edges: list[Edge]) -> tuple[int, str]:
    """The most edges at one drawn node, and that node's id."""
    count: dict[str, int] = {}
    for tail, head, _ in edges:
        count[tail] = count.get(tail, 0) + 1
        count[head] = count.get(head, 0) + 1
    name = max(count, key=count.__getitem__, default="")
    return count.get(name, 0), name


def _check_edges(size: _Size, collapse: str | None) -> None:
    hint = {
        None: "draw a smaller part of the graph (a model: draw it with collapse='neuron' or 'layer')",
        "neuron": "draw it with collapse='layer', or a smaller part of it",
        "layer": "draw a smaller part of the graph",
    }[collapse]
    if size.widest > MAX_FAN:
        which = f" ({size.widest_name!r:.40})" if size.widest_name else ""
        raise ValueError(
            f"one node{which} of this graph has {size.widest} edges to draw, more than {MAX_FAN}, and Graphviz "
            f"would take minutes to lay them out: {hint}; a value used that often, as in w*w*...*w, can be "
            "computed with fewer uses (w**n)"
        )
    if size.edges > MAX_EDGES:
        raise ValueError(
            f"this graph has {size.edges} edges to draw, more than {MAX_EDGES}, and Graphviz would take "
            f"minutes to lay them out: {hint}"
        )


def _check_depth(items: list[_Item]) -> None:
    deepest = max((item.scope.count(".") + 1 for item in items if item.scope), default=0)
    if deepest > MAX_SCOPE_DEPTH:
        raise ValueError(
            f"this graph's scopes are nested {deepest} deep, more than {MAX_SCOPE_DEPTH} that a drawing can "
            "show as nested boxes: build it with fewer nested `scope`s, or draw it with collapse='layer'"
        )


def _check_size(count: int, max_nodes: int, collapse: str | None, exact: bool = True) -> None:
    if count <= max_nodes:
        return
    if max_nodes < 0:  # a collapsed drawing of a graph too large even to walk
        raise ValueError(
            f"this graph has more than {MAX_WALK} nodes, too many to draw even collapsed: draw a smaller part of it"
        )
    hint = {
        None: "draw it with collapse='neuron' or collapse='layer' (for graphs built in scopes, as nn models are)",
        "neuron": "draw it with collapse='layer'",
        "layer": "draw a smaller part of it",
    }[collapse]
    raise ValueError(
        f"this graph has {'' if exact else 'more than '}{count} nodes to draw, more than max_nodes={max_nodes}, and Graphviz "
        f"would take minutes to lay it out: {hint}, or pass a larger max_nodes"
    )


def _on_path(order: list[Value], index: dict[Value, int], highlight: Highlight) -> list[bool]:
    """For each node in `order`: is it highlighted, or on a path from a highlighted node to the root?"""
    if highlight is None:
        return [False] * len(order)
    chosen = [highlight] if isinstance(highlight, Value) else list(highlight)
    for node in chosen:
        if not isinstance(node, Value):
            raise TypeError(f"highlight= takes Values of the graph, got {type(node).__name__}")
        if node not in index:
            raise ValueError(f"highlight: {node!r:.80} is not part of the graph being drawn")
    marked = set(chosen)
    on_path: list[bool] = []
    for node in order:  # children come first, so one pass carries the mark up to the root
        on_path.append(node in marked or any(on_path[index[child]] for child in node.children))
    return on_path


# -- the pieces of a drawing ----------------------------------------------------------------------


def _value_attrs(node: Value, style: _Style, on_path: bool) -> dict[str, str]:
    if isinstance(node, Constant):
        # A small plain number: no box, so it does not look like a value the class should track.
        attrs = {"shape": "plaintext", "fontsize": FONT_SIZES["constant"], "fontcolor": "#424242", **TIGHT}
        # The engine labels a constant with its exact repr (0.3333333333333333); show it briefly
        # unless someone gave it a label of their own.
        default = node.label == Constant(node.data).label
        attrs["label"] = plain_label(
            short_number(node.data).replace("-", MINUS) if default or not node.label else node.label
        )
        if style.color is not None:
            attrs.update(style="filled", fillcolor=colors.ROLE_COLORS["constant"])
    else:
        name = style.name(node)
        fields = [record_field(name)] if name else []
        fields.append(style.value_field(node))
        grad = style.grad(node)
        if style.show_grad:
            fields.append(style.grad_field(node))
        attrs = {"shape": "record", "label": record_label(fields, style.braces), **TIGHT}
        fill = None
        if style.color == "grad" and grad is not None:
            fill = colors.grad_color(grad)
        elif style.color == "role":
            fill = colors.ROLE_COLORS[colors.role(node)]
        if fill is not None:
            attrs.update(style="filled", fillcolor=fill, fontcolor=colors.text_color(fill))
        if _is_reused(node, style):
            outline, reused_fill = REUSED
            attrs.update(style="filled,dashed", fillcolor=fill or reused_fill, color=outline)
    if on_path:
        attrs.update(color=colors.HIGHLIGHT, penwidth="2.5")
    if style.focus is not None and not isinstance(node, Constant):
        for marks, (outline, fill) in ((style.focus.used, FOCUS_USED), (style.focus.current, FOCUS_CURRENT)):
            if node in marks:
                attrs.update(style="filled", fillcolor=fill, color=outline, penwidth="2.5", fontcolor="black")
    return attrs


def _op_attrs(node: Value, on_path: bool) -> dict[str, str]:
    # ordering=in asks dot to keep the operands in order along the op node's side (a − b: a
    # above b in LR); edges are also written in operand order.
    # A circle 0.27 inches across for a one-character symbol, an ellipse around a longer one.
    attrs = {
        "label": plain_label(op_symbol(node).replace("-", MINUS)),
        "shape": "ellipse",
        "width": "0.27",
        "height": "0.27",
        "margin": "0.02,0.01",
        "fontsize": FONT_SIZES["op"],
        "ordering": "in",
    }
    if node.user_op:  # its derivative comes from user code (a _backward): a dashed outline says so
        attrs.update(style="dashed", tooltip="an op defined by user code: its derivative comes from its _backward")
    if on_path:
        attrs.update(color=colors.HIGHLIGHT, penwidth="2.5")
    return attrs


def _edge_label(node: Value, child: Value, local: float, style: _Style, ask: bool = False) -> str:
    """The local derivative ∂out/∂in on an edge: "∂c/∂w = −2", or "∂c/∂w = ?" when it is an
    exercise's question."""
    number = "?" if ask else picture_number(local, style.precision)
    out, into = style.name(node), style.name(child)
    if out and into:
        return plain_label(f"{partial_name(out, into)} = {number}")
    return plain_label(f"∂ = {number}")


def _path_attrs(on_path: bool) -> dict[str, str]:
    return {"color": colors.HIGHLIGHT, "penwidth": "2"} if on_path else {}


Edge = tuple[str, str, dict[str, str]]


def _op_edges(i: int, node: Value, tails: list[tuple[str, bool]], on_path: list[bool], style: _Style) -> list[Edge]:
    """The edges of one drawn op: each operand into it, then it into its result.

    `tails` gives, per operand, the drawn node it comes from and whether that is on a highlighted path.
    """
    edges: list[Edge] = []
    local = node.local_grads() if style.edge_labels else ()
    for slot, (child, (tail, tail_on_path)) in enumerate(zip(node.children, tails)):
        attrs = _path_attrs(on_path[i] and tail_on_path)
        if local and not isinstance(child, Constant):
            attrs["label"] = _edge_label(node, child, local[slot], style)
        if style.focus is not None and not isinstance(child, Constant):
            # A frame writes the local derivative on the edge it uses; every other such edge gets
            # its label too, transparent, so the layout (and every box) is the same in all frames.
            used = (node, slot) in style.focus.edges
            attrs["label"] = _edge_label(node, child, node.local_grads()[slot], style, used and style.focus.ask)
            if used:
                attrs.update(color=FOCUS_EDGE, penwidth="3.5", fontcolor=FOCUS_EDGE)
            elif not style.edge_labels:
                attrs["fontcolor"] = "transparent"
        if style.mark == (node, slot):  # the edge gradcheck found wrong
            derivative = node.local_grads()[slot]
            attrs.update(
                color=colors.WRONG,
                penwidth="3",
                fontcolor=colors.WRONG,
                label=_edge_label(node, child, derivative, style),
            )
        edges.append((tail, f"o{i}", attrs))
    edges.append((f"o{i}", f"n{i}", _path_attrs(on_path[i] and any(on for _, on in tails))))
    return edges


def _expanded(
    order: list[Value], index: dict[Value, int], uses: dict[Value, list[Value]], on_path: list[bool], style: _Style
) -> tuple[list[_Item], list[Edge]]:
    """Every value and op as its own node; scopes become nested clusters."""
    placed = placement(order, uses)
    items: list[_Item] = []
    edges: list[Edge] = []
    for i, node in enumerate(order):
        items.append(_Item(placed[node], f"n{i}", _value_attrs(node, style, on_path[i])))
        if node.children:
            tails = [(f"n{index[child]}", on_path[index[child]]) for child in node.children]
            items.append(_Item(placed[node], f"o{i}", _op_attrs(node, on_path[i] and any(on for _, on in tails))))
            edges += _op_edges(i, node, tails, on_path, style)
    return items, edges


def _collapsed(
    order: list[Value],
    index: dict[Value, int],
    uses: dict[Value, list[Value]],
    on_path: list[bool],
    style: _Style,
    level: str,
    max_nodes: int,
) -> tuple[list[_Item], list[Edge]]:
    """Each scope group as one box (edges touching a box drawn once); other nodes as usual."""
    grouped = groups(order, uses, level)
    group_ids: dict[str, str] = {}  # group name -> "g0", "g1", ... in order of first appearance
    outputs: dict[str, list[Value]] = {}  # the members used outside the box: what it computes
    learns: set[str] = set()  # the boxes holding parameters (neurons and layers, not a loss)
    group_on_path: dict[str, bool] = {}
    for i, node in enumerate(order):
        name = grouped[node]
        if name:
            group_ids.setdefault(name, f"g{len(group_ids)}")
            outputs.setdefault(name, [])
            if any(grouped[user] != name for user in uses.get(node, [])):
                outputs[name].append(node)
            if isinstance(node, Parameter):
                learns.add(name)
            group_on_path[name] = group_on_path.get(name, False) or on_path[i]
    # The root is always drawn on its own (scopes.groups); when it is the result of a box (the
    # last "+" of a linear output neuron), the box is named after it and leaves its number to it.
    root = order[-1]
    root_box = group_name(root.scope, level) if root.scope else ""
    if root_box in outputs:
        outputs[root_box] = [root]
    plain = [node for node in order if not grouped[node]]
    _check_size(len(group_ids) + len(plain) + sum(1 for node in plain if node.children), max_nodes, level)

    def drawn(node: Value) -> tuple[str, bool]:
        name = grouped[node]
        return (group_ids[name], group_on_path[name]) if name else (f"n{index[node]}", on_path[index[node]])

    placed = placement(order, uses)
    clusters = folders(group_ids)
    for node in plain:
        placed[node] = visible_scope(placed[node], clusters)
    items = [
        _Item(
            parent_scope(name),
            gid,
            _group_attrs(name, outputs[name], name in learns, name == root_box, group_on_path[name], style),
        )
        for name, gid in group_ids.items()
    ]
    edges: list[Edge] = []
    seen: set[tuple[str, str]] = set()
    for i, node in enumerate(order):
        name = grouped[node]
        if name:  # inside a box: only the edges that enter the box from outside are drawn
            for child in node.children:
                tail, tail_on_path = drawn(child)
                if grouped[child] != name and (tail, group_ids[name]) not in seen:
                    seen.add((tail, group_ids[name]))
                    edges.append((tail, group_ids[name], _path_attrs(tail_on_path and group_on_path[name])))
            continue
        items.append(_Item(placed[node], f"n{i}", _value_attrs(node, style, on_path[i])))
        if not node.children:
            continue
        tails = [drawn(child) for child in node.children]
        items.append(_Item(placed[node], f"o{i}", _op_attrs(node, on_path[i] and any(on for _, on in tails))))
        operands: list[Value | None] = [*node.children, None]  # None: the last edge, from the op to its result
        for operand, (tail, head, attrs) in zip(operands, _op_edges(i, node, tails, on_path, style)):
            if operand is not None and grouped[operand]:  # from a box: once, without a local derivative
                if (tail, head) in seen:
                    continue
                seen.add((tail, head))
                attrs.pop("label", None)
            edges.append((tail, head, attrs))
    return items, edges


def _computes(output: Value, learns: bool) -> str:
    """What a box computes, named by its output's op: the activation ("ReLU", "σ", "tanh"), or
    "linear" for a neuron without one (its output is the weighted sum's last "+")."""
    op = OPS.get(output.op)
    if op is not None and op.activation is None and output.op == "+" and learns:
        return "linear"
    return op_symbol(output).replace("-", MINUS) if output.children else ""


def _group_attrs(
    name: str, outputs: list[Value], learns: bool, feeds_root: bool, on_path: bool, style: _Style
) -> dict[str, str]:
    """A collapsed box. With one output (a neuron, a loss): name │ what it computes │ value │
    grad g (the value left to the root's box when that is the output). With several (a layer):
    name │ how many and what ("3 × ReLU")."""
    fields = [record_field(name)]
    computes = [_computes(output, learns) for output in outputs]
    if len(outputs) == 1:
        (output,) = outputs
        if computes[0] and (learns or not feeds_root):  # a loss's "÷" is drawn right after its box
            fields.append(record_field(computes[0]))
        if not feeds_root:
            fields.append(picture_number(output.data, style.precision))
            if style.show_grad:
                fields.append(style.grad_field(output))
    elif outputs:
        # A layer: how many neurons (its outputs' scopes), each "tanh"; a neuron of a batch loss
        # has one output per sample, all from its one scope: just "tanh".
        count = len({output.scope for output in outputs}) if learns else len(outputs)
        if len(set(computes)) > 1:
            fields.append(record_field(f"{count} outputs"))
        elif computes[0]:
            fields.append(record_field(computes[0] if count == 1 else f"{count} × {computes[0]}"))
    label = record_label(fields, style.braces)
    attrs = {"shape": "Mrecord", "label": label, "style": "filled", "fillcolor": colors.GROUP_COLOR, **TIGHT}
    if on_path:
        attrs.update(color=colors.HIGHLIGHT, penwidth="2.5")
    return attrs


def _add_items(graph: graphviz.Digraph, items: list[_Item]) -> None:
    """Add the nodes, each scope a cluster nested in its parent's (walked with a stack)."""
    by_scope: dict[str, list[_Item]] = {}
    children: dict[str, list[str]] = {}  # scope -> its nested scopes, in order of first appearance
    known = {""}
    for item in items:
        by_scope.setdefault(item.scope, []).append(item)
        scope = item.scope
        while scope not in known:  # register the scope and its missing ancestors
            known.add(scope)
            children.setdefault(parent_scope(scope), []).append(scope)
            scope = parent_scope(scope)
    for item in by_scope.get("", []):
        graph.node(item.name, **item.attrs)
    # Each stack entry: (scope, the Digraph holding its cluster, its parent's Digraph).
    stack: list[tuple[str, graphviz.Digraph | None, graphviz.Digraph]] = []
    clusters = 0
    for scope in reversed(children.get("", [])):
        stack.append((scope, None, graph))
    while stack:
        scope, cluster, parent = stack.pop()
        if cluster is not None:  # all nested clusters are done: attach this one to its parent
            parent.subgraph(cluster)
            continue
        cluster = graphviz.Digraph(
            f"cluster_{clusters}",
            graph_attr={
                "label": plain_label(scope),
                "style": "rounded,dashed",
                "color": "#9e9e9e",
                "fontcolor": "#616161",
                "fontsize": FONT_SIZES["cluster"],
                "labeljust": "l",
            },
        )
        clusters += 1
        for item in by_scope.get(scope, []):
            cluster.node(item.name, **item.attrs)
        stack.append((scope, cluster, parent))
        for inner in reversed(children.get(scope, [])):
            stack.append((inner, None, cluster))
