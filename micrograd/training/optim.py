"""Optimizers and learning-rate schedules, with torch.optim's exact update rules and defaults.

The PyTorch way:    opt = Adam(model.parameters(), lr=0.01)
                    loss.backward(); opt.step(); opt.zero_grad()
The Keras way:      model.compile(loss=..., optimizer=Adam(lr=0.01))   # compile calls opt.bind(...)

How a step updates a parameter: it reads `p.grad` and writes `p.data`, both plain floats, so an
update can never become part of a graph. This is what `with torch.no_grad(): p -= lr * p.grad`
achieves in PyTorch; here no `no_grad()` block is needed because no Value is ever built.

Each update rule is written once, on arrays: `update_arrays(data, grad)` updates a float64 array
of the parameters' values in place from their gradients (`fit` on a tape keeps the parameters in
arrays for the whole run and calls it directly), and `step()` gathers the parameters' `.data`
and `.grad` into arrays, calls it, and writes the new values back. Every element is computed by
the same formula, in the same order, as torch.optim's (float64, no fused kernels). The
per-parameter state (momentum, running averages) is arrays too.

Schedules change `optimizer.lr` once per epoch (call `schedule.step()` after each epoch), like
torch.optim.lr_scheduler, and work with any optimizer: StepDecay, ExponentialDecay,
InverseTimeDecay (the step, exponential and 1/t decays of CS231n's notes).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import numpy as np

from ..checks import check_bool, check_int, check_number
from ..engine import Value

# -- checking hyperparameters ---------------------------------------------------------------------


def _at_least(owner: str, name: str, value: Any, low: float) -> float:
    return check_number(owner, name, value, low)


def _positive(owner: str, name: str, value: Any) -> float:
    return check_number(owner, name, value, 0.0, low_open=True)


def _fraction(owner: str, name: str, value: Any) -> float:
    """A decay factor in [0, 1), such as a beta."""
    return check_number(owner, name, value, 0.0, 1.0, high_open=True, wanted="in [0, 1)")


# -- the base class -------------------------------------------------------------------------------


#: Every optimizer by its Keras name ("sgd", "adam", ...), filled as the classes are defined.
OPTIMIZERS: dict[str, Callable[[], Optimizer]] = {}


class Optimizer:
    """Updates a list of parameters from their gradients: `step()`, then `zero_grad()`.

    `params` may be left out and bound later with `bind(params)` (which `compile` does).
    `lr` is the current learning rate; set it to change the rate (schedules do).
    `steps` counts the updates made since the parameters were bound.
    """

    #: The Keras name that `compile(optimizer="adam")` takes; a subclass with one is registered in
    #: OPTIMIZERS when it is defined, so a new optimizer is one class in this file.
    keras_name: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "keras_name" in cls.__dict__:
            OPTIMIZERS[cls.keras_name] = cls

    def __init__(self, params: Iterable[Value] | None, lr: float) -> None:
        self.lr = lr
        self._params: list[Value] | None = None
        self.steps = 0
        if params is not None:
            self.bind(params)

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _positive(type(self).__name__, "lr", value)

    @property
    def params(self) -> list[Value]:
        """The bound parameters (a copy of the list)."""
        return list(self._bound("params"))

    def bind(self, params: Iterable[Value]) -> Optimizer:
        """Give the optimizer its parameters (and fresh state); returns the optimizer itself."""
        owner = type(self).__name__
        if isinstance(params, Value) or hasattr(params, "parameters"):
            raise TypeError(f"{owner}: pass a list of parameters, e.g. model.parameters(), got {params!r:.60}")
        try:
            params = list(params)
        except TypeError:
            raise TypeError(
                f"{owner}: params must be a list of Values, got {type(params).__name__}: {params!r:.60}"
            ) from None
        if not params:
            raise ValueError(f"{owner}: got an empty parameter list")
        seen: set[Value] = set()
        for i, p in enumerate(params):
            if not isinstance(p, Value):
                raise TypeError(f"{owner}: params[{i}] must be a Value, got {type(p).__name__}: {p!r:.60}")
            if p in seen:
                raise ValueError(f"{owner}: params[{i}] ({p.label or p!r}) appears twice (it would move twice)")
            seen.add(p)
        self._params = params
        self.steps = 0
        self._reset_state(len(params))
        return self

    def _bound(self, action: str) -> list[Value]:
        if self._params is None:
            name = type(self).__name__
            raise RuntimeError(
                f"{name}.{action}: no parameters yet; pass them, {name}(model.parameters(), ...), "
                f"or call bind(model.parameters()) (model.compile does this)"
            )
        return self._params

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0, before the next `backward()`."""
        for p in self._bound("zero_grad"):
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter once from its current gradient (`update_arrays` on the gathered
        `.data` and `.grad`, the new values written back)."""
        params = self._bound("step")
        data = np.fromiter((p.data for p in params), np.float64, len(params))
        grad = np.fromiter((p.grad for p in params), np.float64, len(params))
        self.update_arrays(data, grad)
        for p, value in zip(params, data.tolist()):
            p.data = value

    def update_arrays(self, data: np.ndarray, grad: np.ndarray) -> None:
        """One step on arrays: `data` (the parameters' values, float64, in the bound parameters'
        order) is updated in place from `grad`; the bound Values are not touched."""
        params = self._bound("update_arrays")
        if data.shape != (len(params),) or grad.shape != data.shape:
            raise ValueError(
                f"{type(self).__name__}.update_arrays: data and grad must have shape ({len(params)},), one value "
                f"per bound parameter, got {data.shape} and {grad.shape}"
            )
        self.steps += 1
        with np.errstate(all="ignore"):  # an overflow gives inf, as Python floats do; fit reports it
            self._update(data, grad)

    def snapshot(self) -> dict[str, Any]:
        """Everything a step changes (the step count and the per-parameter state): with `restore`,
        a step interrupted part-way is undone whole (see `micrograd.training.loop`). The state
        arrays are kept, not copied: `_update` replaces them with new arrays, never changes one."""
        return {name: value for name, value in vars(self).items() if name != "_params"}

    def restore(self, snapshot: dict[str, Any]) -> None:
        """Go back to the state of an earlier `snapshot()` (of this optimizer, same parameters)."""
        vars(self).update(snapshot)

    def _reset_state(self, n: int) -> None:
        """Start the per-parameter state for n parameters."""

    def _update(self, data: np.ndarray, grad: np.ndarray) -> None:
        """The update rule: `data` in place from `grad` (arrays), with the state; `steps` is t.
        A state array is replaced by a new one (`self._m = beta1 * self._m + ...`), never changed
        in place, so `snapshot` can keep the old one."""
        raise NotImplementedError

    #: The constructor's keyword arguments besides lr, each kept as an attribute of that name.
    HYPERPARAMETERS: tuple[str, ...] = ()

    def hyperparameters(self) -> dict[str, Any]:
        """The constructor's arguments except params, for display and for saving."""
        return {"lr": self.lr, **{name: getattr(self, name) for name in self.HYPERPARAMETERS}}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"


