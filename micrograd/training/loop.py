"""The training loop of the course slides, apart from any model class.

    for each epoch, for each batch: forward, loss = mean of the per-sample losses, backward, step

`fit` runs it on a model it knows only through `TrainableModel` (what `Sequential` provides), so
this module imports nothing of `micrograd.nn`. Every batch goes through ONE guarded step
(`train_step`) on one of two engines:
- `ScalarEngine`: one graph of Values per sample, as the slides draw it;
- `TapeEngine`: the model's graph recorded once (`micrograd.engine.tape`, its layers as matrix
  products) and run on the whole batch with NumPy, the weights, gradients and optimizer state in
  arrays for the whole run; a built-in loss runs on the batch too: its graph replayed on a tape (`batch_losses`).
The step stops with `TrainingDivergedError` the moment an output, the loss or a weight is NaN or
infinite, and then leaves the weights and the optimizer as they were before that step; so does any
other exception or a Ctrl-C in the middle of a step.
"""

from __future__ import annotations

import importlib.util
import math
import os
import random
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

import numpy as np

from ..engine import Parameter, Value, no_grad
from .batch_losses import batch_loss
from .callbacks import Callback, History
from .metrics import metric_name


class TrainingDivergedError(ValueError):
    """The loss or the weights became NaN or infinite during `fit`: the learning rate is too large
    (or the start too far off). `in_step`: a step made a weight non-finite (rather than the
    model's output or loss being non-finite before the step)."""

    in_step: bool = False


class TapeProgram(Protocol):
    """A model recorded on a tape, as the model's `record_tape` returns it."""

    head: str | None  # what the last layer runs after the tape: "softmax", "identity", None (its own code)

    def forward(self, rows: np.ndarray, training: bool, parameters: np.ndarray | None = None) -> np.ndarray:
        """The outputs before the per-sample part, shape (samples, outputs); `parameters`: the
        model's parameters as a flat array in `parameters()` order (default: their `.data`)."""

    def after_tape(self, head: list[Value]) -> list[Value]:
        """One sample's outputs from its row of the tape's outputs."""

    def gradients(self, grad_output: np.ndarray) -> np.ndarray:
        """d(loss)/d(each parameter), summed over the batch, from d(loss)/d(each output): a flat
        array in `parameters()` order."""


class TrainableModel(Protocol):
    """What the loop needs of a model (`Sequential` provides it)."""

    loss: Any  # a `Loss`: the model is compiled
    optimizer: Any
    metrics: list
    stop_training: bool

    @property
    def output_size(self) -> int: ...
    @property
    def output_activation(self) -> str | None: ...
    def parameters(self) -> list[Parameter]: ...
    def get_weights(self) -> list[float]: ...
    def set_weights(self, weights: Sequence[float]) -> None: ...
    def forward(self, x: Sequence[float], training: bool) -> list[Value]: ...
    def predict_checked(self, X: np.ndarray) -> np.ndarray: ...


# -- the two engines ------------------------------------------------------------------------------


class ScalarEngine:
    """One graph of Values per sample; the batch's loss is the Value ((l0 + l1) + ...) / n."""

    def __init__(self, model: TrainableModel, X: np.ndarray) -> None:
        self.model, self.X = model, X
        self._loss = Value(0.0)  # the batch's loss, made by `mean`

    def outputs(self, batch: list[int]) -> Iterator[list[Value]]:
        for i in batch:  # one sample's graph at a time, so a NaN stops before the next is built
            yield self.model.forward(self.X[i].tolist(), training=True)

    def forward(self, batch: list[int], targets: list, where: str) -> tuple[np.ndarray, float]:
        """(the batch's outputs, its loss: the mean of the per-sample losses), graphs kept for `step`."""
        losses, rows = per_sample_losses(self.model, self.outputs(batch), batch, targets, where)
        total = losses[0]
        for sample_loss in losses[1:]:
            total = total + sample_loss
        self._loss = total / len(losses)
        return np.array(rows), self._loss.data

    def step(self, where: str) -> None:
        """Backward and the optimizer's step, on the Values, whole or not at all."""
        model, optimizer = self.model, self.model.optimizer
        params = model.parameters()
        before = [p.data for p in params]
        state = optimizer.snapshot()
        try:
            optimizer.zero_grad()
            self._loss.backward()
            optimizer.step()
            for p in params:
                if not math.isfinite(p.data):
                    raise diverged(
                        model, where, f"the step made weight {p.label} {p.data} (gradient {p.grad})", in_step=True
                    )
        except BaseException:
            for p, w in zip(params, before):
                p.data = w
            optimizer.restore(state)
            raise

    def to_model(self) -> None:
        """Nothing to do: the parameters live in the model's Values."""

    def from_model(self) -> None:
        """Nothing to do: the parameters live in the model's Values."""


