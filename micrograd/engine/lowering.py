"""Lowering: the layers of a recorded program, found by structure and run as matrix products.

Nearly every node of a network's graph belongs to a weighted sum `b + w0·x0 + w1·x1 + ...` (what
`weighted_sum` builds for each neuron). `find_layers` finds the neurons of a tape's program that
read the same inputs, and each such `Layer` runs as ONE matrix product: `MatMul` computes
`X @ W.T + b` forward and `G.T @ X`, `G @ W` backward, on the tape's table of values (a row per
slot, a column per sample). `MatrixView` writes the program as it runs (`Tape.matrix_source`):
each matrix line beside the scalar chain it came from.

The tape (`micrograd.engine.tape`) imports this module and passes what it needs; nothing here
imports the tape.
"""

from __future__ import annotations

import collections
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .ops import OPS
from .value import Value

if TYPE_CHECKING:  # for the annotations only: the tape imports this module
    from .tape import Tape

__all__ = ["Layer", "MatMul", "MatrixView", "find_layers", "source_number"]


def source_number(x: float) -> str:
    """A number as Python source that reads back as exactly that float ("2", "0.1", "float('inf')")."""
    if x != x or x in (float("inf"), float("-inf")):
        return f"float('{x!r}')"
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)


class MatrixView:
    """`Tape.matrix_source`: the program as it runs, a matrix line per lowered layer and per
    group of per-sample lines that read whole vectors; the rest as scalar lines."""

    WIDTH = 44  # the column where the scalar form starts

    def __init__(self, tape: Tape) -> None:
        self.tape = tape
        self.ids = tape.identifiers
        self.vectors: dict[tuple[int, ...], str] = {}  # slots (one per column) -> the vector's name
        self.count = 0
        readers = collections.Counter(
            o for ins in tape.instructions if ins.varying for o in ins.operands if type(o) is int
        )
        readers.update(tape._output_slots)
        self.readers = readers

    def text(self) -> str:
        tape, ids = self.tape, self.ids
        schedule = tape._schedule
        inputs = ", ".join(ids[tape.slot_of[x]] for x in tape.inputs) or "none"
        lowered = sum(len(layer.instructions) for layer in tape.layers)
        forward = [
            f"# matrix form: what runs, a row per sample ({len(tape.layers)} layer(s) as matrix products, "
            f"{lowered} of {len(tape.instructions)} lines; the rest op by op)",
            f"# inputs (one column each): {inputs}",
            "# W<i>[j, :] holds neuron j's weights, b<i>[j] its bias; on the right, the scalar form of neuron 0",
        ]
        backward: list[str] = []  # in reverse: the last line first
        consumed: set[int] = set()
        for shared_k, *_ in schedule.shared_plan:
            forward.append(tape.line(shared_k))
            self._scalar_backward([shared_k], backward)
        for gi, g in enumerate(schedule.groups):
            if isinstance(g, MatMul):
                forward.append(self._layer(g, schedule.groups, consumed, backward))
            elif gi not in consumed:
                forward.extend(self._group(g, backward))
        outputs = tuple(tape._output_slots)
        names = self.vectors.get(outputs) or ", ".join(ids[s] for s in outputs)
        forward.append(f"# output: {names}")
        backward.append(f"G_{self.vectors[outputs]} = 1" if outputs in self.vectors else f"G_{ids[outputs[0]]} = 1")
        head = (
            "# backward pass: G_v = d output / d v (a row per sample), dv_du = local derivative (micrograd.engine.ops)"
        )
        return "\n".join([*forward, head, *reversed(backward)])

    def _name(self, slots: tuple[int, ...], prefix: str) -> str:
        """A new vector's name, registered."""
        self.count += 1
        name = f"{prefix}{self.count}" if prefix in ("t", "u") else prefix
        self.vectors[slots] = name
        return name

    def _vector(self, slots: tuple[int, ...], lines: list[str]) -> str:
        """The name of the vector made of these slots: known, the inputs "X", or gathered."""
        known = self.vectors.get(slots)
        if known is not None:
            return known
        if len(slots) == 1:
            return self.ids[slots[0]]
        tape = self.tape
        if all(tape.kinds[s] == "input" for s in slots):
            stems = {re.sub(r"\d+$", "", self.ids[s]) for s in slots}
            stem = stems.pop().rstrip("_") if len(stems) == 1 else ""
            name = "X" if "X" not in self.vectors.values() else (stem or "U")
            if name in self.vectors.values():
                return self._name(slots, "u")
            self.vectors[slots] = name
            return name
        name = self._name(slots, "u")
        lines.append(f"{name} = [{self._elements(slots)}]")
        return name

    def _elements(self, slots: Sequence[int]) -> str:
        names = [self.ids[s] for s in slots]
        return ", ".join(names) if len(names) <= 4 else f"{names[0]}, {names[1]}, …, {names[-1]}"

    def _padded(self, code: str, comment: str) -> str:
        return f"{code:<{self.WIDTH}} # {comment}"

    def _layer(self, g: MatMul, groups: list, consumed: set[int], backward: list[str]) -> str:
        tape, ids, layer = self.tape, self.ids, g.layer
        i = tape.layers.index(layer) + 1
        pre: list[str] = []
        x = self._vector(layer.inputs, pre)
        product = f"{x} @ W{i}.T + b{i}"
        act = None
        for gj, other in enumerate(groups):
            if (
                not isinstance(other, MatMul)
                and other.op.arity == 1
                and other.x_is_slot
                and tuple(tape.instructions[k].operands[0] for k in other.ks) == layer.outputs
                and all(self.readers[z] == 1 for z in layer.outputs)
            ):
                act, consumed_index = other, gj
                break
        z_name = f"z{i}" if len(layer.outputs) > 1 or act is not None else ids[layer.outputs[0]]
        self.vectors[layer.outputs] = z_name
        m, k = layer.weights.shape
        chain = [ids[tape._parameter_slots[layer.biases[0]]]] + [
            f"{ids[tape._parameter_slots[layer.weights[0, j]]]} * {ids[x_j]}" for j, x_j in enumerate(layer.inputs)
        ]
        if len(chain) > 4:
            chain = [*chain[:3], "…", chain[-1]]
        scalar = " + ".join(chain)
        lines_back = [f"grad_W{i} = G_{z_name}.T @ {x}", f"grad_b{i} = G_{z_name}.sum(axis=0)"]
        if g.inputs_need_terms:
            lines_back.append(f"G_{x} += G_{z_name} @ W{i}")
        if act is not None:
            h_name = f"h{i}"
            lines_back.insert(0, f"G_{z_name} = d{h_name}_d{z_name} * G_{h_name}")
        if act is None:
            code = f"{z_name} = {product}"
            out_first = ids[layer.outputs[0]]
        else:
            consumed.add(consumed_index)
            outs = tuple(tape.instructions[k].out for k in act.ks)
            self.vectors[outs] = h_name
            first = tape.instructions[act.ks[0]]
            code = f"{h_name} = {_apply_text(first.op.name, first.arg, product)}"
            scalar = _apply_text(first.op.name, first.arg, scalar)
            out_first = ids[first.out]
        backward.extend(reversed(lines_back))
        comment = f"{layer.name}: {m} neuron{'s' if m > 1 else ''} x {k} inputs; {out_first} = {scalar}"
        return "\n".join([*pre, self._padded(code, comment)])

    def _group(self, g: Any, backward: list[str]) -> list[str]:
        tape = self.tape
        first = tape.instructions[g.ks[0]]
        if len(g.ks) == 1:
            return [tape.line(g.ks[0])] + self._scalar_backward(g.ks, backward)
        operands: list[str] = []
        pre: list[str] = []
        for pos in range(len(first.operands)):
            column = [tape.instructions[k].operands[pos] for k in g.ks]
            if type(column[0]) is int:
                slots = tuple(column)
                if slots not in self.vectors and not all(tape.kinds[s] == "input" for s in slots):
                    return [tape.line(k) for k in g.ks] + self._scalar_backward(g.ks, backward)
                operands.append(self._vector(slots, pre))
            else:
                values = {o.value for o in column}
                if len(values) != 1:
                    return [tape.line(k) for k in g.ks] + self._scalar_backward(g.ks, backward)
                value = values.pop()
                operands.append(f"({source_number(value)})" if value < 0 else source_number(value))
        if first.arg is not None and len({tape.instructions[k].arg for k in g.ks}) != 1:
            return [tape.line(k) for k in g.ks] + self._scalar_backward(g.ks, backward)
        out = self._name(tuple(tape.instructions[k].out for k in g.ks), "t")
        name = first.op.name
        if len(operands) == 2:
            symbol = {"pow": "**"}.get(name, name)
            code = (
                f"{out} = {operands[0]} {symbol} {operands[1]}"
                if symbol in ("+", "-", "*", "/", "**")
                else (f"{out} = {name}({operands[0]}, {operands[1]})")
            )
        else:
            code = f"{out} = {_apply_text(name, first.arg, operands[0])}"
        for pos in reversed(range(len(operands))):
            if type(first.operands[pos]) is int:
                backward.append(f"G_{operands[pos]} += d{out}_d{operands[pos]} * G_{out}")
        return [*pre, self._padded(code, f"{len(g.ks)} lines like {tape.line(g.ks[0])}")]

    def _scalar_backward(self, ks: Sequence[int], backward: list[str]) -> list[str]:
        """The backward lines of instructions left scalar (added to `backward`, which is reversed)."""
        tape, ids = self.tape, self.ids
        for k in ks:
            ins = tape.instructions[k]
            for pos in reversed(range(len(ins.operands))):
                o = ins.operands[pos]
                if type(o) is int:
                    target = self.vectors.get((o,), ids[o])
                    upstream = self.vectors.get((ins.out,), ids[ins.out])
                    backward.append(f"G_{target} += {tape.local_name(k, pos)} * G_{upstream}")
        return []


