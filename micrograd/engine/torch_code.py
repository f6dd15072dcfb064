"""A PyTorch twin of a scalar graph: `to_torch_code(J)` writes a script that rebuilds the graph of
`J` node by node in float64, runs PyTorch's backward and checks every leaf's gradient against ours.

The script is plain text and imports only `math` and `torch`, so a learner can read it, run it
anywhere PyTorch is installed and edit it: the first step from a drawn graph to PyTorch code.
Nothing here imports torch. Node names are those of the drawings (`names.node_names`), made into
Python identifiers ("L1.N0.w2" -> `L1_N0_w2`). Each op of `OPS` has its PyTorch expression in
`TORCH_EXPRESSIONS` (a test checks that none is missing); a user-defined op, whose derivative is
Python code of the user's, cannot be translated and is refused.
"""

from __future__ import annotations

import builtins
import keyword
import math
import re

from .graph import gradients
from .names import node_names
from .value import Value

__all__ = ["GRADIENT_TOLERANCE", "TORCH_EXPRESSIONS", "to_torch_code"]

#: Each op of `micrograd.engine.ops.OPS` as a PyTorch expression: {x} and {y} are the operands'
#: variables, {arg} the op's constant parameter (the exponent of `**`, the slope, the alpha).
TORCH_EXPRESSIONS: dict[str, str] = {
    "+": "{x} + {y}",
    "-": "{x} - {y}",
    "*": "{x} * {y}",
    "/": "{x} / {y}",
    "**": "{x} ** {arg}",
    "pow": "torch.pow({x}, {y})",
    "neg": "-{x}",
    "exp": "torch.exp({x})",
    "log": "torch.log({x})",
    "sqrt": "torch.sqrt({x})",
    "sin": "torch.sin({x})",
    "cos": "torch.cos({x})",
    "tanh": "torch.tanh({x})",
    "sigmoid": "torch.sigmoid({x})",
    "relu": "torch.relu({x})",
    "leaky_relu": "torch.nn.functional.leaky_relu({x}, {arg})",
    "elu": "torch.nn.functional.elu({x}, {arg})",
    # PyTorch's default threshold (20) returns x above it, where ours still adds up to 2e-9;
    # above 40, log1p(exp(-x)) is below half an ulp of x, so both give x exactly.
    "softplus": "torch.nn.functional.softplus({x}, beta=1.0, threshold=40.0)",
    "abs": "torch.abs({x})",
    "gelu": "torch.nn.functional.gelu({x}, approximate='none')",
    # torch.heaviside has no derivative; sign(relu(x)) is the same step (0 at 0) built from ops
    # whose derivative PyTorch knows, sign's being 0, as ours. PyTorch's sign maps NaN to 0, so NaN
    # is passed through apart (detached: its derivative is 0 too).
    "step": "torch.where({x}.isnan(), {x}.detach(), torch.sign(torch.relu({x})))",
    "erf": "torch.erf({x})",
}

#: How close PyTorch's gradients must be to ours (relative, and absolute near 0): the two compute
#: some derivatives with the same operations in another order (σ·(1 − σ) against (1 − σ)·σ).
GRADIENT_TOLERANCE = 1e-12

# Names the script uses itself: no node may take them (nor a builtin's, such as `float`).
_RESERVED = frozenset(
    {"torch", "math", "leaf", "agree", "main", "checks", "failures", "ROOT", "ROOT_VALUE"}
) | frozenset(dir(builtins))


def _identifier(name: str) -> str:
    """A node name as a Python identifier: "L1.N0.w2" -> "L1_N0_w2", "2" -> "_2", "if" -> "if_"."""
    text = re.sub(r"\W", "_", name, flags=re.ASCII) or "_"
    if text[0].isdigit():
        text = "_" + text
    return text + "_" if keyword.iskeyword(text) else text


def _number(x: float) -> str:
    """A float as Python source that reads back as exactly that float."""
    if math.isnan(x):
        return "float('nan')"
    if math.isinf(x):
        return "float('inf')" if x > 0 else "float('-inf')"
    return repr(float(x))


