"""`fit` on a tape with the parameters in arrays: agreement with the scalar engine for every loss,
dropout and batch size (ragged last batch included), optimizer trajectories against torch.optim,
the model's Values in callbacks and after an interrupted fit, and one recording per model.

Tolerances: a lowered layer is a matrix product, which adds a neuron's terms in another order
than the scalar engine, so runs agree to rounding (1e-12 relative after a few steps), no longer
bit for bit; optimizers agree with torch.optim to 1e-10 over 50 steps.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from micrograd import Value
from micrograd.datasets import make_blobs, make_moons
from micrograd.engine import tape as tape_module
from micrograd.nn.sequential import Dense, Dropout, Sequential
from micrograd.optim import SGD, Adagrad, Adam, AdamW, RMSprop, StepDecay
from micrograd.training.callbacks import Callback, LearningRateScheduler
from micrograd.training.losses import binary_cross_entropy

N = 24


def _data(kind: str) -> tuple[np.ndarray, np.ndarray]:
    X, labels = make_blobs(N, centers=3, std=1.0, seed=0)
    labels = labels.astype(int)
    if kind == "index":
        return X, labels
    if kind == "one_hot":
        return X, np.eye(3)[labels]
    if kind == "distribution":
        smooth = 0.8 * np.eye(3)[labels] + 0.2 / 3
        return X, smooth
    if kind == "binary":
        return X, (labels == 0).astype(float)
    if kind == "pm1":
        return X, np.where(labels == 0, 1.0, -1.0)
    return X, np.c_[X[:, 0] * X[:, 1], X[:, 0] - X[:, 1]]  # two numbers per sample


# (loss, last layer, data, hidden activation)
LOSSES = {
    "mse": ("mse", lambda: Dense(2), "values", "tanh"),
    "mae": ("mae", lambda: Dense(2), "values", "elu"),
    "huber": ("huber", lambda: Dense(2), "values", "leaky_relu"),
    "binary_crossentropy": ("binary_crossentropy", lambda: Dense(1, "sigmoid"), "binary", "gelu"),
    "categorical_crossentropy": ("categorical_crossentropy", lambda: Dense(3, "softmax"), "one_hot", "relu"),
    "sparse on softmax": ("sparse_categorical_crossentropy", lambda: Dense(3, "softmax"), "index", "sigmoid"),
    "sparse on logits": ("sparse_categorical_crossentropy", lambda: Dense(3), "index", "leaky_relu"),
    "kl_divergence": ("kl_divergence", lambda: Dense(3, "softmax"), "distribution", "tanh"),
    "hinge": ("hinge", lambda: Dense(1), "pm1", "relu"),
    "multiclass_hinge": ("multiclass_hinge", lambda: Dense(3), "index", "tanh"),
    "a loss of your own": (lambda pred, target: (pred - target) ** 4, lambda: Dense(1), "binary", "tanh"),
}


def _run(case: str, engine: str, batch_size: int, dropout: bool, epochs: int = 1, optimizer=None):
    loss, last, kind, hidden = LOSSES[case]
    layers = [Dense(5, hidden)] + ([Dropout(0.3, seed=5)] if dropout else []) + [Dense(4, "tanh"), last()]
    model = Sequential(layers, input_dim=2, seed=2)
    model.compile(loss=loss, optimizer=optimizer or Adam(lr=0.05))
    X, y = _data(kind)
    history = model.fit(X, y, epochs=epochs, batch_size=batch_size, verbose=0, engine=engine, seed=1)
    return history.history["loss"], model.get_weights()


@pytest.mark.parametrize("case", sorted(LOSSES))
@pytest.mark.parametrize("dropout", [False, True])
def test_one_step_on_the_tape_agrees_with_the_scalar_engine_to_1e_12_for_every_loss(case, dropout):
    tape_loss, tape_weights = _run(case, "tape", N, dropout, optimizer=SGD(lr=0.5))
    scalar_loss, scalar_weights = _run(case, "scalar", N, dropout, optimizer=SGD(lr=0.5))
    np.testing.assert_allclose(tape_loss, scalar_loss, rtol=1e-12)
    np.testing.assert_allclose(tape_weights, scalar_weights, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", sorted(LOSSES))
@pytest.mark.parametrize("batch_size, dropout", [(7, False), (5, True), (N, False), (1, False)])
def test_training_on_the_tape_stays_within_1e_9_of_the_scalar_engine_for_every_loss(case, batch_size, dropout):
    """Batch 7 of 24 leaves a ragged last batch of 3; batch 1 is stochastic gradient descent. Adam
    divides by the gradients' own size, so rounding differences grow step by step: 1e-9, as over
    the 100 steps of test_fit.py."""
    epochs = 1 if batch_size < N else 3
    tape_loss, tape_weights = _run(case, "tape", batch_size, dropout, epochs)
    scalar_loss, scalar_weights = _run(case, "scalar", batch_size, dropout, epochs)
    np.testing.assert_allclose(tape_loss, scalar_loss, rtol=1e-9)
    # atol: a weight whose batch gradient is a sum that cancels to ~1e-17 on one engine and to
    # exactly 0 on the other moves by lr·g/(|g| + eps) ~ 1e-10 under Adam on one side only.
    np.testing.assert_allclose(tape_weights, scalar_weights, rtol=1e-9, atol=1e-9)


# -- optimizers and schedules against torch.optim --------------------------------------------------

OPTIMIZERS = {
    "SGD momentum nesterov wd": (
        lambda: SGD(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
        lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    ),
    "SGD dampening": (
        lambda: SGD(lr=0.05, momentum=0.5, dampening=0.3),
        lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.5, dampening=0.3),
    ),
    "Adagrad": (
        lambda: Adagrad(lr=0.1, lr_decay=0.01, weight_decay=0.001, initial_accumulator_value=0.1),
        lambda ps: torch.optim.Adagrad(ps, lr=0.1, lr_decay=0.01, weight_decay=0.001, initial_accumulator_value=0.1),
    ),
    "RMSprop centered momentum": (
        lambda: RMSprop(lr=0.01, momentum=0.5, centered=True, weight_decay=0.001),
        lambda ps: torch.optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True, weight_decay=0.001),
    ),
    "Adam amsgrad": (
        lambda: Adam(lr=0.02, amsgrad=True, weight_decay=0.001),
        lambda ps: torch.optim.Adam(ps, lr=0.02, amsgrad=True, weight_decay=0.001),
    ),
    "AdamW": (lambda: AdamW(lr=0.02), lambda ps: torch.optim.AdamW(ps, lr=0.02)),
}


@pytest.mark.parametrize("case", sorted(OPTIMIZERS))
def test_fit_follows_torch_optim_for_50_steps_with_a_step_decay(case):
    make_ours, make_torch = OPTIMIZERS[case]
    X, y = make_moons(10, noise=0.1, seed=0)
    model = Sequential([Dense(4, "tanh"), Dense(1)], input_dim=2, seed=3)
    dense1, dense2 = model.layers[0].layer, model.layers[1].layer
    tensors = [
        torch.tensor([[w.data for w in n.w] for n in dense.neurons], dtype=torch.float64, requires_grad=True)
        if k % 2 == 0
        else torch.tensor([n.b.data for n in dense.neurons], dtype=torch.float64, requires_grad=True)
        for k, dense in enumerate([dense1, dense1, dense2, dense2])
    ]
    w1, b1, w2, b2 = tensors
    opt = make_torch(tensors)
    decay = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    Xt, yt = torch.tensor(X), torch.tensor(y, dtype=torch.float64)
    for _epoch in range(10):  # 5 batches of 2: 50 steps
        for start in range(0, 10, 2):
            out = (torch.tanh(Xt[start : start + 2] @ w1.T + b1) @ w2.T + b2)[:, 0]
            loss = ((out - yt[start : start + 2]) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        decay.step()

    ours = make_ours()
    model.compile(loss="mse", optimizer=ours)
    schedule = LearningRateScheduler(StepDecay(ours, step_size=3, gamma=0.5))
    model.fit(X, y, epochs=10, batch_size=2, shuffle=False, verbose=0, callbacks=[schedule])
    assert ours.steps == 50
    expected = [v for j in range(4) for v in [*w1[j].tolist(), b1[j].item()]] + [*w2[0].tolist(), b2[0].item()]
    np.testing.assert_allclose(model.get_weights(), expected, rtol=1e-10, atol=1e-12)


# -- the model's Values when user code runs --------------------------------------------------------


class Watcher(Callback):
    """Keeps the weights and gradients the model's Values hold at every batch's end."""

    def __init__(self, stop_at: int | None = None) -> None:
        self.weights: list[list[float]] = []
        self.grads: list[list[float]] = []
        self.stop_at = stop_at

    def on_batch_end(self, batch, logs=None):
        self.weights.append(self.model.get_weights())
        self.grads.append([p.grad for p in self.model.parameters()])
        if self.stop_at is not None and len(self.weights) == self.stop_at:
            raise KeyboardInterrupt  # Ctrl-C in the middle of fit


def _watched_model():
    model = Sequential([Dense(4, "tanh"), Dense(1, "sigmoid")], input_dim=2, seed=0)
    model.compile(loss="binary_crossentropy", optimizer=Adam(lr=0.1))
    return model


def test_callbacks_see_each_steps_weights_and_gradients_in_the_values():
    X, y = make_moons(12, noise=0.1, seed=1)
    model = _watched_model()
    start = model.get_weights()
    watcher = Watcher()
    model.fit(X, y, epochs=2, batch_size=4, shuffle=False, verbose=0, callbacks=[watcher])
    assert len(watcher.weights) == 6
    assert watcher.weights[-1] == model.get_weights()
    # Each gradient is the batch-mean gradient at the weights before that step, by the scalar engine.
    before = [start, *watcher.weights[:-1]]
    for step, (weights, grads) in enumerate(zip(before, watcher.grads)):
        check = _watched_model()
        check.set_weights(weights)
        batch = range((step % 3) * 4, (step % 3) * 4 + 4)
        losses = [binary_cross_entropy(check(X[i].tolist()), float(y[i])) for i in batch]
        total = sum(losses[1:], losses[0]) / 4
        total.backward()
        np.testing.assert_allclose(grads, [p.grad for p in check.parameters()], rtol=1e-11, atol=1e-14)
    assert watcher.weights[0] != start  # the callback saw the step's result, not the old weights


def test_a_fit_interrupted_from_a_callback_leaves_the_last_steps_weights_in_the_model():
    X, y = make_moons(12, noise=0.1, seed=1)
    model = _watched_model()
    watcher = Watcher(stop_at=4)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y, epochs=3, batch_size=4, shuffle=False, verbose=0, callbacks=[watcher])
    assert model.get_weights() == watcher.weights[-1]
    assert model.optimizer.steps == 4
    # Training on continues from there, as an uninterrupted run of the same steps does.
    model.fit(X, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    straight = _watched_model()
    straight.fit(X, y, epochs=1, batch_size=4, shuffle=False, verbose=0)  # steps 1-3
    straight.fit(X[:4], y[:4], epochs=1, batch_size=4, shuffle=False, verbose=0)  # step 4
    straight.fit(X, y, epochs=1, batch_size=4, shuffle=False, verbose=0)  # steps 5-7
    np.testing.assert_allclose(model.get_weights(), straight.get_weights(), rtol=1e-12)


def test_a_callback_that_sets_weights_is_followed():
    """EarlyStopping-style code: weights set in on_epoch_end are what the next epoch trains from."""
    X, y = make_moons(8, noise=0.1, seed=1)

    class Reset(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                self.model.set_weights([0.1] * len(self.model.get_weights()))

    model = Sequential([Dense(4, "tanh"), Dense(1, "sigmoid")], input_dim=2, seed=0)
    model.compile(loss="binary_crossentropy", optimizer=SGD(lr=0.3))  # no state: the epochs are independent
    model.fit(X, y, epochs=2, batch_size=8, shuffle=False, verbose=0, callbacks=[Reset()])
    twin = Sequential([Dense(4, "tanh"), Dense(1, "sigmoid")], input_dim=2, seed=0)
    twin.compile(loss="binary_crossentropy", optimizer=SGD(lr=0.3))
    twin.set_weights([0.1] * 17)
    twin.fit(X, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    assert model.get_weights() == twin.get_weights()
    assert model.get_weights() != [0.1] * 17


def test_fit_records_the_model_once_and_predict_reuses_it(monkeypatch):
    calls = []
    original = tape_module.Tape.record.__func__

    def counting(cls, *args, **kwargs):
        tape = original(cls, *args, **kwargs)
        calls.append("model" if tape.parameters else "loss")  # a loss's tape has no parameters
        return tape

    monkeypatch.setattr(tape_module.Tape, "record", classmethod(counting))
    X, y = make_moons(20, noise=0.1, seed=0)
    model = _watched_model()
    model.fit(X, y, epochs=2, batch_size=5, verbose=0, validation_split=0.2)
    model.predict(X)
    model.fit(X, y, epochs=1, verbose=0)
    assert calls.count("model") == 1
    # the loss: per fit and per evaluation (the validation data's, after each of the first fit's
    # two epochs), each structure the data shows (targets 0 and 1: two programs, both in the first
    # batch) and the tape that runs them side by side; none per step
    assert calls.count("loss") == (2 + 2) * (2 + 1)


def test_a_softmax_output_reaches_the_loss_as_probabilities_on_the_tape():
    """Keras's reading: the last layer's softmax is part of the model, and predict returns it."""
    X, y = _data("index")
    model = Sequential([Dense(4, "tanh"), Dense(3, "softmax")], input_dim=2, seed=0)
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd")
    model.fit(X, y, epochs=1, verbose=0)
    probabilities = model.predict(X)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-15)
    by_graph = [[v.data for v in model(row)] for row in X.tolist()]
    np.testing.assert_allclose(probabilities, by_graph, rtol=1e-12)
    assert isinstance(model(X[0].tolist())[0], Value)