def _apply_text(name: str, arg: float | None, inner: str) -> str:
    """A unary op applied to an expression, written as `Tape.expression` writes it."""
    if name == "**" and arg is not None:
        return f"({inner}) ** {source_number(arg)}"
    if name == "neg":
        return f"-({inner})"
    if arg is not None:
        return f"{name}({inner}, {source_number(arg)})"
    return f"{name}({inner})"


class Layer(NamedTuple):
    """A lowered layer: m neurons, neuron i computing `bias_i + Σ_j weight_ij · x_j` over the same k
    inputs x, run as ONE matrix product `X @ W.T + b` (`Tape.layers` lists them)."""

    name: str  # the neurons' common scope ("L1" for L1.N0, L1.N1, ...), else "layer1", "layer2", ...
    inputs: tuple[int, ...]  # the k input slots x_j
    outputs: tuple[int, ...]  # the m result slots z_i (the last `+` of each neuron's chain)
    weights: np.ndarray  # (m, k): the parameter number (index into `Tape.parameters`) of W_ij
    biases: np.ndarray  # (m,): the parameter number of b_i
    chains: tuple[tuple[tuple[int, int], ...], ...]  # per neuron, per input: its (`w * x` slot, `+` slot)
    instructions: frozenset[int]  # the instructions it replaces


