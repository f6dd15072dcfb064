"""Evaluate a formula typed on the command line, such as "c = w*x; a = c + b; J = a**2".

The text is parsed with `ast` and the tree is walked against an allow-list: numbers, names,
`+ - * / **`, unary minus, parentheses and calls of the engine's functions. Nothing is ever
passed to `eval` or `exec`, so a formula can compute and nothing else. Anything outside the
list is refused with a `FormulaError` naming the first offending part and its column.
"""

from __future__ import annotations

import ast
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass

from micrograd import Constant, Value
from micrograd.engine import apply_op
from micrograd.engine.ops import OPS

MAX_LENGTH = 1000  # characters; a formula for a drawing is a line or two


def _function(name: str) -> Callable[..., Value]:
    """`name(x)`, or `name(x, number)` for an op with a parameter, as the engine computes it."""
    return lambda x, *parameter: apply_op(x, name, *parameter)


# The functions a formula may call: the ops of micrograd.engine.ops that declare themselves
# callable (`Op.function`), in the order of OPS.
FUNCTIONS: dict[str, Callable[..., Value]] = {name: _function(name) for name, op in OPS.items() if op.function}
# Functions that take a second argument, a number: leaky_relu(x, 0.1), elu(x, 1.0); the name of
# that argument, for messages.
NUMBER_PARAMETER: dict[str, str] = {
    name: op.parameter.name for name, op in OPS.items() if op.function and op.parameter is not None
}

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_REFUSED_OPERATORS = {
    ast.FloorDiv: "the operator //",
    ast.Mod: "the operator %",
    ast.MatMult: "the operator @",
    ast.BitAnd: "the operator &",
    ast.BitOr: "the operator |",
    ast.LShift: "the operator <<",
    ast.RShift: "the operator >>",
    ast.BitXor: "the operator ^ (write powers as **)",
    ast.Not: "the operator not",
    ast.Invert: "the operator ~",
}
_REFUSED_KINDS = {
    ast.Attribute: "attribute access",
    ast.Subscript: "a subscript",
    ast.Lambda: "a lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.List: "a list",
    ast.Tuple: "a tuple",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.Compare: "a comparison",
    ast.BoolOp: "and/or",
    ast.IfExp: "an if-expression",
    ast.JoinedStr: "an f-string",
    ast.NamedExpr: "the operator :=",
    ast.Starred: "* unpacking",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Import: "import",
    ast.ImportFrom: "import",
    ast.FunctionDef: "def",
    ast.ClassDef: "class",
    ast.AugAssign: "augmented assignment (+= and the like)",
    ast.AnnAssign: "an annotation",
    ast.Expr: "a statement that is not an assignment (write name = expression)",
}

Number = Value | float


class FormulaError(ValueError):
    """A formula that cannot be evaluated; the message says where and why, on one line."""


@dataclass
class Evaluation:
    """What a formula computed: its last assignment (`output`, named `name`) and its inputs."""

    output: Value
    name: str
    inputs: dict[str, Value]  # in order of first use in the formula
    named: dict[str, Value]  # every input and assigned name


def evaluate(formula: str, values: dict[str, float]) -> Evaluation:
    """Build the graph of `formula` with the inputs `values`; raise FormulaError if refused."""
    statements = parse(formula)
    assigned = [target.id for target, _ in statements]
    for name, value in values.items():
        if name in FUNCTIONS:
            raise FormulaError(f"input {name!r} has the name of a function; choose another name")
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise FormulaError(f"input {name}={value!r:.40} is not a number")
        if not math.isfinite(value):
            raise FormulaError(f"input {name}={value!r} is not a finite number; give a finite value")
        if name in assigned:  # before the order of use is checked: `w = w*2` with w given is this mistake
            raise FormulaError(f"{name!r} is both given as an input and assigned in the formula; rename one of them")
    inputs_used = _free_names(statements, formula)
    for name in values:
        if name not in inputs_used:
            raise FormulaError(f"input {name}={values[name]!r} is not used by the formula")
    missing = [name for name in inputs_used if name not in values]
    if missing:
        needed = " ".join(f"{name}=NUMBER" for name in missing)
        raise FormulaError(
            f"missing value for input{'s' if len(missing) > 1 else ''} {', '.join(missing)}: pass {needed}"
        )

    inputs = {name: Value(values[name], name) for name in inputs_used}
    named: dict[str, Value] = dict(inputs)
    known = set(named.values())  # to catch `a = w`, which would only rename w
    for target, expression in statements:
        result = _evaluate(expression, named, formula)
        where = f"{_position(formula, target)}: `{_snippet(formula, target)} = {_snippet(formula, expression)}`"
        if not isinstance(result, Value):
            raise FormulaError(
                f"{where} names a plain number; write the number where it is used, or pass {target.id}={result:g} as an input"
            )
        if result in known:
            raise FormulaError(f"{where} only gives a second name to {result.label!r}; use {result.label!r} directly")
        result.label = target.id
        named[target.id] = result
        known.add(result)
    output = statements[-1][0].id
    return Evaluation(named[output], output, inputs, named)


