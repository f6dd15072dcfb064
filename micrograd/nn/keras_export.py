"""Models to Keras and back: `MLP.to_keras()`, `Sequential.to_keras()` and `Sequential.from_keras()`.

Keras 3 on its PyTorch backend: each function sets `KERAS_BACKEND=torch` (unless it is set) before
importing keras, and refuses a keras already imported with another backend. A layer of n neurons is
one `keras.layers.Dense(n)` whose kernel, of shape (inputs, n), is the neurons' weights transposed
and whose bias is their biases; every layer is made with `dtype="float64"` (`keras.config.set_floatx`
would change every model of the program). Activations go by their Keras names, except leaky_relu:
Keras's "leaky_relu" has slope 0.2, so a `keras.layers.LeakyReLU(negative_slope=0.01)` follows the
Dense. Keras's "gelu" is the exact one (its default, approximate=False), as ours. A `Dropout` is a
`keras.layers.Dropout` of the same rate.

The weights are ours exactly (float64 variables), but Keras 3 multiplies float64 matrices in
float32 on every backend but TensorFlow (`keras.backend.result_type` turns float64 into float32,
as JAX does without x64), so a Dense's outputs agree with ours to about 1e-7, not 1e-12; each
activation and the bias are computed in float64.

A compiled `Sequential` carries its loss and optimizer over when Keras has them with the same
meaning (`KERAS_OPTIMIZERS`); what is not carried over (the loss multiclass_hinge or one of your
own; weight_decay of SGD, Adam, Adagrad and RMSprop, which is L2 in the gradient here and decoupled
in Keras; SGD's dampening; Adagrad's lr_decay; the metrics) leaves the Keras model uncompiled, with
a warning that names it. Keras's Adam adds its epsilon to √v̂·√(1 − β₂ᵗ), not to √v̂, and Keras's
RMSprop adds it under the square root: the same numbers, used a little differently.

keras is imported only inside the functions, so micrograd works without it; without it, every
function here raises ImportError saying how to install it.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import TYPE_CHECKING, Any, cast

from .layer_specs import ELU_ALPHA, LEAKY_SLOPE, DenseSpec, DropoutSpec, model_specs

if TYPE_CHECKING:  # only for the annotations: mlp.py and sequential.py import this module
    from .mlp import MLP
    from .sequential import Sequential

__all__ = [
    "KERAS_ACTIVATIONS",
    "KERAS_LOSSES",
    "KERAS_OPTIMIZERS",
    "read_keras_sequential",
    "require_keras",
    "to_keras",
]

INSTALL_HINT = 'Keras is not installed: pip install "micrograd-lab[keras]"'


#: Each activation a model accepts by name, and the name Keras's Dense takes for it (leaky_relu
#: is a LeakyReLU layer after the Dense: Keras's "leaky_relu" activation has another slope), but
#: those `layer_specs.NOT_EXPORTED` refuses (step).
KERAS_ACTIVATIONS: dict[str, str] = {
    "linear": "linear",
    "relu": "relu",
    "leaky_relu": "linear",
    "elu": "elu",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "gelu": "gelu",
    "softmax": "softmax",
}

#: Our losses that Keras has, by our name: the Keras name (all but multiclass_hinge).
KERAS_LOSSES: dict[str, str] = {
    "mse": "mean_squared_error",
    "mae": "mean_absolute_error",
    "huber": "huber",
    "binary_crossentropy": "binary_crossentropy",
    "categorical_crossentropy": "categorical_crossentropy",
    "sparse_categorical_crossentropy": "sparse_categorical_crossentropy",
    "kl_divergence": "kl_divergence",
    "hinge": "hinge",
}

#: Our optimizers that Keras has, by class name: the Keras class.
KERAS_OPTIMIZERS: dict[str, str] = {
    "SGD": "SGD",
    "Adam": "Adam",
    "AdamW": "AdamW",
    "RMSprop": "RMSprop",
    "Adagrad": "Adagrad",
}


def require_keras() -> Any:
    """The keras module on its PyTorch backend, or ImportError saying how to install it
    (RuntimeError if keras was imported with another backend)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    already = sys.modules.get("keras") is not None
    try:
        import keras
    except ImportError as err:
        raise ImportError(INSTALL_HINT) from err
    backend = keras.config.backend()
    if backend != "torch":
        how = "keras was imported" if already else f"KERAS_BACKEND is {os.environ['KERAS_BACKEND']!r}"
        raise RuntimeError(
            f"micrograd's Keras export needs Keras on its PyTorch backend, but {how} with the {backend!r} backend; "
            "set KERAS_BACKEND=torch before anything imports keras"
        )
    return keras