def find_layers(
    instructions: Sequence[Any],
    kinds: Sequence[str],
    varying: Sequence[bool],
    nodes: Sequence[Value],
    output_slots: Sequence[int],
    parameter_slots: Sequence[int],
) -> list[Layer]:
    """The weighted sums of a recorded program that read the same inputs, grouped into layers (by structure).

    The program as a `Tape` holds it: its instructions, each slot's kind, whether it differs
    between samples and its node, the output slots and the parameters' slots in order.
    A neuron is a chain `((b + w0 * x0) + w1 * x1) + ...` (what `weighted_sum` builds): b and each
    w a parameter, each x a per-sample slot, every product and partial sum read only by the next
    link. Neurons reading the same x's, in the same order, form a layer when all their parameters
    are distinct and read by no other per-sample instruction (a penalty Σw² on the side is fine).
    """
    readers = [0] * len(nodes)  # how many operands (and outputs) read each slot
    varying_readers = [0] * len(nodes)
    producer = [-1] * len(nodes)  # the instruction that computes each slot
    for k, ins in enumerate(instructions):
        producer[ins.out] = k
        for o in ins.operands:
            if type(o) is int:
                readers[o] += 1
                varying_readers[o] += ins.varying
    for s in output_slots:
        readers[s] += 1
    plus, times = OPS["+"], OPS["*"]
    open_chains: dict[int, tuple[int, list[tuple[int, int, int, int, int, int]]]] = {}  # last sum -> chain
    for k, ins in enumerate(instructions):
        if ins.op is not plus or not ins.varying:
            continue
        a, t = ins.operands
        if type(a) is not int or type(t) is not int or readers[t] != 1:
            continue
        pk = producer[t]
        if pk < 0:  # t is a leaf
            continue
        product = instructions[pk]
        if product.op is not times:
            continue
        w, x = product.operands
        if type(w) is not int or type(x) is not int or kinds[w] != "parameter" or not varying[x]:
            continue
        link = (w, x, t, ins.out, pk, k)
        if kinds[a] == "parameter":
            open_chains[ins.out] = (a, [link])
        elif a in open_chains and readers[a] == 1:
            bias, links = open_chains.pop(a)
            links.append(link)
            open_chains[ins.out] = (bias, links)
    by_inputs: dict[tuple[int, ...], list[tuple[int, list]]] = {}
    for bias, links in open_chains.values():  # in program order of each chain's last instruction
        by_inputs.setdefault(tuple(link[1] for link in links), []).append((bias, links))
    param_no = {slot: i for i, slot in enumerate(parameter_slots)}
    layers: list[Layer] = []
    taken: set[str] = set()
    for xs, neurons in by_inputs.items():
        params = [bias for bias, _ in neurons] + [link[0] for _, links in neurons for link in links]
        if len(set(params)) != len(params) or any(varying_readers[p] != 1 for p in params):
            continue  # a weight shared between neurons, or read elsewhere: left op by op
        name = _layer_name([nodes[links[-1][3]] for _, links in neurons], len(layers) + 1, taken)
        layers.append(
            Layer(
                name=name,
                inputs=xs,
                outputs=tuple(links[-1][3] for _, links in neurons),
                weights=np.array([[param_no[link[0]] for link in links] for _, links in neurons], dtype=np.intp),
                biases=np.array([param_no[bias] for bias, _ in neurons], dtype=np.intp),
                chains=tuple(tuple((link[2], link[3]) for link in links) for _, links in neurons),
                instructions=frozenset(k for _, links in neurons for link in links for k in link[4:]),
            )
        )
    layers.sort(key=lambda layer: min(layer.instructions))
    return layers


