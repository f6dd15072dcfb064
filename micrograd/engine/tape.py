"""The tape: record a graph once, replay it on a whole batch with NumPy, print it as straight-line code.

A scalar engine builds one node per operation per sample: one step of Karpathy's two-moons demo
(100 samples) makes 65,814 Python objects. But the graph of ONE sample has ~660 nodes, and it is
the same graph for every sample. `Tape.record` walks it once into a flat list of instructions (a
Wengert list, the "evaluation trace" of Baydin et al. 2018); `forward` then runs each instruction
on a NumPy array holding the whole batch, and `backward` runs the chain rule over the list in
reverse. That is what "vectorisation" means: the same program, one array operation per line.

Lowering. Nearly every node of a network's graph belongs to a weighted sum
`b + w0·x0 + w1·x1 + ...` (what `weighted_sum` builds for each neuron). When it records, the tape
finds the neurons that read the same inputs, by structure, and runs each such layer as ONE matrix
product `X @ W.T + b` forward and `G.T @ X`, `G @ W` backward (`micrograd.engine.lowering`); the lines of
one level that apply the same op (the layer's 16 relu's) run as one NumPy call (`_Schedule`).
`tape.layers` lists the layers it lowered, `tape.lowering()` says it in words, and `print(tape)`
shows the program as it runs, each matrix line beside the scalar chain it came from. What is not
a layer runs op by op, as before; `Tape.record(..., lower=False)` keeps everything op by op.

    tape = Tape.record(loss, inputs=[x0, x1, y])        # parameters: every other leaf
    losses = tape.forward({x0: X[:, 0], x1: X[:, 1], y: Y})   # one loss per sample
    tape.backward(reduce="mean")                        # parameter .grad += batch-mean gradient
    print(tape)                                         # the program as it runs, forward and backward
    print(tape.source())                                # the scalar program, line by line

What is where:
- Slots. Every node of the graph except a constant is a slot: an *input* (given as an array at
  `forward`), a *parameter* (every other leaf, read from its `.data` at every `forward`, so an
  optimizer step needs no re-recording) or the result of one instruction.
- Constants (the 2 of `d ** 2 / 2`) are folded into the instructions as `Const` operands.
- One definition per op: `forward` and `backward` call the very functions of `micrograd.engine.ops`
  that the scalar engine calls, with `NUMPY` (built from `ops.FLOATS`, function by function) for
  values that differ between samples, and with `FLOATS` itself for values that do not (w ** 2).
- Parameters: one flat float64 array in `tape.parameters` order (`forward(parameters=...)`,
  `parameter_gradients()`), which is how `fit` keeps them during training; by default `forward`
  reads each parameter's `.data`.
- Exactness. Op by op, every instruction does the scalar engine's operations, in the same
  order, with the same functions (exp, log, tanh, ... are C's libm, as for floats, not NumPy's
  own SIMD versions): per-sample values and gradients are bit for bit the engine's, and a
  parameter's gradient adds its per-sample terms in the order of the engine's backward through
  the batch's graph `((l0 + l1) + ...)`. A lowered layer's matrix product adds a neuron's terms
  in another order (BLAS's), and sums over the batch at once: values and gradients agree with
  the scalar engine to rounding (tests: 1e-12 relative per step, 1e-9 over 100 training steps),
  no longer bit for bit. (Where a product is not finite, the layer adds term by term again,
  so inf − inf is NaN as in the engine.) A sub-expression of parameters alone (a penalty Σw²) is
  computed once per batch instead of once per sample, on arrays in a lowered tape.

What the tape cannot see: it replays the recorded graph. A `relu` is fine (the op handles both
sides of its kink on every sample), but a Python `if x.data > 0:` at record time silently picks
one branch for every sample, and a constant computed from the data (softmax's max) is frozen.
`Tape.record` cannot detect that from one graph; record on two samples and call
`check_same_structure`, which names the first instruction that differs (`Sequential.fit` does).
"""

from __future__ import annotations

import collections
import functools
import keyword
import math
import re
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from .graph import topological_order
from .lowering import Layer, MatMul, MatrixView, find_layers, source_number
from .names import node_names
from .ops import FLOATS, OPS, Op
from .value import Constant, Value, domain_error

__all__ = [
    "EXACT_NUMPY",
    "NUMPY",
    "AdjointStep",
    "Const",
    "DataDependentGraphError",
    "Instruction",
    "Layer",
    "Tape",
    "check_same_functions",
    "functions_of",
    "numpy_namespace",
]


#: FLOATS' functions that are `math`'s own but for catching its OverflowError (and returning inf):
#: on arrays, `math`'s is mapped first (no Python wrapper per element), FLOATS' only on overflow.
_MATH_UNLESS_OVERFLOW: dict[str, Callable[[float], float]] = {"exp": math.exp, "expm1": math.expm1}


def _libm(f: Callable[..., float], unless_overflow: Callable[..., float] | None = None) -> Callable[..., Any]:
    """`f`, one of `FLOATS`' functions (C's libm), applied element by element to arrays.

    NumPy ships its own exp, log, tanh, ... (SIMD code that differs between builds and CPUs, and
    here differs from libm's tanh in the last bit for about a quarter of all inputs). Calling
    libm itself keeps every per-sample value bit for bit the scalar engine's, on any machine.
    `unless_overflow`: `math`'s function that `f` wraps (see `_MATH_UNLESS_OVERFLOW`), tried first.
    """

    def elementwise(*args: Any) -> Any:
        if len(args) == 1 and type(args[0]) is np.ndarray and args[0].ndim:  # the common case, without the checks below
            a = args[0]
            if unless_overflow is not None:
                try:
                    return np.fromiter(map(unless_overflow, a.ravel().tolist()), np.float64, a.size).reshape(a.shape)
                except OverflowError:
                    pass
            return np.fromiter(map(f, a.ravel().tolist()), np.float64, a.size).reshape(a.shape)
        if all(np.ndim(a) == 0 for a in args):
            return f(*(float(a) for a in args))
        arrays = np.broadcast_arrays(*args) if len(args) > 1 else [np.asarray(args[0])]
        columns = [a.ravel().tolist() for a in arrays]
        size, shape = arrays[0].size, arrays[0].shape
        if unless_overflow is not None:
            try:
                return np.fromiter(map(unless_overflow, *columns), np.float64, size).reshape(shape)
            except OverflowError:
                pass
        return np.fromiter(map(f, *columns), np.float64, size).reshape(shape)

    return elementwise


#: The functions of `ops.FLOATS` that IEEE 754 requires to be correctly rounded (or that only
#: compare and select): NumPy's own give the very bits libm gives, at array speed.
EXACT_NUMPY: dict[str, Callable[..., Any]] = {
    "sqrt": np.sqrt,
    "divide": np.divide,
    "abs": np.abs,
    "isfinite": np.isfinite,
    "floor": np.floor,
    "where": np.where,
    "maximum": np.maximum,
}


def functions_of(namespace: Any) -> set[str]:
    """The public functions of a namespace such as `FLOATS` or `NUMPY`."""
    return {name for name in dir(namespace) if not name.startswith("_") and callable(getattr(namespace, name))}


def check_same_functions(floats: Any, arrays: Any) -> None:
    """Raise if the float and the array namespace do not define the same functions: an op's
    formula runs on both, so a function missing from one would fail only when that side runs it."""
    on_floats, on_arrays = functions_of(floats), functions_of(arrays)
    if on_floats != on_arrays:
        problems = []
        if on_floats - on_arrays:
            problems.append(f"the array namespace lacks {', '.join(sorted(on_floats - on_arrays))}")
        if on_arrays - on_floats:
            problems.append(f"the float namespace lacks {', '.join(sorted(on_arrays - on_floats))}")
        raise TypeError(
            f"micrograd.engine.tape: the float and array namespaces differ: {'; '.join(problems)}. "
            "Add a function to ops.FLOATS (the tape derives its array version from it), and list "
            "in EXACT_NUMPY only functions FLOATS has."
        )


def numpy_namespace(floats: Any) -> types.SimpleNamespace:
    """`floats` for NumPy arrays, checked to define the same functions: `EXACT_NUMPY`'s NumPy
    functions, and every other function of `floats` applied element by element (`_libm`)."""
    functions = {
        name: _libm(getattr(floats, name), _MATH_UNLESS_OVERFLOW.get(name) if floats is FLOATS else None)
        for name in sorted(functions_of(floats))
        if name not in EXACT_NUMPY
    }
    namespace = types.SimpleNamespace(**functions, **EXACT_NUMPY)
    check_same_functions(floats, namespace)
    return namespace