def parse(formula: str) -> list[tuple[ast.Name, ast.expr]]:
    """The assignments of `formula`, checked against the allow-list."""
    if not isinstance(formula, str):
        raise FormulaError(f"the formula must be text, got {type(formula).__name__}")
    if len(formula) > MAX_LENGTH:
        raise FormulaError(
            f"the formula is {len(formula)} characters long, more than the limit of {MAX_LENGTH} "
            f"(it starts {formula[:30]!r})"
        )
    if not formula.strip():
        raise FormulaError('the formula is empty; write assignments such as "c = w*x; J = c**2"')
    try:
        tree = ast.parse(formula, mode="exec")
    except SyntaxError as error:
        where = ""
        if error.offset:
            where = f"column {error.offset}: "
            if len(formula.splitlines()) > 1:
                where = f"line {error.lineno}, {where}"
        raise FormulaError(f"{where}this is not a formula ({error.msg}): {_clip(formula)}") from None
    except (ValueError, RecursionError, MemoryError) as error:  # null bytes, too deeply nested
        raise FormulaError(f"cannot read the formula: {error}") from None
    if not tree.body:  # only comments
        raise FormulaError('the formula has no assignments; write some, such as "c = w*x; J = c**2"')
    _check(tree, formula)
    statements: list[tuple[ast.Name, ast.expr]] = []
    for statement in tree.body:
        assert isinstance(statement, ast.Assign)  # guaranteed by _check
        target = statement.targets[0]
        assert isinstance(target, ast.Name)
        if target.id in FUNCTIONS:
            raise FormulaError(f"{_position(formula, target)}: {target.id!r} is a function name; choose another name")
        if any(target.id == earlier.id for earlier, _ in statements):
            raise FormulaError(
                f"{_position(formula, target)}: {target.id!r} is assigned twice; give each value its own name"
            )
        statements.append((target, statement.value))
    return statements


def _check(tree: ast.Module, formula: str) -> None:
    """Raise FormulaError at the first (leftmost, then outermost) node outside the allow-list.

    A bare expression statement is reported last: in `__import__('os').system('...')` the
    message should be about the call, not about the missing `name =`.
    """
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    problems: list[tuple[bool, int, int, int, ast.AST, str]] = []
    for order, node in enumerate(ast.walk(tree)):  # ast.walk keeps a queue: no recursion
        problem = _refusal(node, id(node) in called, formula)
        if problem and hasattr(node, "lineno"):  # the rest (comprehension, arguments) sit in a refused node
            position = (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))
            problems.append((isinstance(node, ast.Expr), *position, order, node, problem))
    if problems:
        *_, node, problem = min(problems, key=lambda p: p[:4])
        raise FormulaError(
            f"{_position(formula, node)}: {problem} is not allowed here: `{_snippet(formula, node)}`" + _ALLOWED
        )


_ALLOWED = "; a formula may use numbers, names, + - * / **, parentheses and the functions " + " ".join(
    f"{name}()" for name in FUNCTIONS
)


def _refusal(node: ast.AST, is_called: bool, formula: str) -> str:
    """What is refused about `node` on its own ("" if nothing)."""
    if isinstance(node, (ast.Module, ast.Load, ast.Store, ast.operator, ast.unaryop)):
        return ""  # operators are judged with the expression that holds them
    if isinstance(node, ast.Assign):
        if len(node.targets) != 1:
            return "chained assignment (a = b = ...)"
        if not isinstance(node.targets[0], ast.Name):
            return "assigning to anything but a plain name"
        return ""
    if isinstance(node, ast.BinOp):
        return "" if type(node.op) in _BINARY else _REFUSED_OPERATORS.get(type(node.op), "this operator")
    if isinstance(node, ast.UnaryOp):
        return (
            "" if isinstance(node.op, (ast.USub, ast.UAdd)) else _REFUSED_OPERATORS.get(type(node.op), "this operator")
        )
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return {str: "text", bytes: "bytes", complex: "a complex number"}.get(
                type(value), f"the constant {value!r:.20}"
            )
        return ""
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS and not is_called and isinstance(node.ctx, ast.Load):  # (assigning: see parse)
            return f"using the function {node.id!r} without calling it"
        return ""
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            return f"calling `{_snippet(formula, node.func)}`"
        name = node.func.id
        if name not in FUNCTIONS:
            return f"calling {name!r}, which is not one of the functions,"
        if node.keywords:
            return "keyword arguments"
        allowed = (1, 2) if name in NUMBER_PARAMETER else (1,)
        if len(node.args) not in allowed:
            takes = (
                f"x and an optional {NUMBER_PARAMETER[name]}" if name in NUMBER_PARAMETER else "exactly one argument"
            )
            return f"calling {name} with {len(node.args)} arguments ({name} takes {takes})"
        return ""
    return _REFUSED_KINDS.get(type(node), type(node).__name__)


