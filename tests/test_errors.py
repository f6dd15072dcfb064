"""Bad input gets a clear error that names the operation and the offending value (and the
node's label when it has one): never a bare `math domain error` or a silent NaN."""

from __future__ import annotations

import math
import re

import pytest

from micrograd import Value
from micrograd.nn import MLP, Layer, Neuron

# -- what a Value can hold --------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, message",
    [
        (True, "got bool: True"),
        ("a", "got str: 'a'"),
        ([1], r"got list: \[1\]"),
        (1j, "got complex: 1j"),
        (None, "got NoneType: None"),
    ],
)
def test_value_needs_a_real_number(data: object, message: str) -> None:
    with pytest.raises(TypeError, match=r"^Value needs a real number \(int or float\), " + message + "$"):
        Value(data)  # type: ignore[arg-type]


def test_value_rejects_an_int_too_large_for_a_float() -> None:
    # float(10**400) raises OverflowError with no word about Value
    with pytest.raises(OverflowError, match=r"Value needs a number that fits in a float .*got a larger int"):
        Value(10**400)
    with pytest.raises(OverflowError, match="fits in a float"):
        Value(1.0) + 10**400


def test_label_must_be_a_string() -> None:
    with pytest.raises(TypeError, match="Value label must be a str, got int: 3"):
        Value(1.0, label=3)  # type: ignore[arg-type]


def test_numbers_of_every_real_kind_are_accepted() -> None:
    import fractions

    import numpy as np

    for data, expected in ((3, 3.0), (np.int64(3), 3.0), (np.float32(0.5), 0.5), (fractions.Fraction(1, 4), 0.25)):
        v = Value(data)
        assert type(v.data) is float and v.data == expected


# -- domains -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda: Value(-2.0, "x").log(),
            "log(-2.0) is undefined (node 'x'): the logarithm is defined only for positive inputs",
        ),
        (lambda: Value(0.0).log(), "log(0.0) is undefined: the logarithm is defined only for positive inputs"),
        (lambda: Value(-math.inf, "n").log(), "log(-inf) is undefined (node 'n')"),
        (lambda: Value(-1.0).sqrt(), "sqrt(-1.0) is undefined: the square root is defined only for inputs >= 0"),
        (lambda: Value(-1e-300, "tiny").sqrt(), "sqrt(-1e-300) is undefined (node 'tiny')"),
        (lambda: Value(math.inf).sin(), "sin(inf) is undefined: sine is defined only for finite inputs"),
        (
            lambda: Value(-math.inf, "z").cos(),
            "cos(-inf) is undefined (node 'z'): cosine is defined only for finite inputs",
        ),
        (lambda: Value(-math.inf).sin(), "sin(-inf) is undefined"),
        (lambda: Value(-2.0) ** 0.5, r"(-2.0) ** 0.5 is undefined: a negative base needs an integer power"),
        (lambda: Value(-8.0, "b") ** (1 / 3), r"(-8.0) ** 0.3333333333333333 is undefined (node 'b')"),
        (
            lambda: Value(0.0) ** -1,
            "0.0 ** -1.0 is undefined: a negative base needs an integer power, and 0 cannot be raised to a negative power",
        ),
        (lambda: Value(-0.0) ** -2, r"(-0.0) ** -2.0 is undefined"),
        (lambda: Value(-2.0, "b") ** Value(0.5, "e"), r"(-2.0) ** 0.5 is undefined (base 'b', exponent 'e')"),
        (lambda: 0 ** Value(-1.0, "e"), r"0.0 ** -1.0 is undefined (base '0', exponent 'e')"),
        (lambda: (-8) ** Value(0.5), r"(-8.0) ** 0.5 is undefined (base '-8')"),
        (lambda: Value(-math.inf) ** 0.5, r"(-inf) ** 0.5 is undefined"),
        # NaN is not refused: it goes through every op, as in PyTorch (tests/test_reliability.py)
    ],
)
def test_domain_errors_name_the_op_the_value_and_the_node(make, message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        make()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Value(1.0, "v") / 0, "division by zero in a / b: a = 1.0 (node 'v'), b = 0.0 (node '0')"),
        (lambda: Value(1.0, "v") / -0.0, "division by zero in a / b: a = 1.0 (node 'v'), b = -0.0 (node '0')"),
        (lambda: 1 / Value(0.0, "v"), "division by zero in a / b: a = 1.0 (node '1'), b = 0.0 (node 'v')"),
        (
            lambda: Value(1.5, "v") / Value(0.0, "w"),
            "division by zero in a / b: a = 1.5 (node 'v'), b = 0.0 (node 'w')",
        ),
        (lambda: Value(0.0) / Value(0.0), "division by zero in a / b: a = 0.0, b = 0.0"),
    ],
)
def test_division_by_zero_names_both_operands(make, message: str) -> None:
    with pytest.raises(ZeroDivisionError, match="^" + re.escape(message) + "$"):
        make()


