"""The network view of the slides: neurons as circles in columns, every weight an edge.

`draw(root)` shows every scalar of a forward pass, which is what backprop *is*; a class first meets
a network as the textbook draws it (Han, Kamber & Pei, "Data Mining", Figure 9.5): inputs on the
left, then each layer's neurons in a column, one edge per weight, the bias inside its neuron.
`draw_network(model)` draws that picture of a `micrograd.nn.MLP` or a `Sequential` of `Dense`
layers. Given an input it also shows each neuron's net input and output, and given a target the
gradients of the squared error, computed by the engine on a copy of the graph, so the model's
`.grad` fields are never touched.

Units are numbered as in the textbook: the inputs are units 1..n (drawn x1..xn), then the neurons
layer after layer, so w14 is the weight from unit 1 into unit 4. The model's own names of the
parameters ("L1.N0.w2") are the tooltips of the edges and neurons of an SVG.
"""

from __future__ import annotations

import html
import itertools
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import graphviz

from micrograd import Parameter, Value
from micrograd.engine import is_grad_enabled, weighted_sum
from micrograd.engine.graph import gradients
from micrograd.nn import ACTIVATIONS, MLP, Dense, Dropout, Neuron, Sequential

from . import colors
from .text import OP_SYMBOLS, format_number, plain_label

FONT = "Helvetica,Arial,sans-serif"  # as viz/draw.py: SVG viewers and fontconfig both know it
MAX_WEIGHTS = 1000  # dot lays out MLP(2, [16, 16, 1]) (304 weights) in a second; 10 000 take minutes
AUTO_LABELS_MAX = 12  # weight_labels=None writes numbers on edges when no two columns have more between them

NEGATIVE = colors.GRAD_SCALE[-1][1]  # the darkest blue and red of the gradient scale: the sign of a weight
POSITIVE = colors.GRAD_SCALE[-1][2]
ZERO = "#9e9e9e"
INPUT_FILL = colors.GROUP_COLOR
LOSS_FILL = "#f0f0f0"


@dataclass(frozen=True)
class NetworkOptions:
    """Every option of `draw_network`, its default and its check, in one place.

    - weight_labels: None (default) writes each weight (and, with a target, its gradient) on its
      edge when the network is small: at most 12 weights between any two columns, as in the 3-2-1
      network of the slides. Larger networks get thin unlabelled edges, whose colour and width
      still show each weight. True or False decides explicitly.
    - precision: at most this many digits after the point (trailing zeros are dropped: 0.2, not
      0.2000), from 0 to 15.
    - max_weights: a network with more weights is refused with a ValueError (dot would take
      minutes to lay it out).
    """

    weight_labels: bool | None = None
    precision: int = 4
    max_weights: int = MAX_WEIGHTS

    def __post_init__(self) -> None:
        """Check every option: a wrong type is a TypeError, a wrong value a ValueError."""
        labels, precision, max_weights = self.weight_labels, self.precision, self.max_weights
        if labels is not None and not isinstance(labels, bool):
            raise TypeError(f"draw_network(weight_labels={labels!r:.40}): choose None (auto), True or False")
        if isinstance(precision, bool) or not isinstance(precision, int):
            raise TypeError(f"draw_network(precision={precision!r:.40}): give a whole number of digits from 0 to 15")
        if not 0 <= precision <= 15:
            raise ValueError(f"draw_network(precision={precision!r:.40}): give a whole number of digits from 0 to 15")
        if isinstance(max_weights, bool) or not isinstance(max_weights, int):
            raise TypeError(f"draw_network(max_weights={max_weights!r:.40}): give a positive whole number")
        if max_weights < 1:
            raise ValueError(f"draw_network(max_weights={max_weights!r:.40}): give a positive whole number")


@dataclass(frozen=True)
class _Column:
    """One layer of neurons as the picture shows it."""

    neurons: list[Neuron]
    activation: str  # "sigmoid", ..., "linear", or "softmax" (over the whole column)
    dense: Dense | None  # the Sequential layer, which applies a softmax after its neurons


@dataclass
class _Pass:
    """The numbers of one forward pass (and, with a target, of its backward pass)."""

    inputs: list[float]
    nets: list[list[float]]  # per column, per neuron
    outs: list[list[float]]
    target: list[float] | None = None
    loss: float | None = None
    net_grads: list[list[float]] | None = None  # ∂E/∂net per column, per neuron
    weight_grads: dict[Parameter, float] | None = None  # ∂E/∂w for every weight