class TapeEngine:
    """The model on a tape, run on the whole batch, its parameters in arrays for the whole run.

    The weights, their gradients and the optimizer's state are float64 arrays (`theta`, `grad`)
    during `fit`: the tape reads the weights from `theta`, writes the batch's gradients into
    `grad`, and the optimizer updates `theta` in place (`Optimizer.update_arrays`). `to_model`
    writes them into the model's Values (`.data` and `.grad`, the batch-mean gradient, as after
    `loss.backward()`), which `fit` does before any user code runs (callbacks, validation) and
    when it ends or is interrupted; `from_model` reads the Values back (a callback may set
    weights). Each sample's loss (and what the last layer runs after the tape, such as a softmax)
    is built in the scalar engine on leaves holding the tape's outputs; its gradient with respect
    to those outputs is fed back into the tape's backward pass.
    """

    def __init__(self, program: TapeProgram, X: np.ndarray, model: TrainableModel) -> None:
        self.program, self.X, self.model = program, X, model
        self.params = model.parameters()
        self.theta = np.fromiter((p.data for p in self.params), np.float64, len(self.params))
        self.grad = np.fromiter((p.grad for p in self.params), np.float64, len(self.params))
        self._heads: list[list[Value]] = []
        self._grad_output = np.zeros((0, 0))
        head = getattr(program, "head", None)
        self._batch_loss = (
            batch_loss(model.loss, model.output_activation, head == "softmax")
            if head in ("identity", "softmax")
            else None
        )
        self._targets: list | None = None
        self._T = np.zeros(0)

    def outputs(self, batch: list[int]) -> Iterator[list[Value]]:
        scores = self.program.forward(self.X[batch], training=True, parameters=self.theta)
        self._heads = [[Value(v) for v in row] for row in scores.tolist()]
        for head in self._heads:
            yield self.program.after_tape(head)

    def forward(self, batch: list[int], targets: list, where: str) -> tuple[np.ndarray, float]:
        """(the batch's outputs, its loss: the mean of the per-sample losses); d(loss)/d(outputs)
        kept for `step`. A built-in loss runs on the whole batch (`batch_losses`), any other is
        built per sample by the scalar engine on leaves holding the tape's outputs."""
        n = len(batch)
        if self._batch_loss is None:
            losses, rows = per_sample_losses(self.model, self.outputs(batch), batch, targets, where)
            for sample_loss in losses:  # each sample's loss enters the mean with weight 1/n
                (sample_loss / n).backward()
            self._grad_output = np.array([[o.grad for o in head] for head in self._heads])
            total = losses[0].data
            for sample_loss in losses[1:]:
                total = total + sample_loss.data
            return np.array(rows), total / n  # as ScalarEngine's Value graph computes it
        scores = self.program.forward(self.X[batch], training=True, parameters=self.theta)
        finite = np.isfinite(scores).all(axis=1)
        if not finite.all():
            raise diverged(self.model, where, f"the model's output is {scores[int(np.argmin(finite))].tolist()}")
        if self._targets is not targets:
            self._targets, self._T = targets, np.asarray(targets, dtype=np.float64)
        with np.errstate(all="ignore"):  # a loss that overflows is reported as diverged by `train_step`
            P, L, G = self._batch_loss(scores, self._T[batch])
            self._grad_output = G / n
            return P, float(L.sum()) / n

    def step(self, where: str) -> None:
        """Backward and the optimizer's step, on the arrays, whole or not at all."""
        grad_output = self._grad_output
        optimizer = self.model.optimizer
        before = self.theta.copy()
        state = optimizer.snapshot()
        try:
            self.grad = self.program.gradients(grad_output)
            optimizer.update_arrays(self.theta, self.grad)
            finite = np.isfinite(self.theta)
            if not finite.all():
                i = int(np.argmin(finite))
                p = self.params[i]
                raise diverged(
                    self.model,
                    where,
                    f"the step made weight {p.label} {self.theta[i]} (gradient {self.grad[i]})",
                    in_step=True,
                )
        except BaseException:
            self.theta[:] = before
            optimizer.restore(state)
            raise

    def to_model(self) -> None:
        """Write the arrays into the model's Values: `.data` the weights, `.grad` the last gradients."""
        for p, w, g in zip(self.params, self.theta.tolist(), self.grad.tolist()):
            p.data = w
            p.grad = g

    def from_model(self) -> None:
        """Read the weights back from the Values (a callback may have set them)."""
        self.theta = np.fromiter((p.data for p in self.params), np.float64, len(self.params))


