"""A Keras-style model: `Sequential([Dense(...), Dropout(...), ...])` with compile, fit, evaluate, predict.

The same program a course writes with Keras runs here, and every number in it is a `Value` a
learner can open: a `Dense` layer is a `micrograd.nn.Layer` (parameters labelled "L1.N0.w2", each
neuron's nodes built inside `scope("L1.N0")`), and `fit` is the loop of the course slides:
for each epoch, for each batch, forward, loss = mean of the per-sample losses, backward, one
optimizer step.
"""

from __future__ import annotations

import math
import random
from typing import Any, NamedTuple, Sequence, Union

import numpy as np

from ..engine import Parameter, Tape, Value, no_grad, scope
from ..training.callbacks import Callback, History
from ..training.losses import LOSSES, categorical_cross_entropy, get_loss, softmax
from ..training.metrics import get_metric, metric_name
from ..training.optim import get_optimizer
from .mlp import ACTIVATIONS, INITS, Layer, Module, Seed, _check_size, _rng

#: Activations a `Dense` layer accepts: those of a neuron, plus "softmax" over the whole layer.
DENSE_ACTIVATIONS = (*ACTIVATIONS, "softmax")

# Losses whose target is a class index (an int per sample) rather than numbers per output.
_INDEX_LOSSES = ("sparse_categorical_crossentropy", "multiclass_hinge")
# Losses that read the model's outputs as probabilities, so the last layer must produce them.
_PROBABILITY_LOSSES = {
    "binary_crossentropy": ("sigmoid",),
    "categorical_crossentropy": ("softmax", "sigmoid"),
    "kl_divergence": ("softmax", "sigmoid"),
}

ArrayLike = Union[np.ndarray, Sequence]


class TrainingDivergedError(ValueError):
    """The loss or the weights became NaN or infinite during `fit`: the learning rate is too large."""