def draw_network(
    model: MLP | Sequential,
    x: Sequence[float] | None = None,
    target: float | Sequence[float] | None = None,
    **options: Any,
) -> graphviz.Digraph:
    """The network `model` as the slides draw it, as a `graphviz.Digraph` (`viz.save` writes it).

    Inputs, hidden neurons and outputs are circles in columns, left to right; each neuron shows
    its unit number, its activation and its bias b (the textbook's θ). Every weight is an edge:
    red for a positive weight, blue for a negative one, wider for a larger |w|.

    - x (a list of numbers, one per input): each neuron also shows its net input
      net = Σ w·in + b and its output out = activation(net).
    - target (a number, or one per output; needs x): the loss E = ½ Σ (target − out)² is built
      from the same Values and differentiated by the engine on a copy of the graph (the model's
      `.grad` fields stay as they are). Each neuron shows ∂E/∂net, the gradient of the loss
      with respect to its net input, which is what `backward()` gives; Han & Kamber's "Err" is
      its negative, Err = −∂E/∂net. Each edge shows ∂E/∂w = ∂E/∂net of the neuron it enters
      × out of the unit it leaves.

    A `Sequential` may hold `Dense` and `Dropout` layers: a Dropout passes its input through
    outside training, so it is not drawn (the legend says so). The options (weight_labels,
    precision, max_weights) are described in `NetworkOptions`.
    """
    opts = NetworkOptions(**options)
    columns, notes = _columns(model)
    nin = len(columns[0].neurons[0].w)
    weights = sum(len(c.neurons) * len(c.neurons[0].w) for c in columns)
    if weights > opts.max_weights:
        raise ValueError(
            f"draw_network: this network has {weights} weights, more than max_weights={opts.max_weights}, "
            "and Graphviz would take minutes to lay it out; draw a smaller network or pass a larger max_weights"
        )
    numbers_in = None if x is None else _numbers("x", x, nin, "one per input of the model")
    numbers_out = None
    if target is not None:
        if numbers_in is None:
            raise ValueError("draw_network: a target needs an input x (the loss compares the output for x with it)")
        nout = len(columns[-1].neurons)
        numbers_out = _numbers("target", [target] if _is_number(target) else target, nout, "one per output")
        if not is_grad_enabled():
            raise RuntimeError("draw_network: gradients are off inside no_grad(); draw the network outside it")
    run = None if numbers_in is None else _forward(columns, numbers_in, numbers_out)
    sizes = [nin, *(len(c.neurons) for c in columns)]
    labels = opts.weight_labels
    if labels is None:
        labels = max(a * b for a, b in itertools.pairwise(sizes)) <= AUTO_LABELS_MAX
    return _graph(columns, run, labels, opts.precision, notes)


# -- the model as columns ------------------------------------------------------------------------


def _columns(model: Any) -> tuple[list[_Column], list[str]]:
    """The columns of neurons of an MLP or a Sequential, and notes on layers left out."""
    if isinstance(model, MLP):
        return [_Column(layer.neurons, layer.activation, None) for layer in model.layers], []
    if not isinstance(model, Sequential):
        raise TypeError(
            f"draw_network() draws a micrograd.nn.MLP or a Sequential of Dense layers, got {type(model).__name__}"
        )
    model.require_built("draw_network")
    columns: list[_Column] = []
    notes: list[str] = []
    for i, layer in enumerate(model.layers):
        if isinstance(layer, Dense) and layer.layer is not None:
            columns.append(_Column(layer.layer.neurons, layer.activation, layer))
        elif isinstance(layer, Dropout):
            notes.append(f"{layer.name}: Dropout({layer.rate:g}) is not drawn; outside training it passes its input on")
        else:
            raise TypeError(
                f"draw_network() draws Dense layers (and skips Dropout); layer {i} of the model, "
                f"{layer.name or '?'}, is {type(layer).__name__}: {layer!r:.60}"
            )
    if not columns:
        raise ValueError("draw_network: the model has no Dense layer to draw")
    return columns, notes


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and type(value).__name__ != "bool_"


def _numbers(name: str, values: Any, n: int, wanted: str) -> list[float]:
    """`values` as n finite floats; a TypeError for a non-list or a non-number, else a ValueError."""
    if isinstance(values, (str, bytes, dict)) or not (hasattr(values, "__len__") and hasattr(values, "__iter__")):
        raise TypeError(f"draw_network: {name} must be a list of numbers ({wanted}), got {type(values).__name__}")
    values = list(values)
    if len(values) != n:
        raise ValueError(f"draw_network: {name} must have {n} numbers ({wanted}), got {len(values)}")
    for i, value in enumerate(values):
        if not _is_number(value):
            raise TypeError(f"draw_network: {name}[{i}] must be a number, got {type(value).__name__}: {value!r:.40}")
        if not math.isfinite(value):
            raise ValueError(f"draw_network: {name}[{i}] must be finite, got {value!r:.40}")
    return [float(value) for value in values]