Engine = ScalarEngine | TapeEngine


def sample_loss_fn(model: TrainableModel) -> Callable[[list[Value], Any], Value]:
    """The loss of one sample, `loss(prediction, target)`: a single output is passed as a Value."""
    fn = model.loss.for_output(model.output_activation)
    return lambda out, target: fn(out[0] if len(out) == 1 else out, target)


# -- one step -------------------------------------------------------------------------------------


def train_step(
    model: TrainableModel, engine: Engine, targets: list, batch: list[int], outputs: np.ndarray, start: int, where: str
) -> float:
    """One optimizer step on one batch; returns the batch's loss (the mean of its per-sample losses).

    Writes each sample's outputs into `outputs[start + k]`. Raises `TrainingDivergedError` when an
    output, the loss or a weight is not finite, with the weights and the optimizer as they were
    before this step, as after any other exception or a KeyboardInterrupt during it.
    """
    batch_outputs, loss = engine.forward(batch, targets, where)
    outputs[start : start + len(batch)] = batch_outputs
    if not math.isfinite(loss):
        raise diverged(model, where, f"the loss is {loss}")
    # The step is applied whole or not at all: on divergence, and on any exception or Ctrl-C
    # (KeyboardInterrupt) part-way through, the weights AND the optimizer's state (its step count,
    # momenta, running averages) go back to what they were, so an interrupted `fit` leaves a model
    # that saves, evaluates and trains on as if the step had never begun.
    engine.step(where)
    return loss


def per_sample_losses(
    model: TrainableModel, outputs: Iterator[list[Value]], batch: list[int], targets: list, where: str
) -> tuple[list[Value], list[list[float]]]:
    """Each sample's loss as a Value, and its outputs as numbers; stops at the first output that
    is not finite, before building its loss."""
    sample_loss = sample_loss_fn(model)
    losses, rows = [], []
    for i, out in zip(batch, outputs):
        values = [o.data for o in out]
        if not all(math.isfinite(v) for v in values):
            raise diverged(model, where, f"the model's output is {values}")
        rows.append(values)
        losses.append(sample_loss(out, targets[i]))
    return losses, rows


def diverged(model: TrainableModel, where: str, what: str, in_step: bool = False) -> TrainingDivergedError:
    lr = getattr(model.optimizer, "lr", None)
    advice = (
        f"The learning rate {lr:g} is too large for this problem: try a smaller one, e.g. {lr / 10:g}"
        if isinstance(lr, (int, float)) and lr > 0
        else "Try a smaller learning rate"
    )
    error = TrainingDivergedError(f'training diverged at {where}: {what} ("Learning rate: NaN!"). {advice}.')
    error.in_step = in_step
    return error


#: A first loss above this, before any step, is far above where the course's models start (a
#: cross-entropy of 10 classes starts near ln 10 = 2.3): the start, not the rate, may be to blame.
LARGE_FIRST_LOSS = 1e3


