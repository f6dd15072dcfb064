"""Callbacks: code that `Sequential.fit` runs at fixed points of training, as in Keras.

`fit` calls, in this order: `on_train_begin`, then per epoch `on_epoch_begin`, `on_batch_end` after
every optimizer step, `on_epoch_end` with the epoch's figures (`logs`: "loss", the metrics,
"val_loss", ...), and finally `on_train_end`. A callback stops training by setting
`model.stop_training = True`. Epochs are counted from 0, as in Keras.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from ..checks import check_bool, check_choice, check_int, check_number
from ..engine import Tape, Value, no_grad

Logs = dict[str, float]


class Callback:
    """Does nothing at every hook: subclasses override the hooks they need."""

    model: Any = None  # the Sequential being trained, set by `fit` before `on_train_begin`
    params: Mapping[str, Any] = MappingProxyType(
        {}
    )  # set per callback by `fit`: "epochs", "steps" (batches per epoch), "log_names"

    def set_model(self, model: Any) -> None:
        self.model = model

    def on_train_begin(self, logs: Logs | None = None) -> None:
        pass

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        pass

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        pass

    def on_train_end(self, logs: Logs | None = None) -> None:
        pass


class History(Callback):
    """The per-epoch figures of a `fit`: `history["loss"][e]` is epoch e's mean training loss.

    `fit` returns one. Keys: "loss", each metric ("accuracy"), and with validation data
    "val_loss", "val_accuracy"; `epoch` lists the epochs that ran (0-based).
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.params: dict[str, Any] = {}

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self) -> str:
        keys = ", ".join(self.history)
        return f"History({len(self.epoch)} epochs: {keys})"


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by more than `min_delta` for `patience` epochs.

    "Stop training before we have a chance to overfit" (course slides). `mode` "auto" minimises
    losses and errors and maximises accuracies. With `restore_best_weights=True` the model ends
    with the weights of its best epoch, whether training stopped early or ran all its epochs.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 0,
        min_delta: float = 0.0,
        restore_best_weights: bool = False,
        mode: str = "auto",
    ) -> None:
        patience = check_int("EarlyStopping", "patience", patience, 0)
        min_delta = check_number("EarlyStopping", "min_delta", min_delta, 0.0)
        check_bool("EarlyStopping", "restore_best_weights", restore_best_weights)
        check_choice("EarlyStopping", "mode", mode, ("auto", "min", "max"), names=False)
        if not isinstance(monitor, str):
            raise TypeError(f"EarlyStopping: monitor must be a str such as 'val_loss', got {monitor!r:.60}")
        if mode == "auto":
            mode = "max" if monitor.removeprefix("val_") in ("accuracy", "acc") else "min"
        self.monitor = monitor
        self.patience = patience
        self.min_delta = min_delta
        self.restore_best_weights = restore_best_weights
        self.mode = mode
        self._reset()

    def _reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = -1
        self.best_weights: list[float] | None = None
        self.wait = 0
        self.stopped_epoch: int | None = None  # the epoch after which training stopped, if it did

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Start afresh; raise before any step when `monitor` is not a figure this `fit` logs."""
        self._reset()
        log_names = self.params.get("log_names", [])
        if self.monitor not in log_names:
            hint = " (pass validation_data or validation_split to fit)" if self.monitor.startswith("val_") else ""
            raise ValueError(
                f"EarlyStopping monitors {self.monitor!r}, which this fit does not log{hint}; "
                f"it logs: {', '.join(log_names)}"
            )

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        value = (logs or {})[self.monitor]
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:  # `patience` epochs in a row without improvement
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class LearningRateScheduler(Callback):
    """Advance a learning-rate schedule (`micrograd.optim.StepDecay`, ...) once at the end of each epoch."""

    def __init__(self, schedule: Any) -> None:
        if not callable(getattr(schedule, "step", None)):
            raise TypeError(f"LearningRateScheduler needs a schedule with a step() method, got {schedule!r:.60}")
        self.schedule = schedule

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self.schedule.step()


class WeightRecorder(Callback):
    """Keep the model's weights as training moves them: at the start, then after every epoch
    (`every="epoch"`) or every optimizer step (`every="batch"`).

    `weights[k]` is a list like `model.get_weights()`; `steps[k]` says when it was taken (0 at the
    start, then the epoch or update count). `micrograd.training.landscape` projects them onto a
    loss landscape, as the path the optimizer took. A `fit` may record at most `MAX_RECORDS`.
    """

    MAX_RECORDS = 10_000

    def __init__(self, every: str = "epoch") -> None:
        self.every = check_choice("WeightRecorder", "every", every, ("epoch", "batch"), names=False)
        self.weights: list[list[float]] = []
        self.steps: list[int] = []

    def on_train_begin(self, logs: Logs | None = None) -> None:
        per_epoch = self.params.get("steps", 1) if self.every == "batch" else 1
        records = 1 + self.params.get("epochs", 0) * per_epoch
        if records > self.MAX_RECORDS:
            raise ValueError(
                f"WeightRecorder(every={self.every!r}) would keep {records} copies of the weights, more than "
                f"{self.MAX_RECORDS}: record every epoch, or train for fewer epochs"
            )
        self.weights = [self.model.get_weights()]
        self.steps = [0]

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self.every == "batch":
            self.weights.append(self.model.get_weights())
            self.steps.append(self.steps[-1] + 1)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self.every == "epoch":
            self.weights.append(self.model.get_weights())
            self.steps.append(epoch + 1)

    def __repr__(self) -> str:
        return f"WeightRecorder(every={self.every!r}: {len(self.weights)} records)"


# -- gradient flow ---------------------------------------------------------------------------------


class GradientFlow(Callback):
    """Record how much gradient reaches each layer, and how many ReLU units are dead, every epoch.

    Into the epoch's logs, and so into the `History` that `fit` returns (plotted by
    `viz.plot_gradient_flow`):
    - "grad_norm/L1", "grad_norm/L2", ...: the L2 norm of the gradient of the layer's weights (its
      kernel, ‖∂J/∂W‖; the biases are left out, as in the usual gradient-flow plots: a bias is a
      weight on a constant input), taken after each batch's backward pass and averaged over the
      epoch's batches. With one batch per epoch it is exactly that batch's gradient norm.
    - "dead_relu/L1", ...: for each ReLU layer, when `X` is given, the fraction of its units whose
      output is 0 for every sample of `X`, with the weights at the end of the epoch (such a unit
      passes no gradient back and so cannot learn again on that data).

    It reads only the model's public state (its layers and each parameter's `.grad`), so both
    engines of `fit` record the same figures.
    """

    def __init__(self, X: Any = None) -> None:
        if X is not None:
            X = np.asarray(X, dtype=np.float64)
            if X.ndim != 2 or X.shape[0] == 0 or not np.all(np.isfinite(X)):
                raise ValueError(f"GradientFlow: X must be finite numbers of shape (samples, features), got {X.shape}")
        self.X = X
        self._sums: dict[str, float] = {}
        self._batches = 0
        self._probe: DeadReluProbe | None = None

    def _weighted_layers(self) -> list[Any]:
        return [layer for layer in self.model.layers if layer.kernel_parameters()]

    def on_train_begin(self, logs: Logs | None = None) -> None:
        if self.X is not None and self.X.shape[1] != self.model.input_dim:
            raise ValueError(f"GradientFlow: X has {self.X.shape[1]} features, the model takes {self.model.input_dim}")
        self._probe = None if self.X is None else DeadReluProbe(self.model, self.X)

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._sums = {layer.name: 0.0 for layer in self._weighted_layers()}
        self._batches = 0

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        for layer in self._weighted_layers():
            self._sums[layer.name] += math.sqrt(math.fsum(p.grad * p.grad for p in layer.kernel_parameters()))
        self._batches += 1

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if logs is None or not self._batches:
            return
        for name, total in self._sums.items():
            logs[f"grad_norm/{name}"] = total / self._batches
        if self._probe is not None:
            logs.update(self._probe.fractions())


def dead_relu_fractions(model: Any, X: np.ndarray) -> dict[str, float]:
    """{"dead_relu/L1": fraction, ...}: for each ReLU layer of `model`, the fraction of its units
    whose output is 0 for every row of `X` (the model run without dropout)."""
    return DeadReluProbe(model, X).fractions()


class DeadReluProbe:
    """Counts dead ReLU units of a model on fixed data, again after every change of its weights.

    The layers up to the last ReLU one are recorded once on a `Tape` (which reads the weights
    afresh at each run) and run on all of `X` at once; a softmax layer below a ReLU one (a graph
    that depends on the data) is run sample by sample instead. Both give the engine's numbers.
    """

    def __init__(self, model: Any, X: np.ndarray) -> None:
        self.X = X
        relu_at = [k for k, layer in enumerate(model.layers) if layer.activation == "relu"]
        self.layers = list(model.layers)[: relu_at[-1] + 1] if relu_at else []
        self.tape: Tape | None = None
        self.xs: list[Value] = []
        self.names: list[str] = []  # the layer of each ReLU unit, unit by unit
        if self.layers and not any(layer.activation == "softmax" for layer in self.layers):
            self.xs = [Value(float(v), f"x{j}") for j, v in enumerate(X[0])]
            self.names, values = _relu_outputs(self.layers, self.xs)
            self.tape = Tape.record(values, inputs=self.xs)
        elif self.layers:
            with no_grad():
                self.names = _relu_outputs(self.layers, X[0].tolist())[0]

    def fractions(self) -> dict[str, float]:
        if not self.layers:
            return {}
        if self.tape is not None:
            feed = {x: self.X[:, j] for j, x in enumerate(self.xs)}
            outputs = np.asarray(self.tape.forward(feed)).reshape(self.X.shape[0], -1)
        else:
            with no_grad():
                outputs = np.array([_relu_outputs(self.layers, row)[1] for row in self.X.tolist()])
        dead = np.all(outputs == 0.0, axis=0)  # one column per ReLU unit
        units = np.array(self.names)
        return {f"dead_relu/{name}": float(np.mean(dead[units == name])) for name in dict.fromkeys(self.names)}


def _relu_outputs(layers: list[Any], row: list[Any]) -> tuple[list[str], list[Any]]:
    """One sample through `layers`: (each ReLU unit's layer name, its output), unit by unit."""
    values = [v if isinstance(v, Value) else Value(v) for v in row]
    names: list[str] = []
    outputs: list[Any] = []
    for layer in layers:
        values = layer(values, training=False)
        if layer.activation == "relu":
            names += [layer.name] * len(values)
            outputs += values if isinstance(row[0], Value) else [v.data for v in values]
    return names, outputs


__all__ = [
    "Callback",
    "DeadReluProbe",
    "EarlyStopping",
    "GradientFlow",
    "History",
    "LearningRateScheduler",
    "WeightRecorder",
    "dead_relu_fractions",
]