# -- the optimizers -------------------------------------------------------------------------------


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum and L2 weight decay.

        g = grad + weight_decay·p
        b = g at the first step, then momentum·b + (1 − dampening)·g
        g = g + momentum·b (nesterov) or b (momentum > 0)
        p = p − lr·g

    (torch.optim.SGD's rule. Its default lr is 1e-3; here it is Keras's 0.01.)
    """

    keras_name = "sgd"

    HYPERPARAMETERS = ("momentum", "dampening", "weight_decay", "nesterov")

    def __init__(
        self,
        params: Iterable[Value] | None = None,
        lr: float = 0.01,
        *,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        self.momentum = _at_least("SGD", "momentum", momentum, 0.0)
        self.dampening = _at_least("SGD", "dampening", dampening, 0.0)
        self.weight_decay = _at_least("SGD", "weight_decay", weight_decay, 0.0)
        self.nesterov = check_bool("SGD", "nesterov", nesterov)
        if nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError("SGD: nesterov=True needs momentum > 0 and dampening = 0")
        super().__init__(params, lr)

    def _reset_state(self, n: int) -> None:
        self._buffer = np.zeros(n)

    def _update(self, data: np.ndarray, grad: np.ndarray) -> None:
        lr, momentum, wd = self.lr, self.momentum, self.weight_decay
        g = grad
        if wd != 0:
            g = g + wd * data
        if momentum != 0:
            b = g.copy() if self.steps == 1 else momentum * self._buffer + (1.0 - self.dampening) * g
            self._buffer = b
            g = g + momentum * b if self.nesterov else b
        data -= lr * g


class Adagrad(Optimizer):
    """Adagrad: each parameter's step shrinks with the sum of its squared gradients.

    g = grad + weight_decay·p;  s = s + g²
    p = p − lr_t · g / (√s + eps),  lr_t = lr / (1 + (t − 1)·lr_decay)
    """

    keras_name = "adagrad"

    HYPERPARAMETERS = ("lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def __init__(
        self,
        params: Iterable[Value] | None = None,
        lr: float = 0.01,
        *,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ) -> None:
        self.lr_decay = _at_least("Adagrad", "lr_decay", lr_decay, 0.0)
        self.weight_decay = _at_least("Adagrad", "weight_decay", weight_decay, 0.0)
        self.initial_accumulator_value = _at_least(
            "Adagrad", "initial_accumulator_value", initial_accumulator_value, 0.0
        )
        self.eps = _at_least("Adagrad", "eps", eps, 0.0)
        super().__init__(params, lr)

    def _reset_state(self, n: int) -> None:
        self._sum = np.full(n, self.initial_accumulator_value)

    def _update(self, data: np.ndarray, grad: np.ndarray) -> None:
        lr_t = self.lr / (1.0 + (self.steps - 1) * self.lr_decay)
        g = grad
        if self.weight_decay != 0:
            g = g + self.weight_decay * data
        self._sum = self._sum + g * g
        data -= lr_t * (g / (np.sqrt(self._sum) + self.eps))


class RMSprop(Optimizer):
    """RMSprop: divide by a running root-mean-square of the gradients.

    g = grad + weight_decay·p;  v = alpha·v + (1 − alpha)·g²
    d = √v + eps   (centered: √(v − ḡ²) + eps, with ḡ = alpha·ḡ + (1 − alpha)·g)
    p = p − lr·g/d   (momentum > 0: b = momentum·b + g/d, p = p − lr·b)
    """

    keras_name = "rmsprop"

    HYPERPARAMETERS = ("alpha", "eps", "weight_decay", "momentum", "centered")

    def __init__(
        self,
        params: Iterable[Value] | None = None,
        lr: float = 0.01,
        *,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        self.alpha = _at_least("RMSprop", "alpha", alpha, 0.0)
        self.eps = _at_least("RMSprop", "eps", eps, 0.0)
        self.weight_decay = _at_least("RMSprop", "weight_decay", weight_decay, 0.0)
        self.momentum = _at_least("RMSprop", "momentum", momentum, 0.0)
        self.centered = check_bool("RMSprop", "centered", centered)
        super().__init__(params, lr)

    def _reset_state(self, n: int) -> None:
        self._square_avg = np.zeros(n)
        self._grad_avg = np.zeros(n)
        self._buffer = np.zeros(n)

    def _update(self, data: np.ndarray, grad: np.ndarray) -> None:
        alpha = self.alpha
        g = grad
        if self.weight_decay != 0:
            g = g + self.weight_decay * data
        v = self._square_avg = alpha * self._square_avg + (1.0 - alpha) * g * g
        if self.centered:
            mean = self._grad_avg = alpha * self._grad_avg + (1.0 - alpha) * g
            v = np.maximum(v - mean * mean, 0.0)  # >= 0 in exact arithmetic; rounding may dip below
        d = np.sqrt(v) + self.eps
        if self.momentum > 0:
            self._buffer = self.momentum * self._buffer + g / d
            data -= self.lr * self._buffer
        else:
            data -= self.lr * (g / d)


class Adam(Optimizer):
    """Adam: momentum (m) and RMSprop (v) together, each corrected for its start at 0.

    g = grad + weight_decay·p      (AdamW instead shrinks p: p = p − lr·weight_decay·p)
    m = beta1·m + (1 − beta1)·g;   v = beta2·v + (1 − beta2)·g²   (amsgrad: use max of all v)
    p = p − lr/(1 − beta1^t) · m / (√v / √(1 − beta2^t) + eps)
    """

    keras_name = "adam"

    HYPERPARAMETERS = ("betas", "eps", "weight_decay", "amsgrad")

    _decoupled = False  # AdamW: weight decay acts on the parameter, not through the gradient

    def __init__(
        self,
        params: Iterable[Value] | None = None,
        lr: float = 1e-3,
        *,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ) -> None:
        name = type(self).__name__
        if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__"):
            raise TypeError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r:.60}")
        if len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r:.60}")
        self.betas = (_fraction(name, "betas[0]", betas[0]), _fraction(name, "betas[1]", betas[1]))
        self.eps = _at_least(name, "eps", eps, 0.0)
        self.weight_decay = _at_least(name, "weight_decay", weight_decay, 0.0)
        self.amsgrad = check_bool(name, "amsgrad", amsgrad)
        super().__init__(params, lr)

    def _reset_state(self, n: int) -> None:
        self._m = np.zeros(n)
        self._v = np.zeros(n)
        self._v_max = np.zeros(n)

    def _update(self, data: np.ndarray, grad: np.ndarray) -> None:
        lr, (beta1, beta2), wd, t = self.lr, self.betas, self.weight_decay, self.steps
        step_size = lr / (1.0 - beta1**t)
        root_correction2 = math.sqrt(1.0 - beta2**t)
        g = grad
        if wd != 0:
            if self._decoupled:
                data *= 1.0 - lr * wd
            else:
                g = g + wd * data
        m = self._m = beta1 * self._m + (1.0 - beta1) * g
        v = self._v = beta2 * self._v + (1.0 - beta2) * g * g
        if self.amsgrad:
            v = self._v_max = np.maximum(self._v_max, v)
        data -= step_size * (m / (np.sqrt(v) / root_correction2 + self.eps))


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p shrinks by lr·weight_decay·p
    each step, outside the running averages, so decay is not rescaled by √v."""

    keras_name = "adamw"

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Value] | None = None,
        lr: float = 1e-3,
        *,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)


