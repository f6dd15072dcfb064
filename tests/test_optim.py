"""Optimizers and schedules against torch.optim and torch.optim.lr_scheduler (float64)."""

from __future__ import annotations

import inspect
import math

import pytest
import torch
from torch.optim import lr_scheduler

from micrograd import Value
from micrograd.nn import MLP
from micrograd.optim import (
    OPTIMIZERS,
    SGD,
    Adagrad,
    Adam,
    AdamW,
    ExponentialDecay,
    InverseTimeDecay,
    Optimizer,
    RMSprop,
    StepDecay,
    get_optimizer,
)
from micrograd.training.losses import mse

TORCH = {cls: getattr(torch.optim, cls.__name__) for cls in (SGD, Adagrad, RMSprop, Adam, AdamW)}
START = (-1.2, 1.0, 0.5)
STEPS = 50


def objective(x, y, z):
    """A Rosenbrock-like valley plus a tanh term; written once for Values and torch tensors."""
    return (1 - x) ** 2 + 2 * (y - x * x) ** 2 + ((x * z).tanh() - 0.3) ** 2 + 0.05 * z * z


def our_trajectory(opt_class, kwargs, steps=STEPS, schedule=None):
    params = [Value(v) for v in START]
    opt = opt_class(params, **kwargs)
    sched = schedule(opt) if schedule else None
    path = []
    for _ in range(steps):
        opt.zero_grad()
        objective(*params).backward()
        opt.step()
        if sched:
            sched.step()
        path.append([p.data for p in params])
    return path


def torch_trajectory(opt_class, kwargs, steps=STEPS, schedule=None):
    params = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in START]
    opt = opt_class(params, foreach=False, **kwargs)  # foreach=False: the plain per-tensor loop
    sched = schedule(opt) if schedule else None
    path = []
    for _ in range(steps):
        opt.zero_grad()
        objective(*params).backward()
        opt.step()
        if sched:
            sched.step()
        path.append([p.item() for p in params])
    return path


def assert_same_path(ours, theirs, tol=1e-10):
    assert len(ours) == len(theirs)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for x, y in zip(a, b):
            assert abs(x - y) <= tol, f"step {step + 1}: {a} vs torch {b}"
    # the test problem must actually move every parameter, or it would prove nothing
    assert all(abs(x - s) > 1e-3 for x, s in zip(ours[-1], START)), ours[-1]


CONFIGS = [
    (SGD, {"lr": 0.01}),
    (SGD, {"lr": 0.01, "momentum": 0.9}),
    (SGD, {"lr": 0.01, "momentum": 0.9, "dampening": 0.3}),
    (SGD, {"lr": 0.01, "momentum": 0.9, "nesterov": True}),
    (SGD, {"lr": 0.02, "weight_decay": 0.1}),
    (SGD, {"lr": 0.01, "momentum": 0.8, "nesterov": True, "weight_decay": 0.05}),
    (Adagrad, {}),
    (Adagrad, {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.2, "eps": 1e-6}),
    (RMSprop, {}),
    (RMSprop, {"lr": 0.005, "alpha": 0.9, "momentum": 0.8}),
    (RMSprop, {"lr": 0.01, "centered": True, "weight_decay": 0.1}),
    (RMSprop, {"lr": 0.003, "centered": True, "momentum": 0.5, "eps": 1e-4}),
    (Adam, {}),
    (Adam, {"lr": 0.05}),
    (Adam, {"lr": 0.05, "weight_decay": 0.1}),
    (Adam, {"lr": 0.05, "betas": (0.8, 0.99), "amsgrad": True}),
    (AdamW, {}),
    (AdamW, {"lr": 0.05, "weight_decay": 0.1}),
    (AdamW, {"lr": 0.05, "amsgrad": True, "eps": 1e-6}),
]


@pytest.mark.parametrize("opt_class, kwargs", CONFIGS, ids=lambda x: getattr(x, "__name__", str(x)))
def test_fifty_steps_match_torch(opt_class, kwargs):
    assert_same_path(our_trajectory(opt_class, kwargs), torch_trajectory(TORCH[opt_class], kwargs))


