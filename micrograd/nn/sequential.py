"""A Keras-style model: `Sequential([Dense(...), Dropout(...), ...])` with compile, fit, evaluate, predict.

The same program a course writes with Keras runs here, and every number in it is a `Value` a
learner can open: a `Dense` layer is a `micrograd.nn.Layer` (parameters labelled "L1.N0.w2", each
neuron's nodes built inside `scope("L1.N0")`). `Sequential` is the container and the Keras
surface; `fit` runs the loop of `micrograd.training.loop`, and every layer is reached through the
contract of `micrograd.nn.layers.SequentialLayer`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..checks import check_bool, check_choice, check_int, check_number, check_seed
from ..engine import Parameter, Tape, Value, no_grad
from ..training import loop
from ..training.callbacks import Callback, History
from ..training.loop import TrainingDivergedError
from ..training.losses import Loss, as_loss
from ..training.metrics import get_metric, metric_name
from ..training.optim import get_optimizer
from .dense import DENSE_ACTIVATIONS, Dense
from .dropout import Dropout
from .layers import SequentialLayer, layer_type_names
from .mlp import Module, Seed, rng_from_seed
from .model_file import save_model

ArrayLike = np.ndarray | Sequence

_VERBOSE = {0: "silent", 1: "progress bar", 2: "one line per epoch"}
_ENGINES = ("auto", "tape", "scalar")


class Sequential(Module):
    """Layers applied one after the other; `compile` then `fit`, as in Keras.

    `seed` makes the initial weights, dropout masks and shuffling reproducible; without it they
    come from the generator that `micrograd.nn.manual_seed` restarts.
    """

    def __init__(self, layers: Sequence[SequentialLayer] = (), input_dim: int | None = None, seed: Seed = None) -> None:
        self.layers: list[SequentialLayer] = []
        self.input_dim = None if input_dim is None else check_int("", "input_dim", input_dim)
        self._rng = rng_from_seed(seed)
        self.loss: Loss | None = None  # the loss and what it needs, set by compile
        self.optimizer: Any = None
        self.metrics: list = []
        self.stop_training = False  # a callback sets this to end `fit` after the current epoch
        self._program: _TapeProgram | None = None  # the model on a tape, recorded once (`record_tape`)
        for layer in layers:
            self.add(layer)

    # -- building -------------------------------------------------------------------------------

    def add(self, layer: SequentialLayer) -> None:
        """Append a layer (Keras' `model.add(Dense(64, activation="relu", input_dim=50))`)."""
        if not isinstance(layer, SequentialLayer):
            raise TypeError(f"Sequential takes {layer_type_names()} layers, got {type(layer).__name__}: {layer!r:.60}")
        if layer.name:
            raise ValueError(f"layer {layer!r} already belongs to a model: make a new layer for each model")
        if self.optimizer is not None:
            raise ValueError("the model is already compiled: add every layer before compile()")
        size = self._output_sizes()[-1]  # what this layer reads (None while the input size is unknown)
        given = layer.input_dim
        if given is not None:
            if size is None and self.layers:
                raise ValueError(f"input_dim belongs on the first layer (or on Sequential), not on {layer!r}")
            if size is not None and given != size:
                raise ValueError(f"{layer!r} was given input_dim={given}, but its input has size {size}")
            self.input_dim = size = given if size is None else size
        number = 1 + sum(type(other) is type(layer) for other in self.layers)
        layer.name = f"{layer.name_prefix}{number}"
        self.layers.append(layer)
        if self.input_dim is not None and size is not None:  # else `build` makes the weights later
            layer.build(size, self._rng)

    @property
    def built(self) -> bool:
        """True once the input size is known and every layer has its weights."""
        return self.input_dim is not None

    def build(self, input_dim: int) -> None:
        """Make the weights for inputs of size `input_dim` (`fit`, `evaluate` and `predict` call this)."""
        if self.built:
            if input_dim != self.input_dim:
                raise ValueError(f"the model takes {self.input_dim} inputs, got {input_dim}")
            return
        self.input_dim = check_int("", "input_dim", input_dim)
        sizes = self._known_sizes()
        for layer, nin in zip(self.layers, sizes):
            layer.build(nin, self._rng)
        if self.optimizer is not None:
            self.optimizer.bind(self.parameters())

    def _known_sizes(self) -> list[int]:
        """`_output_sizes()` of a model whose input size is known: every size is a number."""
        sizes = self._output_sizes()
        known = [size for size in sizes if size is not None]
        if len(known) != len(sizes):
            raise ValueError("the model's sizes are unknown until its input size is (give input_dim=...)")
        return known

    def _output_sizes(self) -> list[int | None]:
        """[input size, output size of layer 1, of layer 2, ...]; None where not yet known."""
        sizes = [self.input_dim]
        for layer in self.layers:
            sizes.append(layer.output_size(sizes[-1]))
        return sizes

    @property
    def output_size(self) -> int:
        """The number of outputs per sample (known before the model is built when a layer sets it)."""
        for layer in reversed(self.layers):
            size = layer.output_size(None)
            if size is not None:
                return size
        if self.input_dim is None:
            raise ValueError("the model's output size is unknown until its input size is (give input_dim=...)")
        return self.input_dim

    @property
    def output_activation(self) -> str | None:
        """The activation that makes the model's outputs (None: no layer has one, the outputs are the inputs')."""
        last = self._last_activated_layer()
        return last.activation if last is not None else None

    def _last_activated_layer(self) -> SequentialLayer | None:
        return next((layer for layer in reversed(self.layers) if layer.activation is not None), None)

    def require_built(self, what: str) -> None:
        """Raise a ValueError naming `what` unless the model has layers and knows its input size."""
        if not self.built:
            raise ValueError(
                f"{what}: the model does not know its input size yet; give input_dim= to Sequential "
                "or to the first Dense, or call fit first"
            )
        if not self.layers:
            raise ValueError(f"{what}: the model has no layers")

    # -- the model as a function ----------------------------------------------------------------

    def __call__(self, x: Sequence[Value | float], training: bool = False) -> Value | list[Value]:
        """The output for one sample: a Value when the last layer has one unit, else a list."""
        out = self.forward(x, training)
        return out[0] if len(out) == 1 else out

    def forward(self, x: Sequence[Value | float], training: bool = False) -> list[Value]:
        """The outputs for one sample, as a list of Values (the scalar engine of `fit`)."""
        self.require_built("calling the model")
        if len(x) != self.input_dim:
            raise ValueError(f"the model takes {self.input_dim} inputs, got {len(x)}")
        # Each input becomes one labelled leaf, shared by every neuron of the first layer.
        values = [xi if isinstance(xi, Value) else Value(xi, f"x{j}") for j, xi in enumerate(x)]
        for layer in self.layers:
            values = layer(values, training)
        return values

    def parameters(self) -> list[Parameter]:
        return [p for layer in self.layers for p in layer.parameters()]

    def get_weights(self) -> list[float]:
        """Every parameter's value, in `parameters()` order."""
        return [p.data for p in self.parameters()]

    def set_weights(self, weights: Sequence[float]) -> None:
        """Set every parameter from a list like `get_weights()` returns (all or nothing)."""
        params = self.parameters()
        weights = list(weights)
        if len(weights) != len(params):
            raise ValueError(f"set_weights: the model has {len(params)} parameters, got {len(weights)} weights")
        for i, w in enumerate(weights):
            if isinstance(w, bool) or not isinstance(w, (int, float, np.floating, np.integer)) or not math.isfinite(w):
                raise ValueError(f"set_weights: weight {i} ({params[i].label}) must be a finite number, got {w!r:.60}")
        for p, w in zip(params, weights):
            p.data = float(w)

    # -- the model on a tape --------------------------------------------------------------------

    def tape_fits(self) -> bool:
        """True when the model's graph is the same for every sample (see `SequentialLayer.fits_tape`)."""
        return all(layer.fits_tape(layer is self.layers[-1]) for layer in self.layers)

    def record_tape(self, X: np.ndarray) -> _TapeProgram:
        """The model recorded on a tape: once per model (kept for the next `fit`, `predict`), its
        parameters and structure fixed once built. A model whose graph may depend on the data
        (`tape_fits()` False, put on the tape by `engine="tape"`) is recorded on two samples,
        checked to be the same, and not kept."""
        fits = self.tape_fits()
        if fits and self._program is not None:
            return self._program
        program = _TapeProgram(self, X[0])
        if not fits and X.shape[0] > 1:
            program.tape.check_same_structure(_TapeProgram(self, X[1]).tape, "the graphs of samples 0 and 1")
        if fits:
            self._program = program
        return program

    # -- summary --------------------------------------------------------------------------------

    def summary(self, print_fn: Any = print) -> None:
        """Print a Keras-style table: each layer, its activation, output shape and parameter count."""
        self.require_built("summary")
        sizes = self._known_sizes()
        header = ("Layer (type)", "Activation", "Output Shape", "Param #")
        rows = []
        n_weights = n_biases = 0
        for layer, nin, nout in zip(self.layers, sizes, sizes[1:]):
            weights, biases = layer.count_params(nin)
            n_weights, n_biases = n_weights + weights, n_biases + biases
            kind = f"{layer.name} ({type(layer).__name__})"
            rows.append((kind, layer.activation or "", f"(None, {nout})", str(weights + biases)))
        widths = [max(len(r[i]) for r in [header, *rows]) + 4 for i in range(4)]

        def line(cells: tuple[str, ...]) -> str:
            return "".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

        total = sum(widths)
        text = [f'Model: "sequential" (input_dim={self.input_dim})', "_" * total, line(header), "=" * total]
        text += [line(r) for r in rows]
        text += [
            "=" * total,
            f"Total params: {n_weights + n_biases} (weights: {n_weights}, biases: {n_biases})",
            "_" * total,
        ]
        print_fn("\n".join(text))

    # -- compile --------------------------------------------------------------------------------

    def compile(self, loss: Any, optimizer: Any = "rmsprop", metrics: Sequence[Any] | None = None) -> None:
        """Choose the loss, the optimizer and the metrics (Keras names or objects).

        An optimizer made without parameters (`Adam(lr=0.05)`) is bound to this model's here.
        A loss is called as `loss(prediction, target)` per sample. As in Keras,
        "sparse_categorical_crossentropy" reads a softmax layer's outputs as probabilities (any
        other last layer's as logits), and the probability losses need a sigmoid/softmax last layer
        (what each loss needs is its `micrograd.training.losses.Loss` record).
        """
        loss_record = as_loss(loss)
        if metrics is None:
            metrics = []
        if isinstance(metrics, str) or not isinstance(metrics, (list, tuple)):
            raise TypeError(f"metrics must be a list such as ['accuracy'], got {metrics!r:.60}")
        metric_fns = [get_metric(m) for m in metrics]
        names = [metric_name(m) for m in metric_fns]
        if len(set(names)) != len(names) or "loss" in names:
            raise ValueError(f"metrics must have distinct names other than 'loss', got {names}")
        opt = get_optimizer(optimizer)
        if self.built:
            opt.bind(self.parameters())
        self.loss = loss_record
        self.metrics = metric_fns
        self.optimizer = opt

    @property
    def metrics_names(self) -> list[str]:
        """ "loss" and the metric names, in the order `evaluate` returns them."""
        return ["loss", *(metric_name(m) for m in self.metrics)]

    # -- checking data --------------------------------------------------------------------------

    def _check_X(self, X: ArrayLike, what: str = "X") -> np.ndarray:
        if not self.layers:
            raise ValueError("the model has no layers")
        X = _as_floats(X, what, "an array of numbers of shape (samples, features)")
        if X.ndim != 2:
            hint = "; for one feature use X.reshape(-1, 1)" if X.ndim == 1 else ""
            raise ValueError(f"{what} must be 2-D (samples, features), got shape {X.shape}{hint}")
        if X.shape[0] == 0:
            raise ValueError(f"{what} has no samples")
        if not np.all(np.isfinite(X)):
            row = int(np.argwhere(~np.isfinite(X))[0][0])
            raise ValueError(f"{what} holds a NaN or infinite value (row {row}: {X[row].tolist()})")
        expected = self.input_dim if self.built else self.layers[0].input_dim
        if expected is not None and X.shape[1] != expected:
            raise ValueError(f"{what} has {X.shape[1]} features per sample, but the model takes {expected}")
        return X

    def _check_y(self, y: ArrayLike, n: int, what: str = "y") -> np.ndarray:
        """Check `y` against the model's outputs and the loss; return it as (n,) or (n, outputs)."""
        y = _as_floats(y, what, "an array of numbers")
        if y.ndim not in (1, 2) or y.shape[0] != n:
            raise ValueError(f"{what} must have shape ({n},) or ({n}, outputs) to match X, got {y.shape}")
        if not np.all(np.isfinite(y)):
            raise ValueError(f"{what} holds a NaN or infinite value")
        return self._compiled_loss("checking targets").check_targets(y, self.output_size, what)

    def _compiled_loss(self, what: str) -> Loss:
        if self.loss is None:
            raise RuntimeError(f"compile the model before {what}: model.compile(loss=..., optimizer=...)")
        return self.loss

    def _check_loss_fits_model(self) -> None:
        """A loss on probabilities needs a last layer that outputs probabilities (checked before training)."""
        last = self._last_activated_layer()
        loss = self._compiled_loss("checking the loss")
        loss.check_model_output(self.output_activation, type(last).__name__ if last is not None else "Dense")

    def _check_batch_size(self, batch_size: int | None) -> int | None:
        return None if batch_size is None else check_int("", "batch_size", batch_size)

    # -- training -------------------------------------------------------------------------------

    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        epochs: int = 1,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        validation_split: float = 0.0,
        validation_data: tuple[ArrayLike, ArrayLike] | None = None,
        callbacks: Sequence[Callback] | None = None,
        verbose: int = 1,
        engine: str = "auto",
    ) -> History:
        """Train for `epochs` passes over the data, one optimizer step per batch of `batch_size` samples.

        batch_size=1 is stochastic gradient descent, batch_size >= len(X) batch gradient descent,
        anything between mini-batch (200 samples in batches of 5: 40 updates per epoch). The loss
        of a batch is the mean of its per-sample losses. `validation_split` holds out the LAST
        fraction of the samples (before shuffling), as Keras does. Returns the `History`.

        `engine`: "scalar" builds one graph of Values per sample, as the course slides do;
        "tape" records the model's graph once (`micrograd.engine.tape.Tape`), runs each layer as a
        matrix product on the whole batch, and keeps the weights, gradients and optimizer state
        in NumPy arrays during the run (the model's Values get them before every callback and
        when fit ends or is interrupted); a built-in loss is computed on the whole batch too, a
        loss of your own per sample by the scalar engine. The numbers agree with the scalar
        engine's to rounding (1e-12 per step; a matrix product adds in another order), no longer
        bit for bit. "auto" (the default) takes the
        tape whenever the model's graph cannot depend on the data: every model except one with
        a softmax Dense layer before its last layer (softmax subtracts the largest score, a
        constant taken from the data). The loop itself is `micrograd.training.loop.fit`.
        """
        check_choice("", "engine", engine, _ENGINES, names=False)
        if self.optimizer is None:
            raise RuntimeError("compile the model before fit: model.compile(loss=..., optimizer=...)")
        epochs = check_int("", "epochs", epochs)
        batch_size = check_int("", "batch_size", batch_size)
        check_choice("", "verbose", verbose, _VERBOSE, notes=_VERBOSE)
        check_bool("", "shuffle", shuffle)
        seed = check_seed("", seed, allow_none=True)
        self._check_loss_fits_model()
        X = self._check_X(X)
        y = self._check_y(y, X.shape[0])
        check_number("", "validation_split", validation_split, 0.0, 1.0, high_open=True)
        if validation_data is not None and validation_split:
            raise ValueError("give validation_data or validation_split, not both")
        if validation_split:
            split_at = math.floor(X.shape[0] * (1.0 - validation_split))  # Keras: the last samples
            if split_at < 1 or split_at >= X.shape[0]:
                empty = "no training samples" if split_at < 1 else "no validation samples"
                raise ValueError(f"validation_split={validation_split} of {X.shape[0]} samples leaves {empty}")
            validation_data = (X[split_at:], y[split_at:])
            X, y = X[:split_at], y[:split_at]
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)):
                raise TypeError(f"validation_data must be a pair (X_val, y_val), got {type(validation_data).__name__}")
            if len(validation_data) != 2:
                raise ValueError("validation_data must be a pair (X_val, y_val)")
            X_val = self._check_X(validation_data[0], "validation X")
            if X_val.shape[1] != X.shape[1]:
                raise ValueError(f"validation X has {X_val.shape[1]} features per sample, but X has {X.shape[1]}")
            validation_data = (X_val, self._check_y(validation_data[1], X_val.shape[0], "validation y"))
        callbacks = list(callbacks or [])
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be Callback objects, got {type(cb).__name__}: {cb!r:.60}")

        self.build(X.shape[1])
        use_tape = engine == "tape" or (engine == "auto" and self.tape_fits())
        runner = loop.TapeEngine(self.record_tape(X), X, self) if use_tape else loop.ScalarEngine(self, X)
        order_rng = random.Random(seed if seed is not None else self._rng.getrandbits(64))  # drawn even unshuffled
        return loop.fit(
            self,
            runner,
            X,
            y,
            epochs=epochs,
            batch_size=batch_size,
            shuffle_rng=order_rng if shuffle else None,
            validation_data=validation_data,
            callbacks=callbacks,
            verbose=verbose,
        )

    # -- evaluation -----------------------------------------------------------------------------

    def evaluate(
        self,
        X: ArrayLike,
        y: ArrayLike,
        batch_size: int | None = None,
        verbose: int = 0,
        return_dict: bool = False,
    ) -> float | list[float] | dict[str, float]:
        """The mean loss on (X, y), and the metrics: a float without metrics, else [loss, metric, ...].

        Keras's arguments: `batch_size` only splits the work into chunks (the figures are the same);
        `verbose` 1 shows a progress bar over the chunks (0, the default here, is silent).
        """
        self._compiled_loss("evaluate")
        batch_size = self._check_batch_size(batch_size)
        check_choice("", "verbose", verbose, _VERBOSE, notes=_VERBOSE)
        check_bool("", "return_dict", return_dict)
        self._check_loss_fits_model()
        X = self._check_X(X)
        y = self._check_y(y, X.shape[0])
        self.build(X.shape[1])
        predictions = self._predict_in_chunks(X, batch_size, verbose, "evaluate")
        figures = loop.evaluate(self, X, y, predictions)
        if verbose == 2:
            print(" - ".join(f"{k}: {v:.4f}" for k, v in zip(self.metrics_names, figures)))
        if return_dict:
            return dict(zip(self.metrics_names, figures))
        return figures[0] if len(figures) == 1 else figures

    def predict(self, X: ArrayLike, batch_size: int | None = None, verbose: int = 0) -> np.ndarray:
        """The outputs for each sample, shape (samples, outputs), without dropout.

        Keras's arguments: `batch_size` only splits the work into chunks (the outputs are the same);
        `verbose` 1 shows a progress bar over the chunks (0, the default here, is silent).
        """
        batch_size = self._check_batch_size(batch_size)
        check_choice("", "verbose", verbose, _VERBOSE, notes=_VERBOSE)
        X = self._check_X(X)
        self.build(X.shape[1])
        return self._predict_in_chunks(X, batch_size, verbose, "predict")

    def _predict_in_chunks(self, X: np.ndarray, batch_size: int | None, verbose: int, desc: str) -> np.ndarray:
        size = X.shape[0] if batch_size is None else batch_size
        starts = range(0, X.shape[0], size)
        bar = loop.progress_bar(verbose, len(starts), desc)
        try:
            parts = []
            for start in starts:
                parts.append(self.predict_checked(X[start : start + size]))
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def predict_checked(self, X: np.ndarray) -> np.ndarray:
        """The outputs for checked data, without dropout: on a tape where `fit` would use one (the
        scalar engine's numbers to rounding, in a fraction of the time), else sample by sample on
        the scalar engine without building a graph."""
        if not self.tape_fits():
            with no_grad():
                return np.array([[o.data for o in self.forward(row, training=False)] for row in X.tolist()])
        program = self.record_tape(X)
        scores = program.forward(X, training=False)
        with no_grad():  # as in fit: the last layer's per-sample part, after the tape
            return np.array([[p.data for p in program.after_tape([Value(v) for v in row])] for row in scores.tolist()])

    # -- PyTorch --------------------------------------------------------------------------------

    def to_torch(self, dtype: Any = None) -> Any:
        """A `torch.nn.Sequential` with these weights whose outputs are `predict`'s (float64 unless
        `dtype` says otherwise): a Dense is a `torch.nn.Linear` and its activation's module, a
        Dropout a `torch.nn.Dropout`. Needs PyTorch (`pip install "micrograd-lab[torch]"`)."""
        from .torch_export import to_torch

        return to_torch(self, dtype)

    @classmethod
    def from_torch(cls, module: Any, seed: Seed = None) -> Sequential:
        """The model of a `torch.nn.Sequential` of Linear, activation (each right after its Linear),
        Dropout and Identity modules, with its weights. `seed` is as in `Sequential` (dropout masks).

        Raises TypeError or ValueError naming the first module micrograd cannot represent."""
        from .torch_export import read_torch_sequential

        return cls._from_specs(*read_torch_sequential(module), seed=seed)

    @classmethod
    def _from_specs(cls, input_dim: int, specs: list[Any], seed: Seed) -> Sequential:
        """A model of layer specs read from another library, with their weights."""
        from .layer_specs import DenseSpec

        layers: list[SequentialLayer] = [
            Dense(spec.units, spec.activation) if isinstance(spec, DenseSpec) else Dropout(spec.rate) for spec in specs
        ]
        model = cls(layers, input_dim=input_dim, seed=seed)
        weights: list[float] = []
        for spec in specs:
            if isinstance(spec, DenseSpec):
                for row, bias in zip(spec.weights, spec.biases):
                    weights += [*row, bias]  # a neuron's weights, then its bias: parameters() order
        model.set_weights(weights)
        return model

    # -- Keras ----------------------------------------------------------------------------------

    def to_keras(self) -> Any:
        """A `keras.Sequential` (float64, Keras 3 on PyTorch) with these weights whose outputs are
        `predict`'s: a Dense is a `keras.layers.Dense` (kernel: the neurons' weights transposed), a
        Dropout a `keras.layers.Dropout`. A compiled model's loss and optimizer are carried over when
        Keras has them; not multiclass_hinge, a loss of your own, SGD/Adam/Adagrad/RMSprop's
        weight_decay, SGD's dampening or Adagrad's lr_decay (then a warning, and the Keras model is
        not compiled), nor the metrics. Keras multiplies float64 matrices in float32, so outputs
        agree with `predict`'s to about 1e-7.
        Needs Keras (`pip install "micrograd-lab[keras]"`); see `micrograd.nn.keras_export`."""
        from .keras_export import to_keras

        return to_keras(self)

    @classmethod
    def from_keras(cls, model: Any, seed: Seed = None) -> Sequential:
        """The model of a `keras.Sequential` of Dense, activation layers (each right after a Dense
        without activation) and Dropout, with its weights (not its loss or optimizer). `seed` is as
        in `Sequential`. Raises TypeError or ValueError naming the first layer micrograd cannot represent."""
        from .keras_export import read_keras_sequential

        return cls._from_specs(*read_keras_sequential(model), seed=seed)

    # -- saving ---------------------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """The architecture, without weights: what a model file writes as "architecture"."""
        return {"input_dim": self.input_dim, "layers": [layer.get_config() for layer in self.layers]}

    def save(self, path: str) -> None:
        """Write architecture and weights to a JSON file (see `micrograd.nn.saving`)."""
        save_model(self, path)

    # -- pickling -------------------------------------------------------------------------------
    # A model made without `seed=` draws from Python's global `random` (a module, which pickle
    # refuses): it is pickled as "the global generator" and comes back drawing from it again.

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if state.get("_rng") is random:
            state["_rng"] = None
        state["_program"] = None  # recorded again when needed
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("_program", None)
        if self._rng is None:
            self._rng = random

    def __repr__(self) -> str:
        inside = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inside}], input_dim={self.input_dim})"