def get_optimizer(name_or_obj: str | Optimizer) -> Optimizer:
    """An optimizer as is, or a new one with default settings from a Keras name such as "adam"."""
    if isinstance(name_or_obj, Optimizer):
        return name_or_obj
    if not isinstance(name_or_obj, str):
        raise TypeError(
            f"optimizer must be a name or an Optimizer, got {type(name_or_obj).__name__}: {name_or_obj!r:.60}"
        )
    key = name_or_obj.strip().lower()
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name_or_obj!r}; choose one of: {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[key]()


# -- learning-rate schedules ----------------------------------------------------------------------


class LRSchedule:
    """Sets `optimizer.lr` to `lr_at(epoch)`; `step()` moves to the next epoch.

    lr_0 is the optimizer's learning rate when the schedule is made; `epoch` counts the calls
    to `step()`. The rate is computed from lr_0 by a closed formula each time (not by
    multiplying the last rate), so it reads the same as the formula in the docstring.
    """

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__}: needs an Optimizer, got {type(optimizer).__name__}: {optimizer!r:.60}"
            )
        self.optimizer = optimizer
        self.initial_lr = optimizer.lr
        self.epoch = 0

    @property
    def lr(self) -> float:
        """The current learning rate."""
        return self.optimizer.lr

    def step(self) -> None:
        """Call once at the end of each epoch."""
        self.epoch += 1
        self.optimizer.lr = self.lr_at(self.epoch)

    def lr_at(self, epoch: int) -> float:
        raise NotImplementedError


class StepDecay(LRSchedule):
    """lr_t = lr_0 · gamma^⌊t / step_size⌋: cut the rate by `gamma` every `step_size` epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = check_int("StepDecay", "step_size", step_size)
        self.gamma = _positive("StepDecay", "gamma", gamma)
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        return self.initial_lr * self.gamma ** (epoch // self.step_size)


class ExponentialDecay(LRSchedule):
    """lr_t = lr_0 · gamma^t."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        self.gamma = _positive("ExponentialDecay", "gamma", gamma)
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        return self.initial_lr * self.gamma**epoch


class InverseTimeDecay(LRSchedule):
    """lr_t = lr_0 / (1 + decay_rate · t): the 1/t decay."""

    def __init__(self, optimizer: Optimizer, decay_rate: float) -> None:
        self.decay_rate = _at_least("InverseTimeDecay", "decay_rate", decay_rate, 0.0)
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        return self.initial_lr / (1.0 + self.decay_rate * epoch)


__all__ = [
    "OPTIMIZERS",
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LRSchedule",
    "Optimizer",
    "RMSprop",
    "StepDecay",
    "get_optimizer",
]