def _dense_layers(keras: Any, rows: list[list[float]], biases: list[float], activation: str) -> list[Any]:
    import numpy as np

    if activation not in KERAS_ACTIVATIONS:
        raise ValueError(f"activation {activation!r} has no Keras counterpart here")
    dense = keras.layers.Dense(len(rows), activation=KERAS_ACTIVATIONS[activation], dtype="float64")
    dense.build((None, len(rows[0])))
    dense.set_weights([np.array(rows, dtype=np.float64).T, np.array(biases, dtype=np.float64)])
    if activation == "leaky_relu":
        return [dense, keras.layers.LeakyReLU(negative_slope=LEAKY_SLOPE, dtype="float64")]
    return [dense]


def _model(keras: Any, input_dim: int, layers: list[Any]) -> Any:
    return keras.Sequential([keras.Input(shape=(input_dim,), dtype="float64"), *layers])


def _keras_optimizer(keras: Any, optimizer: Any) -> tuple[Any, str]:
    """(the Keras optimizer, "") or (None, what is not carried over)."""
    kind = type(optimizer).__name__
    if kind not in KERAS_OPTIMIZERS:
        return None, f"the optimizer {optimizer!r}"
    settings = optimizer.hyperparameters()
    lost = [
        name
        for name in ("weight_decay", "dampening", "lr_decay")
        if name in settings and settings[name] != 0 and not (kind == "AdamW" and name == "weight_decay")
    ]
    if lost:
        return None, f"{kind}'s {', '.join(lost)} (Keras has no such setting with the same meaning)"
    lr = settings["lr"]
    opt = keras.optimizers
    if kind == "SGD":
        return opt.SGD(learning_rate=lr, momentum=settings["momentum"], nesterov=settings["nesterov"]), ""
    if kind in ("Adam", "AdamW"):
        beta_1, beta_2 = settings["betas"]
        extra = {"weight_decay": settings["weight_decay"]} if kind == "AdamW" else {}
        keras_class = getattr(opt, kind)
        adam = keras_class(
            learning_rate=lr,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=settings["eps"],
            amsgrad=settings["amsgrad"],
            **extra,
        )
        return adam, ""
    if kind == "RMSprop":
        return opt.RMSprop(
            learning_rate=lr,
            rho=settings["alpha"],
            momentum=settings["momentum"],
            epsilon=settings["eps"],
            centered=settings["centered"],
        ), ""
    return opt.Adagrad(
        learning_rate=lr, initial_accumulator_value=settings["initial_accumulator_value"], epsilon=settings["eps"]
    ), ""


def _compile_like(keras: Any, target: Any, model: Sequential) -> None:
    """Compile the Keras model with our loss and optimizer, or warn about what Keras lacks."""
    if model.loss is None:
        return
    name = model.loss.name
    if name not in KERAS_LOSSES:
        warnings.warn(
            f"to_keras: the loss {name!r} has no Keras counterpart; the Keras model is not compiled", stacklevel=3
        )
        return
    optimizer, lost = _keras_optimizer(keras, model.optimizer)
    if optimizer is None:
        warnings.warn(f"to_keras: {lost} is not carried over; the Keras model is not compiled", stacklevel=3)
        return
    last = [layer.activation for layer in model.layers if layer.type_name == "Dense"][-1]
    from_logits = name == "sparse_categorical_crossentropy" and last != "softmax"
    losses = keras.losses
    loss: Any = KERAS_LOSSES[name]
    if from_logits:  # ours reads any last layer but a softmax as logits
        loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    target.compile(loss=loss, optimizer=optimizer)


def to_keras(model: MLP | Sequential) -> Any:
    """A `keras.Sequential` (float64) computing what `model(x)` (an MLP) or `model.predict` (a
    Sequential) computes, with the same weights; a compiled Sequential's loss and optimizer come
    along when Keras has them (see the module's docstring)."""
    keras = require_keras()
    input_dim, specs = model_specs(model, "to_keras")
    layers: list[Any] = []
    for spec in specs:
        if isinstance(spec, DenseSpec):
            layers += _dense_layers(keras, spec.weights, spec.biases, spec.activation)
        else:
            layers.append(keras.layers.Dropout(spec.rate, dtype="float64"))
    target = _model(keras, input_dim, layers)
    if hasattr(model, "loss"):  # a Sequential
        _compile_like(keras, target, cast("Sequential", model))
    return target