#: `ops.FLOATS` for NumPy arrays, so each op's one formula runs on a whole batch. Exact
#: operations are NumPy's own (`EXACT_NUMPY`); the others are the very libm functions FLOATS
#: calls (see `_libm`), so `pow` keeps FLOATS' C99 semantics (0 ** -1 = inf, overflow = ±inf)
#: too. Derived from FLOATS: a function added there reaches the tape with no edit here.
NUMPY = numpy_namespace(FLOATS)

Array = float | np.ndarray


class DataDependentGraphError(ValueError):
    """Two recordings of the same model differ: its graph depends on the data, so no tape fits it."""


class Const(NamedTuple):
    """A constant leaf folded into an instruction: its value, and its name as `node_names` writes it."""

    value: float
    name: str


class Instruction(NamedTuple):
    """One line of the program: `slot[out] = op(operands..., arg)`."""

    op: Op
    out: int  # the slot the result goes to
    operands: tuple[int | Const, ...]  # one per operand of the op: a slot, or a folded constant
    arg: float | None  # the op's constant parameter (the 2 of x ** 2, leaky_relu's slope), else None
    varying: bool  # True when the result can differ between samples (it depends on an input)


class AdjointStep(NamedTuple):
    """One term of the backward pass: adjoint[target] += local × upstream (see `Tape.adjoint_trace`)."""

    k: int  # the instruction
    pos: int  # which operand of it (0 or 1); the target slot is instructions[k].operands[pos]
    local: Array  # ∂(instruction k's result)/∂(that operand)
    upstream: Array  # the adjoint of instruction k's result
    total: Array | None  # the target's adjoint after this term (None: a shared node's, summed after the batch)


def _identifier(name: str) -> str:
    """A node name as a Python identifier: "L1.N0.w2" -> "L1_N0_w2", "2x" -> "_2x", "if" -> "if_"."""
    text = re.sub(r"\W", "_", name, flags=re.ASCII) or "_"
    if text[0].isdigit():
        text = "_" + text
    return text + "_" if keyword.iskeyword(text) else text


def _merged_order(outputs: Sequence[Value]) -> list[Value]:
    """One topological order for several outputs: each output's order, nodes already placed skipped.

    One walk from a stand-in root ((o0 + o1) + o2) + ... (dropped from the order), so outputs
    sharing a large graph (the ten outputs of a classifier) do not walk it ten times."""
    if len(outputs) == 1:
        return topological_order(outputs[0])
    root = outputs[0]
    stand_ins = set()
    for out in outputs[1:]:
        root = Value(0.0, (root, out), "+")
        stand_ins.add(root)
    return [node for node in topological_order(root) if node not in stand_ins]


