"""micrograd.engine.ops is the one place an op lives: every other table of ops is derived from it.

Checked here: the tape's NumPy namespace is built from FLOATS (and the import-time check that
both define the same functions), `apply_op` and the Value methods agree with the registry, and
the activations, formula functions, number parameters and drawing symbols are the registry's.
"""

from __future__ import annotations

import inspect
import math
import types

import numpy as np
import pytest

from micrograd import Value
from micrograd.engine import apply_op
from micrograd.engine.ops import FLOATS, OPS, Op, OpParameter
from micrograd.engine.tape import EXACT_NUMPY, NUMPY, check_same_functions, functions_of, numpy_namespace
from micrograd.nn import ACTIVATIONS
from micrograd.nn.sequential import DENSE_ACTIVATIONS
from viz.formula import FUNCTIONS, NUMBER_PARAMETER
from viz.text import OP_SYMBOLS, op_symbol

# -- the tape's NumPy namespace ------------------------------------------------------------------


def test_numpy_defines_exactly_the_functions_of_floats() -> None:
    assert functions_of(NUMPY) == functions_of(FLOATS)
    assert {"erf", "exp", "where", "maximum"} <= functions_of(FLOATS)
    for name in EXACT_NUMPY:
        assert getattr(NUMPY, name) is EXACT_NUMPY[name]


def test_a_function_of_floats_reaches_the_tape_elementwise_bit_for_bit() -> None:
    xs = np.linspace(-6.0, 6.0, 101)
    assert NUMPY.erf(xs).tolist() == [math.erf(x) for x in xs.tolist()]
    assert NUMPY.erf(0.5) == math.erf(0.5)


def test_a_new_float_function_needs_no_edit_of_the_tape() -> None:
    fake = types.SimpleNamespace(
        **{name: getattr(FLOATS, name) for name in functions_of(FLOATS)}, cube=lambda x: x * x * x
    )
    arrays = numpy_namespace(fake)
    assert arrays.cube(np.array([1.5, -2.0])).tolist() == [3.375, -8.0]


def test_the_check_names_a_function_missing_from_the_array_namespace() -> None:
    arrays = types.SimpleNamespace(**{name: getattr(NUMPY, name) for name in functions_of(NUMPY) if name != "erf"})
    with pytest.raises(TypeError, match=r"the array namespace lacks erf\b"):
        check_same_functions(FLOATS, arrays)
    check_same_functions(FLOATS, NUMPY)  # the real pair passes


def test_the_check_names_an_exact_function_that_floats_lacks() -> None:
    floats = types.SimpleNamespace(
        **{name: getattr(FLOATS, name) for name in functions_of(FLOATS) if name != "maximum"}
    )
    with pytest.raises(TypeError, match=r"the float namespace lacks maximum\b.*EXACT_NUMPY"):
        numpy_namespace(floats)


# -- Value methods and apply_op ------------------------------------------------------------------

UNARY = [name for name, op in OPS.items() if op.arity == 1]


@pytest.mark.parametrize("name", [name for name in UNARY if hasattr(Value, name)])
def test_each_value_method_is_apply_op(name: str) -> None:
    """The method and the by-name path give the same node, default parameters included."""
    op = OPS[name]
    by_method = getattr(Value(0.7), name)()
    by_name = apply_op(Value(0.7), name)
    assert (by_method.data, by_method.op, by_method.arg) == (by_name.data, by_name.op, by_name.arg)
    if op.parameter is not None:
        default = inspect.signature(getattr(Value, name)).parameters[op.parameter.name].default
        assert default == op.parameter.default == by_name.arg


def test_apply_op_refuses_what_is_not_a_unary_op_call() -> None:
    with pytest.raises(ValueError, match=r"'swish' is not a unary op; the unary ops are: .*gelu"):
        apply_op(Value(1.0), "swish")
    with pytest.raises(ValueError, match="'\\*' is not a unary op"):
        apply_op(Value(1.0), "*")
    with pytest.raises(TypeError, match="tanh takes no parameter"):
        apply_op(Value(1.0), "tanh", 2.0)
    with pytest.raises(TypeError, match=r"\*\* needs its exponent"):
        apply_op(Value(1.0), "**")
    with pytest.raises(TypeError, match="apply_op needs a Value"):
        apply_op(1.0, "tanh")  # type: ignore[arg-type]
    assert apply_op(Value(3.0), "**", 2).data == 9.0


def test_an_op_declares_a_parameter_only_when_unary() -> None:
    with pytest.raises(ValueError, match="only a unary op can have a constant parameter"):
        Op("bad", 2, lambda xp, x, y: x, (1.0, 1.0), parameter=OpParameter("p", 1.0))


# -- the tables derived from the registry --------------------------------------------------------


def test_activations_are_linear_then_the_declared_ops_in_their_place() -> None:
    declared = sorted((op for op in OPS.values() if op.activation is not None), key=lambda op: op.activation)
    assert list(ACTIVATIONS) == ["linear", *(op.name for op in declared)]
    assert list(ACTIVATIONS)[:6] == ["linear", "relu", "leaky_relu", "elu", "tanh", "sigmoid"]
    assert (*ACTIVATIONS, "softmax") == DENSE_ACTIVATIONS
    x = Value(-0.5)
    assert ACTIVATIONS["linear"](x) is x
    assert ACTIVATIONS["leaky_relu"](x).arg == 0.01 and ACTIVATIONS["elu"](x).arg == 1.0


def test_formula_functions_and_their_number_parameters() -> None:
    assert list(FUNCTIONS) == [name for name, op in OPS.items() if op.function]
    assert NUMBER_PARAMETER == {"leaky_relu": "slope", "elu": "alpha"}
    assert FUNCTIONS["leaky_relu"](Value(-2.0), 0.1).data == -0.2
    assert FUNCTIONS["elu"](Value(-1.0)).arg == 1.0


def test_drawing_symbols_are_the_ops_symbols() -> None:
    assert {name: op.symbol for name, op in OPS.items()} == OP_SYMBOLS
    x = Value(0.5)
    for name, op in OPS.items():
        if op.parameter is not None:
            node = apply_op(x, name, 3.0)
            assert op_symbol(node) == op.parameter.drawn.format(symbol=op.symbol, value="3")
    assert (op_symbol(x**3), op_symbol(x.leaky_relu(0.1)), op_symbol(x.elu(2))) == ("^3", "LeakyReLU(0.1)", "ELU(2)")