def test_mlp_training_matches_torch():
    """A 2-4-1 tanh MLP on XOR, mse, AdamW: every weight after 50 steps equals torch's."""
    data = [([0.0, 0.0], 0.0), ([0.0, 1.0], 1.0), ([1.0, 0.0], 1.0), ([1.0, 1.0], 0.0)]
    model = MLP(2, [4, 1], activation="tanh", seed=3)
    params = model.parameters()
    t_params = [torch.tensor(p.data, dtype=torch.float64, requires_grad=True) for p in params]
    opt = AdamW(params, lr=0.05, weight_decay=0.05)
    t_opt = torch.optim.AdamW(t_params, lr=0.05, weight_decay=0.05, foreach=False)

    def torch_model(x):
        hidden = []
        for n in range(4):  # micrograd's neuron: b + w0·x0 + w1·x1, in that order
            w0, w1, b = t_params[3 * n : 3 * n + 3]
            hidden.append((b + w0 * x[0] + w1 * x[1]).tanh())
        *w, b = t_params[12:]
        out = b
        for wi, h in zip(w, hidden):
            out = out + wi * h
        return out

    for _ in range(STEPS):
        opt.zero_grad()
        loss = sum((mse(model(x), y) for x, y in data), Value(0.0)) / len(data)
        loss.backward()
        opt.step()
        t_opt.zero_grad()
        zero = torch.tensor(0.0, dtype=torch.float64)
        t_loss = sum(((torch_model(x) - y) ** 2 for x, y in data), zero) / len(data)
        t_loss.backward()
        t_opt.step()
        assert abs(loss.data - t_loss.item()) <= 1e-10
    for p, tp in zip(params, t_params):
        assert abs(p.data - tp.item()) <= 1e-10


def test_defaults_are_torch_defaults():
    for name, ours in OPTIMIZERS.items():
        mine = inspect.signature(ours.__init__).parameters
        theirs = inspect.signature(TORCH[ours].__init__).parameters
        for hyper, parameter in mine.items():
            if hyper in ("self", "params") or (ours is SGD and hyper == "lr"):
                continue
            assert parameter.default == theirs[hyper].default, (name, hyper)
    assert SGD().lr == 0.01  # the contract (and Keras) default; torch's SGD uses 1e-3


# -- schedules ------------------------------------------------------------------------------------------

SCHEDULES = [
    (lambda o: StepDecay(o, step_size=3, gamma=0.5), lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5)),
    (lambda o: ExponentialDecay(o, gamma=0.9), lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9)),
    (
        lambda o: InverseTimeDecay(o, decay_rate=0.5),
        lambda o: lr_scheduler.LambdaLR(o, lambda t: 1 / (1 + 0.5 * t)),
    ),
]


@pytest.mark.parametrize("ours, theirs", SCHEDULES, ids=["step", "exponential", "inverse_time"])
@pytest.mark.parametrize("opt_class", [SGD, Adagrad, RMSprop, Adam, AdamW])
def test_schedule_lr_sequence_matches_torch(ours, theirs, opt_class):
    params = [Value(1.0)]
    opt = opt_class(params, lr=0.2)
    sched = ours(opt)
    t_opt = TORCH[opt_class]([torch.tensor(1.0, dtype=torch.float64, requires_grad=True)], lr=0.2)
    t_sched = theirs(t_opt)
    lrs, t_lrs = [sched.lr], [t_sched.get_last_lr()[0]]
    for _ in range(30):
        opt.step()  # (gradients are 0: only the rate matters here)
        t_opt.step()
        sched.step()
        t_sched.step()
        lrs.append(sched.lr)
        t_lrs.append(t_sched.get_last_lr()[0])
    assert opt.lr == sched.lr
    assert len(set(lrs)) > 5  # the rate really changes
    for a, b in zip(lrs, t_lrs):
        assert math.isclose(a, b, rel_tol=1e-14), (lrs, t_lrs)


@pytest.mark.parametrize(
    "opt_class, kwargs, ours, theirs",
    [
        (
            SGD,
            {"lr": 0.02, "momentum": 0.9},
            lambda o: StepDecay(o, 10, 0.5),
            lambda o: lr_scheduler.StepLR(o, 10, 0.5),
        ),
        (Adam, {"lr": 0.05}, lambda o: ExponentialDecay(o, 0.95), lambda o: lr_scheduler.ExponentialLR(o, 0.95)),
        (
            RMSprop,
            {"lr": 0.01, "momentum": 0.5},
            lambda o: InverseTimeDecay(o, 0.1),
            lambda o: lr_scheduler.LambdaLR(o, lambda t: 1 / (1 + 0.1 * t)),
        ),
    ],
)
def test_training_with_a_schedule_matches_torch(opt_class, kwargs, ours, theirs):
    ours = our_trajectory(opt_class, kwargs, schedule=ours)
    assert_same_path(ours, torch_trajectory(TORCH[opt_class], kwargs, schedule=theirs))


def test_schedule_formulas():
    opt = SGD(lr=0.1)  # a schedule works before the parameters are bound (Keras style)
    step = StepDecay(opt, step_size=2, gamma=0.5)
    assert [step.lr_at(t) for t in range(5)] == [0.1, 0.1, 0.05, 0.05, 0.025]
    assert InverseTimeDecay(SGD(lr=1.0), 1.0).lr_at(3) == 0.25
    assert ExponentialDecay(SGD(lr=1.0), 0.5).lr_at(3) == 0.125


# -- binding, state, names -------------------------------------------------------------------------------


