"""The scalar autograd engine: `Value` records each operation into a graph, `backward()` runs the
chain rule over that graph in reverse topological order.

Design notes, for the reader who compares this with Karpathy's micrograd:
- A node holds its operands (`children`) and the name of its op; the derivative rules live once,
  in `micrograd.engine.ops`. There are no per-node closures, so no node refers to itself and the
  graph is freed by reference counting the moment it is dropped: Python's cycle collector never
  has work. micrograd's surface is still there for code written against it: `Value(data,
  _children, _op)`, `_prev`, `_op`, and `_backward` (made on request from `local_grads()`; a node
  built by hand, as the lecture builds its tanh, may set its own: a user-defined op).
- Nothing walks the graph recursively: `topological_order` keeps its own stack, so a chain of a
  million nodes needs no special recursion limit. Copying and pickling walk a graph in
  topological order too, through the copy's memo, so roots that share nodes still share them.
- `backward()` follows PyTorch: leaves accumulate gradients across calls until `zero_grad()`,
  while every intermediate node shows the gradient of the latest pass.
- `no_grad()` and `scope()` hold per thread and per asyncio task (PyTorch's grad mode is
  thread-local); a node reads them from a ContextVar only while some context is inside one.
- NaN goes through every op as in PyTorch; a number outside an op's real domain (log(-1),
  0 ** -1) raises an error that names it.
"""

from __future__ import annotations

import contextlib
import contextvars
import numbers
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .graph import DERIVATIVES, chain_rule, topological_order
from .ops import FLOATS, OPS, Op

# Grad mode and the current scope belong to each thread and each asyncio task, as PyTorch's grad
# mode is thread-local: they live in ContextVars. Reading a ContextVar for every node would slow
# training by several percent, so the hot path first looks at two lists holding one entry per
# context that is inside `no_grad()` (or `scope()`) right now. Appending and popping are atomic,
# need no lock, and happen only on entering and leaving; while a list is empty, every context has
# grad on and no scope, and no ContextVar is read. (A task or thread started inside `no_grad()`
# inherits it, as a copy of the context; it sees it while the block that started it lasts.)
_grad_mode: contextvars.ContextVar[bool] = contextvars.ContextVar("micrograd_grad_enabled", default=True)
_scope_name: contextvars.ContextVar[str] = contextvars.ContextVar("micrograd_scope", default="")
_inside_no_grad: list[None] = []  # one entry per context now inside `no_grad()`
_inside_scope: list[None] = []  # one entry per context now inside `scope()`


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Operations inside build no graph: for parameter updates and inference, as in PyTorch.

    Per thread and per asyncio task: another thread outside the block still builds its graph."""
    # Counted before the mode is set and uncounted after it is reset: a KeyboardInterrupt between
    # the two can then only leave the count too high (a slower check), never a stale mode unseen.
    _inside_no_grad.append(None)
    try:
        token = _grad_mode.set(False)
        try:
            yield
        finally:
            _grad_mode.reset(token)
    finally:
        _inside_no_grad.pop()


def is_grad_enabled() -> bool:
    """True unless this thread (or task) is inside `no_grad()`."""
    return not _inside_no_grad or _grad_mode.get()


class scope:
    """Name the nodes built inside, so a drawing can group them (`with scope("L1.N0"): ...`).

    Scopes nest with dots: `scope("model")` around `scope("L1")` gives "model.L1". Each thread
    and asyncio task has its own. (A class rather than a generator: every neuron enters one on
    every call. It keeps no state between enter and exit, so one object may be entered by several
    threads at once.)
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"scope name must be a non-empty string, got {name!r:.60}")
        self.name = name

    # Counted before the name is set and uncounted after it is restored, as in `no_grad`.
    def __enter__(self) -> None:
        _inside_scope.append(None)
        outer = _scope_name.get()
        _scope_name.set(f"{outer}.{self.name}" if outer else self.name)

    def __exit__(self, *exc_info: object) -> None:
        inner = _scope_name.get()  # "outer.name", or "name" at the top
        _scope_name.set(inner[: len(inner) - len(self.name) - 1] if len(inner) > len(self.name) else "")
        _inside_scope.pop()


