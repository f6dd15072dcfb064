"""Shared by the engine tests: the one definition of "the same float64 number" and of running a
function through both micrograd and PyTorch (float64), so every file compares numbers alike."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import pytest
import torch

from micrograd import Value


def _assert_same(actual: float, expected: float, rtol: float = 0.0, atol: float = 0.0, what: str = "") -> None:
    """NaN matches NaN, ±inf matches the same infinity, anything else |a - e| <= atol + rtol·|e|.

    With the default rtol = atol = 0 this is exact equality, the check we use wherever IEEE
    arithmetic gives both libraries the same bits.
    """
    if math.isnan(expected) or math.isnan(actual):
        assert math.isnan(expected) and math.isnan(actual), f"{what}: got {actual!r}, expected {expected!r}"
    elif math.isinf(expected) or math.isinf(actual):
        assert actual == expected, f"{what}: got {actual!r}, expected {expected!r}"
    else:
        assert abs(actual - expected) <= atol + rtol * abs(expected), (
            f"{what}: got {actual!r}, expected {expected!r} (rtol={rtol:g}, atol={atol:g})"
        )


def _run_micrograd(f: Callable[..., Value], xs: Sequence[float]) -> tuple[float, list[float]]:
    """f on fresh leaves, then backward(): (output value, gradient of each leaf)."""
    leaves = [Value(x) for x in xs]
    out = f(*leaves)
    out.backward()
    return out.data, [leaf.grad for leaf in leaves]


def _run_torch(f: Callable[..., torch.Tensor], xs: Sequence[float]) -> tuple[float, list[float]]:
    """The same in PyTorch with float64 scalars (a leaf that f does not use gets gradient 0)."""
    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    out = f(*leaves)
    out.backward()
    return out.item(), [0.0 if leaf.grad is None else leaf.grad.item() for leaf in leaves]


@pytest.fixture(scope="session")
def same() -> Callable[..., None]:
    return _assert_same


@pytest.fixture(scope="session")
def run_micrograd() -> Callable[..., tuple[float, list[float]]]:
    return _run_micrograd


@pytest.fixture(scope="session")
def run_torch() -> Callable[..., tuple[float, list[float]]]:
    return _run_torch
