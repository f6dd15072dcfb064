"""The graph as a whole: the topological order, the one reverse walk of the chain rule, copies.

`Value.backward()`, the step-through frames and `nudge`'s prediction all get their gradients from
`chain_rule` below: there is one implementation of backprop, and the frames read its record of
each term instead of repeating the walk. Nothing here recurses, so a graph of any depth works.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from .ops import FLOATS, OPS

if TYPE_CHECKING:  # only for the annotations: value.py imports this module
    from .value import Value

__all__ = ["DERIVATIVES", "Gradients", "Term", "chain_rule", "copy_graph", "gradients", "topological_order"]

# Each op's local derivatives: its function, or the tuple itself where they are constants. The
# all-ones tuple of `+` is one shared object, so the walk recognises it by identity.
ONES = (1.0, 1.0)
DERIVATIVES: dict[str, Any] = {
    name: (ONES if op.constant_derivatives == ONES else op.constant_derivatives) or op.derivatives
    for name, op in OPS.items()
}


#: Held by the walk that marks nodes; a walk that finds it taken (another thread is walking)
#: keeps a set of the nodes it has seen instead, so two walks never read each other's marks.
_marking = threading.Lock()


def topological_order(root: Value) -> list[Value]:
    """Every node reachable from `root`, each after all of its children (root last).

    Depth-first with an explicit stack, visiting children in operand order, so the order is the
    same on every run and a graph of any depth works. A walk marks the nodes it reaches with an
    object of its own (cheaper than a set of seen nodes); only one walk at a time may mark, and
    a walk that starts while another thread's walk is marking uses a set instead, so walks of
    graphs that share nodes are safe from several threads at once.
    """
    if not _marking.acquire(blocking=False):
        return _order_with_seen_set(root)
    try:
        order: list[Value] = []
        mark = object()  # nodes reached by this walk point to this object (one walk, one mark)
        stack: list[Value | None] = [root]
        while stack:
            node = stack.pop()
            if node is None:  # the marker pushed below: the next node's children are all done
                order.append(stack.pop())  # type: ignore[arg-type]
            elif node._mark is not mark:
                node._mark = mark
                x, y = node._x, node._y
                if x is None:  # a leaf is done at once
                    order.append(node)
                    continue
                stack.append(node)
                stack.append(None)
                if y is not None and y._mark is not mark:  # pushed last-first: the first operand goes first
                    stack.append(y)
                if x._mark is not mark:
                    stack.append(x)
        return order
    finally:
        _marking.release()


def _order_with_seen_set(root: Value) -> list[Value]:
    """`topological_order`'s walk, the same order, remembering the nodes it reached in a set of
    its own instead of marking them: for a walk that runs while another thread's is marking."""
    order: list[Value] = []
    seen: set[int] = set()
    stack: list[Value | None] = [root]
    while stack:
        node = stack.pop()
        if node is None:
            order.append(stack.pop())  # type: ignore[arg-type]
        elif id(node) not in seen:
            seen.add(id(node))
            x, y = node._x, node._y
            if x is None:
                order.append(node)
                continue
            stack.append(node)
            stack.append(None)
            if y is not None and id(y) not in seen:
                stack.append(y)
            if id(x) not in seen:
                stack.append(x)
    return order


class Term(NamedTuple):
    """One term of a node's chain-rule sum: `consumer` uses the node as its operand `slot`."""

    node: Value  # whose gradient the term adds to
    consumer: Value
    slot: int  # 0 for the consumer's first operand, 1 for its second
    local: float  # ∂consumer/∂node for that slot, from consumer.local_grads()
    upstream: float  # ∂root/∂consumer, complete when this term is added