def _to_float(data: Any) -> float:
    """The one conversion of user numbers: ints and NumPy scalars become floats, nothing else."""
    if isinstance(data, float):
        return float(data)
    if isinstance(data, numbers.Real) and not isinstance(data, bool) and type(data).__name__ != "bool_":
        try:
            return float(data)
        except OverflowError:  # an int beyond 1.8e308; its repr may be too long to print
            raise OverflowError(
                f"Value needs a number that fits in a float (|x| < 1.8e308), got a larger {type(data).__name__}"
            ) from None
    raise TypeError(f"Value needs a real number (int or float), got {type(data).__name__}: {data!r:.60}")


def _name(node: Value) -> str:
    return f" (node '{node.label}')" if node.label else ""


class Value:
    """A scalar in the computation graph: its value (`data`), the gradient of the last
    `backward()` with respect to it (`grad`), and how it was made (`op`, `children`)."""

    # A training step builds tens of thousands of nodes, and Python's garbage collector visits
    # every slot of every node several times while they live, so a node keeps only what the
    # chain rule needs in slots of its own. Operands sit in two slots (no tuple: one object per
    # node, not two). The rarely set `label`, `scope` and `arg` share one slot, `_meta`: it holds
    # the scope name alone (a str) for nearly every node, or a (label, scope, arg) tuple, or for a
    # user-defined op (label, scope, arg, its name, its `_backward`).
    __slots__ = ("_mark", "_meta", "_x", "_y", "data", "grad", "op")
    __array_ufunc__ = None  # makes NumPy scalars defer to Value's reflected operators

    data: float
    grad: float
    op: str  # the op's name in micrograd.engine.ops.OPS ("+", "tanh", ...), "" for a leaf, "user:NAME"
    # for an op whose derivative comes from user code (see `_backward`)
    _x: Value | None  # the first operand (None for a leaf)
    _y: Value | None  # the second operand of a binary op
    _meta: str | tuple[Any, ...]  # scope, or (label, scope, arg[, user op name, user _backward])
    _mark: object  # which `topological_order` walk last reached this node

    def __init__(
        self,
        data: float,
        _children: tuple[Value, ...] | str = (),
        _op: str = "",
        label: str = "",
        _arg: float | None = None,
    ) -> None:
        """`Value(2.0, "w")` or `Value(2.0, label="w")`: a leaf. `Value(t, (a, b), "op")`, in
        micrograd's order, makes a node by hand: an op the engine knows by that name and operand
        count is differentiated by the engine, any other is a user-defined op (set its `_backward`).
        """
        operands: Any = _children
        if type(_children) is str:  # Value(2.0, "w"): the label in second place
            if label:
                raise TypeError(f"Value got two labels, {_children!r:.40} and {label!r:.40}")
            operands, label = (), _children
        self.data = data if type(data) is float else _to_float(data)
        self.grad = 0.0
        self._mark = None
        self._meta = _scope_name.get() if _inside_scope else ""
        if not operands:
            self._x = self._y = None
            self.op = _op
        else:
            self._set_operands(operands, _op)
        if label != "" or _arg is not None:  # also sends a label that is not a str to the check
            self._set_meta(label, self.scope, _arg)

    def _set_operands(self, children: Any, op: str) -> None:
        """The operands and op of a node built by hand (micrograd's `Value(data, _children, _op)`)."""
        if isinstance(children, Value) or not isinstance(children, (tuple, list, set, frozenset)):
            raise TypeError(f"Value: _children must be a tuple of Values, such as (a, b); got {children!r:.60}")
        operands = tuple(children)
        for i, child in enumerate(operands):
            if not isinstance(child, Value):
                raise TypeError(f"Value: _children[{i}] must be a Value, got {type(child).__name__}: {child!r:.60}")
        if len(operands) > 2:
            raise ValueError(
                f"Value: a node has at most two operands, got {len(operands)}; combine them in steps, "
                "such as (a + b) + c"
            )
        if type(op) is not str:
            raise TypeError(f"Value: _op must be a str naming the op, got {type(op).__name__}: {op!r:.60}")
        self._x = operands[0]
        self._y = operands[1] if len(operands) == 2 else None
        known = OPS.get(op)
        if known is not None and known.arity == len(operands):
            self.op = op  # the engine knows it: its derivative comes from micrograd.engine.ops
        else:
            self.op = USER_OP + op
            self._meta = ("", self.scope, None, op, None)

    @property
    def label(self) -> str:
        """The node's name in drawings and messages ("" if none)."""
        meta = self._meta
        return "" if type(meta) is str else meta[0]

    @label.setter
    def label(self, label: str) -> None:
        self._set_meta(label, self.scope, self.arg)

    @property
    def scope(self) -> str:
        """The `scope()` the node was built in ("" outside any)."""
        meta = self._meta
        return meta if type(meta) is str else meta[1]

    @scope.setter
    def scope(self, name: str) -> None:
        self._set_meta(self.label, name, self.arg)

    @property
    def arg(self) -> float | None:
        """The constant parameter of an op that has one (`x ** n`, `leaky_relu`, `elu`: see
        `Op.parameter` in micrograd.engine.ops); None for other ops."""
        meta = self._meta
        return None if isinstance(meta, str) else meta[2]

    def _set_meta(self, label: str, scope: str, arg: float | None) -> None:
        if type(label) is not str:
            raise TypeError(f"Value label must be a str, got {type(label).__name__}: {label!r:.60}")
        if type(scope) is not str:
            raise TypeError(f"Value scope must be a str, got {type(scope).__name__}: {scope!r:.60}")
        meta = self._meta
        if type(meta) is tuple and len(meta) == 5:  # a user-defined op keeps its name and _backward
            self._meta = (label, scope, arg, meta[3], meta[4])
        else:
            self._meta = scope if not label and arg is None else (label, scope, arg)

    # -- micrograd's names ----------------------------------------------------------------------

    @property
    def _prev(self) -> set[Value]:
        """The operands as a set, as micrograd keeps them (use `children` for their order)."""
        return set(self.children)

    @property
    def _op(self) -> str:
        """The op's name as micrograd writes it: "+", "*", "tanh", "ReLU", "**2"; "" for a leaf."""
        meta = self._meta
        if type(meta) is tuple and len(meta) == 5:
            return str(meta[3])
        arg = self.arg
        if self.op == "**" and arg is not None:
            return f"**{_format_number(arg)}"
        return "ReLU" if self.op == "relu" else self.op

    @property
    def _backward(self) -> Callable[[], None]:
        """micrograd's closure: adds this node's share of the gradient to its operands' `.grad`
        (`x.grad += ∂self/∂x × self.grad`), so the lecture's hand-run backward pass works.

        For an op of the engine it is made from `local_grads()` when asked for; a node built by
        hand (`Value(t, (x,), "tanh")`) may set its own, as the lecture does: a user-defined op,
        which `backward()`, drawings, `steps()` and `gradcheck` use (the tape refuses it).
        """
        meta = self._meta
        if type(meta) is tuple and len(meta) == 5:
            user = meta[4]
            return user if user is not None else lambda: _missing_backward(self)
        if self._x is None:
            return _nothing  # a leaf passes nothing on, as in micrograd

        def _backward() -> None:
            for child, d in zip(self.children, self.local_grads()):
                child.grad += d * self.grad

        return _backward

    @_backward.setter
    def _backward(self, backward: Callable[[], None]) -> None:
        if not callable(backward):
            raise TypeError(f"_backward must be a function of no arguments, got {type(backward).__name__}")
        if self._x is None:
            raise ValueError(
                f"_backward is set on a node built from operands (Value(t, (x,), 'tanh')); "
                f"{self!r:.60} is a leaf, with no operands to pass a gradient to"
            )
        name = self._op
        self.op = USER_OP + name
        self._meta = (self.label, self.scope, self.arg, name, backward)

    @property
    def user_op(self) -> bool:
        """True for an op whose derivative comes from user code (its `_backward`), not the engine."""
        return self.op.startswith(USER_OP)

    @property
    def children(self) -> tuple[Value, ...]:
        """The operands, in order: `a * a` has (a, a); a leaf has ()."""
        x, y = self._x, self._y
        return () if x is None else (x,) if y is None else (x, y)

    # -- building the graph -------------------------------------------------------------------
    # Each operator computes its op's forward function from micrograd.engine.ops and records the result.
    # `+ - *` are spelled out instead of going through `_apply`, with their one-symbol forward
    # written in place: they are most of every graph, so this is the hot path of training.

    def _apply(self, op: Op, other: Value | None = None, arg: float | None = None) -> Value:
        """Compute `op` on this node (and `other`) and record the result as a new node."""
        x = self.data
        y = other.data if other is not None else arg
        if op.domain is not None and not op.domain(FLOATS, x, y):
            raise domain_error(op, self, other, arg)
        out = op.forward(FLOATS, x, y)
        if _inside_no_grad and not _grad_mode.get():
            return _node(out, None, None, "", None)
        return _node(out, self, other, op.name, arg)

    def __add__(self, other: Value | float) -> Value:
        if not isinstance(other, Value):
            operand = _operand(other)
            if operand is None:
                return NotImplemented
            other = operand
        out = self.data + other.data
        if _inside_no_grad and not _grad_mode.get():
            return _node(out, None, None, "", None)
        return _node(out, self, other, "+", None)

    def __radd__(self, other: float) -> Value:
        operand = _operand(other)
        return NotImplemented if operand is None else operand.__add__(self)

    def __sub__(self, other: Value | float) -> Value:
        if not isinstance(other, Value):
            operand = _operand(other)
            if operand is None:
                return NotImplemented
            other = operand
        out = self.data - other.data
        if _inside_no_grad and not _grad_mode.get():
            return _node(out, None, None, "", None)
        return _node(out, self, other, "-", None)

    def __rsub__(self, other: float) -> Value:
        operand = _operand(other)
        return NotImplemented if operand is None else operand.__sub__(self)

    def __mul__(self, other: Value | float) -> Value:
        if not isinstance(other, Value):
            operand = _operand(other)
            if operand is None:
                return NotImplemented
            other = operand
        out = self.data * other.data
        if _inside_no_grad and not _grad_mode.get():
            return _node(out, None, None, "", None)
        return _node(out, self, other, "*", None)

    def __rmul__(self, other: float) -> Value:
        operand = _operand(other)
        return NotImplemented if operand is None else operand.__mul__(self)

    def __truediv__(self, other: Value | float) -> Value:
        operand = _operand(other)
        return NotImplemented if operand is None else self._apply(_DIV, operand)

    def __rtruediv__(self, other: float) -> Value:
        operand = _operand(other)
        return NotImplemented if operand is None else operand._apply(_DIV, self)

    def __pow__(self, exponent: Value | float) -> Value:
        if isinstance(exponent, Value):
            return self._apply(_POW, exponent)
        try:
            n = _to_float(exponent)
        except TypeError:
            return NotImplemented
        return self._apply(_POW_CONST, arg=n)

    def __rpow__(self, base: float) -> Value:
        base_value = _operand(base)
        return NotImplemented if base_value is None else base_value._apply(_POW, self)

    def __neg__(self) -> Value:
        return self._apply(_NEG)

    def __abs__(self) -> Value:
        return self._apply(_ABS)

    def exp(self) -> Value:
        return self._apply(_EXP)

    def log(self) -> Value:
        """Natural logarithm."""
        return self._apply(_LOG)

    def sqrt(self) -> Value:
        return self._apply(_SQRT)

    def sin(self) -> Value:
        return self._apply(_SIN)

    def cos(self) -> Value:
        return self._apply(_COS)

    def tanh(self) -> Value:
        return self._apply(_TANH)

    def sigmoid(self) -> Value:
        """1 / (1 + e^-x), computed without overflow for any finite x."""
        return self._apply(_SIGMOID)

    def relu(self) -> Value:
        return self._apply(_RELU)

    def leaky_relu(self, slope: float = 0.01) -> Value:
        return self._apply(_LEAKY_RELU, arg=_to_float(slope))

    def elu(self, alpha: float = 1.0) -> Value:
        return self._apply(_ELU, arg=_to_float(alpha))

    def softplus(self) -> Value:
        """log(1 + e^x), computed without overflow for any finite x."""
        return self._apply(_SOFTPLUS)

    def abs(self) -> Value:
        return self._apply(_ABS)

    def gelu(self) -> Value:
        return self._apply(OPS["gelu"])

    def step(self) -> Value:
        """Heaviside's step, the perceptron's activation: 1 if x > 0, else 0 (step(0) = 0, as the
        course's slide). Its derivative is 0 (also at the jump, where it is undefined), so no
        gradient passes back through it: see `micrograd.engine.ops`."""
        return self._apply(OPS["step"])

    # -- the chain rule -------------------------------------------------------------------------

    def local_grads(self) -> tuple[float, ...]:
        """∂self/∂child for each child, in `children` order (empty for a leaf).

        The single source of every derivative: `backward()` multiplies by these, and the
        visualizer writes them on the edges. For a user-defined op they are read by running its
        `_backward` once with this node's gradient at 1 and its operands' at 0 (then restored),
        so two threads must not ask for them on the same graph at once.
        """
        x, y = self._x, self._y
        if x is None:
            return ()
        derivatives = DERIVATIVES.get(self.op)
        if derivatives is None:
            return _user_local_grads(self)
        if type(derivatives) is tuple:
            return derivatives
        return derivatives(FLOATS, self.data, x.data, self.arg if y is None else y.data)

    def backward(self, create_graph: bool = False) -> None:
        """Set `grad` on every node to ∂self/∂node.

        Leaves accumulate across calls (call `zero_grad()` between steps, as in PyTorch);
        intermediate nodes are reset, so they show this pass's gradient.

        With `create_graph=True` (as in PyTorch) every node also gets `grad_value`: its gradient
        as a Value whose graph can be differentiated again (`w.grad_value.backward()`), while
        `grad` stays the number. As in PyTorch, a gradient's graph that uses the node itself
        (∂(w³)/∂w = 3w²) makes a reference cycle, freed by Python's cycle collector or at once
        by `zero_grad()`; `micrograd.grad` gives the same graphs and touches no node.
        """
        if create_graph:
            GRAPH_BACKWARD[0](self)
            return
        order = topological_order(self)
        # Like PyTorch, sum this pass's gradient on its own and then add what the leaves held:
        # adding each path's term onto the old total would round differently (2 calls != 2×).
        earlier = []
        for node in order:
            if node._x is None and node.grad:
                earlier.append((node, node.grad))
            node.grad = 0.0
        chain_rule(order)
        for leaf, grad in earlier:
            leaf.grad += grad

    def zero_grad(self) -> None:
        """Set the gradient of this node and of every node below it to 0."""
        for node in topological_order(self):
            node.grad = 0.0

    @property
    def grad_value(self) -> Value | None:
        """`grad` as a Value whose graph can be differentiated again, as PyTorch's `.grad` is
        after `backward(create_graph=True)`; None if no such backward pass set it, or once
        anything (another pass, `zero_grad()`, an optimizer) has changed `grad` since."""
        grad = self.grad
        return grad.graph if type(grad) is GradWithGraph else None

    # -- plumbing -------------------------------------------------------------------------------

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    def __float__(self) -> float:
        return self.data

    def __format__(self, spec: str) -> str:
        return format(self.data, spec) if spec else repr(self)

    # -- copies and pickles ----------------------------------------------------------------------
    # Each node is copied once per copy.deepcopy / pickle call, through its memo, so roots that
    # share nodes keep sharing them (`J2, w2 = copy.deepcopy((J, w))`: w2 is the leaf in J2's
    # graph). Neither recurses: a graph is copied in topological order, children first. A user
    # op's `_backward` (a closure over the original nodes) is not copied: the copy is the
    # engine's op of that name if there is one, else a user op without a derivative.

    def __copy__(self) -> Value:
        """`copy.copy(v)`: a new node with the same operands (the graph below is not copied)."""
        new = _new_object(type(self))
        new.data, new.grad, new.op, new._meta, new._mark = self.data, self.grad, self.op, self._meta, None
        new._x, new._y = self._x, self._y
        return new

    def __deepcopy__(self, memo: dict[int, Any]) -> Value:
        copied = memo.get(id(self))
        if copied is not None:
            return copied
        for node in topological_order(self):
            if id(node) not in memo:
                new = _new_object(type(node))
                x, y = node._x, node._y
                new.__setstate__(
                    (
                        (),
                        node.data,
                        float(node.grad),  # the number: a grad_value's graph is the original's
                        node.op,
                        node._meta,
                        None if x is None else memo[id(x)],
                        None if y is None else memo[id(y)],
                    )
                )
                memo[id(node)] = new
        return memo[id(self)]

    def __reduce_ex__(self, protocol: Any) -> tuple:
        # A node reduces to "a new node of its class" and a state holding its operands. Saving
        # operands recursively would recurse once per graph level, so the first node a pickle
        # meets (a root) puts the nodes below it, in topological order, at the head of its state:
        # each of those is then saved after its operands, which the pickle already holds. The
        # nodes so listed are noted (per thread) until the pickler has saved the list, which the
        # `_EndOfList` at the end of the root's state tells.
        listed = _listed_for_pickle()
        meta = self._meta
        if type(meta) is tuple and len(meta) == 5:
            meta = (*meta[:4], None)  # a user op's _backward is a closure: it stays behind
        state = (self.data, self.grad, self.op, meta, self._x, self._y)
        if id(self) in listed:
            listed.discard(id(self))
            return (_new_node, (type(self),), ((), *state))
        below = topological_order(self)[:-1]
        listed.clear()
        listed.update(id(node) for node in below)
        return (_new_node, (type(self),), (below, *state, _EndOfList()))

    def __setstate__(self, state: tuple) -> None:
        data, grad, op, meta, x, y = state[1:7]
        self.data, self.grad, self._x, self._y, self._mark = data, grad, x, y, None
        if type(meta) is tuple and len(meta) == 5:  # a user op: its _backward stays behind
            label, node_scope, arg, name = meta[:4]
            known = OPS.get(name)
            if known is not None and known.arity == len(self.children):
                op, meta = name, (node_scope if not label and arg is None else (label, node_scope, arg))
            else:
                op, meta = USER_OP + name, (label, node_scope, arg, name, None)
        self.op, self._meta = op, meta


