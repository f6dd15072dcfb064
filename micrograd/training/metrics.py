"""Metrics: numbers reported during training to judge a model, not differentiated.

A loss must be differentiable, so it is built from `Value`s (see `micrograd.training.losses`). A metric
only reports, so it works on plain NumPy arrays of targets and predictions, as Keras metrics do.
Every metric is `metric(y_true, y_pred) -> float` with `y_pred` of shape (n, outputs), the
shape `Sequential.predict` returns.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Metric = Callable[[np.ndarray, np.ndarray], float]


def _as_2d(y_pred: np.ndarray) -> np.ndarray:
    y_pred = np.asarray(y_pred, dtype=np.float64)
    return y_pred.reshape(-1, 1) if y_pred.ndim == 1 else y_pred


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The fraction of samples whose predicted class is the true class.

    One output (a sigmoid probability): class 1 when the output is >= 0.5, as the course's
    slide puts it ("If >= 0.5, output 1; else, outputs 0"). Several outputs: the class with the
    largest output (argmax); `y_true` holds class indices or one-hot rows.
    """
    y_pred = _as_2d(y_pred)
    y_true = np.asarray(y_true, dtype=np.float64)
    if y_pred.shape[1] == 1:
        predicted = (y_pred[:, 0] >= 0.5).astype(np.float64)
        truth = y_true.reshape(-1)
    else:
        predicted = np.argmax(y_pred, axis=1).astype(np.float64)
        truth = np.argmax(y_true, axis=1).astype(np.float64) if y_true.ndim == 2 else y_true
    if truth.shape != predicted.shape:
        raise ValueError(f"accuracy: {truth.shape[0]} targets for {predicted.shape[0]} predictions")
    return float(np.mean(truth == predicted))


def _errors(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    y_pred = _as_2d(y_pred)
    y_true = np.asarray(y_true, dtype=np.float64).reshape(y_pred.shape[0], -1)
    return y_pred - y_true


def mean_squared_error(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The mean of (prediction - target)² over every sample and output."""
    return float(np.mean(_errors(y_true, y_pred) ** 2))


def mean_absolute_error(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The mean of |prediction - target| over every sample and output."""
    return float(np.mean(np.abs(_errors(y_true, y_pred))))


# Keras names. A metric is reported under its canonical name: metrics=["acc"] logs "accuracy".
METRICS: dict[str, Metric] = {
    "accuracy": accuracy,
    "acc": accuracy,
    "mse": mean_squared_error,
    "mean_squared_error": mean_squared_error,
    "mae": mean_absolute_error,
    "mean_absolute_error": mean_absolute_error,
}

_CANONICAL: dict[Metric, str] = {accuracy: "accuracy", mean_squared_error: "mse", mean_absolute_error: "mae"}


def get_metric(name_or_fn: str | Metric) -> Metric:
    """The metric called `name` (Keras names: "accuracy", "acc", "mse", "mae", ...), or a callable as is."""
    if callable(name_or_fn):
        return name_or_fn
    if isinstance(name_or_fn, str) and name_or_fn in METRICS:
        return METRICS[name_or_fn]
    raise ValueError(f"unknown metric {name_or_fn!r:.60}; choose one of: {', '.join(METRICS)} (or pass a function)")


def metric_name(metric: Metric) -> str:
    """The key a metric is logged under in `History.history` ("accuracy", "mse", or the function's name)."""
    canonical = _CANONICAL.get(metric)
    return canonical if canonical is not None else str(getattr(metric, "__name__", type(metric).__name__))


__all__ = ["METRICS", "accuracy", "get_metric", "mean_absolute_error", "mean_squared_error", "metric_name"]