def chain_rule(order: list[Value], record: list[Term] | None = None) -> None:
    """The reverse walk: with every `.grad` in `order` at 0, set each to ∂root/∂node (root = order[-1]).

    Each node passes local derivative × its gradient to its operands, in reverse topological
    order, so a node's gradient is complete before it is passed on. With `record`, every term is
    also appended to it, in the order the sums take them (what the frames show).
    """
    order[-1].grad = 1.0
    table, floats = DERIVATIVES, FLOATS
    for node in reversed(order):
        x = node._x
        if x is None:
            continue
        # What node.local_grads() returns, read here without a method call per node.
        grad = node.grad
        y = node._y
        try:
            local = table[node.op]
        except KeyError:  # a user-defined op (micrograd's way): its own _backward adds its terms
            node._backward()
            continue
        if local is ONES:  # `+`: both local derivatives are 1, and 1 × grad is grad
            x.grad += grad
            y.grad += grad  # type: ignore[union-attr]
        elif y is None:
            (dx,) = local if type(local) is tuple else local(floats, node.data, x.data, node.arg)
            x.grad += dx * grad
        else:
            dx, dy = local if type(local) is tuple else local(floats, node.data, x.data, y.data)
            x.grad += dx * grad
            y.grad += dy * grad
    if record is not None:
        # The terms, in the order the walk added them. Read after the walk, not during it, so
        # backward() pays nothing for them: a node's gradient is final once the walk passes it
        # on (only the nodes before it add to it), so node.grad is the upstream of each term.
        for node in reversed(order):
            for slot, (child, d) in enumerate(zip(node.children, node.local_grads())):
                record.append(Term(child, node, slot, d, node.grad))


def copy_graph(order: list[Value]) -> list[Value]:
    """A fresh copy of the nodes of `order` (a topological order), position for position, every
    gradient 0: a walk on the copy leaves the user's graph untouched."""
    position = {id(node): i for i, node in enumerate(order)}
    copies: list[Value] = []
    for node in order:
        new = object.__new__(type(node))  # the same class: Value, Constant, Parameter, ...
        new.data, new.grad, new.op, new._meta, new._mark = node.data, 0.0, node.op, node._meta, None
        new._x = None if node._x is None else copies[position[id(node._x)]]
        new._y = None if node._y is None else copies[position[id(node._y)]]
        if node._x is not None and node.op not in DERIVATIVES:
            # A user-defined op's _backward adds to the ORIGINAL operands: the copy passes on the
            # original's local derivatives instead (read from its _backward, see local_grads).
            new._meta = (*node._meta[:4], _passing_on(new, node))
        copies.append(new)
    return copies


def _passing_on(copy: Value, original: Value) -> Callable[[], None]:
    """A `_backward` for `copy` that adds `original.local_grads()` × copy.grad to the copy's operands."""

    def _backward() -> None:
        for child, d in zip(copy.children, original.local_grads()):
            child.grad += d * copy.grad

    return _backward


class Gradients(NamedTuple):
    """One backward pass run on a copy of the graph: what `backward()` would give, and how."""

    order: list[Value]  # topological_order(root)
    grads: dict[Value, float]  # ∂root/∂node for every node, constants included
    terms: dict[Value, list[Term]]  # per node, the terms of its sum in the order they were added
    position: dict[Value, int]  # each node's place in `order`


def gradients(root: Value) -> Gradients:
    """∂root/∂node for every node, bit for bit what `root.backward()` gives after `zero_grad()`,
    without touching any `.grad`: `chain_rule` runs on a copy, recording each term."""
    order = topological_order(root)
    copies = copy_graph(order)
    record: list[Term] = []
    chain_rule(copies, record)
    original = {id(copy): node for copy, node in zip(copies, order)}
    terms: dict[Value, list[Term]] = {}
    for t in record:
        node = original[id(t.node)]
        terms.setdefault(node, []).append(Term(node, original[id(t.consumer)], t.slot, t.local, t.upstream))
    grads = {node: copy.grad for node, copy in zip(order, copies)}
    return Gradients(order, grads, terms, {node: i for i, node in enumerate(order)})