def unary_op(name: str, arg: float | None = None) -> Callable[[Value], Value]:
    """The unary op `name` of `micrograd.engine.ops.OPS` as a function of one Value, its parameter
    fixed (left out: the op's default): `unary_op("leaky_relu", 0.1)(x)` is `x.leaky_relu(0.1)`.
    For code that reaches ops by name (activations, formulas), so that a new op is usable there
    without a method of its own; the name and the parameter are checked once, here."""
    op = OPS.get(name)
    if op is None or op.arity != 1:
        unary = ", ".join(n for n, o in OPS.items() if o.arity == 1)
        raise ValueError(f"{name!r:.60} is not a unary op; the unary ops are: {unary}")
    if op.parameter is None:
        if arg is not None:
            raise TypeError(f"{name} takes no parameter, got {arg!r:.60}")
        return lambda x: x._apply(op)
    if arg is None:
        arg = op.parameter.default
        if arg is None:
            raise TypeError(f"{name} needs its {op.parameter.name}")
    number = _to_float(arg)
    return lambda x: x._apply(op, arg=number)


def apply_op(x: Value, name: str, arg: float | None = None) -> Value:
    """`unary_op(name, arg)` applied to `x`: `apply_op(x, "leaky_relu", 0.1)` is `x.leaky_relu(0.1)`."""
    if not isinstance(x, Value):
        raise TypeError(f"apply_op needs a Value, got {type(x).__name__}: {x!r:.60}")
    return unary_op(name, arg)(x)


