"""Sequential.fit / evaluate: learning XOR and two moons, batch vs mini-batch vs stochastic steps,
agreement with a hand-written loop and with PyTorch, reproducibility, validation, callbacks, the
NaN stop, and every bad input rejected before the first step."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from micrograd import Value
from micrograd.datasets import make_blobs, make_moons, make_xor
from micrograd.engine.tape import DataDependentGraphError
from micrograd.nn.sequential import Dense, Dropout, Sequential, TrainingDivergedError
from micrograd.optim import SGD, Adam, StepDecay
from micrograd.training import loop
from micrograd.training.callbacks import Callback, EarlyStopping, History, LearningRateScheduler
from micrograd.training.losses import binary_cross_entropy, mse


class Recorder(Callback):
    """Records the size of every batch and the weights at the end of every epoch."""

    def __init__(self) -> None:
        self.batch_sizes: list[list[int]] = []
        self.weights: list[list[float]] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.batch_sizes.append([])

    def on_batch_end(self, batch, logs=None):
        self.batch_sizes[-1].append(logs["size"])

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


def small_moons(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    return make_moons(n, noise=0.1, seed=0)


def small_classifier(seed: int = 0, dropout: float | None = None) -> Sequential:
    layers = [Dense(4, activation="tanh")]
    if dropout is not None:
        layers.append(Dropout(dropout))
    layers.append(Dense(1, activation="sigmoid"))
    return Sequential(layers, input_dim=2, seed=seed)


# -- it learns ------------------------------------------------------------------------------------


def test_fit_learns_xor_to_full_accuracy():
    X, y = make_xor()
    model = Sequential([Dense(4, activation="tanh"), Dense(1, activation="sigmoid")], input_dim=2, seed=0)
    model.compile(loss="binary_crossentropy", optimizer=Adam(lr=0.1), metrics=["accuracy"])
    history = model.fit(X, y, epochs=100, batch_size=4, verbose=0)
    loss, acc = model.evaluate(X, y)
    assert acc == 1.0
    assert loss < 0.05 < history.history["loss"][0]
    np.testing.assert_array_equal((model.predict(X)[:, 0] >= 0.5).astype(int), [0, 1, 1, 0])


def test_fit_learns_two_moons_to_97_percent():
    X, y = make_moons(200, noise=0.1, seed=0)
    model = Sequential([Dense(16, activation="relu"), Dense(1, activation="sigmoid")], input_dim=2, seed=0)
    model.compile(loss="binary_crossentropy", optimizer=Adam(lr=0.1), metrics=["accuracy"])
    history = model.fit(X, y, epochs=15, batch_size=16, seed=0, verbose=0)
    assert model.evaluate(X, y)[1] >= 0.97
    assert history.history["loss"][-1] < history.history["loss"][0] / 5


def test_the_same_seeds_give_identical_runs():
    X, y = small_moons()

    def run(fit_seed: int) -> tuple[dict, list[float]]:
        model = small_classifier(seed=3, dropout=0.25)
        model.compile(loss="binary_crossentropy", optimizer=Adam(lr=0.05), metrics=["accuracy"])
        history = model.fit(X, y, epochs=3, batch_size=8, seed=fit_seed, validation_split=0.25, verbose=0)
        return history.history, model.get_weights()

    first, second, other = run(1), run(1), run(2)
    assert first == second
    assert first[1] != other[1]


# -- batch, mini-batch, stochastic ----------------------------------------------------------------


@pytest.mark.parametrize(
    "batch_size, sizes",
    [
        (1, [1] * 10),  # stochastic gradient descent: one update per sample
        (3, [3, 3, 3, 1]),  # mini-batch: the last batch holds the rest
        (5, [5, 5]),
        (10, [10]),  # batch gradient descent: one update per epoch
        (32, [10]),  # a batch larger than the data is the whole data
    ],
)
def test_one_optimizer_step_per_batch(batch_size, sizes):
    X, y = small_moons(10)
    model = small_classifier()
    model.compile(loss="binary_crossentropy", optimizer=SGD(lr=0.1))
    recorder = Recorder()
    model.fit(X, y, epochs=2, batch_size=batch_size, callbacks=[recorder], verbose=0)
    assert recorder.batch_sizes == [sizes, sizes]
    assert model.optimizer.steps == 2 * math.ceil(10 / batch_size)


def test_the_course_example_200_samples_in_batches_of_5_is_40_updates_per_epoch():
    X = np.linspace(-1.0, 1.0, 200).reshape(-1, 1)
    y = 2.0 * X[:, 0]
    model = Sequential([Dense(1)], input_dim=1, seed=0)
    model.compile(loss="mse", optimizer=SGD(lr=0.01))
    model.fit(X, y, epochs=3, batch_size=5, verbose=0)
    assert model.optimizer.steps == 3 * 40


def test_one_sgd_epoch_equals_a_hand_written_loop():
    """fit runs on the tape, whose layers are matrix products: they add a neuron's terms in
    another order than `b + w0·x0 + ...`, so the weights agree to rounding (1e-12), not bit for bit."""
    X, y = small_moons(20)
    model, hand = small_classifier(seed=4), small_classifier(seed=4)
    model.compile(loss="binary_crossentropy", optimizer=SGD(lr=0.5))
    history = model.fit(X, y, epochs=1, batch_size=6, shuffle=False, verbose=0)

    # The course's loop: forward each sample of a batch, mean loss, backward, w <- w - lr * dL/dw.
    batch_losses = []
    for start in range(0, 20, 6):
        losses = [binary_cross_entropy(hand(X[i].tolist()), float(y[i])) for i in range(start, min(start + 6, 20))]
        loss = sum(losses[1:], losses[0]) / len(losses)
        hand.zero_grad()
        loss.backward()
        for p in hand.parameters():
            p.data -= 0.5 * p.grad
        batch_losses.append((loss.data, len(losses)))
    np.testing.assert_allclose(model.get_weights(), hand.get_weights(), rtol=1e-12, atol=1e-15)
    assert history.history["loss"] == pytest.approx([sum(loss * k for loss, k in batch_losses) / 20], rel=1e-12)


def test_one_sgd_epoch_matches_torch():
    X, y = small_moons(20)
    model = small_classifier(seed=5)
    dense1, dense2 = model.layers[0].layer, model.layers[1].layer
    tensors = [
        torch.tensor([[w.data for w in n.w] for n in dense1.neurons], dtype=torch.float64, requires_grad=True),
        torch.tensor([n.b.data for n in dense1.neurons], dtype=torch.float64, requires_grad=True),
        torch.tensor([[w.data for w in n.w] for n in dense2.neurons], dtype=torch.float64, requires_grad=True),
        torch.tensor([n.b.data for n in dense2.neurons], dtype=torch.float64, requires_grad=True),
    ]
    w1, b1, w2, b2 = tensors
    opt = torch.optim.SGD(tensors, lr=0.5)
    Xt, yt = torch.tensor(X), torch.tensor(y, dtype=torch.float64)
    for start in range(0, 20, 8):
        xb, yb = Xt[start : start + 8], yt[start : start + 8]
        p = torch.sigmoid(torch.tanh(xb @ w1.T + b1) @ w2.T + b2)[:, 0]
        loss = torch.nn.functional.binary_cross_entropy(p, yb)
        opt.zero_grad()
        loss.backward()
        opt.step()

    model.compile(loss="binary_crossentropy", optimizer=SGD(lr=0.5))
    model.fit(X, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    expected = [value for j in range(4) for value in [*w1[j].tolist(), b1[j].item()]] + [*w2[0].tolist(), b2[0].item()]
    np.testing.assert_allclose(model.get_weights(), expected, rtol=1e-12, atol=1e-14)


def test_shuffling_shows_each_training_sample_once_per_epoch_and_holds_out_the_last_fraction():
    seen: list[float] = []

    def recording_mse(pred, target):
        seen.append(target)
        return mse(pred, target)

    X = np.linspace(0.0, 1.0, 20).reshape(-1, 1)
    y = np.arange(20.0)  # each target names its sample
    model = Sequential([Dense(1)], input_dim=1, seed=0)
    model.compile(loss=recording_mse, optimizer=SGD(lr=1e-4))
    model.fit(X, y, epochs=2, batch_size=4, validation_split=0.25, seed=0, verbose=0)
    # 15 training samples per epoch (the first 75%), then the last 5 for validation.
    epoch1, val1, epoch2, val2 = seen[:15], seen[15:20], seen[20:35], seen[35:40]
    assert sorted(epoch1) == sorted(epoch2) == list(np.arange(15.0))
    assert epoch1 != list(np.arange(15.0)) and epoch1 != epoch2  # shuffled, differently each epoch
    assert val1 == val2 == list(np.arange(15.0, 20.0))

    seen.clear()
    model.fit(X, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    assert seen == list(np.arange(20.0))


# -- validation, history, evaluate ----------------------------------------------------------------


def test_history_and_validation_figures_are_those_of_evaluate():
    X, y = small_moons(40)
    X_val, y_val = make_moons(20, noise=0.2, seed=1)
    model = small_classifier(seed=1)
    model.compile(loss="binary_crossentropy", optimizer=Adam(lr=0.05), metrics=["accuracy"])
    history = model.fit(X, y, epochs=3, batch_size=10, validation_data=(X_val, y_val), verbose=0)
    assert isinstance(history, History) and history.epoch == [0, 1, 2]
    assert list(history.history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert all(len(v) == 3 for v in history.history.values())
    assert [history.history["val_loss"][-1], history.history["val_accuracy"][-1]] == model.evaluate(X_val, y_val)
    assert model.evaluate(X_val, y_val, return_dict=True) == {
        "loss": history.history["val_loss"][-1],
        "accuracy": history.history["val_accuracy"][-1],
    }


def test_evaluate_is_the_mean_per_sample_loss_and_a_float_without_metrics():
    X, y = small_moons(12)
    model = small_classifier(seed=2)
    model.compile(loss="binary_crossentropy", optimizer="adam")
    p = model.predict(X)[:, 0]
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    loss = model.evaluate(X, y)
    assert isinstance(loss, float) and loss == pytest.approx(expected, rel=1e-13)


def test_sparse_categorical_crossentropy_reads_softmax_outputs_as_probabilities_like_keras():
    X, y = make_blobs(30, centers=3, std=1.0, seed=0)
    soft = Sequential([Dense(3, activation="softmax")], input_dim=2, seed=0)
    soft.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    p = soft.predict(X)
    assert soft.evaluate(X, y) == pytest.approx(-np.mean(np.log(p[np.arange(30), y])), rel=1e-12)
    # On a linear last layer the outputs are logits (Keras's from_logits=True).
    logits = Sequential([Dense(3)], input_dim=2, seed=0)
    logits.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    expected = torch.nn.functional.cross_entropy(torch.tensor(logits.predict(X)), torch.tensor(y)).item()
    assert logits.evaluate(X, y) == pytest.approx(expected, rel=1e-12)
    # categorical_crossentropy on one-hot rows is the same number.
    soft.compile(loss="categorical_crossentropy", optimizer="adam")
    assert soft.evaluate(X, np.eye(3)[y]) == pytest.approx(-np.mean(np.log(p[np.arange(30), y])), rel=1e-12)


def test_class_indices_may_come_as_a_column_like_keras():
    X, y = make_blobs(12, centers=3, seed=0)
    model = Sequential([Dense(3, activation="softmax")], input_dim=2, seed=0)
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    assert model.evaluate(X, y.reshape(-1, 1)) == model.evaluate(X, y)


def test_kl_divergence_takes_the_targets_as_the_true_distribution():
    X, _ = make_blobs(10, centers=2, seed=1)
    targets = np.tile([0.2, 0.5, 0.3], (10, 1))
    model = Sequential([Dense(3, activation="softmax")], input_dim=2, seed=0)
    model.compile(loss="kl_divergence", optimizer="adam")
    q = model.predict(X)
    expected = np.mean(np.sum(targets * np.log(targets / q), axis=1))
    assert model.evaluate(X, targets) == pytest.approx(expected, rel=1e-12)


def test_a_three_class_softmax_model_learns_blobs():
    X, y = make_blobs(60, centers=3, std=1.0, seed=0)
    model = Sequential([Dense(3, activation="softmax")], input_dim=2, seed=0)
    model.compile(loss="sparse_categorical_crossentropy", optimizer=Adam(lr=0.1), metrics=["accuracy"])
    model.fit(X, y, epochs=10, batch_size=10, verbose=0)
    assert model.evaluate(X, y)[1] >= 0.95


# -- callbacks ------------------------------------------------------------------------------------


class FakeModel:
    def __init__(self) -> None:
        self.weights = [0.0]
        self.stop_training = False

    def get_weights(self):
        return list(self.weights)

    def set_weights(self, weights):
        self.weights = list(weights)


def drive(callback: EarlyStopping, values: list[float], key: str = "val_loss") -> tuple[int, FakeModel]:
    """Feed per-epoch figures to the callback as fit would; returns (epochs run, model)."""
    model = FakeModel()
    callback.set_model(model)
    callback.params = {"log_names": ["loss", key]}
    callback.on_train_begin()
    epochs = 0
    for epoch, value in enumerate(values):
        model.weights = [float(epoch)]
        callback.on_epoch_end(epoch, {key: value})
        epochs += 1
        if model.stop_training:
            break
    callback.on_train_end()
    return epochs, model


def test_early_stopping_waits_patience_epochs_without_improvement_like_keras():
    losses = [1.0, 0.8, 0.9, 0.85, 0.95, 0.5]
    assert drive(EarlyStopping(patience=0), losses)[0] == 3  # stops at the first epoch that does not improve
    assert drive(EarlyStopping(patience=2), losses)[0] == 4
    assert drive(EarlyStopping(patience=4), losses)[0] == 6
    # min_delta: 0.8 -> 0.79 -> 0.78 are no improvements of more than 0.05.
    assert drive(EarlyStopping(patience=2, min_delta=0.05), [1.0, 0.8, 0.79, 0.78, 0.7])[0] == 4
    assert drive(EarlyStopping(patience=2), [1.0, 0.8, 0.79, 0.78, 0.7])[0] == 5
    # accuracies are maximised
    callback = EarlyStopping(monitor="val_accuracy", patience=1, restore_best_weights=True)
    epochs, model = drive(callback, [0.5, 0.9, 0.8, 0.85, 1.0], key="val_accuracy")
    assert epochs == 3 and callback.best == 0.9 and model.weights == [1.0]


def test_early_stopping_restores_the_best_weights_only_when_asked():
    epochs, model = drive(EarlyStopping(patience=1, restore_best_weights=True), [1.0, 0.5, 0.7, 0.6])
    assert epochs == 3 and model.weights == [1.0]
    epochs, model = drive(EarlyStopping(patience=1), [1.0, 0.5, 0.7, 0.6])
    assert epochs == 3 and model.weights == [2.0]
    # Training that runs all its epochs still ends on the best weights.
    epochs, model = drive(EarlyStopping(patience=5, restore_best_weights=True), [1.0, 0.5, 0.7])
    assert epochs == 3 and model.weights == [1.0]


def test_early_stopping_in_fit_stops_and_restores_the_best_epoch():
    X, y = small_moons(40)
    X_val, y_val = X, 1 - y  # validation labels flipped: the better the fit, the worse val_loss
    model = small_classifier(seed=0)
    model.compile(loss="binary_crossentropy", optimizer=Adam(lr=0.05))
    recorder = Recorder()
    stop = EarlyStopping(patience=2, restore_best_weights=True)
    history = model.fit(
        X, y, epochs=30, batch_size=10, validation_data=(X_val, y_val), callbacks=[recorder, stop], verbose=0
    )
    val = history.history["val_loss"]
    best = int(np.argmin(val))
    assert len(val) == best + 1 + 2 < 30  # stopped 2 epochs after the best one
    assert stop.stopped_epoch == len(val) - 1
    assert model.get_weights() == recorder.weights[best] != recorder.weights[-1]
    assert model.evaluate(X_val, y_val) == val[best]


def test_early_stopping_on_a_figure_fit_does_not_log_fails_before_training():
    X, y = small_moons(10)
    model = small_classifier()
    model.compile(loss="binary_crossentropy", optimizer=SGD(lr=0.1))
    with pytest.raises(ValueError, match=r"monitors 'val_loss'.*validation_data"):
        model.fit(X, y, epochs=2, callbacks=[EarlyStopping()], verbose=0)
    assert model.optimizer.steps == 0


def test_a_learning_rate_schedule_steps_once_per_epoch():
    X, y = small_moons(10)
    model = small_classifier()
    opt = SGD(lr=0.8)
    model.compile(loss="binary_crossentropy", optimizer=opt)
    model.fit(
        X,
        y,
        epochs=5,
        batch_size=10,
        callbacks=[LearningRateScheduler(StepDecay(opt, step_size=2, gamma=0.5))],
        verbose=0,
    )
    assert opt.lr == 0.8 * 0.5 ** (5 // 2)


# -- dropout during fit ---------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [0.0, 0.5])
def test_dropout_is_active_in_fit_only(rate):
    X, y = small_moons(20)
    model = Sequential(
        [Dense(8, activation="tanh"), Dropout(rate, seed=1), Dense(1, activation="sigmoid")], input_dim=2, seed=0
    )
    model.compile(loss="binary_crossentropy", optimizer=SGD(lr=1e-12))
    before = model.evaluate(X, y)
    # One batch of all the data: the epoch's loss is the training-mode loss of the initial weights.
    history = model.fit(X, y, epochs=1, batch_size=20, verbose=0)
    if rate == 0.0:
        assert history.history["loss"][0] == pytest.approx(before, rel=1e-12)
    else:
        assert abs(history.history["loss"][0] - before) > 1e-3
    assert model.evaluate(X, y) == pytest.approx(before, rel=1e-9)  # evaluate: no dropout


# -- divergence -----------------------------------------------------------------------------------


def test_a_diverging_loss_stops_fit_at_once_with_advice():
    X = np.linspace(-1.0, 1.0, 20).reshape(-1, 1)
    y = 3.0 * X[:, 0] + 1.0
    model = Sequential([Dense(4, activation="relu"), Dense(1)], input_dim=1, seed=0)
    model.compile(loss="mse", optimizer=SGD(lr=1e6))
    recorder = Recorder()
    with pytest.raises(TrainingDivergedError, match=r"epoch \d+/50, batch \d/4: the loss is inf") as info:
        model.fit(X, y, epochs=50, batch_size=5, callbacks=[recorder], verbose=0)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert "Learning rate: NaN!" in message and "learning rate 1e+06 is too large" in message
    assert "smaller" in message
    assert len(recorder.weights) < 50  # stopped at once, not after a run of NaNs
    assert all(math.isfinite(w) for w in model.get_weights())


def test_weights_that_overflow_stop_fit_and_are_put_back():
    X, y = small_moons(8)
    model = small_classifier(seed=0)
    model.compile(loss="binary_crossentropy", optimizer=Adam(lr=1e308))
    with pytest.raises(TrainingDivergedError, match=r"epoch 1/3, batch [12]/2.*too large"):
        model.fit(X, y, epochs=3, batch_size=4, verbose=0)
    assert all(math.isfinite(w) for w in model.get_weights())


@pytest.mark.parametrize("engine", ["scalar", "tape"])
def test_a_divergence_from_too_large_initial_weights_says_the_start_was_far_off(engine):
    # N(0, 1) weights in a deep ReLU network (notebook 08's exploding case, smaller): the loss is
    # huge before any step, and a smaller learning rate would only diverge later.
    from micrograd.nn.initializers import RandomNormal

    X, y = make_moons(100, noise=0.1, seed=0)
    layers = [Dense(10, "relu", kernel_initializer=RandomNormal(stddev=1.0)) for _ in range(9)]
    model = Sequential([*layers, Dense(1, kernel_initializer=RandomNormal(stddev=1.0))], input_dim=2, seed=0)
    model.compile(loss="mse", optimizer=SGD(lr=0.01))
    first_loss = model.evaluate(X[:20], y[:20], verbose=0)
    assert first_loss > 1e3
    with pytest.raises(TrainingDivergedError) as info:
        model.fit(X, y, epochs=5, batch_size=20, shuffle=False, verbose=0, engine=engine)
    message = str(info.value)
    assert "too large for this problem" in message  # the usual advice stays
    assert f"the loss was already {first_loss:.3g} on the first batch, before any step" in message
    assert 'kernel_initializer="he_normal"' in message


def test_a_divergence_on_the_very_first_batch_does_not_blame_the_learning_rate_alone():
    model = Sequential([Dense(1, activation="relu", input_dim=2), Dense(1, activation="sigmoid")], seed=0)
    model.compile(loss="binary_crossentropy", optimizer="sgd")
    model.set_weights([1e200, 1e200, 0.0, 1.0, 0.0])
    X = np.array([[1e200, -1e200], [0.5, 0.5]])  # inf - inf in the first neuron: NaN before any step
    with pytest.raises(TrainingDivergedError, match="no step had been taken yet") as info:
        model.fit(X, np.array([1.0, 0.0]), epochs=1, batch_size=2, verbose=0, shuffle=False)
    assert "the learning rate is not the cause" in str(info.value)


def test_a_divergence_after_an_ordinary_start_keeps_the_learning_rate_advice_only():
    X = np.linspace(-1.0, 1.0, 20).reshape(-1, 1)
    model = Sequential([Dense(4, activation="relu"), Dense(1)], input_dim=1, seed=0)
    model.compile(loss="mse", optimizer=SGD(lr=1e6))
    with pytest.raises(TrainingDivergedError) as info:
        model.fit(X, 3.0 * X[:, 0] + 1.0, epochs=50, batch_size=5, verbose=0)
    message = str(info.value)
    assert "learning rate 1e+06 is too large" in message
    assert "before any step" not in message and "no step had been taken" not in message


# -- bad input: a clear ValueError before any training ----------------------------------------------


def compiled(loss: str = "binary_crossentropy", units: int = 1, activation: str = "sigmoid") -> Sequential:
    model = Sequential([Dense(3, activation="tanh"), Dense(units, activation=activation)], input_dim=2, seed=0)
    model.compile(loss=loss, optimizer=SGD(lr=0.1), metrics=["accuracy"])
    return model


X4 = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])


@pytest.mark.parametrize(
    "model, X, y, kwargs, message",
    [
        (compiled(), X4[:, 0], [0, 1, 1, 0], {}, r"X must be 2-D .*reshape\(-1, 1\)"),
        (compiled(), np.ones((4, 3)), [0, 1, 1, 0], {}, "3 features per sample, but the model takes 2"),
        (compiled(), [[0, 1], [1, "a"]], [0, 1], {}, "X must be an array of numbers"),
        (compiled(), np.where(X4 == 1.0, np.nan, X4), [0, 1, 1, 0], {}, "NaN or infinite"),
        (compiled(), X4, [0, 1, 1], {}, r"y must have shape \(4,\)"),
        (compiled(), X4, [0, 1, 2, 0], {}, r"y\[2\] = 2.0 is outside the classes: binary_crossentropy"),
        (compiled(), X4, [0, -1, 1, 0], {}, r"y\[1\] = -1.0 is outside the classes"),
        (compiled(), X4, np.ones((4, 2)), {}, "has 2 columns"),
        (
            compiled("sparse_categorical_crossentropy", 3, "softmax"),
            X4,
            [0, 1, 3, 2],
            {},
            r"y\[2\] = 3 is not a class.*0 \.\. 2",
        ),
        (
            compiled("sparse_categorical_crossentropy", 3, "softmax"),
            X4,
            [0, 1, 1.5, 2],
            {},
            r"y\[2\] = 1.5 is not a class",
        ),
        (compiled("categorical_crossentropy", 3, "softmax"), X4, [0, 1, 2, 1], {}, r"needs shape \(4, 3\)"),
        (compiled("categorical_crossentropy", 3, "softmax"), X4, np.ones((4, 3)), {}, "must sum to 1"),
        (compiled("hinge", 1, "linear"), X4, [0, 1, 1, 0], {}, "hinge needs labels -1 and 1"),
        (
            compiled("binary_crossentropy", 1, "linear"),
            X4,
            [0, 1, 1, 0],
            {},
            "needs activation 'sigmoid'; it has activation 'linear'",
        ),
        (compiled(), X4, [0, 1, 1, 0], {"epochs": 0}, "epochs must be a positive int"),
        (compiled(), X4, [0, 1, 1, 0], {"batch_size": 0}, "batch_size must be a positive int"),
        (compiled(), X4, [0, 1, 1, 0], {"verbose": 3}, "verbose must be 0"),
        (compiled(), X4, [0, 1, 1, 0], {"validation_split": 1.0}, r"validation_split must be a number in \[0, 1\)"),
        (compiled(), X4, [0, 1, 1, 0], {"validation_split": 0.8}, "leaves no training samples"),
        (compiled(), X4, [0, 1, 1, 0], {"validation_split": 0.5, "validation_data": (X4, [0, 1, 1, 0])}, "not both"),
        (compiled(), X4, [0, 1, 1, 0], {"validation_data": (X4, [0, 1, 2, 0])}, r"validation y\[2\] = 2.0"),
        (compiled(), X4, [0, 1, 1, 0], {"validation_data": (np.ones((2, 3)), [0, 1])}, "validation X has 3 features"),
        (compiled(), X4, [0, 1, 1, 0], {"validation_data": (X4,)}, r"validation_data must be a pair \(X_val, y_val\)"),
    ],
)
def test_bad_input_is_rejected_before_any_training(model, X, y, kwargs, message):
    before = model.get_weights()
    with pytest.raises(ValueError, match=message):
        model.fit(X, y, **{"epochs": 1, "verbose": 0, **kwargs})
    assert model.optimizer.steps == 0 and model.get_weights() == before


def test_fit_and_evaluate_need_compile():
    model = Sequential([Dense(1)], input_dim=2)
    with pytest.raises(RuntimeError, match="compile the model before fit"):
        model.fit(X4, [0, 1, 1, 0])
    with pytest.raises(RuntimeError, match="compile the model before evaluate"):
        model.evaluate(X4, [0, 1, 1, 0])


# -- progress -------------------------------------------------------------------------------------


def test_progress_bar_per_epoch_with_loss_and_metrics_and_silence_with_verbose_0(capsys):
    X, y = small_moons(10)
    model = small_classifier()
    model.compile(loss="binary_crossentropy", optimizer=SGD(lr=0.1), metrics=["accuracy"])
    model.fit(X, y, epochs=2, batch_size=5, verbose=1)
    err = capsys.readouterr().err
    assert "Epoch 1/2" in err and "Epoch 2/2" in err and "2/2" in err
    assert "loss=" in err and "accuracy=" in err
    model.fit(X, y, epochs=2, batch_size=5, verbose=0)
    assert capsys.readouterr() == ("", "")
    model.fit(X, y, epochs=2, batch_size=5, verbose=2)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[1].startswith("Epoch 2/2 - loss: ") and " - accuracy: " in out[1]


# -- the tape: fit replays one recorded graph per batch (micrograd.engine.tape) ---------------------------


def _fit_both(make_model, X, y, loss, metrics=(), **fit_kwargs):
    """The same training run with engine="tape" and engine="scalar": (histories, final weights)."""
    runs = []
    for engine in ("tape", "scalar"):
        model = make_model()
        model.compile(loss=loss, optimizer=Adam(lr=0.05), metrics=list(metrics))
        history = model.fit(X, y, verbose=0, engine=engine, **fit_kwargs)
        runs.append((history.history, model.get_weights()))
    return runs


TAPE_MODELS = {
    "tanh-sigmoid, binary_crossentropy": (
        lambda: Sequential([Dense(5, activation="tanh"), Dense(1, activation="sigmoid")], input_dim=2, seed=1),
        "binary_crossentropy",
        "moons",
    ),
    "relu with dropout, hinge": (
        lambda: Sequential([Dense(8, activation="relu"), Dropout(0.3, seed=2), Dense(1)], input_dim=2, seed=1),
        "hinge",
        "moons_pm1",
    ),
    "elu-softplus-leaky, huber": (
        lambda: Sequential(
            [Dense(4, activation="elu"), Dense(3, activation="leaky_relu"), Dense(1)], input_dim=2, seed=1
        ),
        "huber",
        "moons",
    ),
    "softmax output, sparse_categorical_crossentropy": (
        lambda: Sequential([Dense(6, activation="tanh"), Dense(3, activation="softmax")], input_dim=2, seed=1),
        "sparse_categorical_crossentropy",
        "blobs",
    ),
    "softmax output with dropout, categorical_crossentropy": (
        lambda: Sequential(
            [Dense(6, activation="relu"), Dropout(0.5, seed=4), Dense(3, activation="softmax")], input_dim=2, seed=1
        ),
        "categorical_crossentropy",
        "blobs_one_hot",
    ),
    "gelu-sigmoid, binary_crossentropy": (
        lambda: Sequential([Dense(5, activation="gelu"), Dense(1, activation="sigmoid")], input_dim=2, seed=1),
        "binary_crossentropy",
        "moons",
    ),
    "linear outputs, mse": (
        lambda: Sequential([Dense(4, activation="sigmoid"), Dense(2)], input_dim=2, seed=1),
        "mse",
        "two_targets",
    ),
}


def _tape_data(kind: str):
    if kind.startswith("blobs"):
        X, y = make_blobs(24, centers=3, std=1.0, seed=0)
        return (X, np.eye(3)[y.astype(int)]) if kind == "blobs_one_hot" else (X, y)
    X, y = small_moons(24)
    if kind == "moons_pm1":
        return X, 2 * y - 1
    if kind == "two_targets":
        return X, np.c_[X[:, 0] * X[:, 1], X[:, 0] - X[:, 1]]
    return X, y


@pytest.mark.parametrize("case", sorted(TAPE_MODELS))
def test_fit_on_the_tape_gives_the_scalar_engines_history(case):
    make_model, loss, data = TAPE_MODELS[case]
    X, y = _tape_data(data)
    (tape_history, tape_weights), (scalar_history, scalar_weights) = _fit_both(
        make_model, X, y, loss, epochs=3, batch_size=7, seed=3, validation_split=0.25
    )
    assert tape_history.keys() == scalar_history.keys()
    for key in scalar_history:
        np.testing.assert_allclose(tape_history[key], scalar_history[key], rtol=1e-12, atol=0, err_msg=key)
    np.testing.assert_allclose(tape_weights, scalar_weights, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "case",
    [
        "relu with dropout, hinge",
        "tanh-sigmoid, binary_crossentropy",
        "elu-softplus-leaky, huber",
        "gelu-sigmoid, binary_crossentropy",
        "linear outputs, mse",
    ],
)
def test_fit_on_the_tape_stays_within_1e_9_of_the_scalar_engine_over_100_steps(case):
    """The tape runs each layer as a matrix product, which adds a neuron's terms in another order
    than the scalar engine's `b + w0·x0 + ...`: no longer bit for bit, but within 1e-9 (relative)
    after 100 optimizer steps (24 samples in batches of 5: 5 steps per epoch, 20 epochs)."""
    make_model, loss, data = TAPE_MODELS[case]
    X, y = _tape_data(data)
    (tape_history, tape_weights), (scalar_history, scalar_weights) = _fit_both(
        make_model, X, y, loss, metrics=["accuracy"] if loss != "mse" else ["mae"], epochs=20, batch_size=5, seed=0
    )
    for key in scalar_history:
        np.testing.assert_allclose(tape_history[key], scalar_history[key], rtol=1e-9, atol=1e-12, err_msg=key)
    np.testing.assert_allclose(tape_weights, scalar_weights, rtol=1e-9, atol=1e-12)


def test_auto_takes_the_tape_unless_a_softmax_comes_before_the_last_layer(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("this engine should not run")

    X, y = _tape_data("blobs")
    with monkeypatch.context() as patch:
        patch.setattr(loop.ScalarEngine, "outputs", refuse)  # the scalar engine
        model = Sequential([Dense(4, activation="tanh"), Dense(3, activation="softmax")], input_dim=2, seed=0)
        model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd")
        model.fit(X, y, epochs=1, verbose=0)

    hidden = Sequential([Dense(4, activation="softmax"), Dense(3, activation="softmax")], input_dim=2, seed=0)
    hidden.compile(loss="sparse_categorical_crossentropy", optimizer="sgd")
    with monkeypatch.context() as patch:
        patch.setattr(loop.TapeEngine, "outputs", refuse)
        hidden.fit(X, y, epochs=1, verbose=0)
    # Forced onto the tape, the two recordings differ (softmax's max is a constant from the data).
    with pytest.raises(DataDependentGraphError, match=r"samples 0 and 1 differ at instruction \d+ \(op '-'\)"):
        hidden.fit(X, y, epochs=1, verbose=0, engine="tape")
    with pytest.raises(ValueError, match=r"engine must be 'auto', 'tape' or 'scalar', got 'numpy'"):
        hidden.fit(X, y, epochs=1, verbose=0, engine="numpy")


@pytest.mark.parametrize(
    "layers",
    [
        [Dense(6, "tanh"), Dense(1, "sigmoid")],
        [Dense(5, "relu"), Dropout(0.5, seed=1), Dense(4, "elu"), Dense(3, "softmax")],
        [Dense(4, "leaky_relu"), Dense(2, "linear")],
    ],
    ids=["tanh-sigmoid", "dropout-softmax", "leaky-linear"],
)
def test_predict_and_evaluate_run_on_the_tape_with_the_scalar_engines_numbers(layers):
    X, y = make_blobs(30, centers=3, seed=0)
    model = Sequential(layers, input_dim=2, seed=0)
    units = layers[-1].units
    if units == 1:
        model.compile(loss="binary_crossentropy", optimizer="sgd", metrics=["accuracy"])
        y = (y == 0).astype(float)
    elif units == 3:
        model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
    else:
        model.compile(loss="mse", optimizer="sgd")
        y = np.column_stack([y, -y]).astype(float)
    by_graph = []
    for row in X.tolist():  # the scalar engine, one graph per sample, no dropout
        out = model(row)
        by_graph.append([o.data for o in (out if isinstance(out, list) else [out])])
    predicted = model.predict(X)
    assert predicted.shape == (30, units)
    np.testing.assert_allclose(predicted, by_graph, rtol=1e-12, atol=1e-15)  # matrix products: to rounding
    sample_loss = loop.sample_loss_fn(model)
    losses = [
        sample_loss([Value(v) for v in row], t).data for row, t in zip(by_graph, model.loss.targets(np.asarray(y)))
    ]
    figures = model.evaluate(X, y)
    assert (figures[0] if isinstance(figures, list) else figures) == pytest.approx(
        math.fsum(losses) / len(losses), rel=1e-12
    )
