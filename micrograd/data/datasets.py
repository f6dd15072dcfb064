"""Small synthetic datasets for classification, made on the spot: no downloads.

Every generator returns `X`, a float64 array of shape (n, d), and `y`, an int64 array of shape
(n,) of class labels 0, 1, ... Randomness comes from `numpy.random.default_rng(seed)`, so the
same seed always gives the same data (the default seed is 0; pass a `Generator` to share one).
Rows come in a shuffled order, so any slice of them (such as the last 20% that Keras's
`validation_split` keeps apart) holds every class; make_xor instead cycles through the four
corners, which keeps its n=4 truth table in the textbook order.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..checks import check_int, check_number, check_seed

Seed = int | np.random.Generator


def _rng(where: str, seed: Seed) -> np.random.Generator:
    seed = check_seed(where, seed, minimum=0, generator=np.random.Generator, generator_words="a numpy Generator")
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _class_sizes(n: int, classes: int) -> list[int]:
    """n split as evenly as possible: sizes differ by at most one, earlier classes larger."""
    return [n // classes + (1 if k < n % classes else 0) for k in range(classes)]


def _finish(X: np.ndarray, y: np.ndarray, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle the rows, then add Gaussian noise of standard deviation `noise` to X."""
    order = rng.permutation(len(y))
    X, y = X[order], y[order]
    if noise > 0:
        X = X + rng.normal(0.0, noise, size=X.shape)
    return np.ascontiguousarray(X, dtype=np.float64), np.ascontiguousarray(y, dtype=np.int64)


def make_xor(n: int = 4, noise: float = 0.0, seed: Seed = 0) -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem: points at the corners (0,0), (0,1), (1,0), (1,1) with labels 0, 1, 1, 0.

    Row i sits at corner i % 4, so n=4 with no noise is the truth table itself; a larger n
    repeats the corners, with Gaussian noise of standard deviation `noise` around each.
    """
    n = check_int("make_xor", "n", n, 4)
    noise = check_number("make_xor", "noise", noise, 0.0)
    rng = _rng("make_xor", seed)
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    labels = np.array([0, 1, 1, 0], dtype=np.int64)
    X = corners[np.arange(n) % 4]
    y = labels[np.arange(n) % 4]
    if noise > 0:
        X = X + rng.normal(0.0, noise, size=X.shape)
    return np.ascontiguousarray(X, dtype=np.float64), y


def make_moons(n: int = 100, noise: float = 0.0, seed: Seed = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles of radius 1 (scikit-learn's shape).

    Class 0: (cos t, sin t), centre (0, 0); class 1: (1 − cos t, 0.5 − sin t), centre (1, 0.5);
    t evenly spaced over [0, π]. Gaussian noise of standard deviation `noise` is then added.
    """
    n = check_int("make_moons", "n", n, 2)
    noise = check_number("make_moons", "noise", noise, 0.0)
    rng = _rng("make_moons", seed)
    n_outer, n_inner = n // 2, n - n // 2
    t_outer = np.linspace(0.0, math.pi, n_outer)
    t_inner = np.linspace(0.0, math.pi, n_inner)
    X = np.concatenate(
        [
            np.column_stack([np.cos(t_outer), np.sin(t_outer)]),
            np.column_stack([1.0 - np.cos(t_inner), 0.5 - np.sin(t_inner)]),
        ]
    )
    y = np.concatenate([np.zeros(n_outer, dtype=np.int64), np.ones(n_inner, dtype=np.int64)])
    return _finish(X, y, noise, rng)