class Parameter(Value):
    """A leaf the model learns (a weight or a bias), as opposed to an input or a constant."""

    __slots__ = ()


_new_object = object.__new__


def _node(data: float, x: Value | None, y: Value | None, op: str, arg: float | None) -> Value:
    """Make a node from an op's result: `Value.__init__` without the checks of user input."""
    node = _new_object(Value)
    node.data = data
    node.grad = 0.0
    node._x = x
    node._y = y
    node.op = op
    node._mark = None
    scope_name = _scope_name.get() if _inside_scope else ""
    node._meta = scope_name if arg is None else ("", scope_name, arg)
    return node


def weighted_sum(bias: Value, weights: Sequence[Value], inputs: Sequence[Value | float]) -> Value:
    """bias + w0·x0 + w1·x1 + ...: a neuron's pre-activation, as the very `*` and `+` nodes that
    `bias + w0 * x0 + ...` builds, in that order.

    Nearly every node of a network's graph is made here, so it makes them without going through
    two operator calls per input: a training step takes about 8% less time.
    """
    if _inside_no_grad and not _grad_mode.get():
        total = bias
        for w, x in zip(weights, inputs):
            total = total + w * x
        return total
    scope_name = _scope_name.get() if _inside_scope else ""  # read once: the scope of every node made here
    new = _new_object
    total, value = bias, bias.data  # the sum's node, and its value kept in a local
    for w, x in zip(weights, inputs):
        if not isinstance(x, Value):
            x = _input_operand(inputs, x)
        product = w.data * x.data
        value = value + product
        # the `*` node, then the `+` node: made in the order `total + w * x` makes them (what
        # `_node` does, written out here: this loop makes nearly every node of a training step)
        times = new(Value)
        times.data = product
        times.grad = 0.0
        times._x = w
        times._y = x
        times.op = "*"
        times._mark = None
        times._meta = scope_name
        plus = new(Value)
        plus.data = value
        plus.grad = 0.0
        plus._x = total
        plus._y = times
        plus.op = "+"
        plus._mark = None
        plus._meta = scope_name
        total = plus
    return total