def _free_names(statements: list[tuple[ast.Name, ast.expr]], formula: str) -> list[str]:
    """The names the formula reads before assigning them (its inputs), in order of first use."""
    assigned: set[str] = set()
    later = {target.id for target, _ in statements}
    inputs: list[str] = []
    for target, expression in statements:
        names = [node for node in ast.walk(expression) if isinstance(node, ast.Name) and node.id not in FUNCTIONS]
        for node in sorted(names, key=lambda n: (n.lineno, n.col_offset)):
            if node.id in assigned or node.id in inputs:
                continue
            if node.id in later:
                raise FormulaError(f"{_position(formula, node)}: {node.id!r} is used before it is assigned")
            inputs.append(node.id)
        assigned.add(target.id)
    return inputs


def _operands(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return list(node.args)
    return []


def _evaluate(expression: ast.expr, named: dict[str, Value], formula: str) -> Number:
    """The value of a checked expression, computed operands first with an explicit stack."""
    stack: list[tuple[ast.expr, bool]] = [(expression, False)]
    results: list[Number] = []
    while stack:
        node, operands_done = stack.pop()
        operands = _operands(node)
        if not operands_done:
            stack.append((node, True))
            stack.extend((operand, False) for operand in reversed(operands))
            continue
        arguments = results[len(results) - len(operands) :]
        del results[len(results) - len(operands) :]
        try:
            result = _apply(node, arguments, named)
        except (ValueError, ZeroDivisionError, OverflowError) as error:
            raise FormulaError(f"{_position(formula, node)}: `{_snippet(formula, node)}`: {error}") from None
        if not math.isfinite(float(result)):  # overflow gives inf (then nan) without an exception
            why = (
                "a number overflowed (too large for floating point)"
                if math.isinf(float(result))
                else "not a number (an undefined result, such as inf - inf after an overflow)"
            )
            raise FormulaError(f"{_position(formula, node)}: `{_snippet(formula, node)}` is {float(result)}: {why}")
        results.append(result)
    return results[0]


def _apply(node: ast.expr, arguments: list[Number], named: dict[str, Value]) -> Number:
    """One step of the walk. Arithmetic on two plain numbers also goes through the engine (on
    constants), so that 1/0 or (-8)**(1/3) fail with the engine's message, not Python's."""
    if isinstance(node, ast.Constant):
        return float(node.value)  # type: ignore[arg-type]  # checked: an int or a float
    if isinstance(node, ast.Name):
        return named[node.id]
    if isinstance(node, ast.UnaryOp):
        (x,) = arguments
        return x if isinstance(node.op, ast.UAdd) else -x
    if isinstance(node, ast.BinOp):
        x, y = arguments
        numbers_only = not isinstance(x, Value) and not isinstance(y, Value)
        if not isinstance(x, Value) and not isinstance(y, Value):
            x = Constant(x)
        result = _binary(_BINARY[type(node.op)], x, y)
        return result.data if numbers_only else result
    if isinstance(node, ast.Call):
        name = node.func.id  # type: ignore[attr-defined]  # checked: a Name of FUNCTIONS
        x, *parameter = arguments
        if parameter and isinstance(parameter[0], Value):
            raise ValueError(
                f"the {NUMBER_PARAMETER[name]} of {name} must be a number, not a value computed from inputs"
            )
        if isinstance(x, Value):
            return FUNCTIONS[name](x, *parameter)
        return FUNCTIONS[name](Constant(x), *parameter).data
    raise AssertionError(f"unchecked node {type(node).__name__}")  # _check refuses everything else


def _binary(op: str, x: Number, y: Number) -> Value:
    """`x op y` where at least one of the two is a Value, so the result is one."""
    if op == "+":
        result = x + y
    elif op == "-":
        result = x - y
    elif op == "*":
        result = x * y
    elif op == "/":
        result = x / y
    else:
        result = x**y
    assert isinstance(result, Value)
    return result


# -- pointing at the offending part ------------------------------------------------------------


def _position(formula: str, node: ast.AST) -> str:
    """ "column 7" (or "line 2, column 7"), counted in characters from 1."""
    lines = formula.splitlines() or [""]
    line = getattr(node, "lineno", 1)
    text = lines[line - 1] if line <= len(lines) else ""
    column = len(text.encode("utf-8")[: getattr(node, "col_offset", 0)].decode("utf-8", "replace")) + 1
    return f"line {line}, column {column}" if len(lines) > 1 else f"column {column}"


def _snippet(formula: str, node: ast.AST) -> str:
    return _clip(ast.get_source_segment(formula, node) or type(node).__name__)


def _clip(text: str, width: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