def test_a_failed_op_leaves_no_half_built_node() -> None:
    x = Value(-1.0, "x")
    with pytest.raises(ValueError):
        x.log()
    y = x * 2
    y.backward()
    assert x.grad == 2.0


# -- operand types -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, symbol, other",
    [
        (lambda v: v + "a", r"\+", "str"),
        (lambda v: v - [1], "-", "list"),
        (lambda v: v * None, r"\*", "NoneType"),
        (lambda v: v / "2", "/", "str"),
        (lambda v: v ** "a", r"\*\* or pow\(\)", "str"),
        (lambda v: v**True, r"\*\* or pow\(\)", "bool"),
        (lambda v: v @ 2, "@", "int"),
    ],
)
def test_unsupported_operand_types_raise_type_error(make, symbol: str, other: str) -> None:
    with pytest.raises(TypeError, match=rf"unsupported operand type\(s\) for {symbol}: 'Value' and '{other}'"):
        make(Value(1.0))


@pytest.mark.parametrize("make", [lambda v: "a" + v, lambda v: None * v, lambda v: [1] - v, lambda v: "2" / v])
def test_unsupported_operand_types_on_the_left_raise_type_error(make) -> None:
    with pytest.raises(TypeError):
        make(Value(1.0))


def test_bool_is_not_a_number_in_expressions() -> None:
    with pytest.raises(TypeError, match="unsupported operand type"):
        Value(1.0) + True
    with pytest.raises(TypeError, match="Value needs a real number"):
        Value(1.0).leaky_relu(True)


def test_values_do_not_compare_by_order() -> None:
    with pytest.raises(TypeError, match="'<' not supported"):
        Value(1.0) < Value(2.0)  # noqa: B015


# -- the nn module -----------------------------------------------------------------------------

VALID = "linear, relu, leaky_relu, elu, tanh, sigmoid, gelu, step"


@pytest.mark.parametrize(
    "make",
    [
        lambda: MLP(3, [4, 1], activation="swish"),
        lambda: MLP(3, [4, 1], output_activation="softmax"),
        lambda: Layer(3, 2, "swish"),
        lambda: Neuron(3, "swish"),
    ],
)
def test_unknown_activation_lists_the_valid_names(make) -> None:
    with pytest.raises(ValueError, match=r"unknown activation '(swish|softmax)'; choose one of: " + VALID + "$"):
        make()


@pytest.mark.parametrize("make", [lambda: MLP(3, [4], init="glorot"), lambda: Neuron(3, init="glorot")])
def test_unknown_init_lists_the_valid_names(make) -> None:
    names = "uniform, normal, xavier, he, zeros, ones, random_uniform, random_normal, truncated_normal, glorot_uniform, glorot_normal, he_uniform, he_normal"
    with pytest.raises(ValueError, match=rf"^unknown init 'glorot'; choose one of: {names}$"):
        make()


@pytest.mark.parametrize(
    "model, inputs, message",
    [
        (lambda: MLP(3, [4, 1], seed=0), [1.0, 2.0], "L1.N0 expects 3 inputs, got 2"),
        (lambda: MLP(3, [4, 1], seed=0), [1.0, 2.0, 3.0, 4.0], "L1.N0 expects 3 inputs, got 4"),
        (lambda: Layer(2, 3, seed=0, name="H"), [1.0], "H.N0 expects 2 inputs, got 1"),
        (lambda: Neuron(2, seed=0, name="out"), [], "out expects 2 inputs, got 0"),
    ],
)
def test_input_length_mismatch_names_expected_and_given_sizes(model, inputs: list, message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        model()(inputs)


@pytest.mark.parametrize(
    "seed, message",
    [("a", "got str: 'a'"), (1.5, "got float: 1.5"), (True, "got bool: True"), ([1], r"got list: \[1\]")],
)
def test_bad_seed(seed: object, message: str) -> None:
    with pytest.raises(TypeError, match="^seed must be an int, " + message):
        MLP(3, [4, 1], seed=seed)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: MLP(0, [4]), "nin must be a positive int, got 0"),
        (lambda: MLP(-1, [4]), "nin must be a positive int, got -1"),
        (lambda: MLP(3, [4, 0]), "nout must be a positive int, got 0"),
        (lambda: Layer(3, -2), "nout must be a positive int, got -2"),
        (lambda: Neuron(0), "nin must be a positive int, got 0"),
        (lambda: MLP(3, []), "nouts must list at least one layer size, e.g. MLP(3, [4, 4, 1]); got []"),
    ],
)
def test_bad_sizes(make, message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        make()