def _activation_name(activation: Any) -> str:
    """Keras's name of a Dense's activation function ("" if it has none we know)."""
    name = getattr(activation, "__name__", "")
    return name if name in KERAS_ACTIVATIONS and name != "leaky_relu" else ""


def read_keras_sequential(model: Any) -> tuple[int, list[DenseSpec | DropoutSpec]]:
    """(input size, layer specs) of a `keras.Sequential` of Dense, LeakyReLU, ELU, ReLU, Softmax,
    Activation and Dropout layers.

    A Dense must have a bias and an activation of ours; an activation layer must come right after a
    Dense without one. Raises TypeError for a layer of another kind, ValueError for settings
    micrograd has not, each message naming the layer and its position.
    """
    keras = require_keras()
    if not isinstance(model, keras.Sequential):
        raise TypeError(f"from_keras needs a keras.Sequential, got {type(model).__name__}")
    kl = keras.layers
    supported = "Dense, Dropout, Activation, ReLU, LeakyReLU, ELU and Softmax"
    specs: list[DenseSpec | DropoutSpec] = []
    input_dim: int | None = None
    for position, layer in enumerate(model.layers):
        where = f"from_keras: layer {position} ({type(layer).__name__} {layer.name!r})"
        kind = type(layer)
        if kind is kl.Dense:
            activation = _activation_name(layer.activation)
            if not activation:
                raise ValueError(f"{where}: activation {layer.activation!r:.60} is not one of micrograd's")
            if not layer.use_bias:
                raise ValueError(f"{where}: a Dense without a bias is not supported (use_bias=False)")
            if not layer.built:
                raise ValueError(f"{where} is not built: give the model an input shape (keras.Input) first")
            kernel, bias = (w.astype("float64") for w in layer.get_weights())
            if input_dim is None:
                input_dim = int(kernel.shape[0])
            specs.append(DenseSpec(layer.units, activation, kernel.T.tolist(), bias.tolist()))
            continue
        if kind is kl.Dropout:
            if layer.noise_shape is not None:
                raise ValueError(f"{where}: a Dropout with a noise_shape is not supported")
            specs.append(DropoutSpec(float(layer.rate)))
            continue
        activation = _read_activation_layer(kl, layer, where)
        if not activation:
            raise TypeError(f"{where} is not supported; from_keras reads {supported}")
        if activation == "linear":
            continue
        last = specs[-1] if specs else None
        if not isinstance(last, DenseSpec) or last.activation != "linear":
            raise ValueError(f"{where} must come right after a Dense without activation: a Dense has one activation")
        specs[-1] = last._replace(activation=activation)
    if input_dim is None:
        raise ValueError("from_keras: the model has no Dense layer, so its input size is unknown")
    return input_dim, specs


def _read_activation_layer(kl: Any, layer: Any, where: str) -> str:
    """Our activation's name for a Keras activation layer; ValueError for settings we lack."""
    kind = type(layer)
    if kind is kl.Activation:
        name = _activation_name(layer.activation)
        if not name:
            raise ValueError(f"{where}: activation {layer.activation!r:.60} is not one of micrograd's")
        return name
    if kind is kl.LeakyReLU:
        if layer.negative_slope != LEAKY_SLOPE:
            raise ValueError(f"{where}: micrograd's leaky_relu has slope {LEAKY_SLOPE}, got {layer.negative_slope}")
        return "leaky_relu"
    if kind is kl.ELU:
        if layer.alpha != ELU_ALPHA:
            raise ValueError(f"{where}: micrograd's elu has alpha {ELU_ALPHA}, got {layer.alpha}")
        return "elu"
    if kind is kl.ReLU:
        if layer.max_value is not None or layer.negative_slope != 0 or layer.threshold != 0:
            raise ValueError(f"{where}: only a plain ReLU (no max_value, negative_slope or threshold) is supported")
        return "relu"
    if kind is kl.Softmax:
        if layer.axis not in (-1, 1):
            raise ValueError(f"{where}: only a softmax over a sample's outputs (axis=-1) is supported")
        return "softmax"
    return ""
