"""The built-in losses on a whole batch at once, for `fit` on a tape: NumPy arrays in and out.

`micrograd.training.losses` builds each sample's loss as a graph of Values, which a learner can
draw and step through. On a tape the model itself costs a few matrix products per batch, and
building a loss graph per sample then takes most of a step (a softmax cross-entropy over 10
classes: ~45 nodes and one backward walk per sample). So `fit` on a tape computes the built-in
losses here, on the batch's output matrix: the per-sample losses and their gradients with respect
to the outputs, by the same formulas, clipping and branches as `losses.py` (the module notes
there say why each is what it is). Tests check every loss and the softmax head against the
scalar engine to 1e-12 (tests/test_batch_losses.py). A loss of your own is still built per
sample by the scalar engine.

Each function takes the outputs P (samples, outputs) and the targets as `Loss.targets` gives them
(as an array), and returns (losses (samples,), dL/dP (samples, outputs)).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .losses import EPSILON, KERAS_LOSSES, Loss

BatchLoss = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

__all__ = ["BatchLoss", "batch_loss", "softmax_backward", "softmax_rows"]


def _over_outputs(terms: np.ndarray, grads: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mean over the outputs (losses.py's `_mean`: one output is the term itself)."""
    k = terms.shape[1]
    if k == 1:
        return terms[:, 0], grads
    return terms.sum(axis=1) / k, grads / k


def _columns(T: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Targets shaped like the outputs: a single output's targets come as one number per sample."""
    return T.reshape(P.shape).astype(np.float64)


def _clipped(P: np.ndarray, high: float = 1.0 - EPSILON) -> tuple[np.ndarray, np.ndarray]:
    """(p kept inside [EPSILON, high], 1 where p was inside and 0 where clipped: its slope)."""
    low_side, high_side = P < EPSILON, high < P
    clipped = np.where(low_side, EPSILON, np.where(high_side, high, P))
    return clipped, (~(low_side | high_side)).astype(np.float64)


def _mse(P: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = P - _columns(T, P)
    return _over_outputs(d**2, 2.0 * d)


def _mae(P: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = P - _columns(T, P)
    return _over_outputs(np.abs(d), np.sign(d))  # slope 0 where they are equal


def _huber(P: np.ndarray, T: np.ndarray, delta: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    d = P - _columns(T, P)
    near = np.abs(d) < delta
    return _over_outputs(
        np.where(near, 0.5 * d**2, delta * (np.abs(d) - 0.5 * delta)), np.where(near, d, delta * np.sign(d))
    )


def _binary_cross_entropy(P: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = _columns(T, P)
    p, inside = _clipped(P)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = -(np.where(y > 0, y * np.log(p), 0.0) + np.where(y < 1, (1.0 - y) * np.log(1.0 - p), 0.0))
        grads = -(np.where(y > 0, y / p, 0.0) - np.where(y < 1, (1.0 - y) / (1.0 - p), 0.0)) * inside
    return _over_outputs(terms, grads)


def _hinge(P: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = _columns(T, P)
    margin = np.where(y == 1.0, 1.0 - P, 1.0 + P)
    return _over_outputs(np.maximum(margin, 0.0), np.where(margin > 0, -y, 0.0))  # relu: slope 0 at the kink


def _one_hot(T: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Class indices as one-hot rows like P."""
    Y = np.zeros(P.shape)
    Y[np.arange(P.shape[0]), T.astype(np.intp)] = 1.0
    return Y


def _cross_entropy_on_probabilities(P: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """−Σ_j y_j·log clip(q_j), the classes with y_j = 0 left out (categorical_cross_entropy)."""
    q, inside = _clipped(P)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(Y > 0, Y * np.log(q), 0.0)
        grads = np.where(Y > 0, -(Y / q) * inside, 0.0)
    return -logs.sum(axis=1), grads


def _categorical_cross_entropy(P: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _cross_entropy_on_probabilities(P, T.reshape(P.shape).astype(np.float64))


def _sparse_on_probabilities(P: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _cross_entropy_on_probabilities(P, _one_hot(T, P))


def _cross_entropy(S: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """−log softmax(s)[y] = log Σ_j exp(s_j − m) − (s_y − m), m = max s; gradient softmax(s) − one_hot(y)."""
    m = S.max(axis=1, keepdims=True)
    e = np.exp(S - m)
    total = e.sum(axis=1, keepdims=True)
    rows = np.arange(S.shape[0])
    k = T.astype(np.intp)
    losses = -((S[rows, k] - m[:, 0]) - np.log(total[:, 0]))
    return losses, e / total - _one_hot(T, S)


def _kl_divergence(P: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Σ_j p_j·(log p_j − log q_j) over p_j > 0, q clipped below at EPSILON (Keras's argument order)."""
    p_true = T.reshape(P.shape).astype(np.float64)
    low = P < EPSILON
    q = np.where(low, EPSILON, P)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p_true > 0, p_true * (np.log(np.where(p_true > 0, p_true, 1.0)) - np.log(q)), 0.0)
        grads = np.where(p_true > 0, -(p_true / q) * ~low, 0.0)
    return terms.sum(axis=1), grads


def _multiclass_hinge(S: np.ndarray, T: np.ndarray, margin: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    rows = np.arange(S.shape[0])
    k = T.astype(np.intp)
    gaps = (S - S[rows, k][:, None]) + margin
    gaps[rows, k] = 0.0  # the target class is left out
    active = (gaps > 0).astype(np.float64)  # relu: slope 0 at the kink
    grads = active.copy()
    grads[rows, k] = -active.sum(axis=1)
    return np.maximum(gaps, 0.0).sum(axis=1), grads


#: Each built-in loss (by its name in `KERAS_LOSSES`) on a batch: (on any outputs, on a softmax's).
_BATCH: dict[str, tuple[BatchLoss, BatchLoss | None]] = {
    "mse": (_mse, None),
    "mae": (_mae, None),
    "huber": (_huber, None),
    "binary_crossentropy": (_binary_cross_entropy, None),
    "categorical_crossentropy": (_categorical_cross_entropy, None),
    "sparse_categorical_crossentropy": (_cross_entropy, _sparse_on_probabilities),
    "kl_divergence": (_kl_divergence, None),
    "hinge": (_hinge, None),
    "multiclass_hinge": (_multiclass_hinge, None),
}
assert set(_BATCH) == {loss.name for loss in KERAS_LOSSES}, "every built-in loss needs its batch form here"


def batch_loss(loss: Loss, activation: str | None) -> BatchLoss | None:
    """The batch form of `loss.for_output(activation)`, or None for a loss of your own."""
    if not any(loss is known for known in KERAS_LOSSES):
        return None
    plain, on_softmax = _BATCH[loss.name]
    return on_softmax if on_softmax is not None and loss.on_softmax is not None and activation == "softmax" else plain


def softmax_rows(S: np.ndarray) -> np.ndarray:
    """softmax of each row, as `losses.softmax`: exp(s_i − max s) / Σ_j exp(s_j − max s)."""
    e = np.exp(S - S.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def softmax_backward(P: np.ndarray, G: np.ndarray) -> np.ndarray:
    """dL/ds from dL/dp for p = softmax(s): p ⊙ (g − Σ_j g_j p_j), row by row."""
    return P * (G - (G * P).sum(axis=1, keepdims=True))