def _layer_name(outputs: list[Value], number: int, taken: set[str]) -> str:
    """The neurons' common scope without its ".N<i>" ("L1" for L1.N0, L1.N1), else "layer<number>"."""
    scopes = {re.sub(r"\.N\d+$", "", node.scope) for node in outputs}
    name = scopes.pop() if len(scopes) == 1 else ""
    if not name or not re.fullmatch(r"[A-Za-z_][\w.]*", name, flags=re.ASCII) or name in taken:
        name = f"layer{number}"
    taken.add(name)
    return name


def _strided(flat: np.ndarray, start: int, shape: tuple[int, ...], steps: tuple[int, ...]) -> np.ndarray:
    """The elements of a contiguous `flat` on a regular grid (first element, shape, step per
    axis) as a view, so a matrix product reads and writes the flat array in place."""
    if not flat.flags.c_contiguous:
        flat = np.ascontiguousarray(flat)
    size = flat.itemsize
    return np.ndarray(shape, flat.dtype, buffer=flat, offset=start * size, strides=tuple(s * size for s in steps))


def _grid(index: np.ndarray) -> tuple[int, ...]:
    """The steps of `index` along each axis if it is a regular grid of distinct numbers, else ()."""
    steps = []
    for axis in range(index.ndim):
        size = index.shape[axis]
        step = int(np.take(index, 1, axis=axis).flat[0] - index.flat[0]) if size > 1 else 1
        steps.append(step)
    base = index.flat[0]
    expected = base + sum(
        np.arange(n).reshape([-1 if a == axis else 1 for a in range(index.ndim)]) * step
        for axis, (n, step) in enumerate(zip(index.shape, steps))
    )
    if not np.array_equal(index, expected) or any(step <= 0 for step in steps):
        return ()
    return tuple(steps)


