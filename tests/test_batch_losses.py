"""The built-in losses on a whole batch (micrograd.training.batch_losses: each loss's own graph
replayed on a tape) against the scalar engine: each sample's loss built from Values by
micrograd.training.losses, and its gradient with respect to the outputs from `backward()`, to
1e-12, on outputs that reach every branch (clipped probabilities, both sides of huber's delta,
hinge kinks, classes with target 0)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from micrograd import Value
from micrograd.training import batch_losses
from micrograd.training.batch_losses import batch_loss
from micrograd.training.losses import EPSILON, KERAS_LOSSES, as_loss, softmax


def _scalar(loss, activation, P: np.ndarray, T: list) -> tuple[np.ndarray, np.ndarray]:
    fn = loss.for_output(activation)
    losses, grads = [], []
    for row, target in zip(P.tolist(), T):
        outs = [Value(v) for v in row]
        value = fn(outs[0] if len(outs) == 1 else outs, target)
        value.backward()
        losses.append(value.data)
        grads.append([o.grad for o in outs])
    return np.array(losses), np.array(grads)


def _cases(rng: np.random.Generator) -> dict[str, tuple[str | None, np.ndarray, list]]:
    n = 40
    probabilities = rng.uniform(0, 1, size=(n, 1))
    probabilities[:4, 0] = [0.0, 1.0, EPSILON / 2, 1 - EPSILON / 3]  # clipped, both ends
    distributions = rng.dirichlet(np.ones(4), size=n)
    distributions[0] = [1.0, 0.0, 0.0, 0.0]
    distributions[1] = [1e-9, 0.5, 0.5 - 1e-9, 0.0]  # a probability below EPSILON
    one_hot = np.eye(4)[rng.integers(0, 4, n)]
    smoothed = 0.7 * one_hot + 0.075
    scores = rng.normal(scale=3.0, size=(n, 4))
    scores[0] = [1.0, 0.0, 0.0, 0.0]  # multiclass hinge: gaps of exactly 0 (the kink)
    values = rng.normal(size=(n, 3))
    targets = values + rng.normal(scale=1.5, size=(n, 3))
    targets[0] = values[0]  # mae: slope 0 where they are equal
    classes = rng.integers(0, 4, n)
    labels = np.where(rng.uniform(size=(n, 1)) < 0.5, -1.0, 1.0)
    margins = np.where(rng.uniform(size=(n, 1)) < 0.2, labels, rng.normal(size=(n, 1)))  # y·s = 1: the kink
    bce_targets = rng.uniform(0, 1, size=(n, 1))
    bce_targets[4:8, 0] = [0.0, 1.0, 0.0, 1.0]
    return {
        "mse": (None, values, targets.tolist()),
        "mae": (None, values, targets.tolist()),
        "huber": (None, values, targets.tolist()),
        "binary_crossentropy": ("sigmoid", probabilities, bce_targets[:, 0].tolist()),
        "categorical_crossentropy": ("softmax", distributions, smoothed.tolist()),
        "sparse_categorical_crossentropy": (None, scores, classes.tolist()),
        "sparse_categorical_crossentropy on softmax": ("softmax", distributions, classes.tolist()),
        "kl_divergence": ("softmax", distributions, smoothed.tolist()),
        "hinge": (None, margins, labels[:, 0].tolist()),
        "multiclass_hinge": (None, scores, classes.tolist()),
    }


CASES = _cases(np.random.default_rng(0))


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_built_in_loss_on_a_batch_is_the_scalar_engines(case):
    activation, P, T = CASES[case]
    loss = as_loss(case.split(" ")[0])
    fn = batch_loss(loss, activation)
    assert fn is not None
    outputs, losses, grads = fn(P, np.asarray(T, dtype=np.float64))
    np.testing.assert_array_equal(outputs, P)
    expected_losses, expected_grads = _scalar(loss, activation, P, T)
    np.testing.assert_allclose(losses, expected_losses, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grads, expected_grads, rtol=1e-12, atol=1e-15)
    # the same ops in the same order, with libm's functions: bit for bit the scalar engine's
    np.testing.assert_array_equal(losses, expected_losses)
    np.testing.assert_array_equal(grads, expected_grads)


def test_every_built_in_loss_has_a_batch_form_and_a_loss_of_your_own_has_none():
    assert {loss.name for loss in KERAS_LOSSES} == {case.split(" ")[0] for case in CASES}
    assert batch_loss(as_loss(lambda pred, target: (pred - target) ** 2), None) is None


def test_the_softmax_head_and_its_backward_are_the_scalar_engines():
    rng = np.random.default_rng(1)
    S = rng.normal(scale=4.0, size=(10, 5))
    S[0] = [800.0, 799.0, -3.0, 0.0, 1.0]  # exp(800) overflows: the largest score is subtracted per sample
    classes = rng.integers(0, 5, 10)
    loss = as_loss("sparse_categorical_crossentropy")
    P, losses, grads = batch_loss(loss, "softmax", softmax_layer=True)(S, classes.astype(np.float64))
    for i in range(10):
        scores = [Value(v) for v in S[i].tolist()]
        probabilities = softmax(scores)
        sample_loss = loss.for_output("softmax")(probabilities, int(classes[i]))
        sample_loss.backward()
        np.testing.assert_allclose(P[i], [p.data for p in probabilities], rtol=1e-12)
        np.testing.assert_allclose(losses[i], sample_loss.data, rtol=1e-12)
        np.testing.assert_allclose(grads[i], [s.grad for s in scores], rtol=1e-11, atol=1e-15)
        np.testing.assert_array_equal(P[i], [p.data for p in probabilities])
        np.testing.assert_array_equal(losses[i], sample_loss.data)
        np.testing.assert_array_equal(grads[i], [s.grad for s in scores])


def test_no_derivative_is_written_in_batch_losses():
    """The losses' derivatives come from micrograd.engine.ops through the tape: the module holds
    no function of its own that the engine's ops define (no exp, log, sign, ... on arrays)."""
    source = Path(batch_losses.__file__).read_text(encoding="utf-8")
    for formula in ("np.exp", "np.log", "np.sign", "np.maximum", "/ p", "softmax_backward"):
        assert formula not in source


