"""Synthetic datasets: shapes, dtypes, balance, seeding, geometry, and the train/test split."""

from __future__ import annotations

import math

import numpy as np
import pytest

from micrograd.datasets import make_blobs, make_circles, make_moons, make_spirals, make_xor, train_test_split

GENERATORS = [
    (make_xor, {"n": 40, "noise": 0.1}, 2, 2),
    (make_moons, {"n": 101, "noise": 0.1}, 2, 2),
    (make_circles, {"n": 101, "noise": 0.05, "factor": 0.5}, 2, 2),
    (make_spirals, {"n": 301, "classes": 3, "noise": 0.2}, 2, 3),
    (make_blobs, {"n": 101, "centers": 4, "std": 0.5}, 2, 4),
    (make_blobs, {"n": 60, "centers": [[0, 0, 0], [5, 5, 5]], "std": 1.0}, 3, 2),
]
IDS = ["xor", "moons", "circles", "spirals", "blobs", "blobs3d"]


@pytest.mark.parametrize("make, kwargs, d, classes", GENERATORS, ids=IDS)
def test_shapes_dtypes_and_balance(make, kwargs, d, classes):
    X, y = make(**kwargs)
    n = kwargs["n"]
    assert X.shape == (n, d) and X.dtype == np.float64 and X.flags.c_contiguous
    assert y.shape == (n,) and y.dtype == np.int64
    counts = np.bincount(y, minlength=classes)
    assert len(counts) == classes and counts.sum() == n
    assert counts.max() - counts.min() <= 1  # as balanced as n allows
    assert np.all(np.isfinite(X))


@pytest.mark.parametrize("make, kwargs, d, classes", GENERATORS, ids=IDS)
def test_same_seed_same_data_and_other_seeds_differ(make, kwargs, d, classes):
    X1, y1 = make(**kwargs, seed=7)
    X2, y2 = make(**kwargs, seed=7)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    X3, _ = make(**kwargs, seed=8)
    assert not np.allclose(X1, X3)
    X4, y4 = make(**kwargs, seed=np.random.default_rng(7))  # a Generator works like its seed
    assert np.array_equal(X1, X4) and np.array_equal(y1, y4)