class MatMul:
    """A lowered layer in a schedule: its inputs' and outputs' rows in the value table, its
    parameters' places in the flat parameter array (a view when they lie on a grid)."""

    def __init__(self, layer: Layer, x_rows: np.ndarray | slice, out_rows: np.ndarray | slice, level: int) -> None:
        self.layer = layer
        self.x_rows, self.out_rows, self.level = x_rows, out_rows, level
        self.w_grid, self.b_grid = _grid(layer.weights), _grid(layer.biases)
        self.weights_on_grid = bool(self.w_grid) and bool(self.b_grid)
        self.terms: tuple[int, int] = (0, 0)  # term rows of ∂/∂x_j, one per input (set by the schedule)
        self.upstream: list[np.ndarray] = []  # term-row ranks summed into ∂/∂z_i
        self.inputs_need_terms = True
        self._views: tuple[np.ndarray, tuple[np.ndarray, np.ndarray]] | None = None  # (flat, its W and b)

    def parameters(self, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(W, b) read from a flat parameter array (views of it when on a grid; the views of the
        latest array are kept, as `fit` passes the same array, updated in place, at every step)."""
        if self.weights_on_grid:
            kept = self._views  # read once: another thread may replace it
            if kept is not None and kept[0] is flat:
                return kept[1]
            views = self._grid_views(flat)
            if flat.flags.c_contiguous:  # (else the views are of a copy: nothing to keep)
                self._views = (flat, views)
            return views
        return flat[self.layer.weights], flat[self.layer.biases]

    def _grid_views(self, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        layer = self.layer
        return (
            _strided(flat, int(layer.weights.flat[0]), layer.weights.shape, self.w_grid),
            _strided(flat, int(layer.biases[0]), layer.biases.shape, self.b_grid),
        )

    def forward(self, table: np.ndarray, theta: np.ndarray) -> None:
        """z = X @ W.T + b for every sample (a column per sample in the value `table`)."""
        W, b = self.parameters(theta)
        X = table[self.x_rows]
        if isinstance(self.out_rows, slice):  # straight into the table
            z = table[self.out_rows]
            np.matmul(W, X, out=z)
            z += b[:, None]
        else:
            z = W @ X + b[:, None]
        if not np.isfinite(z).all():
            z = _exact_sums(W, b, X, z)
        if not isinstance(self.out_rows, slice):
            table[self.out_rows] = z

    def backward(
        self,
        table: np.ndarray,
        theta: np.ndarray,
        upstream: np.ndarray,
        terms: np.ndarray,
        grad: np.ndarray,
        adjoints: dict[int, Any] | None,
        inputs: bool = False,
    ) -> None:
        """From G = ∂/∂z (`upstream`, a row per neuron): the inputs' terms G @ W into `terms` (needed
        when an input is not a tape input, or `inputs`: the tape's inputs' gradients are asked for),
        G.T @ X and Σ G into the parameters' `grad`; with `adjoints`, every node of the layer's
        chains gets its neuron's G (what `Tape.gradients` reports for them)."""
        W, _ = self.parameters(theta)
        X = table[self.x_rows]
        if self.inputs_need_terms or adjoints is not None or inputs:
            np.matmul(W.T, upstream, out=terms[self.terms[0] : self.terms[1]])
        if self.weights_on_grid:
            gW, gb = self._grid_views(grad)  # (a new array at every backward: no views kept)
            gW += upstream @ X.T
            gb += upstream.sum(axis=1)
        else:
            np.add.at(grad, self.layer.weights, upstream @ X.T)
            np.add.at(grad, self.layer.biases, upstream.sum(axis=1))
        if adjoints is not None:
            for i, z in enumerate(self.layer.outputs):
                adjoints[z] = upstream[i]
                for product, partial in self.layer.chains[i]:
                    adjoints[product] = adjoints[partial] = upstream[i]


def _exact_sums(W: np.ndarray, b: np.ndarray, X: np.ndarray, z: np.ndarray) -> np.ndarray:
    """`z = W @ X + b` again for the samples where it is not finite, as the scalar engine adds:
    b + w0·x0 + w1·x1 + ..., one term at a time. BLAS does not keep IEEE's rules there (it gives
    inf for inf − inf, where the engine, and PyTorch's scalar ops, give NaN)."""
    bad = ~np.isfinite(z).all(axis=0)
    columns = X[:, bad]
    total = np.repeat(b[:, None], columns.shape[1], axis=1)
    for j in range(W.shape[1]):
        total = total + W[:, j : j + 1] * columns[j]
    z[:, bad] = total
    return z