class Tape:
    """A graph recorded as a flat list of instructions, run on whole batches with NumPy.

    Make one with `Tape.record`. Attributes (read-only by convention):
    - `nodes[s]`, `kinds[s]`, `names[s]`, `identifiers[s]`: the node in slot s, its kind ("input",
      "parameter", "op", or "constant" for a constant that is itself an output), its name from
      `micrograd.engine.names.node_names` (label, else v1, v2, ...) and that name as a Python identifier
      (every character other than a letter, digit or _ becomes _, a leading digit gets a _ in
      front, a keyword gets one behind; a clash with an earlier identifier gets _2, _3, ...).
    - `instructions`: the program, in topological order.
    - `inputs`, `parameters`: the input leaves (in the order given) and the parameter leaves.
    """

    def __init__(
        self,
        outputs: Sequence[Value],
        single_output: bool,
        nodes: list[Value],
        kinds: list[str],
        instructions: list[Instruction],
        inputs: Sequence[Value],
        parameters: Sequence[Value] | None = None,
        lower: bool = True,
    ) -> None:
        self.nodes = nodes
        self.kinds = kinds
        self.instructions = tuple(instructions)
        self.inputs = tuple(inputs)
        self.slot_of: dict[Value, int] = {node: s for s, node in enumerate(nodes)}
        found = tuple(node for node, kind in zip(nodes, kinds) if kind == "parameter")
        self.parameters = found if parameters is None else _check_parameters(parameters, found)
        self._parameter_slots = [self.slot_of[p] for p in self.parameters]
        self._parameter_number = {s: i for i, s in enumerate(self._parameter_slots)}
        self._constant_slots = [s for s, kind in enumerate(kinds) if kind == "constant"]
        self.outputs = tuple(outputs)
        self._single = single_output
        self._output_slots = [self.slot_of[out] for out in outputs]
        self._varying = [kind == "input" for kind in kinds]
        for ins in self.instructions:
            self._varying[ins.out] = ins.varying
        #: The layers run as matrix products (see `Layer`); the rest runs op by op.
        self.layers: tuple[Layer, ...] = (
            tuple(
                find_layers(
                    self.instructions, self.kinds, self._varying, self.nodes, self._output_slots, self._parameter_slots
                )
            )
            if lower
            else ()
        )
        self._values: _Values | None = None  # every slot's value after the latest forward
        self._n: int | None = None  # the batch size of the latest forward (None: no sample axis)

    @functools.cached_property
    def _schedule(self) -> _Schedule:
        """How the program runs on arrays, planned at the first forward (a tape only compared
        with another, as `check_same_structure` does, never needs one)."""
        return _Schedule(self, list(self.layers))

    @functools.cached_property
    def names(self) -> list[str]:
        """Each slot's node name (`micrograd.engine.names.node_names`), made when first asked for."""
        by_node = node_names(self.nodes)
        return [by_node[node] for node in self.nodes]

    @functools.cached_property
    def identifiers(self) -> list[str]:
        """Each slot's name as a unique Python identifier (see the class docstring)."""
        return _identifiers(self.names)

    # -- recording ------------------------------------------------------------------------------

    @classmethod
    def record(
        cls,
        output: Value | Sequence[Value],
        inputs: Sequence[Value] = (),
        parameters: Sequence[Value] | None = None,
        lower: bool = True,
    ) -> Tape:
        """Walk the graph below `output` once (no recursion) into a list of instructions.

        `inputs` are leaves whose values `forward` takes as arrays (one value per sample); every
        other non-constant leaf is a parameter. `output` may be a list of Values (a model with
        several outputs): `forward` then returns one column per output. `parameters` fixes the
        order of `Tape.parameters` (the flat arrays of `forward(parameters=...)` and
        `parameter_gradients()`): it must list exactly the parameter leaves (`model.parameters()`);
        default: their order in the graph.

        `lower`: find the layers (weighted sums reading the same inputs, `Layer`) and run each as
        one matrix product; `lower=False` keeps every instruction op by op, whose values and
        gradients are the scalar engine's bit for bit (a matrix product adds in another order).
        """
        single = isinstance(output, Value)
        outputs = [output] if isinstance(output, Value) else _check_outputs(output)
        inputs = _check_inputs(inputs)
        order = _merged_order(outputs)
        in_graph = set(order)
        for node in inputs:
            if node not in in_graph:
                raise ValueError(
                    f"Tape.record: input {_describe(node)} is not a leaf of the recorded graph: "
                    f"the output does not depend on it"
                )
        input_set = set(inputs)
        output_set = set(outputs)
        slot_of: dict[Value, int] = {}
        nodes: list[Value] = []
        kinds: list[str] = []
        instructions: list[Instruction] = []
        varying: list[bool] = []

        def new_slot(node: Value, kind: str, is_varying: bool) -> int:
            slot_of[node] = len(nodes)
            nodes.append(node)
            kinds.append(kind)
            varying.append(is_varying)
            return slot_of[node]

        unary = {name: op for name, op in OPS.items() if op.arity == 1}
        binary = {name: op for name, op in OPS.items() if op.arity == 2}
        new_instruction = tuple.__new__  # Instruction(...) without its Python-level __new__: 100,000s of them
        for node in order:
            x = node._x
            if x is None:  # a leaf
                if node in input_set:
                    new_slot(node, "input", True)
                elif not isinstance(node, Constant):
                    new_slot(node, "parameter", False)
                elif node in output_set:  # only an output needs a slot; elsewhere it is folded
                    new_slot(node, "constant", False)
                continue
            y = node._y
            op = unary.get(node.op) if y is None else binary.get(node.op)
            if op is not None:
                a: int | Const | None = slot_of.get(x)
                if a is None:
                    a = Const(x.data, x.label)  # a constant's name is its label ("2")
                if y is None:
                    operands: tuple[int | Const, ...] = (a,)
                    is_varying = type(a) is int and varying[a]
                    arg = node.arg
                else:
                    b: int | Const | None = slot_of.get(y)
                    if b is None:
                        b = Const(y.data, y.label)
                    operands = (a, b)
                    is_varying = (type(a) is int and varying[a]) or (type(b) is int and varying[b])
                    arg = None
                out = len(nodes)
                slot_of[node] = out
                nodes.append(node)
                kinds.append("op")
                varying.append(is_varying)
                instructions.append(new_instruction(Instruction, (op, out, operands, arg, is_varying)))
            else:
                names_by_node = node_names(order)
                raise ValueError(
                    f"Tape.record: node {names_by_node[node]!r} uses the op {node._op!r:.40}, defined by user "
                    "code (its _backward): the tape runs only the ops of micrograd.engine.ops on arrays. "
                    "Use backward() on this graph, or build it from the engine's ops"
                    if node.user_op
                    else f"Tape.record: node {names_by_node[node]!r} has an unknown op {node.op!r:.40}"
                )
        return cls(outputs, single, nodes, kinds, instructions, inputs, parameters, lower)

    def check_same_structure(self, other: Tape, what: str = "the two recordings") -> None:
        """Raise `DataDependentGraphError` naming the first instruction where `other` differs.

        Two recordings of one model on two samples must give the same program: same ops, same
        slots, same parameters, same constants. If they do not, the graph depends on the data
        (a Python `if` on `.data`, a constant computed from the data) and a tape cannot replay it.
        """
        for k in range(max(len(self.instructions), len(other.instructions))):
            mine = self.instructions[k] if k < len(self.instructions) else None
            theirs = other.instructions[k] if k < len(other.instructions) else None
            if mine is None or theirs is None or _signature(mine) != _signature(theirs):
                first = "(no instruction)" if mine is None else f"`{self.line(k)}`"
                second = "(no instruction)" if theirs is None else f"`{other.line(k)}`"
                op = (mine or theirs).op.name  # type: ignore[union-attr]  # one of the two exists
                raise DataDependentGraphError(
                    f"the graph depends on the data: {what} differ at instruction {k + 1} "
                    f"(op {op!r}): {first} versus {second}. A tape replays one "
                    "recorded graph for every sample, so it cannot follow a Python `if` on `.data` "
                    "or a constant computed from the data; use the scalar engine for this graph"
                )
        leaves = [(kind, node if kind == "parameter" else None) for node, kind in zip(self.nodes, self.kinds)]
        leaves_other = [(kind, node if kind == "parameter" else None) for node, kind in zip(other.nodes, other.kinds)]
        if leaves != leaves_other:
            raise DataDependentGraphError(
                f"the graph depends on the data: {what} use different leaves (inputs or parameters)"
            )

    # -- running ----------------------------------------------------------------------------------

    def forward(
        self, feed: Mapping[Value, Any] | np.ndarray | None = None, parameters: np.ndarray | None = None
    ) -> np.ndarray:
        """Run the program on a batch: `feed` maps each input leaf to a 1-D array (one value per
        sample) or to a number (the same for every sample), or is one (samples, inputs) matrix
        with a column per input in `self.inputs` order. Returns the output for each sample:
        shape (n,), or (n, k) for k outputs; without any 1-D array, shape () or (k,).

        `parameters`: the parameters' values as one float64 array in `self.parameters` order
        (how `fit` keeps them during training); default: read from each parameter's `.data`.

        An input outside an op's domain raises the engine's error, naming the sample and the tape
        line: no NumPy warning, no silent NaN. (Lines run level by level, so when several lines
        fail, the one reported is the first of the lowest level, not always the first line.)
        """
        shared, inputs, n = self._bind(feed)
        theta = self._parameter_array(parameters)
        schedule = self._schedule
        values = schedule.forward(theta, shared, inputs, n)
        self._values, self._n = values, n
        if schedule.output_rows is not None:  # a row of the table each: (k, n) taken at once
            block = values.table[schedule.output_rows]
            out = block[0] if self._single else np.ascontiguousarray(block.T)
        else:
            columns = [values.array(s) for s in self._output_slots]
            out = columns[0].copy() if self._single else np.stack(columns, axis=-1)
        return np.asarray(out[0]) if n is None else out

    def backward(self, reduce: str = "mean", grad_output: Any = None) -> None:
        """Add the gradient of the batch's output to every parameter's `.grad` (accumulating, as
        `Value.backward()` does: call the optimizer's `zero_grad()` between steps).

        `reduce="mean"` gives the gradient of the mean of the per-sample outputs, "sum" of their
        sum. `grad_output` (shape like `forward`'s result) weighs each sample's output instead of 1:
        the chain rule from a loss computed outside the tape.
        """
        for p, g in zip(self.parameters, self.parameter_gradients(reduce, grad_output).tolist()):
            p.grad += g

    def parameter_gradients(self, reduce: str = "mean", grad_output: Any = None) -> np.ndarray:
        """The gradient of every parameter as one array in `self.parameters` order (what `backward`
        adds to the `.grad`s), after `forward`, without touching any `.grad`."""
        _, grad = self._backprop(grad_output, every_node=False)
        scale = self._scale(reduce)
        return grad / scale if scale != 1 else grad

    def gradients(self, reduce: str = "mean", grad_output: Any = None) -> dict[Value, Array]:
        """∂output/∂node for every recorded node, after `forward`, without touching any `.grad`.

        A node that differs between samples (an input, anything computed from one) gets one
        gradient per sample (an array); a node the same for all (a parameter, w ** 2) gets the
        reduced gradient of the batch, as `backward` would add to a parameter.
        """
        adjoints, _ = self._backprop(grad_output)
        scale = self._scale(reduce)
        result: dict[Value, Array] = {}
        for s, node in enumerate(self.nodes):
            g = adjoints[s]
            if self._varying[s]:
                result[node] = float(g[0]) if self._n is None else g
            else:
                result[node] = float(g) / scale
        return result

    def input_gradients(self, grad_output: Any = None) -> np.ndarray:
        """∂output/∂input for every sample, after `forward`: shape (samples, inputs), a column per
        input in `self.inputs` order (`grad_output` weighs each sample's output, as in `backward`).
        The chain rule from a loss on the tape into what computed its inputs. Touches no `.grad`."""
        adjoints, _ = self._backprop(grad_output, every_node=False, inputs=True)
        result = np.empty((1 if self._n is None else self._n, len(self.inputs)))
        for i, x in enumerate(self.inputs):
            result[:, i] = adjoints[self.slot_of[x]]
        return result

    def adjoint_trace(self, grad_output: Any = None) -> list[AdjointStep]:
        """Every chain-rule term of the backward pass (for the trace table), in `backward_steps()`
        order, with the numbers of the latest `forward`. Touches no `.grad`. A term of a
        per-sample node has one number per sample and no running total (`total` is None).
        Only for a tape run op by op (`lower=False`, or one without layers): a matrix product
        has no terms of its own."""
        if self.layers:
            raise ValueError(
                f"Tape.adjoint_trace: this tape runs {len(self.layers)} layer(s) as matrix products, "
                "which have no term-by-term trace; record it with Tape.record(..., lower=False)"
            )
        trace: list = []
        self._backprop(grad_output, trace)
        trace.sort(key=lambda entry: (-entry[0], entry[1]))
        return [AdjointStep(*entry) for entry in trace]

    def values(self) -> dict[Value, Array]:
        """Every recorded node's value from the latest `forward` (an array for a per-sample node)."""
        values = self._require_forward()
        return {node: values.get(s, self._n is None) for s, node in enumerate(self.nodes)}

    def local_grads(self, k: int) -> tuple[Array, ...]:
        """∂(instruction k's result)/∂(each operand), from the latest `forward` (micrograd.engine.ops)."""
        values = self._require_forward()
        ins = self.instructions[k]
        scalar = self._n is None or not ins.varying
        x, y = _operand_values(ins, lambda slot: values.get(slot, scalar))
        with np.errstate(all="ignore"):
            return ins.op.derivatives(NUMPY if ins.varying else FLOATS, values.get(ins.out, scalar), x, y)

    def backward_steps(self) -> Iterator[tuple[int, int]]:
        """(instruction index, operand position) of every chain-rule term, in the order backward adds
        them: instructions in reverse, operands left to right, constants skipped."""
        for k in range(len(self.instructions) - 1, -1, -1):
            for pos, operand in enumerate(self.instructions[k].operands):
                if type(operand) is int:
                    yield k, pos

    # -- printing ---------------------------------------------------------------------------------

    def expression(self, k: int, names: Sequence[str] | None = None) -> str:
        """The right-hand side of instruction k, e.g. "w * x" or "tanh(v3)", with `names` per slot
        (default: the Python identifiers of `source()`; the trace table passes `self.names`)."""
        names = self.identifiers if names is None else names
        ins = self.instructions[k]
        texts = [
            names[o]
            if isinstance(o, int)
            else (f"({source_number(o.value)})" if o.value < 0 else source_number(o.value))
            for o in ins.operands
        ]
        x = texts[0]
        name = ins.op.name
        if name in ("+", "-", "*", "/"):
            return f"{x} {name} {texts[1]}"
        if name == "pow":
            return f"{x} ** {texts[1]}"
        if name == "**" and ins.arg is not None:
            return f"{x} ** {source_number(ins.arg)}"
        if name == "neg":
            return f"-{x}"
        if ins.arg is not None:
            return f"{name}({x}, {source_number(ins.arg)})"
        return f"{name}({x})"

    def line(self, k: int) -> str:
        """Instruction k as one line of Python: "v2 = v1 + b"."""
        return f"{self.identifiers[self.instructions[k].out]} = {self.expression(k)}"

    def local_name(self, k: int, pos: int) -> str:
        """The name of a local derivative in `source()`: "dv2_dv1" is ∂v2/∂v1 (operand `pos` of line k).
        When both operands are the same node, "_1st" / "_2nd" say which one."""
        ins = self.instructions[k]
        ids = self.identifiers
        name = f"d{ids[ins.out]}_d{ids[ins.operands[pos]]}"  # type: ignore[index]
        if len(ins.operands) == 2 and ins.operands[0] == ins.operands[1]:
            name += ("_1st", "_2nd")[pos]
        return name

    def source(self) -> str:
        """The program as straight-line Python: the forward pass, then the backward pass.

        In the backward pass `grad_u` is ∂output/∂u (each starts at 0) and `dv_du` names the local
        derivative ∂v/∂u of one line, which `micrograd.engine.ops` defines (it is not written out here,
        so the formula of each derivative stays in one place).
        """
        ids = self.identifiers
        inputs = ", ".join(ids[self.slot_of[x]] for x in self.inputs) or "none"
        params = ", ".join(ids[self.slot_of[p]] for p in self.parameters) or "none"
        lines = [
            f"# inputs (one value per sample): {inputs}",
            f"# parameters (read from .data): {params}",
            "# forward pass",
            *(self.line(k) for k in range(len(self.instructions))),
            "# backward pass: grad_u = d output / d u, starting at 0; dv_du = local derivative of line v",
        ]
        seeded: set[int] = set()
        for s in self._output_slots:
            lines.append(f"grad_{ids[s]} {'+=' if s in seeded else '='} 1.0")
            seeded.add(s)
        for k, pos in self.backward_steps():
            ins = self.instructions[k]
            target = ids[ins.operands[pos]]  # type: ignore[index]
            lines.append(f"grad_{target} += {self.local_name(k, pos)} * grad_{ids[ins.out]}")
        return "\n".join(lines)

    def matrix_source(self) -> str:
        """The program as it runs: each lowered layer is one matrix line (`h1 = relu(X @ W1.T + b1)`,
        a row per sample) with the scalar form it came from beside it (neuron 0's chain), lines
        that apply one op to whole vectors are one line too, the rest stays scalar lines; then
        the backward pass in the same form. For a tape without layers, `source()`."""
        if not self.layers:
            return self.source()
        return MatrixView(self).text()

    def lowering(self) -> str:
        """What was lowered, in one line: the layers run as matrix products, and what runs op by op."""
        lowered = sum(len(layer.instructions) for layer in self.layers)
        shapes = ", ".join(f"{layer.name} {len(layer.inputs)}→{len(layer.outputs)}" for layer in self.layers)
        return (
            f"{len(self.layers)} layer(s) as matrix products ({shapes or 'none'}): {lowered} of "
            f"{len(self.instructions)} instructions; {len(self.instructions) - lowered} run op by op"
        )

    def __str__(self) -> str:
        return self.matrix_source()

    def __repr__(self) -> str:
        inputs = ", ".join(self.names[self.slot_of[x]] for x in self.inputs)
        return f"Tape({len(self.instructions)} instructions, inputs [{inputs}], {len(self.parameters)} parameters)"

    # -- internals --------------------------------------------------------------------------------

    def _parameter_array(self, parameters: Any) -> np.ndarray:
        """The parameters as a flat float64 array: `parameters` checked, or read from `.data`."""
        count = len(self.parameters)
        if parameters is None:
            if not count:  # (a loss's tape: no generator to start)
                return np.empty(0)
            return np.fromiter((p.data for p in self.parameters), np.float64, count)
        theta = np.asarray(parameters)
        if theta.dtype != np.float64 or theta.shape != (count,):
            raise ValueError(
                f"Tape.forward: parameters must be a float64 array of shape ({count},) in tape.parameters order, "
                f"got {theta.dtype} of shape {theta.shape}"
            )
        return theta

    def _bind(self, feed: Mapping[Value, Any] | np.ndarray | None) -> tuple[dict[int, Any], dict[int, Any], int | None]:
        """The values before the first instruction: constants that are outputs (by slot), the
        inputs from `feed` (by slot: a 1-D array, or a float for every sample), the batch size."""
        if feed is None:
            feed = {}
        shared = {s: self.nodes[s].data for s in self._constant_slots}
        if isinstance(feed, np.ndarray):  # a matrix: one row per sample, one column per input
            k = len(self.inputs)
            if feed.ndim != 2 or feed.shape[1] != k or feed.shape[0] == 0 or feed.dtype.kind not in "iuf":
                raise ValueError(
                    f"Tape.forward: a matrix feed must be a non-empty (samples, {k}) array of real numbers, one "
                    f"column per input in tape.inputs order, got {feed.dtype} of shape {feed.shape}"
                )
            return shared, {-1: feed.astype(np.float64, copy=False)}, feed.shape[0]
        if not isinstance(feed, Mapping):
            raise TypeError(f"Tape.forward takes a dict {{input leaf: array}}, got {type(feed).__name__}")
        for key in feed:
            if key not in self.slot_of or self.kinds[self.slot_of[key]] != "input":
                raise ValueError(
                    f"Tape.forward: {self._describe_key(key)} is not an input of this tape{self._inputs_hint()}"
                )
        inputs: dict[int, Any] = {}
        n: int | None = None
        first = ""
        for node in self.inputs:
            name = node.label or self.names[self.slot_of[node]]
            if node not in feed:
                raise ValueError(f"Tape.forward: missing input {name!r}{self._inputs_hint()}")
            array = np.asarray(feed[node])
            if array.dtype.kind not in "iuf":
                raise TypeError(f"Tape.forward: input {name!r} must hold real numbers, got dtype {array.dtype}")
            if array.ndim == 0:
                inputs[self.slot_of[node]] = float(array)
                continue
            if array.ndim != 1:
                raise ValueError(
                    f"Tape.forward: input {name!r} must be a number or a 1-D array (one value per sample), "
                    f"got shape {array.shape}"
                )
            if n is None:
                n, first = len(array), name
                if n == 0:
                    raise ValueError(f"Tape.forward: input {name!r} is empty: a batch needs at least one sample")
            elif len(array) != n:
                raise ValueError(
                    f"Tape.forward: inputs differ in length: {first!r} has {n} samples but {name!r} has {len(array)}"
                )
            inputs[self.slot_of[node]] = array.astype(np.float64, copy=False)
        return shared, inputs, n

    def _backprop(
        self, grad_output: Any, trace: list | None = None, every_node: bool = True, inputs: bool = False
    ) -> tuple[dict[int, Any], np.ndarray]:
        """The adjoint of every slot: one per sample (an array) for a per-sample slot, summed over
        the batch for a shared one (a parameter's, before `reduce`); see `_Schedule.backward`."""
        values = self._require_forward()
        rows = 1 if self._n is None else self._n
        return self._schedule.backward(values, self._seeds(grad_output, rows), rows, trace, every_node, inputs)

    def _seeds(self, grad_output: Any, rows: int) -> list[np.ndarray]:
        k = len(self._output_slots)
        if grad_output is None:
            return [np.ones(rows)] * k
        g = np.asarray(grad_output, dtype=np.float64)
        shape = () if self._n is None else (self._n,)
        expected = shape if self._single else shape + (k,)
        if g.shape != expected:
            raise ValueError(
                f"Tape.backward: grad_output must have shape {expected} (like forward's output), got {g.shape}"
            )
        g = g.reshape((rows,) if self._single else (rows, k))
        return [g] if self._single else [g[:, j] for j in range(k)]

    def _scale(self, reduce: str) -> int:
        if reduce not in ("mean", "sum"):
            raise ValueError(f"Tape.backward: reduce must be 'mean' or 'sum', got {reduce!r:.40}")
        return 1 if reduce == "sum" or self._n is None else self._n

    def _require_forward(self) -> _Values:
        if self._values is None:
            raise RuntimeError("call tape.forward(...) first: the backward pass needs the values of a forward pass")
        return self._values

    def _domain_error(self, k: int, x: Any, y: Any, ok: Any, n: int | None) -> Exception:
        """The scalar engine's error for instruction k at its first failing sample, naming the sample.
        (x, y, ok: the operands and the domain check, one value per sample or one for all.)"""
        ins = self.instructions[k]
        where, i = "", 0
        if n is not None:
            bad = np.logical_not(np.broadcast_to(ok, (n,)))
            i = int(np.argmax(bad))
            where = "at every sample, " if bad.all() else f"at sample {i}, "

        def stand_in(o: int | Const, v: Any) -> Value:
            v = np.ravel(v)
            return Value(float(v[0] if v.size == 1 else v[i]), self.names[o] if isinstance(o, int) else o.name)

        x_node = stand_in(ins.operands[0], x)
        y_node = stand_in(ins.operands[1], y) if len(ins.operands) == 2 else None
        error = domain_error(ins.op, x_node, y_node, ins.arg)
        return type(error)(f"{error} ({where}tape line {k + 1}: `{self.line(k)}`)")

    def _describe_key(self, key: Any) -> str:
        if not isinstance(key, Value):
            return f"key {key!r:.40} ({type(key).__name__}; the keys are the input Values themselves)"
        if key in self.slot_of:
            return f"{self.kinds[self.slot_of[key]]} {self.names[self.slot_of[key]]!r}"
        return f"{_describe(key)} (not in the recorded graph)"

    def _inputs_hint(self) -> str:
        names = ", ".join(repr(self.names[self.slot_of[x]]) for x in self.inputs)
        return f" (inputs: {names})" if names else " (it has no inputs: call forward() or forward({}))"