def _input_operand(inputs: Sequence[Any], x: Any) -> Value:
    """A neuron's input `x` that is not a Value: a number becomes a constant leaf; else a TypeError."""
    number = _operand(x)
    if number is None:
        i = next(i for i, item in enumerate(inputs) if item is x)
        raise TypeError(f"input {i} must be a number or a Value, got {type(x).__name__}: {x!r:.60}")
    return number


def _operand(x: Any) -> Value | None:
    """A Value operand as is; a number as a constant leaf; anything else None (NotImplemented)."""
    if isinstance(x, Value):
        return x
    try:
        return Constant(_to_float(x))
    except TypeError:
        return None


class Constant(Value):
    """A leaf made from a plain number in an expression, such as the 2 in `d ** 2 / 2`."""

    __slots__ = ()

    def __init__(self, data: float) -> None:
        data = _to_float(data)
        super().__init__(data, _format_number(data))


def _format_number(x: float) -> str:
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)


def domain_error(op: Op, x: Value, other: Value | None, arg: float | None) -> Exception:
    """The error for `op` applied outside its domain, naming the op, the values and their labels
    (the tape raises the same one, for the first failing sample)."""
    if op.name == "/" and other is not None:
        return ZeroDivisionError(
            f"division by zero in a / b: a = {x.data!r}{_name(x)}, b = {other.data!r}{_name(other)}"
        )
    if op.name in ("**", "pow"):
        exponent = other.data if other is not None else arg
        if other is None:
            where = _name(x)
        else:  # name each labelled operand by its role: "(base 'b', exponent 'e')"
            roles = [f"{role} '{node.label}'" for role, node in (("base", x), ("exponent", other)) if node.label]
            where = f" ({', '.join(roles)})" if roles else ""
        base = f"({x.data!r})" if repr(x.data).startswith("-") else repr(x.data)  # also -0.0
        return ValueError(f"{base} ** {exponent!r} is undefined{where}: {op.domain_rule}")
    return ValueError(f"{op.name}({x.data!r}) is undefined{_name(x)}: {op.domain_rule}")