def _check_int(what: str, n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{what} must be a positive int, got {n!r:.60}")
    return int(n)


class Dense(Module):
    """A fully connected layer: `units` neurons, each reading every output of the previous layer.

    Its input size comes from the previous layer, from `Sequential(..., input_dim=)`, or from
    `input_dim` here (first layer only), as in Keras. "softmax" turns the layer's outputs into
    probabilities that sum to 1; every other activation applies to each neuron on its own.
    """

    def __init__(
        self, units: int, activation: str = "linear", init: str = "uniform", input_dim: int | None = None
    ) -> None:
        self.units = _check_size("units", units)
        if activation not in DENSE_ACTIVATIONS:
            raise ValueError(f"Dense: unknown activation {activation!r:.60}; choose one of: {', '.join(DENSE_ACTIVATIONS)}")
        if init not in INITS:
            raise ValueError(f"Dense: unknown init {init!r:.60}; choose one of: {', '.join(INITS)}")
        if activation == "softmax" and self.units == 1:
            raise ValueError("Dense: softmax over 1 unit always outputs 1; for one output use activation='sigmoid'")
        self.activation = activation
        self.init = init
        self.input_dim = None if input_dim is None else _check_size("input_dim", input_dim)
        self.name = ""  # "L1", "L2", ... given by the model, counting Dense layers from 1
        self.layer: Layer | None = None  # the neurons, made by `build` once the input size is known

    def build(self, nin: int, rng: random.Random) -> None:
        neuron_activation = "linear" if self.activation == "softmax" else self.activation
        self.layer = Layer(nin, self.units, neuron_activation, init=self.init, seed=rng, name=self.name)

    def output_size(self, nin: int | None) -> int:
        return self.units

    def count_params(self, nin: int) -> tuple[int, int]:
        """(weights, biases): nin × units weights and one bias per neuron."""
        return nin * self.units, self.units

    def __call__(self, x: Sequence[Value], training: bool = False) -> list[Value]:
        out = self.layer(x)
        if self.activation == "softmax":
            with scope(self.name):
                out = softmax(out)
        return out

    def parameters(self) -> list[Parameter]:
        return self.layer.parameters() if self.layer is not None else []

    def get_config(self) -> dict[str, Any]:
        return {"type": "Dense", "units": self.units, "activation": self.activation, "init": self.init}

    def __repr__(self) -> str:
        return f"Dense({self.units}, activation={self.activation!r})"


class Dropout(Module):
    """During `fit`, set each input to 0 with probability `rate` and scale the rest by 1/(1 - rate).

    Scaling the kept inputs ("inverted dropout", as in Keras) keeps their expected sum, so nothing
    changes when dropout is off: in `evaluate` and `predict` the layer passes its input through.
    Without `seed`, the layer's random generator is seeded from the model's.
    """

    def __init__(self, rate: float, seed: int | None = None) -> None:
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout: rate must be a number in [0, 1), got {rate!r:.60}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"Dropout: seed must be an int or None, got {seed!r:.60}")
        self.rate = float(rate)
        self.seed = seed
        self.name = ""  # "D1", "D2", ... given by the model
        self.rng: random.Random | None = None

    def build(self, nin: int, rng: random.Random) -> None:
        self.rng = random.Random(self.seed if self.seed is not None else rng.getrandbits(64))

    def output_size(self, nin: int | None) -> int | None:
        return nin

    def count_params(self, nin: int) -> tuple[int, int]:
        return 0, 0

    def __call__(self, x: Sequence[Value], training: bool = False) -> list[Value]:
        if not training or self.rate == 0.0:
            return list(x)
        with scope(self.name):
            return [xi * m for xi, m in zip(x, self.draw_mask(len(x)))]

    def draw_mask(self, n: int) -> list[float]:
        """The multipliers for one sample's n inputs: 0 (dropped) or 1/(1 - rate) (kept).

        The one place dropout draws random numbers: one per input, in order, from the layer's
        generator. The scalar engine draws one sample's mask as it builds that sample's graph; the
        tape draws the batch's masks sample after sample: the same numbers either way.
        """
        scale = 1.0 / (1.0 - self.rate)
        return [0.0 if self.rng.random() < self.rate else scale for _ in range(n)]

    def get_config(self) -> dict[str, Any]:
        return {"type": "Dropout", "rate": self.rate, "seed": self.seed}

    def __repr__(self) -> str:
        return f"Dropout({self.rate})"


LayerType = Union[Dense, Dropout]