_HEADER = '''"""PyTorch twin of a micrograd-lab graph: {n_nodes} nodes, {n_leaves} leaves.

Written by micrograd.export.to_torch_code. It rebuilds every node in float64, runs backward, and
checks the root's value and each leaf's gradient against micrograd's (relative and absolute
tolerance {tolerance}).
"""

import math

import torch


def leaf(x):
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def agree(got, expected):
    if math.isnan(expected):
        return math.isnan(got)
    if math.isinf(expected):
        return got == expected
    return math.isclose(got, expected, rel_tol={tolerance}, abs_tol={tolerance})


def main():
'''

_FOOTER = """    failures = [
        f"{name}: PyTorch {t.grad.item() if t.grad is not None else 0.0!r}, micrograd {expected!r}"
        for name, t, expected in checks
        if not agree(t.grad.item() if t.grad is not None else 0.0, expected)
    ]
    if not agree(ROOT.item(), ROOT_VALUE):
        failures.insert(0, f"root: PyTorch {ROOT.item()!r}, micrograd {ROOT_VALUE!r}")
    if failures:  # not an assert: `python -O` would skip it
        raise AssertionError("PyTorch and micrograd differ:\\n" + "\\n".join(failures))
    print("all gradients agree")


if __name__ == "__main__":
    main()
"""


def to_torch_code(root: Value) -> str:
    """A self-contained PyTorch script (a str) that rebuilds the graph of `root` and checks its
    gradients against ours (`micrograd.engine.graph.gradients(root)`), printing "all gradients agree".

    Run it with `python twin.py` where PyTorch is installed. Raises ValueError for a graph with a
    user-defined op (a node built by hand with its own `_backward`).
    """
    if not isinstance(root, Value):
        raise TypeError(f"to_torch_code needs a Value, got {type(root).__name__}: {root!r:.60}")
    result = gradients(root)
    order = result.order
    names = node_names(order)
    for node in order:
        if node.user_op:
            raise ValueError(
                f"to_torch_code: node {names[node]!r} is a user-defined op ({node._op!r}): its derivative is "
                "Python code of yours, which cannot be translated to PyTorch; build it from the engine's ops"
            )
    taken = set(_RESERVED)
    idents: dict[Value, str] = {}
    for node in order:
        base = _identifier(names[node])
        ident, k = base, 1
        while ident in taken:
            k += 1
            ident = f"{base}_{k}"
        taken.add(ident)
        idents[node] = ident

    leaves = [node for node in order if not node.children]
    lines = ["    # the leaves: inputs, parameters and constants"]
    for node in leaves:
        comment = f"  # {names[node]!r}" if idents[node] != names[node] else ""
        lines.append(f"    {idents[node]} = leaf({_number(node.data)}){comment}")
    lines.append("    # the graph, node by node, in topological order")
    for node in order:
        if not node.children:
            continue
        x, y = node.children[0], node.children[1] if len(node.children) == 2 else None
        arg = node.arg
        expression = TORCH_EXPRESSIONS[node.op].format(
            x=idents[x], y=idents[y] if y is not None else "", arg=_number(arg) if arg is not None else ""
        )
        comment = f"  # {names[node]!r}" if idents[node] != names[node] else ""
        lines.append(f"    {idents[node]} = {expression}{comment}")
    lines.append(f"    ROOT, ROOT_VALUE = {idents[root]}, {_number(root.data)}")
    lines.append("    ROOT.backward()")
    lines.append("    # (name, tensor, micrograd's gradient) for every leaf")
    lines.append("    checks = [")
    for node in leaves:
        lines.append(f"        ({names[node]!r}, {idents[node]}, {_number(result.grads[node])}),")
    lines.append("    ]")
    header = _HEADER.format(n_nodes=len(order), n_leaves=len(leaves), tolerance=GRADIENT_TOLERANCE)
    return header + "\n".join(lines) + "\n" + _FOOTER
