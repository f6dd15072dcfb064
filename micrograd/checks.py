"""Argument checks shared by `micrograd.nn`, `micrograd.training` and `micrograd.data`.

One rule everywhere: an argument of the wrong type raises `TypeError`, one of the right type
but outside its range (or not among the choices) raises `ValueError`. Each check names where
it was called from (`where`, e.g. "Dropout"; "" for none) and returns the value in its plain
Python form (an `int`, a `float`), so NumPy scalars are accepted and never leak further.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["check_bool", "check_choice", "check_int", "check_number", "check_seed"]


def _prefix(where: str) -> str:
    return f"{where}: " if where else ""


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool) or type(value).__name__ == "bool_"  # numpy.bool_ is not a bool


def check_int(where: str, name: str, value: Any, minimum: int = 1) -> int:
    """An int (not a bool) >= `minimum`; "a positive int" when the minimum is 1."""
    wanted = "a positive int" if minimum == 1 else f"an int >= {minimum}"
    message = f"{_prefix(where)}{name} must be {wanted}, got {value!r:.60}"
    if _is_bool(value) or not isinstance(value, numbers.Integral):
        raise TypeError(message)
    if value < minimum:
        raise ValueError(message)
    return int(value)


def check_number(
    where: str,
    name: str,
    value: Any,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = False,
    wanted: str | None = None,
) -> float:
    """A finite real number (not a bool) in the range from `low` to `high`.

    The range is closed unless `low_open` / `high_open`; `wanted` words it in the message when
    the default ("a finite number >= 0", "a number in [0, 1)", ...) does not read well.
    """
    if _is_bool(value) or not isinstance(value, numbers.Real):
        raise TypeError(f"{_prefix(where)}{name} must be a number, got {type(value).__name__}: {value!r:.60}")
    x = float(value)
    above = x > low if low_open else x >= low
    below = x < high if high_open else x <= high
    if not (math.isfinite(x) and above and below):
        if wanted is None:
            wanted = _range_words(low, high, low_open, high_open)
        raise ValueError(f"{_prefix(where)}{name} must be {wanted}, got {value!r:.60}")
    return x


def _range_words(low: float, high: float, low_open: bool, high_open: bool) -> str:
    if low == 0 and low_open and high == math.inf:
        return "a positive finite number"
    if high == math.inf:
        return f"a finite number {'>' if low_open else '>='} {low:g}"
    if low == -math.inf:
        return f"a finite number {'<' if high_open else '<='} {high:g}"
    return f"a number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


def check_bool(where: str, name: str, value: Any) -> bool:
    """True or False exactly: 0, 1 and "yes" are refused, so a swapped argument is caught."""
    if not isinstance(value, bool):
        raise TypeError(f"{_prefix(where)}{name} must be True or False, got {value!r:.60}")
    return value


def check_choice(
    where: str,
    name: str,
    value: Any,
    choices: Iterable[Any],
    *,
    names: bool = True,
    notes: Mapping[Any, str] | None = None,
) -> Any:
    """One of `choices` (names such as activations, or options such as verbose levels).

    Names (string choices: activations, losses) give "unknown activation 'swish'; choose one of: ...";
    options (verbose levels, or strings with `names=False`) give "verbose must be 0 (silent), 1
    (progress bar) or 2 (...)", the words in brackets being the `notes` on each choice.
    """
    options = list(choices)
    notes = notes or {}
    names = names and not notes and all(isinstance(option, str) for option in options)
    if names and not isinstance(value, str):
        raise TypeError(
            f"{_prefix(where)}{name} must be a str, one of: {', '.join(options)}; "
            f"got {type(value).__name__}: {value!r:.60}"
        )
    if any(value == option and type(value) is type(option) for option in options):
        return value
    if names:
        raise ValueError(f"{_prefix(where)}unknown {name} {value!r:.60}; choose one of: {', '.join(options)}")
    words = [f"{option!r}" + (f" ({notes[option]})" if option in notes else "") for option in options]
    listed = ", ".join(words[:-1]) + f" or {words[-1]}" if len(words) > 1 else words[0]
    wrong_type = not any(type(value) is type(option) for option in options)
    raise (TypeError if wrong_type else ValueError)(f"{_prefix(where)}{name} must be {listed}, got {value!r:.60}")


def check_seed(
    where: str,
    value: Any,
    *,
    allow_none: bool = False,
    minimum: int | None = None,
    generator: type | tuple[type, ...] = (),
    generator_words: str = "",
) -> Any:
    """A seed: an int (>= `minimum` if given), or None / a generator object where the caller takes one.

    `generator` is the generator type the caller also accepts (random.Random, numpy's Generator),
    returned as is; `generator_words` names it in the message ("a numpy Generator").
    """
    if value is None and allow_none:
        return None
    if generator and isinstance(value, generator):
        return value
    wanted = "an int" + (f" >= {minimum}" if minimum is not None else "")
    wanted += " or None" if allow_none else ""
    wanted += f" or {generator_words}" if generator_words else ""
    if _is_bool(value) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{_prefix(where)}seed must be {wanted}, got {type(value).__name__}: {value!r:.60}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{_prefix(where)}seed must be {wanted}, got {value!r:.60}")
    return int(value)