_pickling = threading.local()


def _listed_for_pickle() -> set[int]:
    """The ids of the nodes a root being pickled in this thread listed at the head of its state."""
    listed: set[int] | None = getattr(_pickling, "listed", None)
    if listed is None:
        listed = _pickling.listed = set()
    return listed


class _EndOfList:
    """Saved last in a pickled root's state: the nodes its list noted are all saved by then."""

    def __reduce__(self) -> tuple:
        _listed_for_pickle().clear()
        return (tuple, ())


def _new_node(cls: type[Value]) -> Value:
    """An empty node of class `cls`, which unpickling fills with `__setstate__`."""
    return _new_object(cls)


def _rebuild(records: list[tuple]) -> Value:
    """A graph from the flat records that earlier versions pickled (so their pickles still load)."""
    nodes: list[Value] = []
    for cls, data, grad, label, op, children, arg, node_scope in records:
        operands = tuple(nodes[i] for i in children)
        if cls is Constant:
            node = Constant(data)
        else:
            node = cls(data, operands, op.removeprefix(USER_OP), label=label, _arg=arg)
        node.grad, node.label, node.scope = grad, label, node_scope
        nodes.append(node)
    return nodes[-1]


class GradWithGraph(float):
    """The `.grad` that `backward(create_graph=True)` leaves: the number, which is all that any
    code reading `.grad` sees, holding also the gradient as a graph (`Value.grad_value` reads it).

    Kept in `.grad` rather than in a slot of its own, which would make every node of every graph
    larger and training slower; and any later change of `.grad` (`+=`, `= 0.0`) replaces it with a
    plain float, so `grad_value` never shows the graph of an older pass. Copied or pickled, it is
    the plain number."""

    __slots__ = ("graph",)
    graph: Value

    def __new__(cls, graph: Value) -> GradWithGraph:
        number = super().__new__(cls, graph.data)
        number.graph = graph
        return number

    def __reduce__(self) -> tuple:
        return (float, (float(self),))