# -- the numbers -----------------------------------------------------------------------------------


def _forward(columns: list[_Column], x: list[float], target: list[float] | None) -> _Pass:
    """The forward pass with the model's own Parameters, built by the ops a neuron uses (so the
    numbers are bit for bit the model's), and with a target the gradients of the loss."""
    values: list[Value] = [Value(xi, f"x{i + 1}") for i, xi in enumerate(x)]
    nets: list[list[Value]] = []
    outs: list[list[Value]] = []
    for column in columns:
        net = [weighted_sum(n.b, n.w, values) for n in column.neurons]
        out = [ACTIVATIONS[n.activation](v) for n, v in zip(column.neurons, net)]
        if column.dense is not None:
            out = column.dense.after_tape(out)  # the softmax of a softmax layer; else unchanged
        nets.append(net)
        outs.append(out)
        values = out
    run = _Pass(x, [[v.data for v in net] for net in nets], [[v.data for v in out] for out in outs])
    if target is None:
        return run
    total = (target[0] - values[0]) ** 2
    for t, out_value in zip(target[1:], values[1:]):
        total = total + (t - out_value) ** 2
    loss = total * 0.5
    grads = gradients(loss).grads  # on a copy: no .grad is touched
    run.target, run.loss = target, loss.data
    run.net_grads = [[grads[v] for v in net] for net in nets]
    run.weight_grads = {w: grads[w] for column in columns for n in column.neurons for w in n.w}
    return run


# -- the picture -----------------------------------------------------------------------------------


def _number(x: float, precision: int) -> str:
    """`format_number`, without the trailing zeros of its fixed form: 0.2, -0.7, 0.3318, 1."""
    text = format_number(x, precision)
    if "e" in text or "." not in text:
        return text
    text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _activation_name(activation: str) -> str:
    if activation in ("linear", "softmax"):
        return activation
    return OP_SYMBOLS.get(activation, activation)


def _html(text: str) -> str:
    return html.escape(text, quote=False)


def _lines(title: str, lines: list[tuple[str, str]]) -> str:
    """An HTML-like label: the bold title, then each (text, colour) on its own line."""
    body = "".join(f'<br/><font color="{color}">{_html(text)}</font>' for text, color in lines)
    return f'<<font point-size="14"><b>{_html(title)}</b></font>{body}>'


def _weight_name(i: int, j: int, wide: bool) -> str:
    """w14 as in the textbook; w10,11 once a unit number has two digits."""
    return f"w{i},{j}" if wide else f"w{i}{j}"


def _edge_style(w: float, largest: float, thin: bool) -> dict[str, str]:
    """Colour by sign, width (and, in a large network, opacity) by |w| relative to the largest."""
    share = abs(w) / largest if largest > 0 else 0.0
    color = ZERO if w == 0 else NEGATIVE if w < 0 else POSITIVE
    if thin:
        width = 0.4 + 1.6 * share
        if w != 0:
            color += f"{round(64 + 191 * share):02x}"  # faint for a small weight, opaque for the largest
    else:
        width = 0.8 + 3.2 * share
    attrs = {"color": color, "penwidth": f"{width:.2f}", "arrowsize": f"{0.4 + 0.3 * share:.2f}"}
    if w == 0:
        attrs["style"] = "dashed"
    return attrs