def _slots_and_constants(ins: Instruction) -> tuple[tuple[int, Any], tuple[int, Any]]:
    """((x slot, x constant), (y slot, y constant)): a slot of -1 means "use the constant"; for a
    unary op, y is its `arg`."""

    def one(o: int | Const) -> tuple[int, Any]:
        return (o, None) if isinstance(o, int) else (-1, o.value)

    return one(ins.operands[0]), (one(ins.operands[1]) if len(ins.operands) == 2 else (-1, ins.arg))


def _operand_values(ins: Instruction, value_of: Callable[[int], Any]) -> tuple[Any, Any]:
    """(x, y) as an op's functions take them: y is the second operand, or the op's `arg`."""
    x, *rest = (value_of(o) if isinstance(o, int) else o.value for o in ins.operands)
    return x, (rest[0] if rest else ins.arg)


def _rows(rows: list[int]) -> np.ndarray | slice:
    """Row numbers as a slice when consecutive (a view, no copy), else an index array."""
    if rows and rows == list(range(rows[0], rows[0] + len(rows))):
        return slice(rows[0], rows[0] + len(rows))
    return np.array(rows, dtype=np.intp)


class _Values:
    """The values of one forward pass: a float per shared slot, a row of the table per per-sample
    slot; the parameters as the flat array they were read from."""

    def __init__(
        self,
        schedule: _Schedule,
        shared: dict[int, Any],
        theta: np.ndarray,
        table: np.ndarray,
        vector: np.ndarray | None,
        n: int | None,
    ) -> None:
        self.schedule = schedule
        self.shared = shared  # by slot: the value of a shared slot the program reads
        self.vector = vector  # the shared values as `_SharedArrays` computed them (None: all in `shared`)
        self.n = n
        self.theta = theta  # the parameters, in `Tape.parameters` order
        self.table = table  # (rows, samples): every per-sample slot that is not inside a lowered layer
        self._chains: dict[tuple[int, int], list[np.ndarray]] = {}

    def array(self, s: int) -> np.ndarray:
        """Slot s for every sample."""
        if self.schedule.tape._varying[s]:
            return self._row(s)
        return np.full(self.table.shape[1], self._shared(s))

    def get(self, s: int, scalar: bool) -> Array:
        """Slot s: a float if shared (or if `scalar`: a forward without a sample axis), else its row."""
        if not self.schedule.tape._varying[s]:
            return self._shared(s)
        row = self._row(s)
        return float(row[0]) if scalar else row

    def _shared(self, s: int) -> float:
        if s in self.shared:
            return self.shared[s]
        number = self.schedule.tape._parameter_number.get(s)
        if number is not None:
            return float(self.theta[number])
        self.fill_shared()
        return self.shared[s]

    def fill_shared(self) -> None:
        """Every shared value in `shared`, by the scalar plan, after a forward on arrays."""
        if self.vector is not None:
            self.schedule.run_shared_plan(self.theta, self.shared, self.n)
            self.vector = None

    def _row(self, s: int) -> np.ndarray:
        row = self.schedule.row[s]
        if row >= 0:
            return self.table[row]
        # Inside a lowered layer: the products and partial sums of neuron i, recomputed in the
        # scalar engine's order ((b + w0·x0) + w1·x1) + ... when asked for (a drawing, a trace).
        li, i, j, is_sum = self.schedule.internal[s]
        layer = self.schedule.layers[li]
        key = (li, i)
        if key not in self._chains:
            acc: Any = self.theta[layer.biases[i]]
            parts = []
            for jj, x in enumerate(layer.inputs):
                product = self.theta[layer.weights[i, jj]] * self._row(x)
                acc = acc + product
                parts += [product, acc]
            self._chains[key] = parts
        return self._chains[key][2 * j + is_sum]