def test_keras_style_bind_gives_the_same_steps_as_params_first():
    late = Adam(lr=0.05)
    params = [Value(v) for v in START]
    assert late.bind(params) is late
    for _ in range(10):
        late.zero_grad()
        objective(*params).backward()
        late.step()
    assert [p.data for p in params] == our_trajectory(Adam, {"lr": 0.05}, 10)[-1]


def test_bind_again_starts_fresh_state():
    opt = Adam([Value(v) for v in START], lr=0.05)
    for _ in range(5):
        objective(*opt.params).backward()
        opt.step()
        opt.zero_grad()
    params = [Value(v) for v in START]
    opt.bind(params)
    assert opt.steps == 0
    for _ in range(10):
        opt.zero_grad()
        objective(*params).backward()
        opt.step()
    assert [p.data for p in params] == our_trajectory(Adam, {"lr": 0.05}, 10)[-1]


def test_step_updates_data_without_building_a_graph_and_zero_grad_clears():
    p = Value(2.0, "w")
    opt = SGD([p], lr=0.1, momentum=0.9)
    (p * p).backward()
    opt.step()
    assert p.data == 2.0 - 0.1 * 4.0
    assert p.op == "" and p.children == () and type(p.data) is float
    opt.zero_grad()
    assert p.grad == 0.0


def test_get_optimizer_by_keras_name():
    for name, cls in OPTIMIZERS.items():
        opt = get_optimizer(name)
        assert type(opt) is cls
    assert type(get_optimizer("Adam")) is Adam and get_optimizer("adam").lr == 1e-3
    opt = RMSprop(lr=0.1)
    assert get_optimizer(opt) is opt
    assert repr(Adam(lr=0.05)) == "Adam(lr=0.05, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0, amsgrad=False)"


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda: get_optimizer("adamm"),
            ValueError,
            "unknown optimizer 'adamm'; choose one of: sgd, adagrad, rmsprop, adam",
        ),
        (lambda: get_optimizer(3), TypeError, "optimizer must be a name or an Optimizer"),
        (lambda: SGD(lr=0.0), ValueError, "SGD: lr must be a positive finite number, got 0.0"),
        (lambda: Adam(lr=-0.1), ValueError, "Adam: lr must be a positive"),
        (lambda: RMSprop(lr=math.nan), ValueError, "RMSprop: lr must be a positive"),
        (lambda: Adagrad(lr=math.inf), ValueError, "Adagrad: lr must be a positive"),
        (lambda: AdamW(lr="0.1"), TypeError, "AdamW: lr must be a number"),
        (lambda: SGD(lr=True), TypeError, "SGD: lr must be a number"),
        (lambda: SGD(lr=0.1, nesterov=True), ValueError, "nesterov=True needs momentum > 0"),
        (lambda: SGD(lr=0.1, momentum=-0.5), ValueError, "SGD: momentum must be a finite number >= 0"),
        (lambda: Adam(betas=(1.0, 0.999)), ValueError, r"Adam: betas\[0\] must be in \[0, 1\)"),
        (lambda: Adam(betas=0.9), TypeError, "Adam: betas must be a pair"),
        (lambda: AdamW(weight_decay=-1.0), ValueError, "AdamW: weight_decay must be"),
        (lambda: RMSprop(centered=1), TypeError, "RMSprop: centered must be True or False"),
        (lambda: SGD(lr=0.1).step(), RuntimeError, "SGD.step: no parameters yet.*bind"),
        (lambda: Adam().zero_grad(), RuntimeError, "Adam.zero_grad: no parameters yet"),
        (lambda: Adam([]), ValueError, "Adam: got an empty parameter list"),
        (lambda: Adam([Value(1.0), 2.0]), TypeError, r"Adam: params\[1\] must be a Value"),
        (lambda: SGD(MLP(2, [1])), TypeError, "pass a list of parameters, e.g. model.parameters()"),
        (lambda: StepDecay(SGD(), 0), ValueError, "StepDecay: step_size must be a positive int"),
        (lambda: StepDecay(SGD(), 2, gamma=0.0), ValueError, "StepDecay: gamma must be a positive"),
        (lambda: ExponentialDecay("adam", 0.9), TypeError, "ExponentialDecay: needs an Optimizer"),
        (lambda: InverseTimeDecay(SGD(), -1.0), ValueError, "InverseTimeDecay: decay_rate must be"),
    ],
)
def test_bad_arguments_give_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_duplicate_and_lr_setter_errors():
    w = Value(1.0, "w")
    with pytest.raises(ValueError, match=r"params\[1\] \('w'\) appears twice"):
        SGD([w, w])
    opt = SGD([w], lr=0.1)
    with pytest.raises(ValueError, match="SGD: lr must be a positive"):
        opt.lr = -1.0
    assert opt.lr == 0.1
    assert isinstance(opt, Optimizer)
