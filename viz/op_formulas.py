"""What each op computes and its local derivatives, as a student writes them: `c = w × x`,
`∂c/∂w = x`, `∂v1/∂d = 2d`, `∂v2/∂v1 = 1 − v2²`.

The registry (`micrograd.engine.ops.OPS`) holds each op's derivatives as code and, beside them, as
text (`Op.written`); this module fills that text in for the frames.
In the templates `{x}` and `{y}` are the operands (for a unary op with a parameter, `{n}` is the
parameter) and `{out}` the op's result, each replaced by its name in the frames' equations, or by
its number where the operand is a constant (a constant has no name in the equations).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from micrograd import Constant, Value
from micrograd.engine.ops import OPS

from .text import MINUS, short_number

__all__ = ["FORMULAS", "OpFormula", "definition", "local_formula", "number"]


class OpFormula(NamedTuple):
    """How an op is written: its definition and its local derivative per operand slot."""

    definition: str
    derivatives: tuple[str, ...]


#: Each op as a student writes it, read from the op registry (`Op.written`): one place per op.
FORMULAS: dict[str, OpFormula] = {name: OpFormula(*op.written) for name, op in OPS.items()}

_SUPERSCRIPTS = str.maketrans("0123456789" + MINUS, "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def number(x: float) -> str:
    """A number in an equation: as brief as `%g`, with the true minus sign of the pictures."""
    text = "0" if x == 0 else short_number(x)
    return text.replace("-", MINUS)


def _fill(template: str, slots: dict[str, str]) -> str:
    """The template with its placeholders filled; a negative number in parentheses unless it
    starts the expression: "2 × (−2)", but "−2 × 2"."""
    text = template
    for key, filled in slots.items():
        token = "{" + key + "}"
        if filled.startswith(MINUS):
            if text == token or text.startswith(token + " "):
                text = filled + text[len(token) :]
            text = text.replace(token, f"({filled})")
        else:
            text = text.replace(token, filled)
    return text


def _complex(name: str) -> bool:
    """Whether a filled-in operand needs parentheses inside a formula (a negative number)."""
    return name.startswith(MINUS)


def _power(base: str, n: float) -> str:
    """x^n with a whole exponent as a superscript: d², x³, x⁻¹."""
    if n == int(n) and abs(n) < 100:
        return base + number(n).translate(_SUPERSCRIPTS)
    return f"{base}^{number(n)}"


def _names(node: Value, names: Callable[[Value], str], values: bool = False) -> dict[str, str]:
    """The text for each placeholder of `node`'s templates: operand names, or numbers."""

    def text(operand: Value) -> str:
        if values or isinstance(operand, Constant):
            return number(operand.data)
        return names(operand)

    out = {"x": text(node.children[0])}
    if len(node.children) > 1:
        out["y"] = text(node.children[1])
    if node.arg is not None:
        out["n"] = number(node.arg)
    return out


def definition(node: Value, names: Callable[[Value], str], values: bool = False) -> str:
    """What `node` computes from its operands: "w × x", "d²", "tanh(v1)"; with `values`, the
    operands' numbers instead of their names: "2 × (−2)"."""
    slots = _names(node, names, values)
    if node.user_op or node.op not in FORMULAS:
        return f"{node._op if node.user_op else node.op}({', '.join(slots[k] for k in 'xy' if k in slots)})"
    if node.op == "**" and node.arg is not None:
        base = slots["x"]
        return _power(f"({base})" if _complex(base) or " " in base else base, node.arg)
    return _fill(FORMULAS[node.op].definition, slots)


def local_formula(node: Value, slot: int, names: Callable[[Value], str]) -> str | None:
    """∂node/∂(operand `slot`) as a formula in the names: "x", "2d", "1 − v2²"; None for a
    user-defined op (its derivative is whatever its code computes)."""
    if node.user_op or node.op not in FORMULAS:
        return None
    slots = _names(node, names)
    slots["out"] = names(node)
    if node.op == "**" and node.arg is not None:
        n = node.arg
        base = slots["x"]
        if n == 0:
            return "0"
        if n == 1:
            return "1"
        coefficient = number(n)
        power = base if n == 2 else _power(base, n - 1)
        return f"{coefficient}{power}" if not _complex(coefficient) and " " not in base else f"{coefficient}·{power}"
    return _fill(FORMULAS[node.op].derivatives[slot], slots)


def ops_without_formula(ops: Sequence[str]) -> list[str]:
    """The op names that have no entry here (a test keeps this empty for the registry)."""
    return [name for name in ops if name not in FORMULAS or not FORMULAS[name].derivatives]


# Binding strength of each op's written form: an operand binding less tightly than its op needs
# parentheses ("(w × x + b − y)² / 2"). Functions and names bind tightest.
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "**": 4, "pow": 4}
_ATOM = 5


def formula(root: Value, names: Callable[[Value], str], limit: int = 120) -> str | None:
    """`root` written out in its leaves: "(w × x + b − y)² / 2"; None when that is longer than
    `limit` characters (a shared node is written out at each use) or uses a user-defined op."""
    texts: dict[Value, tuple[str, int]] = {}
    stack: list[Value] = [root]
    while stack:  # children first, without recursion
        node = stack[-1]
        pending = [c for c in node.children if c not in texts]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        if node in texts:
            continue
        if not node.children:
            text = number(node.data) if isinstance(node, Constant) else names(node)
            texts[node] = (f"({text})" if text.startswith(MINUS) else text, _ATOM)
            continue
        if node.user_op or node.op not in FORMULAS:
            return None
        level = _PRECEDENCE.get(node.op, _ATOM)

        def operand(child: Value, slot: int, level: int = level, op: str = node.op) -> str:
            text, inner = texts[child]
            tighter = inner > level or (inner == level and slot == 0 and op not in ("**", "pow"))
            return text if tighter or level == _ATOM else f"({text})"

        slots = {"x": operand(node.children[0], 0)}
        if len(node.children) > 1:
            slots["y"] = operand(node.children[1], 1)
        if node.op == "**" and node.arg is not None:
            text = _power(slots["x"], node.arg)
        else:
            if node.arg is not None:
                slots["n"] = number(node.arg)
            text = FORMULAS[node.op].definition
            for key, filled in slots.items():
                text = text.replace("{" + key + "}", filled)
        if len(text) > limit:
            return None
        texts[node] = (text, level)
    return texts[root][0]
