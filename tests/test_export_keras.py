"""The way out to Keras: models to Keras 3 (PyTorch backend) and back with the same weights and outputs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is imported, once for this module

import numpy as np
import pytest

keras = pytest.importorskip("keras")

# Keras 3.15's torch backend calls np.array(tensor, copy=False), which NumPy 2 warns about: not ours.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning")

from micrograd.export import from_keras, to_keras  # noqa: E402
from micrograd.nn import DENSE_ACTIVATIONS, MLP, Dense, Dropout, Sequential  # noqa: E402
from micrograd.nn.keras_export import KERAS_ACTIVATIONS, KERAS_LOSSES  # noqa: E402
from micrograd.nn.layer_specs import NOT_EXPORTED  # noqa: E402
from micrograd.training.losses import KERAS_LOSSES as OUR_LOSSES  # noqa: E402
from micrograd.training.optim import SGD, Adagrad, Adam, AdamW, RMSprop  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
X = np.random.default_rng(0).normal(size=(7, 3))
# Keras 3 multiplies float64 matrices in float32 on the torch backend (keras.backend.result_type
# turns float64 into float32), so whole-model outputs agree to float32's precision only.
MODEL_ATOL = 1e-5


def _keras_out(model: object, X: np.ndarray) -> np.ndarray:
    return keras.ops.convert_to_numpy(model(X, training=False))  # type: ignore[operator]


def _keras_out_float64(model: object, X: np.ndarray) -> np.ndarray:
    """What the Keras model computes, with each Dense's product taken in float64 (einsum keeps it):
    checks the weights and activations to 1e-12, apart from Keras's float32 matmul."""
    x = keras.ops.convert_to_tensor(X, dtype="float64")
    for layer in model.layers:  # type: ignore[attr-defined]
        if isinstance(layer, keras.layers.Dense):
            x = layer.activation(keras.ops.einsum("ab,bc->ac", x, layer.kernel.value) + layer.bias.value)
        else:
            x = layer(x, training=False)
    assert x.dtype == keras.ops.convert_to_tensor(X, dtype="float64").dtype
    return keras.ops.convert_to_numpy(x)


def _ours(model: MLP, X: np.ndarray) -> np.ndarray:
    return np.array([[v.data for v in model(row)] for row in X.tolist()])


# -- models ---------------------------------------------------------------------------------------


def test_every_model_activation_has_a_keras_name_and_every_keras_loss_is_ours() -> None:
    assert set(DENSE_ACTIVATIONS) - set(NOT_EXPORTED) <= set(KERAS_ACTIVATIONS)
    assert set(KERAS_LOSSES) <= {loss.name for loss in OUR_LOSSES}
    assert keras.config.backend() == "torch"


def test_a_step_model_is_refused_naming_its_layer() -> None:
    model = MLP(2, [3, 1], output_activation="step", seed=0)
    with pytest.raises(ValueError, match="to_keras: layer L2 uses the step activation, which cannot be exported"):
        model.to_keras()


@pytest.mark.parametrize(
    ("hidden", "output"), [("relu", "linear"), ("tanh", "sigmoid"), ("leaky_relu", "gelu"), ("elu", "tanh")]
)
def test_mlp_to_keras_gives_our_outputs_and_weights(hidden: str, output: str) -> None:
    model = MLP(3, [5, 4, 2], activation=hidden, output_activation=output, seed=3)
    km = model.to_keras()
    assert isinstance(km, keras.Sequential)
    ours = _ours(model, X)
    np.testing.assert_allclose(_keras_out_float64(km, X), ours, rtol=0, atol=1e-12)
    np.testing.assert_allclose(_keras_out(km, X), ours, rtol=0, atol=MODEL_ATOL)
    denses = [layer for layer in km.layers if isinstance(layer, keras.layers.Dense)]
    for layer, dense in zip(model.layers, denses):
        kernel, bias = dense.get_weights()
        assert kernel.dtype == np.float64 and kernel.shape == (layer.nin, len(layer.neurons))
        assert kernel.T.tolist() == [[w.data for w in n.w] for n in layer.neurons]
        assert bias.tolist() == [n.b.data for n in layer.neurons]
    # and back: the same weights in our Sequential, the same predictions
    back = Sequential.from_keras(km)
    assert back.get_weights() == [p.data for p in model.parameters()]
    np.testing.assert_allclose(back.predict(X), ours, rtol=0, atol=1e-12)