class _SharedArrays:
    """The shared instructions of a lowered tape (parameters alone, such as a penalty Σw²) run on
    arrays: grouped by level as the per-sample ones are, and each chain of sums
    `((c + t1) + t2) + ...` one reduction, so `forward` and `parameter_gradients` take a few NumPy
    calls instead of a Python step per instruction. The values and gradients of every shared node
    (`values()`, `gradients()`) still come from the scalar plan, run when asked for."""

    def __init__(self, schedule: _Schedule) -> None:
        tape = schedule.tape
        instructions = tape.instructions
        ks = [entry[0] for entry in schedule.shared_plan]
        readers = collections.Counter(o for ins in instructions for o in ins.operands if type(o) is int)
        readers.update(tape._output_slots)
        plus = OPS["+"]
        chains: dict[int, tuple[int | Const, list[int], list[int]]] = {}  # last sum -> (first, terms, ks)
        for k in ks:
            ins = instructions[k]
            if ins.op is not plus or type(ins.operands[1]) is not int:
                continue
            a, t = ins.operands
            if type(a) is int and a in chains and readers[a] == 1:
                first, terms, links = chains.pop(a)
                chains[ins.out] = (first, [*terms, t], [*links, k])  # type: ignore[list-item]
            else:
                chains[ins.out] = (a, [t], [k])  # type: ignore[list-item]
        sums = {last: chain for last, chain in chains.items() if len(chain[1]) >= 3}
        in_sum = {k for _, _, links in sums.values() for k in links}
        self.position: dict[int, int] = {}  # shared slot -> its place in the value vector
        for s in tape._parameter_slots:
            self.position[s] = len(self.position)
        self.params = np.arange(len(tape._parameter_slots))
        level: dict[int, int] = {}
        by_key: dict[tuple, list] = {}
        for k in ks:
            ins = instructions[k]
            if k in in_sum:
                if ins.out in sums:
                    first, terms, _ = sums[ins.out]
                    slots = [o for o in (first, *terms) if type(o) is int]
                    level[ins.out] = 1 + max((level.get(o, 0) for o in slots), default=0)
                    by_key[(level[ins.out], "sum", ins.out)] = [ins.out]
                continue
            level[ins.out] = 1 + max((level.get(o, 0) for o in ins.operands if type(o) is int), default=0)
            kinds = tuple(type(o) is int for o in ins.operands)
            by_key.setdefault((level[ins.out], ins.op.name, kinds, ins.arg is None), []).append(k)
        for k in ks:  # every result gets a place, also the partial sums a reduction skips
            self.position.setdefault(instructions[k].out, len(self.position))
        self.size = len(self.position)
        pos = self.position
        self.items: list[tuple] = []
        for key in sorted(by_key, key=lambda key: key[0]):
            if key[1] == "sum":
                first, terms, _ = sums[key[2]]
                self.items.append(
                    (
                        "sum",
                        pos[key[2]],
                        first if type(first) is not int else pos[first],
                        type(first) is int,
                        np.array([pos[t] for t in terms], dtype=np.intp),
                    )
                )
                continue
            group = by_key[key]
            op = instructions[group[0]].op

            def source(p: int, group: list[int] = group) -> tuple[np.ndarray, bool]:
                column = [instructions[k].operands[p] for k in group]
                if type(column[0]) is int:
                    return np.array([pos[o] for o in column], dtype=np.intp), True  # type: ignore[index]
                return np.array([o.value for o in column]), False  # type: ignore[union-attr]

            x = source(0)
            if op.arity == 2:
                y: tuple[np.ndarray | None, bool] = source(1)
            else:
                arg = instructions[group[0]].arg
                y = (None if arg is None else np.array([instructions[k].arg for k in group]), False)
            out = np.array([pos[instructions[k].out] for k in group], dtype=np.intp)
            self.items.append(("op", op, out, x, y))

    def forward(self, theta: np.ndarray) -> np.ndarray | None:
        """Every shared value (by `position`), or None when an op leaves its domain (the scalar plan
        then runs, to raise the engine's error naming the instruction)."""
        sv = np.empty(self.size)
        sv[self.params] = theta
        for item in self.items:
            if item[0] == "sum":
                _, out, first, first_is_slot, terms = item
                sv[out] = (sv[first] if first_is_slot else first.value) + sv[terms].sum()
                continue
            _, op, out, (xi, x_slot), (yi, y_slot) = item
            x = sv[xi] if x_slot else xi
            y = sv[yi] if y_slot else yi
            if op.domain is not None and not np.all(op.domain(NUMPY, x, y)):
                return None
            sv[out] = op.forward(NUMPY, x, y)
        return sv

    def backward(self, sv: np.ndarray, seeds: dict[int, float]) -> np.ndarray:
        """The adjoint of every shared value (by `position`), from the seeds of the nodes the
        per-sample part and the outputs read."""
        adjoint = np.zeros(self.size)
        for s, value in seeds.items():
            if s in self.position:  # (a constant that is an output has no place: nothing to pass on)
                adjoint[self.position[s]] += value
        for item in reversed(self.items):
            if item[0] == "sum":
                _, out, first, first_is_slot, terms = item
                upstream = adjoint[out]
                if first_is_slot:
                    adjoint[first] += upstream
                np.add.at(adjoint, terms, upstream)
                continue
            _, op, out, (xi, x_slot), (yi, y_slot) = item
            x = sv[xi] if x_slot else xi
            y = sv[yi] if y_slot else yi
            local = op.derivatives(NUMPY, sv[out], x, y)
            upstream = adjoint[out]
            if x_slot:
                np.add.at(adjoint, xi, local[0] * upstream)
            if y_slot:
                np.add.at(adjoint, yi, local[1] * upstream)
        return adjoint