def blame_the_start(error: TrainingDivergedError, first_loss: float | None) -> TrainingDivergedError:
    """The divergence error, told when the start itself was far off: diverging on the very first
    batch (no step has been taken, so no learning rate is to blame), or after a first loss already
    above `LARGE_FIRST_LOSS`, when a smaller learning rate usually only diverges later."""
    if first_loss is None and not error.in_step:
        return TrainingDivergedError(
            f"{error} But no step had been taken yet: the model's output or loss was already not finite "
            "on the first batch, so the learning rate is not the cause; look at the initial weights "
            "(kernel_initializer=) and the data."
        )
    if first_loss is not None and first_loss > LARGE_FIRST_LOSS:
        return TrainingDivergedError(
            f"{error} Note that the loss was already {first_loss:.3g} on the first batch, before any step: "
            "if that is far above what this model should start at, the initial weights are too large "
            '(try kernel_initializer="he_normal" for ReLU layers, "glorot_uniform" for sigmoid or tanh), '
            "and a smaller learning rate will not fix the start."
        )
    return error


# -- evaluation -----------------------------------------------------------------------------------


def evaluate(model: TrainableModel, X: np.ndarray, y: np.ndarray, predictions: np.ndarray | None = None) -> list[float]:
    """[loss, metric, ...] on checked data, without dropout: a built-in loss by its graph replayed
    on a tape (`batch_losses`, recorded once per call), any other one sample at a time."""
    targets = model.loss.targets(y)
    if predictions is None:
        predictions = model.predict_checked(X)
    on_batch = batch_loss(model.loss, model.output_activation)
    if on_batch is not None and np.isfinite(predictions).all():  # a built-in loss: its graph on a tape
        losses = on_batch(predictions, np.asarray(targets, dtype=np.float64))[1].tolist()
    else:  # a loss of your own, or outputs its checks must name: one graph per sample
        sample_loss = sample_loss_fn(model)
        with no_grad():
            losses = [sample_loss([Value(v) for v in row], t).data for row, t in zip(predictions.tolist(), targets)]
    return [math.fsum(losses) / len(losses), *(float(m(y, predictions)) for m in model.metrics)]


# -- the loop -------------------------------------------------------------------------------------


def fit(
    model: TrainableModel,
    engine: Engine,
    X: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    shuffle_rng: random.Random | None,
    validation_data: tuple[np.ndarray, np.ndarray] | None,
    callbacks: Sequence[Callback],
    verbose: int,
) -> History:
    """Train `model` on checked data (see `Sequential.fit`, which checks every argument); returns the History.

    `engine` runs the model on the training data `X` (a `ScalarEngine` or a `TapeEngine` over `X`);
    `shuffle_rng` shuffles the samples at each epoch (None: keep their order).
    """
    history = History()
    # History comes last, as in Keras: a callback may add figures to an epoch's logs (GradientFlow does).
    callbacks = [*callbacks, history]
    names = ["loss", *(metric_name(m) for m in model.metrics)]
    log_names = names + ([f"val_{name}" for name in names] if validation_data is not None else [])
    n = X.shape[0]
    n_batches = math.ceil(n / batch_size)
    params = {"epochs": epochs, "steps": n_batches, "batch_size": min(batch_size, n), "log_names": log_names}
    for cb in callbacks:
        cb.set_model(model)
        cb.params = params
    for cb in callbacks:  # EarlyStopping checks its monitor here, before any step
        cb.on_train_begin()

    targets = model.loss.targets(y)
    model.stop_training = False
    # User code (callbacks, validation) sees the model's Values: a tape engine writes its arrays
    # into them before (`to_model`) and reads the weights back after (`from_model`); per batch
    # only when a callback has an `on_batch_end` of its own.
    batch_hooks = any(type(cb).on_batch_end is not Callback.on_batch_end for cb in callbacks)
    try:
        _epochs(
            model,
            engine,
            X,
            y,
            targets,
            epochs,
            batch_size,
            shuffle_rng,
            validation_data,
            callbacks,
            verbose,
            batch_hooks,
        )
    finally:
        engine.to_model()  # also after an exception or Ctrl-C: the weights of the last whole step
    for cb in callbacks:
        cb.on_train_end()
    return history