#: `backward(create_graph=True)`: the walk that builds gradient graphs, which lives in
#: micrograd.engine.higher (built on this module) and puts itself here when it is imported.
GRAPH_BACKWARD: list[Callable[[Value], None]] = []

#: The prefix of `Value.op` for an op whose derivative comes from user code ("user:tanh").
USER_OP = "user:"


def _nothing() -> None:
    """A leaf's `_backward`: there is nothing below it."""


class UserOpError(ValueError):
    """A node built by hand (`Value(t, (x,), "sig")`) whose derivative nobody defined."""


def _missing_backward(node: Value) -> None:
    name = node._op
    where = f" (node '{node.label}')" if node.label else ""
    raise UserOpError(
        f"the op {name!r}{where} has no derivative: the engine has no op of that name with "
        f"{len(node.children)} operand(s), and no _backward was set. Define it as the lecture does: "
        f"`out = Value(t, (x,), {name!r}); def _backward(): x.grad += <d{name}/dx> * out.grad; "
        "out._backward = _backward`, or use one of the engine's ops (micrograd.engine.ops.OPS)"
    )


def _user_local_grads(node: Value) -> tuple[float, ...]:
    """∂node/∂child for each child of a user-defined op: its `_backward` run once with the node's
    gradient at 1 and its operands' at 0, every gradient restored after. An operand used twice
    (`Value(t, (a, a), ...)`) gets its whole derivative in the first place and 0 in the second."""
    children = node.children
    saved = [(n, n.grad) for n in {id(n): n for n in (node, *children)}.values()]
    try:
        for child in children:
            child.grad = 0.0
        node.grad = 1.0
        node._backward()
        grads = [child.grad for child in children]
    finally:
        for n, grad in saved:
            n.grad = grad
    if len(children) == 2 and children[0] is children[1]:
        return (grads[0], 0.0)
    return tuple(grads)


_DIV = OPS["/"]
_POW, _POW_CONST, _NEG = OPS["pow"], OPS["**"], OPS["neg"]
_EXP, _LOG, _SQRT, _SIN, _COS = OPS["exp"], OPS["log"], OPS["sqrt"], OPS["sin"], OPS["cos"]
_TANH, _SIGMOID, _RELU, _LEAKY_RELU = OPS["tanh"], OPS["sigmoid"], OPS["relu"], OPS["leaky_relu"]
_ELU, _SOFTPLUS, _ABS = OPS["elu"], OPS["softplus"], OPS["abs"]