class _Group(NamedTuple):
    """Instructions of one level that apply the same op to operands of the same kinds: one NumPy
    call on a (instructions, samples) array runs them all. Operand sources: a row index per
    instruction into the value table, or a column of constants (or of the op's `arg`)."""

    op: Op
    ks: list[int]  # the instructions, in program order
    out: np.ndarray | slice  # the table rows of their results
    x: np.ndarray | slice  # rows of the first operand, or its constants as a column
    x_is_slot: bool
    y: np.ndarray | slice | None  # the same for the second operand, or the `arg` column (None: no arg)
    y_is_slot: bool
    upstream: list[np.ndarray]  # term rows to add, rank by rank, into the adjoint of each result
    terms: list[tuple[int, int, int]]  # (operand position, first row, end row) where its terms go
    out_slots: list[int]


class _SumChain:
    """A chain of single-instruction sum groups `((a + t1) + t2) + ...` (a softmax's denominator),
    run as one `np.add.accumulate` down the rows [a, t1, t2, ...]: it adds row by row in that
    order, so every partial sum is the very one the instructions give (no pairwise summation, as
    a reduction would use). Its partial sums are read by the next sum alone, so backward the
    adjoint of every one of them is the last sum's, and each term of the chain is that adjoint
    (an add's derivatives are 1), written into the rows where the groups' terms go."""

    def __init__(self, groups: list[_Group], rows: list[int]) -> None:
        self.groups = groups  # in program order
        self.operands = np.array(rows, dtype=np.intp)  # table rows of a, t1, t2, ...
        self.out = np.array([_one_row(g.out) for g in groups], dtype=np.intp)
        self.upstream = groups[-1].upstream
        self.term_rows = [(start, end) for g in groups for _, start, end in g.terms]

    def forward(self, table: np.ndarray) -> None:
        table[self.out] = np.add.accumulate(table[self.operands], axis=0)[1:]

    def backward(self, upstream: np.ndarray, terms: np.ndarray, trace: list | None, adjoints: dict | None) -> None:
        for start, end in self.term_rows:
            terms[start:end] = upstream
        if trace is not None:
            ones = np.broadcast_to(1.0, upstream.shape)
            for g in reversed(self.groups):
                trace.extend((g.ks[0], pos, ones[0], upstream[0], None) for pos, _, _ in g.terms)
        if adjoints is not None:
            for g in self.groups:
                adjoints[g.out_slots[0]] = upstream[0]


def _one_row(rows: np.ndarray | slice) -> int:
    return int(rows.start) if isinstance(rows, slice) else int(rows[0])


def _fuse_sum_chains(groups: list[_Group | MatMul], instructions: Sequence[Instruction], outputs: list[int]) -> list:
    """`groups` with each chain of at least 3 sums (one instruction per group, the partial sum
    read by the next sum alone and no output) made one `_SumChain`, run where its last sum ran:
    every operand is ready by then, and nothing between reads a partial sum."""
    readers = collections.Counter(o for ins in instructions for o in ins.operands if type(o) is int)
    readers.update(outputs)
    plus = OPS["+"]

    def link(g: _Group) -> bool:
        return (
            g.op is plus
            and len(g.ks) == 1
            and g.x_is_slot
            and g.y_is_slot
            and all(d.__class__ is float and d == 1.0 for d in plus.derivatives(FLOATS, 0.0, 0.0, 0.0))
        )

    ending: dict[int, list[int]] = {}  # a chain's last sum's slot -> the positions of its groups
    for i, g in enumerate(groups):
        if not isinstance(g, _Group) or not link(g):
            continue
        a = instructions[g.ks[0]].operands[0]
        chain = ending.pop(a, None) if type(a) is int and readers[a] == 1 else None
        ending[g.out_slots[0]] = [*(chain or []), i]
    fused: dict[int, list[int]] = {chain[-1]: chain for chain in ending.values() if len(chain) >= 3}
    skipped = {i for chain in fused.values() for i in chain[:-1]}
    result: list = []
    for i, g in enumerate(groups):
        if i in skipped:
            continue
        if i in fused:
            members = [groups[j] for j in fused[i]]
            rows = [_one_row(members[0].x)] + [_one_row(m.y) for m in members]  # type: ignore[union-attr, arg-type]
            result.append(_SumChain(members, rows))  # type: ignore[arg-type]
        else:
            result.append(g)
    return result