@pytest.mark.parametrize("make", [make_moons, make_circles, make_spirals])
def test_rows_are_shuffled_so_every_slice_has_every_class(make):
    _, y = make(n=40)
    assert len(set(y[-len(y) // 5 :])) == len(set(y))  # the last 20%: Keras's validation_split


def test_xor_is_the_truth_table():
    X, y = make_xor()
    assert X.tolist() == [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    assert y.tolist() == [0, 1, 1, 0]


def test_noisy_xor_is_gaussian_around_the_corners():
    X, y = make_xor(n=4000, noise=0.1, seed=1)
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])[np.arange(4000) % 4]
    residual = X - corners
    assert abs(residual.std() - 0.1) < 0.005 and abs(residual.mean()) < 0.005
    assert np.array_equal(y, corners[:, 0] ^ corners[:, 1])


def test_moons_lie_on_two_unit_half_circles():
    X, y = make_moons(n=100, noise=0.0)
    outer, inner = X[y == 0], X[y == 1]
    assert np.allclose(np.hypot(outer[:, 0], outer[:, 1]), 1.0)
    assert np.all(outer[:, 1] >= -1e-12)  # the upper half circle
    assert np.allclose(np.hypot(inner[:, 0] - 1.0, inner[:, 1] - 0.5), 1.0)
    assert np.all(inner[:, 1] <= 0.5 + 1e-12)  # the lower half circle, shifted
    assert math.isclose(outer[:, 0].min(), -1.0) and math.isclose(inner[:, 0].max(), 2.0)


def test_moons_noise_has_the_asked_standard_deviation():
    clean, y = make_moons(n=4000, noise=0.0, seed=3)
    noisy, y_noisy = make_moons(n=4000, noise=0.2, seed=3)  # same shuffle, then noise
    assert np.array_equal(y, y_noisy)
    assert abs((noisy - clean).std() - 0.2) < 0.01


@pytest.mark.parametrize("factor", [0.3, 0.8])
def test_circles_radii_are_1_and_factor(factor):
    X, y = make_circles(n=60, factor=factor)
    r = np.hypot(X[:, 0], X[:, 1])
    assert np.allclose(r[y == 0], 1.0) and np.allclose(r[y == 1], factor)


def test_spirals_follow_their_arms():
    classes = 3
    X, y = make_spirals(n=150, classes=classes)
    r = np.hypot(X[:, 0], X[:, 1])
    assert r.min() == 0.0 and math.isclose(r.max(), 1.0)
    keep = r > 0
    angle = np.arctan2(X[keep, 0], X[keep, 1])  # x = r·sin(angle), y = r·cos(angle)
    expected = 4.0 * r[keep] + 2.0 * math.pi * y[keep] / classes
    assert np.allclose(np.angle(np.exp(1j * (angle - expected))), 0.0, atol=1e-9)


def test_blobs_gather_around_their_centers():
    centers = [[-2.0, 3.0], [4.0, 0.5], [0.0, -5.0]]
    X, y = make_blobs(n=3000, centers=centers, std=0.5, seed=2)
    for k, c in enumerate(centers):
        assert np.allclose(X[y == k].mean(axis=0), c, atol=0.05)
        assert abs((X[y == k] - c).std() - 0.5) < 0.03
    X, y = make_blobs(n=300, centers=5, std=0.0, seed=4)  # random centres in [-10, 10]²
    assert len(np.unique(X, axis=0)) == 5 and np.all(np.abs(X) <= 10.0)
    for k in range(5):
        assert np.all(X[y == k] == X[y == k][0])


# -- train_test_split -----------------------------------------------------------------------------------


def _rows(n):
    X = np.column_stack([np.arange(n, dtype=np.float64), np.zeros(n)])
    return X, np.arange(n, dtype=np.int64) * 10


@pytest.mark.parametrize("n, test_size, n_test", [(10, 0.25, 3), (100, 0.2, 20), (7, 2, 2), (2, 0.5, 1)])
def test_split_sizes_and_permutation(n, test_size, n_test):
    X, y = _rows(n)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, seed=5)
    assert len(X_test) == len(y_test) == n_test and len(X_train) == len(y_train) == n - n_test
    ids = np.concatenate([X_train[:, 0], X_test[:, 0]]).astype(np.int64)
    assert sorted(ids.tolist()) == list(range(n))  # every row exactly once
    assert np.array_equal(np.concatenate([y_train, y_test]), ids * 10)  # X and y stay paired
    assert X_train.dtype == X.dtype and y_train.dtype == y.dtype


def test_split_is_seeded_and_shuffles():
    X, y = _rows(50)
    first = train_test_split(X, y, seed=1)
    again = train_test_split(X, y, seed=1)
    other = train_test_split(X, y, seed=2)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[1], other[1])
    assert not np.array_equal(first[0][:, 0], np.sort(first[0][:, 0]))  # not in the original order


X5, Y5 = np.zeros((5, 2)), np.zeros(5)


# -- errors ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: make_xor(n=3), "make_xor: n must be an int >= 4, got 3"),
        (lambda: make_moons(noise=-0.1), "make_moons: noise must be a finite number >= 0, got -0.1"),
        (lambda: make_circles(noise=math.nan), "make_circles: noise must be a finite number >= 0"),
        (lambda: make_circles(factor=1.0), r"make_circles: factor must be in \[0, 1\)"),
        (lambda: make_spirals(classes=1), "make_spirals: classes must be an int >= 2"),
        (lambda: make_spirals(n=2, classes=3), "make_spirals: n = 2 is too small for 3 classes"),
        (lambda: make_blobs(centers=[1.0, 2.0]), r"make_blobs: centers must be a \(classes, d\) array"),
        (lambda: make_blobs(centers="abc"), "make_blobs: centers must be"),
        (lambda: make_blobs(n=2, centers=3), "make_blobs: n = 2 is too small for 3 centers"),
        (lambda: make_blobs(std=-1), "make_blobs: std must be"),
        (lambda: make_moons(seed=-1), "make_moons: seed must be an int >= 0 or a numpy Generator"),
        (lambda: train_test_split(Y5, Y5), r"train_test_split: X must be 2-D \(n, d\), got shape \(5,\)"),
        (lambda: train_test_split(X5, np.zeros((5, 1))), "train_test_split: y must be 1-D"),
        (lambda: train_test_split(X5, np.zeros(4)), "train_test_split: X has 5 rows but y has 4"),
        (lambda: train_test_split(X5, Y5, test_size=0.0), r"a fractional test_size must be in \(0, 1\)"),
        (lambda: train_test_split(X5, Y5, test_size=5), "test_size = 5 rows must be between 1 and 4"),
        (lambda: train_test_split(np.zeros((2, 2)), np.zeros(2), test_size=0.9), "leaves no training rows"),
        (lambda: train_test_split(np.zeros((1, 2)), np.zeros(1)), "needs at least 2 rows"),
    ],
)
def test_bad_arguments_give_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