def _epochs(
    model: TrainableModel,
    engine: Engine,
    X: np.ndarray,
    y: np.ndarray,
    targets: list,
    epochs: int,
    batch_size: int,
    shuffle_rng: random.Random | None,
    validation_data: tuple[np.ndarray, np.ndarray] | None,
    callbacks: list[Callback],
    verbose: int,
    batch_hooks: bool,
) -> None:
    """`fit`'s epochs, up to `on_train_end`."""
    names = ["loss", *(metric_name(m) for m in model.metrics)]
    n = X.shape[0]
    n_batches = math.ceil(n / batch_size)
    first_loss: float | None = None  # the first batch's loss, before any step: how far off the start was
    for epoch in range(epochs):
        engine.to_model()
        for cb in callbacks:
            cb.on_epoch_begin(epoch)
        engine.from_model()
        order = list(range(n))
        if shuffle_rng is not None:
            shuffle_rng.shuffle(order)
        bar = progress_bar(verbose, n_batches, f"Epoch {epoch + 1}/{epochs}")
        outputs = np.empty((n, model.output_size))
        loss_sum = 0.0
        try:
            for b in range(n_batches):
                batch = order[b * batch_size : (b + 1) * batch_size]
                where = f"epoch {epoch + 1}/{epochs}, batch {b + 1}/{n_batches}"
                try:
                    batch_loss = train_step(model, engine, targets, batch, outputs, b * batch_size, where)
                except TrainingDivergedError as error:
                    raise blame_the_start(error, first_loss) from None
                if first_loss is None:
                    first_loss = batch_loss
                loss_sum += batch_loss * len(batch)
                if bar is not None:
                    bar.set_postfix(loss=f"{loss_sum / min(n, (b + 1) * batch_size):.4f}", refresh=False)
                    bar.update(1)
                if batch_hooks:
                    engine.to_model()
                for cb in callbacks:
                    cb.on_batch_end(b, {"loss": batch_loss, "size": len(batch)})
                if batch_hooks:
                    engine.from_model()
            # Like Keras: the epoch's loss and metrics are averages over the epoch's batches,
            # each sample's prediction made with the weights of the moment it was seen.
            logs = {"loss": loss_sum / n}
            y_seen = y[order]
            for metric in model.metrics:
                logs[metric_name(metric)] = float(metric(y_seen, outputs))
            engine.to_model()
            if validation_data is not None:
                for name, value in zip(names, evaluate(model, *validation_data)):
                    logs[f"val_{name}"] = value
            if bar is not None:
                bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()}, refresh=True)
        finally:
            if bar is not None:
                bar.close()
        if verbose == 2:
            print(f"Epoch {epoch + 1}/{epochs} - " + " - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))
        for cb in callbacks:
            cb.on_epoch_end(epoch, logs)
        engine.from_model()
        if model.stop_training:
            break


def progress_bar(verbose: int, total: int, desc: str) -> Any:
    """A tqdm bar (a widget in notebooks, text in terminals), or None when verbose != 1."""
    if verbose != 1:
        return None
    return bar_class()(total=total, desc=desc, unit="batch", leave=True, dynamic_ncols=True)


def bar_class() -> Any:
    """tqdm's widget bar in a Jupyter kernel where ipywidgets imports, else its text bar.

    `tqdm.auto` chooses the same way but warns ("TqdmWarning: IProgress not found") in a kernel
    without ipywidgets, in the middle of a student's training output; here the text bar is used
    silently. tqdm is imported only when a bar is shown.
    """
    from tqdm.std import tqdm as text_bar

    if not in_notebook_kernel() or importlib.util.find_spec("ipywidgets") is None:
        return text_bar
    try:
        from tqdm.notebook import IProgress
        from tqdm.notebook import tqdm as widget_bar
    except ImportError:  # ipywidgets is there but does not import
        return text_bar
    return text_bar if IProgress is None else widget_bar


def in_notebook_kernel() -> bool:
    """Running in a Jupyter kernel that shows widgets (JupyterLab, Notebook, VS Code, Colab), not
    in a terminal, IPython, a qtconsole or Spyder."""
    zmqshell = sys.modules.get("ipykernel.zmqshell")  # imported by every running ipykernel
    ipython = sys.modules.get("IPython")
    if zmqshell is None or ipython is None:
        return False
    if any(name == "QT_API" or name.startswith("SPYDER") for name in os.environ):
        return False  # a qtconsole or Spyder: a kernel too, but one that draws no widgets
    return isinstance(ipython.get_ipython(), zmqshell.ZMQInteractiveShell)


__all__ = ["ScalarEngine", "TapeEngine", "TrainableModel", "TrainingDivergedError", "evaluate", "fit", "train_step"]