def test_leaky_relu_keeps_our_slope_and_gelu_is_the_exact_one() -> None:
    km = MLP(3, [4, 2], activation="leaky_relu", output_activation="gelu", seed=1).to_keras()
    leaky = [layer for layer in km.layers if isinstance(layer, keras.layers.LeakyReLU)]
    assert [layer.negative_slope for layer in leaky] == [0.01]  # Keras's own default is 0.2
    x = keras.ops.convert_to_tensor([-1.0, 0.5], dtype="float64")
    exact = keras.activations.gelu(x, approximate=False)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(km.layers[-1].activation(x)), exact)


@pytest.mark.parametrize(
    "layers",
    [
        lambda: [Dense(4, "relu", input_dim=3), Dense(2, "softmax")],
        lambda: [Dense(5, "elu", input_dim=3), Dropout(0.3), Dense(4, "leaky_relu"), Dropout(0.1), Dense(1, "sigmoid")],
        lambda: [Dense(4, "gelu", input_dim=3), Dense(3, "tanh"), Dense(2)],
    ],
)
def test_sequential_round_trip(layers: object) -> None:
    model = Sequential(layers(), seed=5)  # type: ignore[operator]
    km = to_keras(model)
    expected = model.predict(X)
    np.testing.assert_allclose(_keras_out_float64(km, X), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(_keras_out(km, X), expected, rtol=0, atol=MODEL_ATOL)
    rates = [layer.rate for layer in km.layers if isinstance(layer, keras.layers.Dropout)]
    assert rates == [layer.rate for layer in model.layers if isinstance(layer, Dropout)]
    back = from_keras(km)
    assert back.get_config() == model.get_config()
    assert back.get_weights() == model.get_weights()
    np.testing.assert_allclose(back.predict(X), expected, rtol=0, atol=1e-12)


def test_from_keras_reads_a_model_made_in_keras() -> None:
    km = keras.Sequential(
        [
            keras.Input(shape=(3,), dtype="float64"),
            keras.layers.Dense(4, dtype="float64"),
            keras.layers.ReLU(dtype="float64"),
            keras.layers.Dropout(0.25, dtype="float64"),
            keras.layers.Dense(3, activation="tanh", dtype="float64"),
            keras.layers.Dense(2, dtype="float64"),
            keras.layers.Softmax(dtype="float64"),
        ]
    )
    model = Sequential.from_keras(km)
    assert [(layer.type_name, layer.activation) for layer in model.layers] == [
        ("Dense", "relu"),
        ("Dropout", None),
        ("Dense", "tanh"),
        ("Dense", "softmax"),
    ]
    np.testing.assert_allclose(model.predict(X), _keras_out_float64(km, X), rtol=0, atol=1e-12)


# -- compile: the loss and the optimizer ------------------------------------------------------------


@pytest.mark.parametrize(
    ("loss", "optimizer", "keras_class", "settings"),
    [
        ("mse", SGD(lr=0.05, momentum=0.9, nesterov=True), "SGD", {"momentum": 0.9, "nesterov": True}),
        ("binary_crossentropy", Adam(lr=0.01, betas=(0.8, 0.99), eps=1e-6), "Adam", {"beta_1": 0.8, "beta_2": 0.99}),
        ("huber", AdamW(lr=0.002, weight_decay=0.05), "AdamW", {"weight_decay": 0.05}),
        ("mae", RMSprop(lr=0.03, alpha=0.9, momentum=0.5, centered=True), "RMSprop", {"rho": 0.9, "centered": True}),
        ("hinge", Adagrad(lr=0.1, initial_accumulator_value=0.2), "Adagrad", {"initial_accumulator_value": 0.2}),
    ],
)
def test_a_compiled_model_carries_its_loss_and_optimizer(
    loss: str, optimizer: object, keras_class: str, settings: dict
) -> None:
    model = Sequential([Dense(4, "tanh", input_dim=3), Dense(1, "sigmoid")], seed=2)
    model.compile(loss, optimizer)
    km = model.to_keras()
    assert km.loss == KERAS_LOSSES[loss]
    assert type(km.optimizer).__name__ == keras_class
    assert float(km.optimizer.learning_rate) == pytest.approx(optimizer.lr, rel=1e-7)  # type: ignore[attr-defined]
    for name, value in settings.items():
        assert getattr(km.optimizer, name) == pytest.approx(value)
    km.fit(X, np.zeros((len(X), 1)) if loss != "hinge" else -np.ones((len(X), 1)), epochs=1, verbose=0)


def test_sparse_cross_entropy_on_logits_is_carried_with_from_logits() -> None:
    logits = Sequential([Dense(4, "relu", input_dim=3), Dense(3)], seed=2)
    logits.compile("sparse_categorical_crossentropy", "adam")
    loss = logits.to_keras().loss
    assert isinstance(loss, keras.losses.SparseCategoricalCrossentropy) and loss.from_logits
    softmax = Sequential([Dense(4, "relu", input_dim=3), Dense(3, "softmax")], seed=2)
    softmax.compile("sparse_categorical_crossentropy", "adam")
    assert softmax.to_keras().loss == "sparse_categorical_crossentropy"


@pytest.mark.parametrize(
    ("loss", "optimizer", "words"),
    [
        ("multiclass_hinge", "adam", ["multiclass_hinge", "not compiled"]),
        ("mse", Adam(weight_decay=0.1), ["Adam's weight_decay", "not compiled"]),
        ("mse", SGD(momentum=0.9, dampening=0.5), ["SGD's dampening", "not compiled"]),
        ("mse", Adagrad(lr_decay=0.1), ["Adagrad's lr_decay", "not compiled"]),
    ],
)
def test_what_keras_lacks_is_not_carried_and_says_so(loss: str, optimizer: object, words: list[str]) -> None:
    model = Sequential([Dense(3, "relu", input_dim=3), Dense(3)], seed=2)
    model.compile(loss, optimizer)
    with pytest.warns(UserWarning) as record:
        km = model.to_keras()
    messages = [str(w.message) for w in record if issubclass(w.category, UserWarning)]
    assert len(messages) == 1 and all(word in messages[0] for word in words), messages
    assert not km.compiled
    np.testing.assert_allclose(_keras_out(km, X), model.predict(X), rtol=0, atol=MODEL_ATOL)


def test_an_uncompiled_model_gives_an_uncompiled_keras_model() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        km = Sequential([Dense(2, input_dim=3)], seed=1).to_keras()
    assert not km.compiled


# -- refusals -------------------------------------------------------------------------------------


def _keras_model(*layers: object) -> object:
    return keras.Sequential([keras.Input(shape=(3,), dtype="float64"), *layers])


@pytest.mark.parametrize(
    ("make", "error", "words"),
    [
        (
            lambda: [keras.layers.Dense(4), keras.layers.BatchNormalization()],
            TypeError,
            ["layer 1", "BatchNormalization"],
        ),
        (lambda: [keras.layers.Dense(4, activation="selu")], ValueError, ["layer 0", "selu"]),
        (lambda: [keras.layers.Dense(4), keras.layers.LeakyReLU()], ValueError, ["layer 1", "slope 0.01"]),
        (lambda: [keras.layers.Dense(4, activation="leaky_relu")], ValueError, ["layer 0", "leaky_relu"]),
        (lambda: [keras.layers.Dense(4, use_bias=False)], ValueError, ["layer 0", "bias"]),
        (
            lambda: [keras.layers.Dense(4, activation="relu"), keras.layers.ReLU()],
            ValueError,
            ["layer 1", "right after"],
        ),
        (lambda: [keras.layers.Dropout(0.5)], ValueError, ["no Dense"]),
    ],
)
def test_from_keras_refuses_what_it_cannot_represent(make: object, error: type, words: list[str]) -> None:
    km = _keras_model(*make())  # type: ignore[operator]
    with pytest.raises(error) as info:
        Sequential.from_keras(km)
    assert all(word in str(info.value) for word in words), str(info.value)


def test_from_keras_needs_a_keras_sequential() -> None:
    with pytest.raises(TypeError, match=r"keras\.Sequential"):
        Sequential.from_keras(MLP(3, [2], seed=1))


def _run(code: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=environ, timeout=120
    )


def test_every_function_says_how_to_install_keras_when_it_is_missing() -> None:
    code = """
        import sys
        sys.modules["keras"] = None  # as if Keras were not installed
        from micrograd.nn import MLP, Dense, Sequential
        model = Sequential([Dense(2, input_dim=3)], seed=1)
        for call in (MLP(3, [2], seed=1).to_keras, model.to_keras, lambda: Sequential.from_keras(object())):
            try:
                call()
            except ImportError as err:
                assert 'pip install "micrograd-lab[keras]"' in str(err), err
            else:
                raise AssertionError("no ImportError")
        print("ok")
        """
    result = _run(code)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_keras_on_another_backend_is_refused_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    # Only the torch backend is installed here: play a keras imported with JAX's.
    monkeypatch.setattr(keras.config, "backend", lambda: "jax")
    for call in (MLP(3, [2], seed=1).to_keras, lambda: Sequential.from_keras(object())):
        with pytest.raises(RuntimeError) as info:
            call()
        assert "keras was imported with the 'jax' backend" in str(info.value)
        assert "KERAS_BACKEND=torch" in str(info.value)