def test_a_structure_seen_again_is_not_recorded_again_and_classes_share_one_program():
    rng = np.random.default_rng(2)
    loss = as_loss("sparse_categorical_crossentropy")
    replay = batch_loss(loss, "softmax", softmax_layer=True)
    for _ in range(3):
        replay(rng.normal(size=(64, 10)), rng.integers(0, 10, 64).astype(np.float64))
    assert len(replay._tapes) == 1  # -log p_k for every class k: one program, fed column k
    assert len(replay._numbers) == 10


@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
def test_evaluate_gives_the_scalar_engines_loss_bit_for_bit(output):
    """`evaluate` replays a built-in loss on a tape too: the mean of the very per-sample losses
    the scalar engine builds, math.fsum'd."""
    import math

    from micrograd import Dense, Sequential

    rng = np.random.default_rng(4)
    X = rng.normal(scale=2.0, size=(30, 3))
    units, name = (4, "sparse_categorical_crossentropy") if output == "softmax" else (1, "binary_crossentropy")
    y = rng.integers(0, units if units > 1 else 2, 30)
    model = Sequential([Dense(5, "tanh"), Dense(units, output)], input_dim=3, seed=0)
    model.compile(loss=name, optimizer="sgd")
    loss = as_loss(name)
    fn = loss.for_output(output)
    expected = []
    for row, target in zip(model.predict(X).tolist(), loss.targets(y)):
        outs = [Value(v) for v in row]
        expected.append(fn(outs[0] if len(outs) == 1 else outs, target).data)
    assert model.evaluate(X, y) == math.fsum(expected) / len(expected)


def test_a_loss_of_many_shapes_runs_per_sample_past_the_limit_with_the_same_numbers(monkeypatch):
    """Huber over 6 outputs has up to 2**6 structures: past MAX_STRUCTURES a batch runs one graph
    per sample, and gives the same numbers as the replay."""
    rng = np.random.default_rng(5)
    P = rng.normal(size=(40, 6))
    T = P + rng.normal(scale=1.5, size=(40, 6))
    loss = as_loss("huber")
    replayed = batch_loss(loss, None)(P, T)
    monkeypatch.setattr(batch_losses, "MAX_STRUCTURES", 3)
    limited = batch_loss(loss, None)
    per_sample = limited(P, T)
    assert len(limited._structures) <= 3
    for got, expected in zip(per_sample, replayed):
        np.testing.assert_array_equal(got, expected)
    monkeypatch.setattr(batch_losses, "MAX_STRUCTURES", 256)
    monkeypatch.setattr(batch_losses, "MAX_PROGRAMS", 1)
    for got, expected in zip(batch_loss(loss, None)(P, T), replayed):
        np.testing.assert_array_equal(got, expected)
