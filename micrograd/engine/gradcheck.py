"""Check autograd against central finite differences, with a report a learner can read."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .value import Value, no_grad


@dataclass(frozen=True)
class GradcheckRow:
    """One input: the engine's gradient, the finite-difference estimate, and how far apart."""

    name: str
    analytic: float
    numeric: float
    difference: float
    ok: bool


@dataclass(frozen=True)
class GradcheckReport:
    rows: tuple[GradcheckRow, ...]
    eps: float
    tol: float

    @property
    def ok(self) -> bool:
        """True when every input's analytic and numeric gradients agree within `tol`."""
        return all(row.ok for row in self.rows)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        width = max([5, *(len(row.name) for row in self.rows)])
        lines = [f"{'input':<{width}}  {'analytic':>14}  {'numeric':>14}  {'difference':>11}  ok"]
        for row in self.rows:
            lines.append(
                f"{row.name:<{width}}  {row.analytic:>14.8g}  {row.numeric:>14.8g}  "
                f"{row.difference:>11.2e}  {'yes' if row.ok else 'NO'}"
            )
        verdict = "all gradients agree" if self.ok else "some gradients DISAGREE"
        lines.append(f"{verdict} (central differences, eps={self.eps:g}, tol={self.tol:g})")
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython shows the table
        printer.text(str(self))


def gradcheck(
    f: Callable[..., Value],
    inputs: Sequence[Value | float],
    eps: float = 1e-6,
    tol: float = 1e-5,
) -> GradcheckReport:
    """Compare ∂f/∂input from `backward()` with (f(x+eps) - f(x-eps)) / 2eps for each input.

    `f` takes the inputs as positional arguments and returns a Value. The check runs on copies,
    so the caller's Values and their gradients are left as they were. An input passes when
    |analytic - numeric| <= tol · max(1, |analytic|, |numeric|).
    """
    if not inputs:
        raise ValueError("gradcheck needs at least one input")
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps!r}")
    copies = [Value(x.data, x.label) if isinstance(x, Value) else Value(x, f"x{i}") for i, x in enumerate(inputs)]
    out = f(*copies)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, got {type(out).__name__}")
    out.backward()
    analytic = [x.grad for x in copies]

    rows = []
    for i, x in enumerate(copies):
        original = x.data
        try:
            with no_grad():
                x.data = original + eps
                up = f(*copies).data
                x.data = original - eps
                down = f(*copies).data
        except (ValueError, ZeroDivisionError) as error:
            raise ValueError(
                f"gradcheck: f is not defined on both sides of {x.label or f'x{i}'} = {original!r} "
                f"± {eps:g}, so no central difference can be taken there: {error}"
            ) from error
        finally:
            x.data = original
        numeric = (up - down) / (2 * eps)
        difference = abs(analytic[i] - numeric)
        scale = max(1.0, abs(analytic[i]), abs(numeric))
        ok = math.isfinite(difference) and difference <= tol * scale
        rows.append(GradcheckRow(x.label or f"x{i}", analytic[i], numeric, difference, ok))
    return GradcheckReport(tuple(rows), eps, tol)
