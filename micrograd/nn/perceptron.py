"""Rosenblatt's perceptron: one neuron with the step activation, trained by its own rule.

    ŷ = step(w · x + b),   step(z) = 1 if z > 0 else 0

(the course's slides: "Perceptron: Y = WX + b" and the step function "1 if w·x + b > 0, 0
otherwise"). Gradient descent cannot train it: step's derivative is 0, so every gradient
through it is 0. The perceptron learning rule needs none. For one sample (x, y):

    w ← w + η (y − ŷ) x,   b ← b + η (y − ŷ)

y − ŷ is 0 for a right answer (nothing moves) and ±1 for a wrong one, which tips the line
w · x + b = 0 towards the right side of that sample.

`fit` goes through the samples in their order, epoch after epoch, and stops after the first
epoch without a mistake. On data that a line separates (AND, OR) it always gets there, after
finitely many mistakes (Novikoff, 1962); on data no line separates (XOR) it never does. It then
does what scikit-learn's Perceptron does when it runs out of epochs: it warns (a
`NotSeparableWarning`, which Jupyter shows under the cell) and keeps the last weights, and
`converged` is False. It stops early, with the same warning, when an epoch starts from the very
weights an earlier epoch started from: from there the rule goes round the same cycle for ever,
which proves the data is not linearly separable (separable data would end the cycle).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from ..checks import check_choice, check_int, check_number
from ..engine import Parameter, Value, apply_op, scope, weighted_sum
from ..engine.ops import FLOATS, OPS
from .mlp import Module, Seed, rng_from_seed

__all__ = ["PERCEPTRON_INITS", "NotSeparableWarning", "Perceptron", "Update"]

#: How the weights start: all 0 (scikit-learn's Perceptron), or "small_random", numbers drawn from
#: N(0, 0.01²) with `seed` (Raschka & Mirjalili's perceptron, *Python Machine Learning*, ch. 2). The
#: bias starts at 0 either way. Not "normal": for Dense and MLP that word means N(0, 1).
PERCEPTRON_INITS = ("zeros", "small_random")
_SMALL_SD = 0.01  # the standard deviation of "small_random"

_STEP = OPS["step"]


class NotSeparableWarning(UserWarning):
    """`Perceptron.fit` ended without an epoch free of mistakes: no line separates the classes."""


class Update(NamedTuple):
    """One sample through the perceptron rule: what it saw, what it answered, where it moved."""

    x: tuple[float, ...]  # the sample
    y: int  # its target, 0 or 1
    z: float  # w · x + b before the update
    y_hat: int  # step(z): the answer
    error: int  # y − ŷ: 0 (right), 1 or −1 (wrong)
    w: tuple[float, ...]  # the weights after the update
    b: float  # the bias after the update


class Perceptron(Module):
    """ŷ = step(w · x + b) over `nin` inputs, trained by `fit` with the perceptron rule.

    `w` (a list) and `b` are `Parameter`s labelled w0, w1, ... and b, so `p(x)` is a graph that
    `draw()` and `steps()` show; `predict` and `fit` compute with their `.data`, in the same order.
    The weights start at 0 (`init="zeros"`) or, with `init="small_random"`, drawn from N(0, 0.01²)
    with `seed`; the bias starts at 0.
    """

    def __init__(self, nin: int, *, init: str = "zeros", seed: Seed = None) -> None:
        nin = check_int("Perceptron", "nin", nin)
        if init == "normal":  # Dense's and MLP's word for N(0, 1), a hundred times wider than this
            raise ValueError(
                "Perceptron: init='normal' is not a perceptron init (for Dense and MLP it means N(0, 1)); "
                "write init='small_random' for small random weights, N(0, 0.01²), or leave it out for zeros"
            )
        self.init = check_choice("Perceptron", "init", init, PERCEPTRON_INITS)
        rng = rng_from_seed(seed)
        start = [rng.gauss(0.0, _SMALL_SD) if init == "small_random" else 0.0 for _ in range(nin)]
        self.w = [Parameter(value, f"w{i}") for i, value in enumerate(start)]
        self.b = Parameter(0.0, "b")
        self.converged = False  # after `fit`: whether an epoch went by without a mistake
        self.epochs = 0  # after `fit`: how many epochs it ran
        self.mistakes: list[int] = []  # after `fit`: the number of mistakes in each epoch

    @property
    def nin(self) -> int:
        return len(self.w)

    def parameters(self) -> list[Parameter]:
        return [*self.w, self.b]

    def __call__(self, x: Sequence[Value | float]) -> Value:
        """step(z) with z = b + w0·x0 + w1·x1 + ... (labelled "z"), as a graph of Values (the nodes
        under the scope "P")."""
        if len(x) != self.nin:
            raise ValueError(f"Perceptron expects {self.nin} inputs, got {len(x)}")
        with scope("P"):
            z = weighted_sum(self.b, self.w, x)
            z.label = "z"
            return apply_op(z, "step")

    # -- computing with numbers ---------------------------------------------------------------

    def _z(self, row: Sequence[float]) -> float:
        """b + w0·x0 + w1·x1 + ..., summed in the order of the graph `self(x)` builds."""
        total = self.b.data
        for w, x in zip(self.w, row):
            total = total + w.data * x
        return total

    def decision_function(self, X: Any) -> np.ndarray:
        """w · x + b for each row of X (scikit-learn's name): positive where the answer is 1."""
        rows = self._inputs("decision_function", X)
        return np.array([self._z(row) for row in rows], dtype=np.float64)

    def predict(self, X: Any) -> np.ndarray:
        """step(w · x + b) for each row of X: an int array of 0s and 1s, one per sample."""
        rows = self._inputs("predict", X)
        return np.array([int(_STEP.forward(FLOATS, self._z(row), None)) for row in rows], dtype=np.int64)

    # -- learning -------------------------------------------------------------------------------

    def update(self, x: Sequence[float], y: int, lr: float = 1.0) -> Update:
        """Apply the perceptron rule to one sample: w ← w + η (y − ŷ) x, b ← b + η (y − ŷ).
        Returns what happened (an `Update`), for a table of the rule at work."""
        rows = self._inputs("update", [x])
        (target,) = _targets("update", [y], 1)
        lr = check_number("Perceptron.update", "lr", lr, 0.0, low_open=True)
        return self._update(rows[0], target, lr)

    def _update(self, row: tuple[float, ...], y: int, lr: float) -> Update:
        z = self._z(row)
        y_hat = int(_STEP.forward(FLOATS, z, None))
        error = y - y_hat
        if error:
            for w, x in zip(self.w, row):
                w.data += lr * error * x
            self.b.data += lr * error
        return Update(row, y, z, y_hat, error, tuple(w.data for w in self.w), self.b.data)

    def fit(self, X: Any, y: Any, lr: float = 1.0, max_epochs: int = 100) -> Perceptron:
        """Apply the rule to every sample in order, epoch after epoch, until an epoch makes no
        mistake; then `converged` is True. Otherwise (after `max_epochs`, or once the weights go
        round a cycle) warn with a `NotSeparableWarning` and keep the last weights. The learning
        rate η is `lr` (1, as scikit-learn's eta0). Returns the perceptron itself."""
        rows = self._inputs("fit", X)
        targets = _targets("fit", y, len(rows))
        lr = check_number("Perceptron.fit", "lr", lr, 0.0, low_open=True)
        max_epochs = check_int("Perceptron.fit", "max_epochs", max_epochs)
        self.converged, self.epochs, self.mistakes = False, 0, []
        seen: dict[tuple[float, ...], int] = {}  # the weights each epoch started from: its number
        cycle_from = 0
        for epoch in range(1, max_epochs + 1):
            start = (*(w.data for w in self.w), self.b.data)
            if start in seen:
                cycle_from = seen[start]
                break
            seen[start] = epoch
            self.mistakes.append(sum(self._update(row, t, lr).error != 0 for row, t in zip(rows, targets)))
            self.epochs = epoch
            if self.mistakes[-1] == 0:
                self.converged = True
                return self
        warnings.warn(self._not_separable(cycle_from, max_epochs), NotSeparableWarning, stacklevel=2)
        return self

    def _not_separable(self, cycle_from: int, max_epochs: int) -> str:
        last = self.mistakes[-1]
        mistakes = f"{last} mistake{'s' if last != 1 else ''}"
        if cycle_from:
            return (
                f"Perceptron.fit: the data is not linearly separable. Epoch {self.epochs + 1} would start from "
                f"the same weights as epoch {cycle_from}, so the rule goes round a cycle for ever ({mistakes} in "
                f"epoch {self.epochs}): no line w·x + b = 0 has every 1 on its positive side and every 0 on the "
                "other (XOR is such data; a hidden layer solves it)"
            )
        return (
            f"Perceptron.fit: {mistakes} in epoch {max_epochs}, the last one (max_epochs): the data looks not "
            "linearly separable. On data a line separates, the rule is certain to stop after finitely many "
            "mistakes, but perhaps later: try a larger max_epochs"
        )

    def _inputs(self, what: str, X: Any) -> list[tuple[float, ...]]:
        """The rows of X as tuples of floats; a clear error for the wrong shape or a non-finite number."""
        where = f"Perceptron.{what}"
        try:
            array = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{where}: X must be numbers, one row per sample, got {X!r:.60}") from None
        if array.ndim != 2 or array.shape[1] != self.nin:
            raise ValueError(
                f"{where}: X must have one row of {self.nin} inputs per sample, shape (samples, {self.nin}); "
                f"got shape {array.shape}"
            )
        if not np.all(np.isfinite(array)):
            row = int(np.argwhere(~np.isfinite(array))[0][0])
            raise ValueError(f"{where}: X must hold finite numbers; row {row} is {array[row].tolist()}")
        return [tuple(row) for row in array.tolist()]

    def __repr__(self) -> str:
        return f"Perceptron({self.nin}, init={self.init!r})"


def _targets(where: str, y: Any, n: int) -> list[int]:
    """The targets as ints 0 and 1 (the two answers of step), one per sample."""
    labels = np.asarray(y).reshape(-1)
    if labels.shape[0] != n:
        raise ValueError(f"Perceptron.{where}: X has {n} samples but y has {labels.shape[0]}")
    if labels.dtype.kind not in "iubf" or not np.all((labels == 0) | (labels == 1)):
        bad = [v for v in labels.tolist() if v not in (0, 1)][:3]
        raise ValueError(f"Perceptron.{where}: y must hold 0 and 1 (the two answers of step), got {bad}")
    return [int(v) for v in labels.tolist()]