class _Schedule:
    """How a tape runs: the shared instructions one by one on floats (`FLOATS`, exactly as the
    scalar engine), then the per-sample instructions level by level, grouped; each lowered layer
    (`Layer`) is one matrix product in that order.

    Level: a per-sample instruction's level is one more than its operands' highest, so the
    instructions of one level never read each other. Grouping those with the same op runs a
    layer's activations (16 relu's) as one array operation. Each result is still computed by the
    same formula on the same operands, so outside the lowered layers the values are the engine's
    bits; a matrix product adds its terms in another order (equal to rounding, 1e-15 relative).

    The value table has one row per per-sample slot outside the lowered layers (the products and
    partial sums inside a layer get none: `_Values` recomputes them when asked), and one per
    shared slot a per-sample instruction reads. Parameters come as one flat array.

    Backward, each chain-rule term is written to its own row of a term table; a node's adjoint is
    the sum of its terms taken in the scalar engine's order (`backward_steps`: instructions in
    reverse, operands left to right). A lowered layer writes one term per input, `W.T @ G`, and
    its parameters' gradients `G @ X.T` and `Σ G` straight into the flat gradient array. A shared
    node read op by op sums its per-sample terms sample by sample, last sample first (the order
    of the engine's backward through the batch's graph `((l0 + l1) + ...)`), then adds the terms
    of shared instructions (w ** 2 of a penalty) one by one.
    """

    def __init__(self, tape: Tape, layers: list[Layer]) -> None:
        instructions, varying = tape.instructions, tape._varying
        self.tape = tape
        self.layers = layers
        lowered = set().union(*(layer.instructions for layer in layers)) if layers else set()
        layer_of = {layer.outputs[0]: li for li, layer in enumerate(layers)}  # found at its first neuron's end
        self.internal: dict[int, tuple[int, int, int, int]] = {}  # slot inside a layer -> (layer, i, j, is_sum)
        for li, layer in enumerate(layers):
            for i, chain in enumerate(layer.chains):
                for j, (product, partial) in enumerate(chain):
                    self.internal[product] = (li, i, j, 0)
                    if partial != layer.outputs[i]:
                        self.internal[partial] = (li, i, j, 1)
        # (k, op, out, x slot, x constant, y slot, y constant): a slot of -1 means "the constant";
        # for a unary op, y is its `arg`.
        self.shared_plan = []
        for k, ins in enumerate(instructions):
            if not ins.varying:
                (xs, xc), (ys, yc) = _slots_and_constants(ins)
                self.shared_plan.append((k, ins.op, ins.out, xs, xc, ys, yc))
        level: dict[int, int] = {}
        by_key: dict[tuple, list] = {}
        for k, ins in enumerate(instructions):
            if not ins.varying:
                continue
            if k in lowered:
                first_of = layer_of.get(ins.out)
                if first_of is not None:  # a layer starts once its first neuron is complete
                    li = first_of
                    layer = layers[li]
                    lv = 1 + max(level.get(x, 0) for x in layer.inputs)
                    for z in layer.outputs:
                        level[z] = lv
                    by_key[(lv, "@", li)] = [li]
                continue
            level[ins.out] = 1 + max(level.get(o, 0) for o in ins.operands if type(o) is int)
            kinds = tuple(type(o) is int for o in ins.operands)
            by_key.setdefault((level[ins.out], ins.op.name, kinds, ins.arg is None), []).append(k)
        order = sorted(by_key, key=lambda key: key[0])  # by level; `sorted` is stable
        # Rows of the value table: inputs, then each group's results, then shared slots read.
        self.row = np.full(len(tape.nodes), -1, dtype=np.intp)
        n_rows = 0

        def give_rows(slots: Sequence[int]) -> None:
            nonlocal n_rows
            for s in slots:
                if self.row[s] < 0:
                    self.row[s] = n_rows
                    n_rows += 1

        give_rows([tape.slot_of[x] for x in tape.inputs])
        for key in order:
            if key[1] == "@":
                give_rows(layers[key[2]].outputs)
            else:
                give_rows([instructions[k].out for k in by_key[key]])
        shared_read = sorted(
            {
                o
                for k, ins in enumerate(instructions)
                if ins.varying and k not in lowered
                for o in ins.operands
                if type(o) is int and not varying[o]
            }
            | {s for s in tape._output_slots if not varying[s]}
        )
        give_rows(shared_read)
        self.n_rows = n_rows
        self.shared_read_slots = shared_read
        self.shared_read_rows = self.row[shared_read] if shared_read else np.zeros(0, dtype=np.intp)
        # Term rows: 0 is a row of zeros (padding), then each group's terms, then the output seeds.
        self.n_terms = 1
        slot_terms: dict[int, list[tuple[int, int, int]]] = collections.defaultdict(list)  # (k, pos, row)
        plans: list[Any] = []
        inputs = {tape.slot_of[x] for x in tape.inputs}
        for key in order:
            if key[1] == "@":
                layer = layers[key[2]]
                mm = MatMul(
                    layer,
                    _rows([int(self.row[x]) for x in layer.inputs]),
                    _rows([int(self.row[z]) for z in layer.outputs]),
                    key[0],
                )
                last = max(layer.instructions)
                for j, x in enumerate(layer.inputs):
                    slot_terms[x].append((last, 1, self.n_terms + j))
                mm.terms = (self.n_terms, self.n_terms + len(layer.inputs))
                mm.inputs_need_terms = not all(x in inputs for x in layer.inputs)
                self.n_terms += len(layer.inputs)
                plans.append(mm)
                continue
            ks = by_key[key]
            first = instructions[ks[0]]
            terms = []
            for pos in range(len(first.operands)):
                if type(first.operands[pos]) is int:
                    for j, k in enumerate(ks):
                        operand = instructions[k].operands[pos]
                        slot_terms[operand].append((k, pos, self.n_terms + j))
                    terms.append((pos, self.n_terms, self.n_terms + len(ks)))
                    self.n_terms += len(ks)
            plans.append((first.op, ks, terms))
        self.seed_rows = []
        for s in tape._output_slots:
            slot_terms[s].append((len(instructions), 0, self.n_terms))  # a seed comes before every term
            self.seed_rows.append(self.n_terms)
            self.n_terms += 1
        # Each node's terms in the engine's order: instructions in reverse, operands left to right.
        self.term_order = {
            s: [row for _, _, row in sorted(t, key=lambda e: (-e[0], e[1]))] for s, t in slot_terms.items()
        }
        self.groups: list[_Group | MatMul] = []
        for plan in plans:
            if isinstance(plan, MatMul):
                plan.upstream = self._ranks(list(plan.layer.outputs))
                self.groups.append(plan)
            else:
                self.groups.append(self._group(*plan))
        #: What runs: `groups` with the chains of sums fused (`_SumChain`); `groups` is what
        #: `MatrixView` prints.
        self.steps = _fuse_sum_chains(self.groups, instructions, tape._output_slots)
        self.inputs = [tape.slot_of[x] for x in tape.inputs]
        self.input_ranks = self._ranks(self.inputs)
        self.shared_with_terms = sorted(s for s in self.term_order if not varying[s])
        self.shared_ranks = self._ranks(self.shared_with_terms)
        # The parameters the shared plan or op-by-op instructions read as floats.
        number = tape._parameter_number
        read = sorted(
            {s for s in self.shared_read_slots if s in number}
            | {o for _, _, _, xs, _, ys, _ in self.shared_plan for o in (xs, ys) if o in number}
        )
        self.float_params = (read, np.array([number[s] for s in read], dtype=np.intp))
        self.shared_arrays = _SharedArrays(self) if layers and self.shared_plan else None
        # The outputs' rows of the value table, when every output has one (`Tape.forward` then
        # takes them in one indexing, not output by output).
        out_rows = [int(self.row[s]) for s in tape._output_slots]
        every_row = all(varying[s] for s in tape._output_slots) and min(out_rows) >= 0
        self.output_rows = np.array(out_rows, dtype=np.intp) if every_row else None

    def _ranks(self, slots: list[int]) -> list[np.ndarray]:
        """Rank r: the r-th term row of each slot (the zero row where a slot has fewer terms)."""
        orders = [self.term_order.get(s, []) for s in slots]
        depth = max((len(order) for order in orders), default=0)
        return [np.array([order[r] if r < len(order) else 0 for order in orders], dtype=int) for r in range(depth)]

    def _group(self, op: Op, ks: list[int], terms: list) -> _Group:
        instructions = self.tape.instructions

        def source(pos: int) -> tuple[Any, bool]:
            operands = [instructions[k].operands[pos] for k in ks]
            if type(operands[0]) is int:
                return _rows([int(self.row[o]) for o in operands]), True  # type: ignore[index]
            return np.array([[o.value] for o in operands]), False  # type: ignore[union-attr]

        x, x_is_slot = source(0)
        y: Any
        if op.arity == 2:
            y, y_is_slot = source(1)
        else:
            arg = instructions[ks[0]].arg
            y, y_is_slot = (None if arg is None else np.array([[instructions[k].arg] for k in ks])), False
        out_slots = [instructions[k].out for k in ks]
        out = _rows([int(self.row[s]) for s in out_slots])
        return _Group(op, ks, out, x, x_is_slot, y, y_is_slot, self._ranks(out_slots), terms, out_slots)

    def forward(self, theta: np.ndarray, shared: dict[int, Any], inputs: dict[int, Any], n: int | None) -> _Values:
        tape = self.tape
        rows = 1 if n is None else n
        table = np.empty((self.n_rows, rows))
        x: Any
        y: Any
        vector = None
        with np.errstate(all="ignore"):
            if self.shared_arrays is not None:
                vector = self.shared_arrays.forward(theta)
            if vector is None:
                self.run_shared_plan(theta, shared, n)
            else:
                position = self.shared_arrays.position  # type: ignore[union-attr]
                shared.update((s, float(vector[position[s]])) for s in self.shared_read_slots if s in position)
            if self.shared_read_slots:
                table[self.shared_read_rows] = np.array([shared[s] for s in self.shared_read_slots])[:, None]
            for s, value in inputs.items():
                if s == -1:  # a matrix, one column per input: the inputs are the table's first rows
                    table[: value.shape[1]] = value.T
                else:
                    table[self.row[s]] = value
            for g in self.steps:
                if isinstance(g, MatMul):
                    g.forward(table, theta)
                    continue
                if g.__class__ is _SumChain:
                    g.forward(table)
                    continue
                x = table[g.x] if g.x_is_slot else g.x
                y = table[g.y] if g.y_is_slot else g.y
                if g.op.domain is not None:
                    ok = g.op.domain(NUMPY, x, y)
                    if not np.all(ok):  # (rows and lines: at least one each, so no broadcast is needed to decide)
                        ok = np.broadcast_to(ok, (len(g.ks), rows))
                        j = int(np.argmax(~ok.all(axis=1)))  # the first failing instruction
                        yj = y[j] if y is not None and np.ndim(y) == 2 else tape.instructions[g.ks[j]].arg
                        raise tape._domain_error(g.ks[j], x[j], yj, ok[j], n)
                table[g.out] = g.op.forward(NUMPY, x, y)
        return _Values(self, shared, theta, table, vector, n)

    def run_shared_plan(self, theta: np.ndarray, shared: dict[int, Any], n: int | None) -> None:
        """The shared instructions one by one on floats, exactly as the scalar engine: every shared
        value into `shared` (by slot)."""
        slots, numbers = self.float_params
        if not slots and not self.shared_plan:
            return
        if slots:
            shared.update(zip(slots, theta[numbers].tolist()))
        with np.errstate(all="ignore"):
            for k, op, out, xs, xc, ys, yc in self.shared_plan:  # parameters alone: floats, as the engine
                x = shared[xs] if xs >= 0 else xc
                y = shared[ys] if ys >= 0 else yc
                if op.domain is not None and not op.domain(FLOATS, x, y):
                    raise self.tape._domain_error(k, x, y, False, n)
                shared[out] = op.forward(FLOATS, x, y)

    def backward(
        self,
        values: _Values,
        seeds: list[np.ndarray],
        rows: int,
        trace: list | None,
        every_node: bool,
        inputs: bool = False,
    ) -> tuple[dict[int, Any], np.ndarray]:
        """(adjoints, parameter gradients): the adjoint of every node if `every_node`, else of the
        shared nodes the shared instructions need (and of the inputs, if `inputs`); the gradient
        of every parameter, summed over the batch, as a flat array in `Tape.parameters` order."""
        tape = self.tape
        table = values.table
        terms = np.empty((self.n_terms, rows))
        terms[0] = 0.0
        for row, seed in zip(self.seed_rows, seeds):
            terms[row] = seed
        adjoints: dict[int, Any] = {}
        grad = np.zeros(len(tape.parameters))
        with np.errstate(all="ignore"):
            for g in reversed(self.steps):
                upstream = terms[g.upstream[0]]
                for rank in g.upstream[1:]:
                    upstream = upstream + terms[rank]
                if g.__class__ is _SumChain:
                    g.backward(upstream, terms, trace, adjoints if every_node else None)
                    continue
                if isinstance(g, MatMul):
                    g.backward(table, values.theta, upstream, terms, grad, adjoints if every_node else None, inputs)
                    continue
                x = table[g.x] if g.x_is_slot else g.x
                y = table[g.y] if g.y_is_slot else g.y
                local = g.op.derivatives(NUMPY, table[g.out], x, y)
                for pos, start, end in g.terms:
                    d = local[pos]
                    if d.__class__ is float and (d == 1.0 or d == -1.0):  # exact without the product
                        terms[start:end] = upstream if d == 1.0 else -upstream
                    else:
                        np.multiply(d, upstream, out=terms[start:end])
                    if trace is not None:
                        d_rows = np.broadcast_to(d, upstream.shape)
                        trace.extend((k, pos, d_rows[j], upstream[j], None) for j, k in enumerate(g.ks))
                if every_node:
                    for j, s in enumerate(g.out_slots):
                        adjoints[s] = upstream[j]
            if every_node or inputs:
                for s, total in zip(self.inputs, _sum_ranks(terms, self.input_ranks, len(self.inputs), rows)):
                    adjoints[s] = total
            if self.shared_with_terms:  # shared nodes read op by op: summed over the batch, in order
                if self.layers:  # no bit for bit to keep: one sum per rank
                    totals = sum(terms[rank].sum(axis=1) for rank in self.shared_ranks)
                else:
                    totals = _sum_samples(terms, self.shared_ranks, rows)
                for s, total in zip(self.shared_with_terms, totals.tolist()):
                    adjoints[s] = total
            if self.shared_arrays is not None and values.vector is not None and not every_node and trace is None:
                adjoint = self.shared_arrays.backward(values.vector, adjoints)
                grad += adjoint[: len(grad)]  # the parameters come first, in their order
                return adjoints, grad
            values.fill_shared()
            shared = values.shared
            for k, op, out, xs, xc, ys, yc in reversed(self.shared_plan):  # then the shared instructions
                upstream = adjoints.get(out)
                if upstream is None:
                    upstream = 0.0
                x = shared[xs] if xs >= 0 else xc
                y = shared[ys] if ys >= 0 else yc
                local = op.derivatives(FLOATS, shared[out], x, y)
                for pos, o in ((0, xs), (1, ys)):
                    if o >= 0:  # `held + local × upstream`, as Value.backward() adds
                        term = local[pos] * upstream
                        held = adjoints.get(o)
                        adjoints[o] = term if held is None else held + term
                        if trace is not None:
                            trace.append((k, pos, local[pos], upstream, adjoints[o]))
        number = tape._parameter_number
        for s, total in adjoints.items():
            if s in number and not tape._varying[s]:
                grad[number[s]] += total
        if every_node:
            for s, p in enumerate(tape._parameter_slots):
                adjoints[p] = float(grad[s])
        return adjoints, grad