class _TapeProgram:
    """The model recorded on a tape for `fit` and `predict` (`micrograd.training.loop.TapeProgram`).

    The tape holds everything up to the model's outputs, except what the last layer leaves for
    after the tape (a softmax, which branches on the data: its max), run per sample with the loss.
    Each layer may add input leaves (dropout masks), fed afresh at every step.
    """

    def __init__(self, model: Sequential, row: np.ndarray) -> None:
        self.xs = [Value(float(v), f"x{j}") for j, v in enumerate(row)]
        values: list[Value] = self.xs
        self.leaves: list[tuple[SequentialLayer, list[Value]]] = []
        last = model.layers[-1]
        for layer in model.layers:
            values, leaves = layer.record(values, layer is last)
            if leaves:
                self.leaves.append((layer, leaves))
        self.last = last
        # What the last layer does after the tape, for a loss computed on the whole batch:
        # "softmax", "identity", or None (a layer's own `after_tape`: run per sample).
        self.head: str | None = (
            "softmax"
            if isinstance(last, Dense) and last.activation == "softmax"
            else "identity"
            if isinstance(last, Dense) or type(last).after_tape is SequentialLayer.after_tape
            else None
        )
        inputs = self.xs + [leaf for _, leaves in self.leaves for leaf in leaves]
        self.tape = Tape.record(values, inputs=inputs, parameters=model.parameters())

    def forward(self, rows: np.ndarray, training: bool, parameters: np.ndarray | None = None) -> np.ndarray:
        feed = rows
        if self.leaves:  # the model's inputs, then each layer's leaves (dropout masks): one column each
            columns = [rows]
            for layer, leaves in self.leaves:
                fed = layer.feed(leaves, rows.shape[0], training)
                columns.append(np.column_stack([np.broadcast_to(fed[leaf], rows.shape[0]) for leaf in leaves]))
            feed = np.hstack(columns)
        return np.asarray(self.tape.forward(feed, parameters), dtype=np.float64).reshape(rows.shape[0], -1)

    def after_tape(self, head: list[Value]) -> list[Value]:
        return self.last.after_tape(head)

    def gradients(self, grad_output: np.ndarray) -> np.ndarray:
        return self.tape.parameter_gradients(reduce="sum", grad_output=grad_output)


__all__ = ["DENSE_ACTIVATIONS", "Dense", "Dropout", "Sequential", "TrainingDivergedError"]


def _as_floats(values: ArrayLike, what: str, shape: str) -> np.ndarray:
    """`values` as float64, refusing what the conversion would change or fail on with a raw
    error: complex numbers (numpy drops the imaginary part with only a warning) and integers
    beyond the float range (10**400 raises OverflowError)."""
    try:
        raw = np.asarray(values)
        complex_values = np.iscomplexobj(raw)
        converted = None if complex_values else raw.astype(np.float64)
    except OverflowError:
        raise ValueError(f"{what} holds a number too large for floating point (beyond ±1.8e308)") from None
    except (TypeError, ValueError) as err:
        raise ValueError(f"{what} must be {shape}: {err}") from None
    if converted is None:
        raise ValueError(f"{what} holds complex numbers; give real numbers")
    return converted