def _graph(
    columns: list[_Column], run: _Pass | None, labels: bool, precision: int, notes: list[str]
) -> graphviz.Digraph:
    def num(x: float) -> str:
        return _number(x, precision)

    nin = len(columns[0].neurons[0].w)
    units = nin + sum(len(c.neurons) for c in columns)
    wide = units >= 10
    thin = not labels
    graph = graphviz.Digraph(
        "network",
        graph_attr={
            "rankdir": "LR",
            "fontname": FONT,
            "ranksep": "1.6" if labels else "2.4",  # room for a column's labels, or for many edges to fan out
            "nodesep": "0.25",
            "newrank": "true",
        },
        node_attr={"fontname": FONT, "fontsize": "12", "shape": "circle", "margin": "0.04"},
        edge_attr={"fontname": FONT, "fontsize": "11", "arrowhead": "normal"},
    )
    # Each column a rank, its units in order top to bottom (held by invisible edges inside it).
    ids: list[list[str]] = [[f"u{i + 1}" for i in range(nin)]]
    with graph.subgraph(name="inputs") as col:
        col.attr(rank="same")
        for i, name in enumerate(ids[0]):
            lines = [] if run is None else [(f"= {num(run.inputs[i])}", "black")]
            col.node(name, _lines(f"x{i + 1}", lines), style="filled", fillcolor=INPUT_FILL)
        _keep_order(col, ids[0])
    unit = nin
    largest = max((abs(w.data) for c in columns for n in c.neurons for w in n.w), default=0.0)
    for k, column in enumerate(columns):
        names = [f"u{unit + j + 1}" for j in range(len(column.neurons))]
        with graph.subgraph(name=f"layer{k + 1}") as col:
            col.attr(rank="same")
            for j, neuron in enumerate(column.neurons):
                lines = [(f"{_activation_name(column.activation)},  b = {num(neuron.b.data)}", "black")]
                if run is not None:
                    lines += [(f"net = {num(run.nets[k][j])}", "black"), (f"out = {num(run.outs[k][j])}", "black")]
                    if run.net_grads is not None:
                        lines.append((f"∂E/∂net = {num(run.net_grads[k][j])}", "#7a3e00"))
                col.node(names[j], _lines(str(unit + j + 1), lines), tooltip=plain_label(neuron.name))
            _keep_order(col, names)
        for j, neuron in enumerate(column.neurons):
            for i, w in enumerate(neuron.w):
                attrs = _edge_style(w.data, largest, thin)
                attrs["tooltip"] = plain_label(f"{w.label} = {w.data!r}")
                if labels:
                    text = f"{_weight_name(unit - len(ids[-1]) + i + 1, unit + j + 1, wide)} = {num(w.data)}"
                    if run is not None and run.weight_grads is not None:
                        text += f"\n∂E/∂w = {num(run.weight_grads[w])}"
                    # decorate: a line from the label to its edge, so crossing edges keep their numbers apart
                    attrs.update(label=plain_label(text), fontcolor=attrs["color"][:7], decorate="true")
                graph.edge(ids[-1][i], names[j], **attrs)
        ids.append(names)
        unit += len(column.neurons)
    if run is not None and run.target is not None and run.loss is not None:
        targets = ", ".join(num(t) for t in run.target)
        if len(run.target) > 1:
            targets = f"({targets})"
        loss_lines = [("E = ½ Σ (t − out)²", "black"), (f"t = {targets}", "black"), (f"E = {num(run.loss)}", "black")]
        # a wider margin: Graphviz measures "²" narrower than browsers draw it, which clipped the last character
        graph.node(
            "loss",
            _lines("loss", loss_lines),
            shape="box",
            style="rounded,filled",
            fillcolor=LOSS_FILL,
            margin="0.2,0.08",
        )
        for name in ids[-1]:
            graph.edge(name, "loss", color=ZERO, style="dashed", arrowsize="0.6")
    # Set last: a graph label set before the subgraphs would be inherited by them.
    graph.attr(label=_legend(run, labels, largest, precision, notes), labelloc="b", labeljust="l", fontsize="12")
    return graph


def _keep_order(col: graphviz.Digraph, names: list[str]) -> None:
    for a, b in itertools.pairwise(names):
        col.edge(a, b, style="invis")


def _legend(run: _Pass | None, labels: bool, largest: float, precision: int, notes: list[str]) -> str:
    """What the colours, widths and numbers mean, as an HTML-like label under the picture."""
    rows = [
        f'<font color="{POSITIVE}"><b>━━ positive weight</b></font>    '
        f'<font color="{NEGATIVE}"><b>━━ negative weight</b></font>',
        # its own row: beside the bold names, whose width graphviz underestimates, it ran into them
        f"width ∝ |w| (widest: |w| = {_number(largest, precision)})",
        "in each neuron: its unit number, its activation and its bias b (Han &amp; Kamber's θ)",
    ]
    if run is not None:
        rows.append("net = Σ w · in + b, the net input;  out = activation(net), the output")
    if run is not None and run.net_grads is not None:
        rows.append("∂E/∂net: the gradient of the loss E = ½ Σ (t − out)² with respect to net, as backward() gives it")
        rows.append("(Han &amp; Kamber's Err is its negative: Err = −∂E/∂net)")
    if labels:
        rows.append("on each edge: wij, the weight from unit i to unit j")
        if run is not None and run.net_grads is not None:
            rows.append("and ∂E/∂w = ∂E/∂net of unit j × out of unit i")
    else:
        rows.append("weights are not written on the edges of a network this size (weight_labels=True writes them)")
    rows += [_html(note) for note in notes]
    cells = "".join(f'<tr><td align="left">{row}</td></tr>' for row in rows)
    return f'<<table border="0" cellspacing="0" cellpadding="2">{cells}</table>>'


__all__ = ["NetworkOptions", "draw_network"]