class Sequential(Module):
    """Layers applied one after the other; `compile` then `fit`, as in Keras.

    `seed` makes the initial weights, dropout masks and shuffling reproducible; without it they
    come from the generator that `micrograd.nn.manual_seed` restarts.
    """

    def __init__(self, layers: Sequence[LayerType] = (), input_dim: int | None = None, seed: Seed = None) -> None:
        self.layers: list[LayerType] = []
        self.input_dim = None if input_dim is None else _check_size("input_dim", input_dim)
        self._rng = _rng(seed)
        self.loss = None  # the per-sample loss function, set by compile
        self.loss_name: str | None = None  # its Keras name when it is one of micrograd.training.losses.LOSSES
        self.optimizer = None
        self.metrics: list = []
        self.stop_training = False  # a callback sets this to end `fit` after the current epoch
        for layer in layers:
            self.add(layer)

    # -- building -------------------------------------------------------------------------------

    def add(self, layer: LayerType) -> None:
        """Append a layer (Keras' `model.add(Dense(64, activation="relu", input_dim=50))`)."""
        if not isinstance(layer, (Dense, Dropout)):
            raise ValueError(f"Sequential takes Dense and Dropout layers, got {type(layer).__name__}: {layer!r:.60}")
        if layer.name:
            raise ValueError(f"layer {layer!r} already belongs to a model: make a new layer for each model")
        if self.optimizer is not None:
            raise ValueError("the model is already compiled: add every layer before compile()")
        size = self._output_sizes()[-1]  # what this layer reads (None while the input size is unknown)
        given = getattr(layer, "input_dim", None)
        if given is not None:
            if size is None and self.layers:
                raise ValueError(f"input_dim belongs on the first layer (or on Sequential), not on {layer!r}")
            if size is not None and given != size:
                raise ValueError(f"{layer!r} was given input_dim={given}, but its input has size {size}")
            self.input_dim = size = given if size is None else size
        kind = type(layer)
        number = 1 + sum(type(other) is kind for other in self.layers)
        layer.name = f"L{number}" if kind is Dense else f"D{number}"
        self.layers.append(layer)
        if self.input_dim is not None:  # else `build` makes the weights once the input size is known
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
        self.input_dim = _check_size("input_dim", input_dim)
        sizes = self._output_sizes()
        for layer, nin in zip(self.layers, sizes):
            layer.build(nin, self._rng)
        if self.optimizer is not None:
            self.optimizer.bind(self.parameters())

    def _output_sizes(self) -> list[int | None]:
        """[input size, output size of layer 1, of layer 2, ...]; None where not yet known."""
        sizes = [self.input_dim]
        for layer in self.layers:
            sizes.append(layer.output_size(sizes[-1]))
        return sizes

    @property
    def output_size(self) -> int:
        """The number of outputs per sample (known before the model is built, when it ends with a Dense)."""
        for layer in reversed(self.layers):
            if isinstance(layer, Dense):
                return layer.units
        if self.input_dim is None:
            raise ValueError("the model's output size is unknown until its input size is (give input_dim=...)")
        return self.input_dim

    def _require_built(self, what: str) -> None:
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
        out = self._forward(x, training)
        return out[0] if len(out) == 1 else out

    def _forward(self, x: Sequence[Value | float], training: bool) -> list[Value]:
        self._require_built("calling the model")
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

    # -- summary --------------------------------------------------------------------------------

    def summary(self, print_fn: Any = print) -> None:
        """Print a Keras-style table: each layer, its activation, output shape and parameter count."""
        self._require_built("summary")
        sizes = self._output_sizes()
        header = ("Layer (type)", "Activation", "Output Shape", "Param #")
        rows = []
        n_weights = n_biases = 0
        for layer, nin, nout in zip(self.layers, sizes, sizes[1:]):
            weights, biases = layer.count_params(nin)
            n_weights, n_biases = n_weights + weights, n_biases + biases
            activation = layer.activation if isinstance(layer, Dense) else ""
            rows.append((f"{layer.name} ({type(layer).__name__})", activation, f"(None, {nout})", str(weights + biases)))
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
        other last layer's as logits), and the probability losses need a sigmoid/softmax last layer.
        """
        loss_fn = get_loss(loss)
        if metrics is None:
            metrics = []
        if isinstance(metrics, str) or not isinstance(metrics, (list, tuple)):
            raise ValueError(f"metrics must be a list such as ['accuracy'], got {metrics!r:.60}")
        metric_fns = [get_metric(m) for m in metrics]
        names = [metric_name(m) for m in metric_fns]
        if len(set(names)) != len(names) or "loss" in names:
            raise ValueError(f"metrics must have distinct names other than 'loss', got {names}")
        opt = get_optimizer(optimizer)
        if self.built:
            opt.bind(self.parameters())
        self.loss = loss_fn
        self.loss_name = next((name for name, fn in LOSSES.items() if fn is loss_fn), None)
        self.metrics = metric_fns
        self.optimizer = opt

    @property
    def metrics_names(self) -> list[str]:
        """"loss" and the metric names, in the order `evaluate` returns them."""
        return ["loss", *(metric_name(m) for m in self.metrics)]

    # -- checking data --------------------------------------------------------------------------

    def _check_X(self, X: ArrayLike, what: str = "X") -> np.ndarray:
        if not self.layers:
            raise ValueError("the model has no layers")
        try:
            X = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{what} must be an array of numbers of shape (samples, features): {err}") from None
        if X.ndim != 2:
            hint = "; for one feature use X.reshape(-1, 1)" if X.ndim == 1 else ""
            raise ValueError(f"{what} must be 2-D (samples, features), got shape {X.shape}{hint}")
        if X.shape[0] == 0:
            raise ValueError(f"{what} has no samples")
        if not np.all(np.isfinite(X)):
            row = int(np.argwhere(~np.isfinite(X))[0][0])
            raise ValueError(f"{what} holds a NaN or infinite value (row {row}: {X[row].tolist()})")
        expected = self.input_dim if self.built else self._first_input_dim()
        if expected is not None and X.shape[1] != expected:
            raise ValueError(f"{what} has {X.shape[1]} features per sample, but the model takes {expected}")
        return X

    def _first_input_dim(self) -> int | None:
        return self.layers[0].input_dim if self.layers and isinstance(self.layers[0], Dense) else None

    def _check_y(self, y: ArrayLike, n: int, what: str = "y") -> np.ndarray:
        """Check `y` against the model's outputs and the loss; return it as (n,) or (n, outputs)."""
        try:
            y = np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{what} must be an array of numbers: {err}") from None
        if y.ndim not in (1, 2) or y.shape[0] != n:
            raise ValueError(f"{what} must have shape ({n},) or ({n}, outputs) to match X, got {y.shape}")
        if not np.all(np.isfinite(y)):
            raise ValueError(f"{what} holds a NaN or infinite value")
        units = self.output_size
        loss = self.loss_name
        if y.ndim == 2 and y.shape[1] == 1 and (units == 1 or loss in _INDEX_LOSSES):
            y = y[:, 0]  # Keras's column of targets
        if loss in _INDEX_LOSSES:
            if units < 2:
                raise ValueError(f"{loss} needs a last layer with one unit per class (2 or more), not {units}")
            if y.ndim != 1:
                raise ValueError(f"{loss} takes class indices of shape ({n},), got {what} of shape {y.shape}")
            bad = (y != np.round(y)) | (y < 0) | (y >= units)
            if bad.any():
                i = int(np.argmax(bad))
                raise ValueError(
                    f"{what}[{i}] = {y[i]:g} is not a class of this model: {loss} "
                    f"needs class indices 0 .. {units - 1} (the last layer has {units} units)"
                )
            return y
        if y.ndim == 1 and units != 1:
            raise ValueError(f"the model has {units} outputs, so {what} needs shape ({n}, {units}), got {y.shape}")
        if y.ndim == 2 and y.shape[1] != units:
            raise ValueError(f"the model has {units} outputs, but {what} has {y.shape[1]} columns")
        if loss in ("binary_crossentropy", "categorical_crossentropy", "kl_divergence"):
            bad = (y < 0) | (y > 1)
            if bad.any():
                i = int(np.argwhere(bad)[0][0])
                raise ValueError(
                    f"{what}[{i}] = {y[i].tolist()} is outside the classes: {loss} needs targets in [0, 1] "
                    "(class labels 0 and 1, one-hot rows or probabilities)"
                )
        if loss in ("categorical_crossentropy", "kl_divergence"):
            sums = y.reshape(n, -1).sum(axis=1)
            bad = np.abs(sums - 1.0) > 1e-6
            if bad.any():
                i = int(np.argmax(bad))
                raise ValueError(f"{what}[{i}] = {y[i].tolist()} must sum to 1 for {loss} (a one-hot row or a distribution)")
        if loss == "hinge":
            bad = (y != 1) & (y != -1)
            if bad.any():
                i = int(np.argwhere(bad)[0][0])
                raise ValueError(
                    f"{what}[{i}] = {y[i].tolist()} is not a class: hinge needs labels -1 and 1 "
                    "(turn 0/1 labels into -1/1 with 2 * y - 1)"
                )
        return y

    def _check_loss_fits_model(self) -> None:
        """A loss on probabilities needs a last layer that outputs probabilities (checked before training)."""
        allowed = _PROBABILITY_LOSSES.get(self.loss_name)
        if allowed is None:
            return
        last = next((layer for layer in reversed(self.layers) if isinstance(layer, Dense)), None)
        if last is None or last.activation not in allowed:
            got = f"activation {last.activation!r}" if last is not None else "no Dense layer"
            raise ValueError(
                f"{self.loss_name} reads the model's outputs as probabilities, so the last Dense layer "
                f"needs activation {' or '.join(map(repr, allowed))}; it has {got}"
            )

    def _targets(self, y: np.ndarray) -> list:
        """The per-sample targets in the form the loss takes: an int class, a number, or a list."""
        if self.loss_name in _INDEX_LOSSES:
            return [int(t) for t in y]
        return y.tolist()

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
        "tape" records the model's graph once (`micrograd.engine.tape.Tape`) and runs it on the whole
        batch with NumPy (the loss of each sample is still computed by the scalar engine, from
        the model's outputs): the same numbers, bit for bit, unless the loss reads the outputs out
        of order (a softmax cross-entropy starts with the target's class), where the gradients
        are summed in another order: equal to rounding. "auto" (the default) takes the
        tape whenever the model's graph cannot depend on the data: every model except one with
        a softmax Dense layer before its last layer (softmax subtracts the largest score, a
        constant taken from the data).
        """
        if engine not in ("auto", "tape", "scalar"):
            raise ValueError(f"engine must be 'auto', 'tape' or 'scalar', got {engine!r:.60}")
        if self.optimizer is None:
            raise RuntimeError("compile the model before fit: model.compile(loss=..., optimizer=...)")
        epochs = _check_int("epochs", epochs)
        batch_size = _check_int("batch_size", batch_size)
        if verbose not in (0, 1, 2):
            raise ValueError(f"verbose must be 0 (silent), 1 (progress bar) or 2 (one line per epoch), got {verbose!r:.60}")
        if not isinstance(shuffle, bool):
            raise ValueError(f"shuffle must be True or False, got {shuffle!r:.60}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"seed must be an int or None, got {seed!r:.60}")
        self._check_loss_fits_model()
        X = self._check_X(X)
        y = self._check_y(y, X.shape[0])
        if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float)) or not 0 <= validation_split < 1:
            raise ValueError(f"validation_split must be a number in [0, 1), got {validation_split!r:.60}")
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
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ValueError("validation_data must be a pair (X_val, y_val)")
            X_val = self._check_X(validation_data[0], "validation X")
            if X_val.shape[1] != X.shape[1]:
                raise ValueError(f"validation X has {X_val.shape[1]} features per sample, but X has {X.shape[1]}")
            y_val = self._check_y(validation_data[1], X_val.shape[0], "validation y")
        callbacks = list(callbacks or [])
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise ValueError(f"callbacks must be Callback objects, got {type(cb).__name__}: {cb!r:.60}")

        self.build(X.shape[1])
        use_tape = engine == "tape" or (engine == "auto" and self._tape_fits())
        body = self._record_body(X) if use_tape else None
        history = History()
        callbacks = [history, *callbacks]
        names = self.metrics_names
        log_names = names + ([f"val_{name}" for name in names] if validation_data is not None else [])
        n = X.shape[0]
        n_batches = math.ceil(n / batch_size)
        params = {"epochs": epochs, "steps": n_batches, "batch_size": min(batch_size, n), "log_names": log_names}
        for cb in callbacks:
            cb.set_model(self)
            cb.params = params
        for cb in callbacks:  # EarlyStopping checks its monitor here, before any step
            cb.on_train_begin()

        order_rng = random.Random(seed if seed is not None else self._rng.getrandbits(64))
        targets = self._targets(y)
        self.stop_training = False
        for epoch in range(epochs):
            for cb in callbacks:
                cb.on_epoch_begin(epoch)
            order = list(range(n))
            if shuffle:
                order_rng.shuffle(order)
            bar = _progress_bar(verbose, n_batches, f"Epoch {epoch + 1}/{epochs}")
            outputs = np.empty((n, self.output_size))
            loss_sum = 0.0
            try:
                for b in range(n_batches):
                    batch = order[b * batch_size : (b + 1) * batch_size]
                    where = f"epoch {epoch + 1}/{epochs}, batch {b + 1}/{n_batches}"
                    if body is None:
                        batch_loss = self._train_step(X, targets, batch, outputs, b * batch_size, where)
                    else:
                        batch_loss = self._train_step_tape(body, X, targets, batch, outputs, b * batch_size, where)
                    loss_sum += batch_loss * len(batch)
                    if bar is not None:
                        bar.set_postfix(loss=f"{loss_sum / min(n, (b + 1) * batch_size):.4f}", refresh=False)
                        bar.update(1)
                    for cb in callbacks:
                        cb.on_batch_end(b, {"loss": batch_loss, "size": len(batch)})
                # Like Keras: the epoch's loss and metrics are averages over the epoch's batches,
                # each sample's prediction made with the weights of the moment it was seen.
                logs = {"loss": loss_sum / n}
                y_seen = y[order]
                for metric in self.metrics:
                    logs[metric_name(metric)] = float(metric(y_seen, outputs))
                if validation_data is not None:
                    for name, value in zip(names, self._evaluate(X_val, y_val)):
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
            if self.stop_training:
                break
        for cb in callbacks:
            cb.on_train_end()
        return history

    def _train_step(self, X: np.ndarray, targets: list, batch: list[int], outputs: np.ndarray, start: int, where: str) -> float:
        """One optimizer step on one batch; returns the batch's loss (the mean of its per-sample losses).

        Stops with `TrainingDivergedError` the moment an output, the loss or a weight is NaN or
        infinite (the weights are then left as they were before this step).
        """
        losses = []
        for k, i in enumerate(batch):
            out = self._forward(X[i].tolist(), training=True)
            values = [o.data for o in out]
            if not all(math.isfinite(v) for v in values):
                raise self._diverged(where, f"the model's output is {values}")
            outputs[start + k] = values
            losses.append(self._sample_loss(out, targets[i]))
        total = losses[0]
        for sample_loss in losses[1:]:
            total = total + sample_loss
        loss = total / len(losses)
        if not math.isfinite(loss.data):
            raise self._diverged(where, f"the loss is {loss.data}")
        before = self.get_weights()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        for p in self.parameters():
            if not math.isfinite(p.data):
                self.set_weights(before)
                raise self._diverged(where, f"the step made weight {p.label} {p.data} (gradient {p.grad})")
        return loss.data

    # -- training on a tape -----------------------------------------------------------------------

    def _tape_fits(self) -> bool:
        """True when the model's graph is the same for every sample: no softmax before the last layer."""
        return all(
            layer is self.layers[-1] or not (isinstance(layer, Dense) and layer.activation == "softmax")
            for layer in self.layers
        )

    def _record_body(self, X: np.ndarray) -> _Body:
        """Record the model on a tape, and check a second recording (on another sample) is the same.

        The tape holds everything up to the model's outputs, except a softmax on the last layer: that
        softmax and the loss run per sample in the scalar engine (`_train_step_tape`), because they
        branch on the data (softmax's max, the class of the target, the clipping of probabilities).
        """
        body = self._body_graph(X[0])
        if X.shape[0] > 1:
            body.tape.check_same_structure(self._body_graph(X[1]).tape, "the graphs of samples 0 and 1")
        return body

    def _body_graph(self, row: np.ndarray) -> _Body:
        xs = [Value(float(v), f"x{j}") for j, v in enumerate(row)]
        values: list[Value] = xs
        masks: list[tuple[Dropout, list[Value]]] = []
        for layer in self.layers:
            if isinstance(layer, Dropout):
                if layer.rate > 0.0:  # the mask becomes an input of the tape, drawn at every step
                    leaves = [Value(1.0, f"{layer.name}.mask{j}") for j in range(len(values))]
                    with scope(layer.name):
                        values = [xi * m for xi, m in zip(values, leaves)]
                    masks.append((layer, leaves))
            elif layer is self.layers[-1] and layer.activation == "softmax":
                values = layer.layer(values)  # the softmax itself runs per sample, with the loss
            else:
                values = layer(values, training=True)
        inputs = xs + [leaf for _, leaves in masks for leaf in leaves]
        return _Body(Tape.record(values, inputs=inputs), xs, masks)

    def _train_step_tape(
        self, body: _Body, X: np.ndarray, targets: list, batch: list[int], outputs: np.ndarray, start: int, where: str
    ) -> float:
        """`_train_step` on a tape: the same numbers (see `fit` and `micrograd.engine.tape`).

        The model runs on the whole batch at once; each sample's loss (and a last-layer softmax) is
        built in the scalar engine on leaves holding the model's outputs; its gradient with respect
        to those outputs is fed back into the tape's backward pass.
        """
        n = len(batch)
        rows = X[batch]
        feed: dict[Value, Any] = {x: rows[:, j] for j, x in enumerate(body.xs)}
        for layer, leaves in body.masks:
            mask = np.array([layer.draw_mask(len(leaves)) for _ in range(n)])
            feed.update({leaf: mask[:, j] for j, leaf in enumerate(leaves)})
        scores = body.tape.forward(feed)
        last = self.layers[-1]
        heads, losses = [], []
        for k, i in enumerate(batch):
            head = [Value(v) for v in scores[k].tolist()]
            out = head
            if isinstance(last, Dense) and last.activation == "softmax":
                with scope(last.name):
                    out = softmax(head)
            values = [o.data for o in out]
            if not all(math.isfinite(v) for v in values):
                raise self._diverged(where, f"the model's output is {values}")
            outputs[start + k] = values
            heads.append(head)
            losses.append(self._sample_loss(out, targets[i]))
        total = losses[0].data
        for sample_loss in losses[1:]:
            total = total + sample_loss.data
        loss = total / n  # as `_train_step`'s Value graph computes it: ((l0 + l1) + ...) / n
        if not math.isfinite(loss):
            raise self._diverged(where, f"the loss is {loss}")
        # ∂loss/∂(each output of each sample): each sample's loss enters the mean with weight 1/n
        for sample_loss in losses:
            (sample_loss / n).backward()
        grad_output = np.array([[o.grad for o in head] for head in heads])
        before = self.get_weights()
        self.optimizer.zero_grad()
        body.tape.backward(reduce="sum", grad_output=grad_output)
        self.optimizer.step()
        for p in self.parameters():
            if not math.isfinite(p.data):
                self.set_weights(before)
                raise self._diverged(where, f"the step made weight {p.label} {p.data} (gradient {p.grad})")
        return loss

    def _diverged(self, where: str, what: str) -> TrainingDivergedError:
        lr = getattr(self.optimizer, "lr", None)
        advice = (
            f"The learning rate {lr:g} is too large for this problem: try a smaller one, e.g. {lr / 10:g}"
            if isinstance(lr, (int, float)) and lr > 0
            else "Try a smaller learning rate"
        )
        return TrainingDivergedError(f"training diverged at {where}: {what} (\"Learning rate: NaN!\"). {advice}.")

    # -- evaluation -----------------------------------------------------------------------------

    def _evaluate(self, X: np.ndarray, y: np.ndarray) -> list[float]:
        """[loss, metric, ...] on checked data, without dropout and without building a graph."""
        targets = self._targets(y)
        predictions = self._predict(X)
        with no_grad():
            losses = [self._sample_loss([Value(v) for v in row], t).data for row, t in zip(predictions.tolist(), targets)]
        return [math.fsum(losses) / len(losses), *(float(m(y, predictions)) for m in self.metrics)]

    def _sample_loss(self, out: list[Value], target: Any) -> Value:
        """The loss of one sample: `loss(prediction, target)`, with two Keras conventions kept."""
        if self.loss_name == "kl_divergence":  # micrograd.training.losses.kl_divergence takes (p_true, q_pred)
            return self.loss(target, out)
        if self.loss_name == "sparse_categorical_crossentropy" and self._softmax_output():
            # Keras reads a softmax layer's outputs as probabilities: −log p[target]. (On any
            # other last layer the outputs are logits: micrograd.training.losses.cross_entropy.)
            return categorical_cross_entropy(out, [1.0 if j == target else 0.0 for j in range(len(out))])
        return self.loss(out[0] if len(out) == 1 else out, target)

    def _softmax_output(self) -> bool:
        last = next((layer for layer in reversed(self.layers) if isinstance(layer, Dense)), None)
        return last is not None and last.activation == "softmax"

    def evaluate(self, X: ArrayLike, y: ArrayLike, return_dict: bool = False) -> float | list[float] | dict[str, float]:
        """The mean loss on (X, y), and the metrics: a float without metrics, else [loss, metric, ...]."""
        if self.loss is None:
            raise RuntimeError("compile the model before evaluate: model.compile(loss=..., optimizer=...)")
        self._check_loss_fits_model()
        X = self._check_X(X)
        y = self._check_y(y, X.shape[0])
        self.build(X.shape[1])
        figures = self._evaluate(X, y)
        if return_dict:
            return dict(zip(self.metrics_names, figures))
        return figures[0] if len(figures) == 1 else figures

    def predict(self, X: ArrayLike) -> np.ndarray:
        """The outputs for each sample, shape (samples, outputs), without dropout."""
        X = self._check_X(X)
        self.build(X.shape[1])
        return self._predict(X)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        """The outputs for checked data, without dropout: on a tape where `fit` would use one (the
        same numbers as the scalar engine, bit for bit, in a fraction of the time), else sample by
        sample on the scalar engine without building a graph."""
        if not self._tape_fits():
            with no_grad():
                return np.array([[o.data for o in self._forward(row, training=False)] for row in X.tolist()])
        body = self._record_body(X)
        feed: dict[Value, Any] = {x: X[:, j] for j, x in enumerate(body.xs)}
        for _, leaves in body.masks:  # no dropout: every mask is 1, and x * 1.0 is x exactly
            feed.update({leaf: 1.0 for leaf in leaves})
        scores = np.asarray(body.tape.forward(feed), dtype=np.float64).reshape(X.shape[0], -1)
        last = self.layers[-1]
        if isinstance(last, Dense) and last.activation == "softmax":  # as in fit: per sample, after the tape
            with no_grad():
                return np.array([[p.data for p in softmax([Value(v) for v in row])] for row in scores.tolist()])
        return scores

    # -- saving ---------------------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """The architecture, without weights: what `micrograd.nn.saving` writes as "architecture"."""
        return {"input_dim": self.input_dim, "layers": [layer.get_config() for layer in self.layers]}

    def save(self, path: str) -> None:
        """Write architecture and weights to a JSON file (see `micrograd.nn.saving`)."""
        from .saving import save_model  # saving imports this module

        save_model(self, path)

    def __repr__(self) -> str:
        inside = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inside}], input_dim={self.input_dim})"


class _Body(NamedTuple):
    """The model recorded on a tape for `fit`: the tape, its input leaves, and each dropout mask's leaves."""

    tape: Tape
    xs: list[Value]
    masks: list[tuple[Dropout, list[Value]]]


def _progress_bar(verbose: int, total: int, desc: str) -> Any:
    """A tqdm bar for one epoch (a widget in notebooks, text in terminals), or None when verbose != 1."""
    if verbose != 1:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="batch", leave=True, dynamic_ncols=True)


__all__ = ["DENSE_ACTIVATIONS", "Dense", "Dropout", "Sequential", "TrainingDivergedError"]