def make_circles(
    n: int = 100, noise: float = 0.0, factor: float = 0.8, seed: Seed = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two circles around the origin: class 0 of radius 1, class 1 of radius `factor` (< 1).

    Points are evenly spaced in angle on each circle; then Gaussian noise is added.
    """
    n = check_int("make_circles", "n", n, 2)
    noise = check_number("make_circles", "noise", noise, 0.0)
    factor = check_number(
        "make_circles", "factor", factor, 0.0, 1.0, high_open=True, wanted="in [0, 1) (the inner radius)"
    )
    rng = _rng("make_circles", seed)
    n_outer, n_inner = n // 2, n - n // 2
    t_outer = np.linspace(0.0, 2.0 * math.pi, n_outer, endpoint=False)
    t_inner = np.linspace(0.0, 2.0 * math.pi, n_inner, endpoint=False)
    X = np.concatenate(
        [
            np.column_stack([np.cos(t_outer), np.sin(t_outer)]),
            float(factor) * np.column_stack([np.cos(t_inner), np.sin(t_inner)]),
        ]
    )
    y = np.concatenate([np.zeros(n_outer, dtype=np.int64), np.ones(n_inner, dtype=np.int64)])
    return _finish(X, y, noise, rng)


def make_spirals(n: int = 300, classes: int = 3, noise: float = 0.0, seed: Seed = 0) -> tuple[np.ndarray, np.ndarray]:
    """CS231n's spirals: `classes` arms winding out of the origin, one per class.

    Arm k: radius r evenly spaced over [0, 1], angle 4·r + 2πk/classes (+ Gaussian noise of
    standard deviation `noise`, in radians, as in CS231n, which used 0.2), point r·(sin, cos).
    """
    n = check_int("make_spirals", "n", n, 1)
    classes = check_int("make_spirals", "classes", classes, 2)
    if n < classes:
        raise ValueError(f"make_spirals: n = {n} is too small for {classes} classes (needs n >= classes)")
    noise = check_number("make_spirals", "noise", noise, 0.0)
    rng = _rng("make_spirals", seed)
    parts, labels = [], []
    for k, size in enumerate(_class_sizes(n, classes)):
        r = np.linspace(0.0, 1.0, size)
        angle = 4.0 * r + 2.0 * math.pi * k / classes
        if noise > 0:
            angle = angle + rng.normal(0.0, noise, size=size)
        parts.append(np.column_stack([r * np.sin(angle), r * np.cos(angle)]))
        labels.append(np.full(size, k, dtype=np.int64))
    return _finish(np.concatenate(parts), np.concatenate(labels), 0.0, rng)


def make_blobs(
    n: int = 100,
    centers: int | Sequence[Sequence[float]] = 3,
    std: float = 1.0,
    seed: Seed = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian clusters, one per class, of standard deviation `std` around each centre.

    `centers` is a number of clusters (their centres drawn uniformly in [-10, 10]², as in
    scikit-learn) or the centres themselves, shape (classes, d).
    """
    n = check_int("make_blobs", "n", n, 1)
    std = check_number("make_blobs", "std", std, 0.0)
    rng = _rng("make_blobs", seed)
    if isinstance(centers, numbers.Integral) and not isinstance(centers, bool):
        k = check_int("make_blobs", "centers", centers, 1)
        points = rng.uniform(-10.0, 10.0, size=(k, 2))
    else:
        try:
            points = np.array(centers, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"make_blobs: centers must be a count or a (classes, d) array of points, got {centers!r:.60}"
            ) from None
        if points.ndim != 2 or points.shape[0] < 1 or points.shape[1] < 1 or not np.all(np.isfinite(points)):
            raise ValueError(
                f"make_blobs: centers must be a (classes, d) array of finite points, got shape {points.shape}"
            )
    if n < len(points):
        raise ValueError(f"make_blobs: n = {n} is too small for {len(points)} centers (needs n >= centers)")
    sizes = _class_sizes(n, len(points))
    y = np.repeat(np.arange(len(points), dtype=np.int64), sizes)
    return _finish(points[y], y, std, rng)


def train_test_split(
    X: Any, y: Any, test_size: float | int = 0.25, seed: Seed = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle the rows and split them: returns X_train, X_test, y_train, y_test.

    `test_size` is a fraction in (0, 1) (the test set gets ⌈fraction·n⌉ rows, as in
    scikit-learn) or a number of rows. Both parts must end up non-empty.
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2:
        raise ValueError(f"train_test_split: X must be 2-D (n, d), got shape {X.shape}")
    if y.ndim != 1:
        raise ValueError(f"train_test_split: y must be 1-D (n,), got shape {y.shape}")
    n = len(X)
    if len(y) != n:
        raise ValueError(f"train_test_split: X has {n} rows but y has {len(y)}")
    if n < 2:
        raise ValueError(f"train_test_split: needs at least 2 rows to split, got {n}")
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real):
        raise TypeError(f"train_test_split: test_size must be a fraction or a row count, got {test_size!r:.60}")
    if isinstance(test_size, numbers.Integral):
        n_test = int(test_size)
        if not 1 <= n_test <= n - 1:
            raise ValueError(f"train_test_split: test_size = {n_test} rows must be between 1 and {n - 1}")
    else:
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"train_test_split: a fractional test_size must be in (0, 1), got {test_size!r}")
        n_test = math.ceil(test_size * n)
        if n_test >= n:
            raise ValueError(f"train_test_split: test_size = {test_size!r} leaves no training rows out of {n}")
    order = _rng("train_test_split", seed).permutation(n)
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]


__all__ = ["make_blobs", "make_circles", "make_moons", "make_spirals", "make_xor", "train_test_split"]