def _sum_ranks(terms: np.ndarray, ranks: list[np.ndarray], count: int, rows: int) -> np.ndarray:
    """Per-sample adjoints of `count` nodes: their term rows added rank by rank (engine order)."""
    if not ranks:
        return np.zeros((count, rows))
    total = terms[ranks[0]]
    for rank in ranks[1:]:
        total = total + terms[rank]
    return total


def _sum_samples(terms: np.ndarray, ranks: list[np.ndarray], rows: int) -> np.ndarray:
    """The shared nodes' terms summed over the batch: sample by sample, last sample first, and
    within one sample rank by rank; one vector add per sample and rank, across all the nodes."""
    blocks = [terms[rank].T for rank in ranks]  # (samples, nodes)
    totals = np.zeros(len(ranks[0]))
    for i in range(rows - 1, -1, -1):
        for block in blocks:
            totals += block[i]
    return totals


def _describe(node: Value) -> str:
    return f"{node.label!r}" if node.label else repr(node)


def _check_outputs(output: Any) -> list[Value]:
    if isinstance(output, (str, bytes)) or not isinstance(output, Sequence) or not output:
        raise TypeError(f"Tape.record: output must be a Value or a non-empty list of Values, got {output!r:.60}")
    for i, out in enumerate(output):
        if not isinstance(out, Value):
            raise TypeError(f"Tape.record: output[{i}] must be a Value, got {type(out).__name__}: {out!r:.60}")
    return list(output)


def _check_inputs(inputs: Any) -> list[Value]:
    if isinstance(inputs, (Value, str, bytes)) or not isinstance(inputs, Sequence):
        raise TypeError(f"Tape.record: inputs must be a list of leaf Values, got {inputs!r:.60}")
    seen: set[Value] = set()
    for i, node in enumerate(inputs):
        if not isinstance(node, Value):
            raise TypeError(f"Tape.record: inputs[{i}] must be a Value, got {type(node).__name__}: {node!r:.60}")
        if node.children:
            raise ValueError(
                f"Tape.record: input {_describe(node)} is not a leaf: it is computed (op {node.op!r}); "
                "an input must be a leaf Value such as Value(0.0, label='x0')"
            )
        if node in seen:
            raise ValueError(f"Tape.record: input {_describe(node)} is given twice")
        seen.add(node)
    return list(inputs)


def _check_parameters(parameters: Any, found: tuple[Value, ...]) -> tuple[Value, ...]:
    """`parameters` as a tuple, checked to list each parameter leaf of the graph exactly once."""
    if isinstance(parameters, (Value, str, bytes)) or not isinstance(parameters, Sequence):
        raise TypeError(f"Tape.record: parameters must be a list of leaf Values, got {parameters!r:.60}")
    given = tuple(parameters)
    if len(set(given)) != len(given) or set(given) != set(found):
        missing = [p for p in found if p not in set(given)]
        extra = [p for p in given if p not in set(found)]
        what = (
            f"{_describe(missing[0])} is missing"
            if missing
            else (f"{_describe(extra[0])} is not a parameter of the graph" if extra else "one is listed twice")
        )
        raise ValueError(f"Tape.record: parameters must list every parameter leaf of the graph once: {what}")
    return given


def _identifiers(names: Sequence[str]) -> list[str]:
    taken: set[str] = set()
    result = []
    for name in names:
        base = _identifier(name)
        ident, k = base, 1
        while ident in taken:
            k += 1
            ident = f"{base}_{k}"
        taken.add(ident)
        result.append(ident)
    return result


def _signature(ins: Instruction) -> tuple:
    return (ins.op.name, ins.out, tuple(o if isinstance(o, int) else o.value for o in ins.operands), ins.arg)
