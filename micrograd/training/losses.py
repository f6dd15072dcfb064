"""Loss functions for one sample, built only from `Value` operations.

Each loss returns a `Value` whose graph can be drawn and stepped through, and whose gradient
comes from the engine's derivative table (`micrograd.engine.ops`): no derivative is written here.
A batch's loss is the mean of its samples' losses; `fit` (or your own loop) takes that mean.

Conventions, chosen to match PyTorch and Keras:
- `pred` is what the model outputs (a `Value`, a number, or a list of them); `target` is data
  (numbers, or Values read as numbers: no gradient flows into a target).
- mse, mae, huber, binary_cross_entropy and hinge average over the outputs, as Keras does;
  the losses over a distribution (cross-entropies, KL, multiclass hinge) sum over the classes.
- Every node a loss builds is recorded under `scope(<loss name>)`, so a drawing groups them.

Stability at the edges:
- Probabilities are clipped to [EPSILON, 1 - EPSILON] before their logarithm is taken, as Keras
  does (EPSILON = 1e-7), so a prediction of exactly 0 or 1 gives a finite loss (at most
  -log(1e-7) ≈ 16.1). A clipped prediction gets gradient 0, like `tf.clip_by_value` and
  `torch.clamp`: a saturated output learns nothing from this loss. Prefer `from_logits=True`,
  which has no clipping and is exact for every finite logit.
- softmax, log_softmax and the cross-entropies subtract the largest score first (softmax does
  not change when a constant is added to every score), so no exponential ever overflows.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..engine import Constant, Value, scope

Number = int | float
Scalar = Value | Number
Scalars = Scalar | Sequence[Scalar]

EPSILON = 1e-7  # Keras's `backend.epsilon()`: how far probabilities are kept from 0 and 1
_SUM_TOLERANCE = 1e-6  # how far from 1 a target distribution may sum (float32 data rounds)


# -- reading the arguments ------------------------------------------------------------------------


def _as_list(loss: str, what: str, x: Any) -> list:
    """One scalar, or a sequence / 1-D array of them, as a list."""
    if isinstance(x, (Value, numbers.Number)):
        return [x]
    if getattr(x, "ndim", None) == 0:  # a 0-d NumPy array
        return [x.item()]
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{loss}: {what} must be a number, a Value or a list of them, got {x!r:.60}")
    try:
        items = list(x)
    except TypeError:
        raise TypeError(
            f"{loss}: {what} must be a number, a Value or a list of them, got {type(x).__name__}: {x!r:.60}"
        ) from None
    if not items:
        raise ValueError(f"{loss}: {what} is empty")
    return items


def _is_real(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and type(x).__name__ != "bool_"


def _value(loss: str, what: str, i: int, x: Any) -> Value:
    """A model output: a Value as is, a plain number as a constant leaf."""
    if isinstance(x, Value):
        return x
    if not _is_real(x):
        raise TypeError(f"{loss}: {what}[{i}] must be a Value or a number, got {type(x).__name__}: {x!r:.60}")
    return Constant(float(x))


def _number(loss: str, what: str, i: int, x: Any) -> float:
    """A target: a finite number (a Value counts as its data)."""
    if isinstance(x, Value):
        x = x.data
    if not _is_real(x):
        raise TypeError(f"{loss}: {what}[{i}] must be a number, got {type(x).__name__}: {x!r:.60}")
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"{loss}: {what}[{i}] = {x!r} is not a finite number")
    return x


def _values(loss: str, what: str, x: Scalars) -> list[Value]:
    return [_value(loss, what, i, item) for i, item in enumerate(_as_list(loss, what, x))]


def _numbers(loss: str, what: str, x: Scalars) -> list[float]:
    return [_number(loss, what, i, item) for i, item in enumerate(_as_list(loss, what, x))]


def _finite_scores(loss: str, what: str, scores: Scalars) -> list[Value]:
    values = _values(loss, what, scores)
    for i, v in enumerate(values):
        if not math.isfinite(v.data):
            raise ValueError(f"{loss}: {what}[{i}] = {v.data!r} is not finite")
    return values


def _pair(
    loss: str, pred: Scalars, target: Scalars, pred_name: str = "pred", target_name: str = "target"
) -> tuple[list[Value], list[float]]:
    values = _values(loss, pred_name, pred)
    numbers_ = _numbers(loss, target_name, target)
    if len(values) != len(numbers_):
        raise ValueError(
            f"{loss}: {pred_name} has {len(values)} values but {target_name} has {len(numbers_)}; they must match"
        )
    return values, numbers_


def _check_probabilities(loss: str, what: str, values: Sequence[float], hint: str = "") -> None:
    for i, p in enumerate(values):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{loss}: {what}[{i}] = {p!r} is not a probability in [0, 1]{hint}")


def _check_distribution(loss: str, what: str, values: Sequence[float]) -> None:
    _check_probabilities(loss, what, values)
    total = math.fsum(values)
    if abs(total - 1.0) > _SUM_TOLERANCE:
        raise ValueError(f"{loss}: {what} must sum to 1 (a distribution over the classes), got sum {total!r}")


def _class_index(loss: str, index: Any, n_classes: int) -> int:
    """A class label as an int in 0..n_classes-1 (a 1-element array, as in Keras's (n, 1) y, is fine)."""
    if not isinstance(index, (numbers.Number, Value)) and getattr(index, "ndim", None) != 0:
        try:
            items = list(index)
        except TypeError:
            items = None
        if items is None or len(items) != 1:
            raise ValueError(f"{loss}: the target must be one class index, got {index!r:.60}")
        index = items[0]
    if getattr(index, "ndim", None) == 0:
        index = index.item()
    if (isinstance(index, numbers.Integral) and _is_real(index)) or (isinstance(index, float) and index.is_integer()):
        k = int(index)
    else:
        raise ValueError(f"{loss}: a class index must be an integer, got {type(index).__name__}: {index!r:.60}")
    if not 0 <= k < n_classes:
        raise ValueError(f"{loss}: class index {k} is out of range for {n_classes} classes (0..{n_classes - 1})")
    return k


# -- small building blocks ----------------------------------------------------------------------


class DataConstant(Constant):
    """A constant taken from one sample's data: a target, or the largest score a softmax subtracts.

    It draws and computes as any constant. `source` says where it comes from, so that a tape
    replaying a loss on a whole batch (`batch_losses`) can feed it per sample: ("target", j) is
    target j, ("1 - target", j) is 1 minus it, ("log target", j) its logarithm, ("max", 0) the
    largest of the scores the loss (or softmax) was given.
    """

    __slots__ = ("source",)

    def __init__(self, data: float, source: tuple[str, int]) -> None:
        super().__init__(data)
        self.source = source


def _sum(terms: Sequence[Value]) -> Value:
    """t0 + t1 + ...: no `0 +` node in front, as Python's `sum` would add."""
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def _mean(terms: Sequence[Value]) -> Value:
    return terms[0] if len(terms) == 1 else _sum(terms) / len(terms)


def _weighted(weight: float, v: Value, source: tuple[str, int]) -> Value:
    """weight · v, without a `1 ·` node for the common one-hot weight (the weight comes from `source`)."""
    return v if weight == 1.0 else DataConstant(weight, source) * v


def _clip_probability(p: Value, high: float = 1.0 - EPSILON) -> Value:
    """p kept inside [EPSILON, high]: itself inside, a flat relu piece (slope 0) outside.

    EPSILON + relu(p - EPSILON) is exactly EPSILON when p < EPSILON, and keeps p in the graph
    so a drawing shows why its gradient is 0.
    """
    if p.data < EPSILON:
        return EPSILON + (p - EPSILON).relu()
    if p.data > high:
        return high - (high - p).relu()
    return p


def _largest(m: float) -> DataConstant:
    """The largest score m as a constant of the graph (one node per use, as `s - m` makes)."""
    return DataConstant(m, ("max", 0))


def _log_sum_exp(scores: Sequence[Value]) -> tuple[float, Value]:
    """(m, log Σ exp(s_j − m)) with m = max score: every exponent is <= 0, the sum is >= 1."""
    m = max(s.data for s in scores)
    return m, _sum([(s - _largest(m)).exp() for s in scores]).log()


# -- regression losses --------------------------------------------------------------------------


def mse(pred: Scalars, target: Scalars) -> Value:
    """Mean squared error: mean of (pred − target)² over the outputs (L2 loss)."""
    values, targets = _pair("mse", pred, target)
    with scope("mse"):
        return _mean([(p - DataConstant(t, ("target", j))) ** 2 for j, (p, t) in enumerate(zip(values, targets))])


def mae(pred: Scalars, target: Scalars) -> Value:
    """Mean absolute error: mean of |pred − target| (L1 loss; slope 0 where they are equal)."""
    values, targets = _pair("mae", pred, target)
    with scope("mae"):
        return _mean([(p - DataConstant(t, ("target", j))).abs() for j, (p, t) in enumerate(zip(values, targets))])


def huber(pred: Scalars, target: Scalars, delta: float = 1.0) -> Value:
    """Huber loss: ½d² where |d| < delta, delta·(|d| − ½delta) beyond, with d = pred − target.

    Quadratic near the target like mse, linear far from it like mae, so outliers pull less.
    """
    if not _is_real(delta) or not (0.0 < delta < math.inf):
        raise ValueError(f"huber: delta must be a positive finite number, got {delta!r:.60}")
    values, targets = _pair("huber", pred, target)
    with scope("huber"):
        terms = []
        for j, (p, t) in enumerate(zip(values, targets)):
            d = p - DataConstant(t, ("target", j))
            if abs(d.data) < delta:
                terms.append(0.5 * d**2)
            else:
                terms.append(delta * (d.abs() - 0.5 * delta))
        return _mean(terms)


# -- classification losses ----------------------------------------------------------------------


def binary_cross_entropy(pred: Scalars, target: Scalars, from_logits: bool = False) -> Value:
    """−[y·log p + (1 − y)·log(1 − p)], averaged over the outputs; y in [0, 1].

    On probabilities (`from_logits=False`, Keras's default) p is clipped to
    [EPSILON, 1 − EPSILON] first (see the module notes). With `from_logits=True`, `pred` is the
    score s before the sigmoid and the loss is y·softplus(−s) + (1 − y)·softplus(s), because
    −log σ(s) = softplus(−s) and −log(1 − σ(s)) = softplus(s): finite for every finite s, with
    gradient σ(s) − y. Terms whose weight is 0 are left out of the graph.
    """
    name = "binary_cross_entropy"
    values, targets = _pair(name, pred, target)
    _check_probabilities(name, "target", targets)
    if not from_logits:
        _check_probabilities(name, "pred", [v.data for v in values], " (pass from_logits=True if pred is a raw score)")
    with scope(name):
        terms = []
        for j, (v, y) in enumerate(zip(values, targets)):
            if from_logits:
                parts = [_weighted(y, (-v).softplus(), ("target", j))] if y > 0 else []
                if y < 1:
                    parts.append(_weighted(1.0 - y, v.softplus(), ("1 - target", j)))
                terms.append(_sum(parts))
            else:
                p = _clip_probability(v)
                parts = [_weighted(y, p.log(), ("target", j))] if y > 0 else []
                if y < 1:
                    parts.append(_weighted(1.0 - y, (1.0 - p).log(), ("1 - target", j)))
                terms.append(-_sum(parts))
        return _mean(terms)


def softmax(scores: Scalars) -> list[Value]:
    """exp(s_i) / Σ_j exp(s_j), computed as exp(s_i − max s) / Σ_j exp(s_j − max s)."""
    values = _finite_scores("softmax", "scores", scores)
    with scope("softmax"):
        m = max(v.data for v in values)
        exps = [(v - _largest(m)).exp() for v in values]
        total = _sum(exps)
        return [e / total for e in exps]


def log_softmax(scores: Scalars) -> list[Value]:
    """log softmax(s)_i = (s_i − m) − log Σ_j exp(s_j − m), m = max s: exact for huge scores."""
    values = _finite_scores("log_softmax", "scores", scores)
    with scope("log_softmax"):
        m, lse = _log_sum_exp(values)
        return [(v - _largest(m)) - lse for v in values]


def cross_entropy(logits: Scalars, target_index: int) -> Value:
    """−log softmax(logits)[y] for the class index y (Keras's sparse categorical cross-entropy).

    Its gradient with respect to the logits is softmax(logits) − one_hot(y).
    """
    values = _finite_scores("cross_entropy", "logits", logits)
    k = _class_index("cross_entropy", target_index, len(values))
    with scope("cross_entropy"):
        m, lse = _log_sum_exp(values)
        return -((values[k] - _largest(m)) - lse)


def categorical_cross_entropy(pred: Scalars, one_hot: Scalars, from_logits: bool = False) -> Value:
    """−Σ_j y_j·log q_j for a target distribution y (one-hot, or smoothed labels).

    Keras semantics: `pred` holds probabilities q (a softmax output, clipped as in the module
    notes) unless `from_logits=True`, when q = softmax(pred) is taken inside, stably. Classes
    with y_j = 0 add nothing and are left out of the graph.
    """
    name = "categorical_cross_entropy"
    values, targets = _pair(name, pred, one_hot, target_name="one_hot")
    _check_distribution(name, "one_hot", targets)
    if from_logits:
        for i, v in enumerate(values):
            if not math.isfinite(v.data):
                raise ValueError(f"{name}: pred[{i}] = {v.data!r} is not finite")
    else:
        _check_probabilities(
            name, "pred", [v.data for v in values], " (pass from_logits=True if pred holds raw scores)"
        )
    with scope(name):
        if from_logits:
            m, lse = _log_sum_exp(values)
            terms = [(j, y, (v - _largest(m)) - lse) for j, (v, y) in enumerate(zip(values, targets))]
        else:
            terms = [(j, y, _clip_probability(v).log()) for j, (v, y) in enumerate(zip(values, targets)) if y > 0]
        return -_sum([_weighted(y, log_q, ("target", j)) for j, y, log_q in terms if y > 0])


def kl_divergence(p_true: Scalars, q_pred: Scalars) -> Value:
    """KL(p ‖ q) = Σ_j p_j·(log p_j − log q_j), with 0·log 0 = 0 (as in torch.nn.functional.kl_div).

    q is clipped below at EPSILON (only: a q of 1 needs no clipping), so a predicted 0 gives a
    finite loss; p is data.
    """
    name = "kl_divergence"
    values, targets = _pair(name, q_pred, p_true, pred_name="q_pred", target_name="p_true")
    _check_distribution(name, "p_true", targets)
    _check_probabilities(name, "q_pred", [v.data for v in values])
    with scope(name):
        return _sum(
            [
                DataConstant(p, ("target", j))
                * (DataConstant(math.log(p), ("log target", j)) - _clip_probability(q, high=1.0).log())
                for j, (q, p) in enumerate(zip(values, targets))
                if p > 0
            ]
        )


def hinge(score: Scalars, label_pm1: Scalars) -> Value:
    """max(0, 1 − y·s) for a label y of −1 or +1, averaged over the outputs (SVM loss).

    Zero once the score is on the right side with margin 1; at the kink the slope is 0 (relu).
    """
    values, labels = _pair("hinge", score, label_pm1, pred_name="score", target_name="label")
    for i, y in enumerate(labels):
        if y not in (-1.0, 1.0):
            raise ValueError(f"hinge: label[{i}] = {y!r} must be -1 or 1 (turn 0/1 labels into ±1 with 2*y - 1)")
    with scope("hinge"):
        return _mean([(1.0 - s if y == 1.0 else 1.0 + s).relu() for s, y in zip(values, labels)])


def multiclass_hinge(scores: Scalars, target_index: int, margin: float = 1.0) -> Value:
    """Σ_{j≠y} max(0, s_j − s_y + margin): CS231n's multiclass SVM loss.

    (torch.nn.functional.multi_margin_loss divides this by the number of classes; we do not.)
    """
    name = "multiclass_hinge"
    if not _is_real(margin) or not math.isfinite(margin):
        raise ValueError(f"{name}: margin must be a finite number, got {margin!r:.60}")
    values = _finite_scores(name, "scores", scores)
    if len(values) < 2:
        raise ValueError(f"{name}: needs at least 2 class scores, got {len(values)}")
    k = _class_index(name, target_index, len(values))
    with scope(name):
        correct = values[k]
        return _sum([((s - correct) + margin).relu() for j, s in enumerate(values) if j != k])


# -- what a training loop needs to know about a loss ------------------------------------------------

#: The kinds of target a loss takes, per sample.
TARGETS = {
    "index": "a class index, an int per sample",
    "values": "one number per output",
    "probabilities": "numbers in [0, 1], one per output",
    "distribution": "numbers in [0, 1] summing to 1 (a one-hot row or a distribution)",
    "labels_pm1": "labels -1 and 1, one per output",
}


class Loss:
    """A per-sample loss with what `fit` must know to check data and models against it.

    `fn(pred, target)` is the loss of one sample, Keras's argument order. `target` is the kind of
    target it takes (one of `TARGETS`). `activations` lists the last-layer activations whose
    outputs it reads as probabilities (empty: it reads any outputs). `on_softmax`, if given,
    replaces `fn` when the last layer is a softmax: Keras reads those outputs as probabilities.
    `aliases` are its other Keras names; `function` is what `get_loss(name)` returns, when that is
    not `fn` itself (kl_divergence, whose function takes its arguments in the other order).
    """

    def __init__(
        self,
        name: str,
        fn: Callable[..., Value],
        target: str = "values",
        activations: tuple[str, ...] = (),
        on_softmax: Callable[..., Value] | None = None,
        *,
        aliases: tuple[str, ...] = (),
        function: Callable[..., Value] | None = None,
    ) -> None:
        if target not in TARGETS:
            raise ValueError(f"Loss: unknown target kind {target!r:.60}; choose one of: {', '.join(TARGETS)}")
        self.name = name
        self.fn = fn
        self.target = target
        self.activations = tuple(activations)
        self.on_softmax = on_softmax
        self.aliases = aliases
        self.function = fn if function is None else function

    def for_output(self, activation: str | None) -> Callable[..., Value]:
        """The per-sample loss `(outputs, target)` for a model whose last activation is `activation`."""
        return self.on_softmax if self.on_softmax is not None and activation == "softmax" else self.fn

    def check_model_output(self, activation: str | None, layer_kind: str) -> None:
        """A loss on probabilities needs a last layer that outputs them (checked before training)."""
        if self.activations and activation not in self.activations:
            got = f"activation {activation!r}" if activation is not None else f"no {layer_kind} layer"
            raise ValueError(
                f"{self.name} reads the model's outputs as probabilities, so the last {layer_kind} layer "
                f"needs activation {' or '.join(map(repr, self.activations))}; it has {got}"
            )

    def check_targets(self, y: np.ndarray, units: int, what: str = "y") -> np.ndarray:
        """`y` (finite, shape (n,) or (n, k)) checked against the outputs and this loss's target kind.

        Returns it as (n,) for class indices or a single output, else (n, units).
        """
        n = y.shape[0]
        if y.ndim == 2 and y.shape[1] == 1 and (units == 1 or self.target == "index"):
            y = y[:, 0]  # Keras's column of targets
        if self.target == "index":
            if units < 2:
                raise ValueError(f"{self.name} needs a last layer with one unit per class (2 or more), not {units}")
            if y.ndim != 1:
                raise ValueError(f"{self.name} takes class indices of shape ({n},), got {what} of shape {y.shape}")
            bad = (y != np.round(y)) | (y < 0) | (y >= units)
            if bad.any():
                i = int(np.argmax(bad))
                raise ValueError(
                    f"{what}[{i}] = {y[i]:g} is not a class of this model: {self.name} "
                    f"needs class indices 0 .. {units - 1} (the last layer has {units} units)"
                )
            return y
        if y.ndim == 1 and units != 1:
            raise ValueError(f"the model has {units} outputs, so {what} needs shape ({n}, {units}), got {y.shape}")
        if y.ndim == 2 and y.shape[1] != units:
            raise ValueError(f"the model has {units} outputs, but {what} has {y.shape[1]} columns")
        if self.target in ("probabilities", "distribution"):
            bad = (y < 0) | (y > 1)
            if bad.any():
                i = int(np.argwhere(bad)[0][0])
                raise ValueError(
                    f"{what}[{i}] = {y[i].tolist()} is outside the classes: {self.name} needs targets in [0, 1] "
                    "(class labels 0 and 1, one-hot rows or probabilities)"
                )
        if self.target == "distribution":
            sums = y.reshape(n, -1).sum(axis=1)
            bad = np.abs(sums - 1.0) > _SUM_TOLERANCE
            if bad.any():
                i = int(np.argmax(bad))
                raise ValueError(
                    f"{what}[{i}] = {y[i].tolist()} must sum to 1 for {self.name} (a one-hot row or a distribution)"
                )
        if self.target == "labels_pm1":
            bad = (y != 1) & (y != -1)
            if bad.any():
                i = int(np.argwhere(bad)[0][0])
                raise ValueError(
                    f"{what}[{i}] = {y[i].tolist()} is not a class: {self.name} needs labels -1 and 1 "
                    "(turn 0/1 labels into -1/1 with 2 * y - 1)"
                )
        return y

    def targets(self, y: np.ndarray) -> list:
        """The per-sample targets of checked `y` in the form `fn` takes: an int class, a number, or a list."""
        if self.target == "index":
            return [int(t) for t in y]
        return y.tolist()

    def __repr__(self) -> str:
        return f"Loss({self.name!r}, target={self.target!r})"


def _kl_divergence_pred_first(pred: Scalars, target: Scalars) -> Value:
    """`kl_divergence` in Keras's order: Keras's kl_divergence(y_true, y_pred) is KL(y_true ‖ y_pred)."""
    return kl_divergence(target, pred)


def _sparse_categorical_on_probabilities(probabilities: Sequence[Value], target: int) -> Value:
    """−log p[target] on a softmax layer's outputs: the categorical cross-entropy of a one-hot target."""
    return categorical_cross_entropy(probabilities, [1.0 if j == target else 0.0 for j in range(len(probabilities))])


#: Every loss that `compile` takes by name, with what it needs: a new loss is one entry here
#: (its messages use its first name).
KERAS_LOSSES: tuple[Loss, ...] = (
    Loss("mse", mse, aliases=("mean_squared_error",)),
    Loss("mae", mae, aliases=("mean_absolute_error",)),
    Loss("huber", huber),
    Loss("binary_crossentropy", binary_cross_entropy, "probabilities", ("sigmoid",)),
    Loss("categorical_crossentropy", categorical_cross_entropy, "distribution", ("softmax", "sigmoid")),
    Loss("sparse_categorical_crossentropy", cross_entropy, "index", on_softmax=_sparse_categorical_on_probabilities),
    Loss("kl_divergence", _kl_divergence_pred_first, "distribution", ("softmax", "sigmoid"), function=kl_divergence),
    Loss("hinge", hinge, "labels_pm1"),
    Loss("multiclass_hinge", multiclass_hinge, "index"),
)

#: Each Keras name and its loss function, as `get_loss` returns it.
LOSSES: dict[str, Callable[..., Value]] = {
    name: loss.function for loss in KERAS_LOSSES for name in (loss.name, *loss.aliases)
}
_BY_FUNCTION = {loss.function: loss for loss in KERAS_LOSSES}


def get_loss(name_or_callable: str | Callable[..., Value]) -> Callable[..., Value]:
    """The loss function for a Keras name such as "binary_crossentropy"; a callable is returned as is."""
    if callable(name_or_callable):
        return name_or_callable
    if not isinstance(name_or_callable, str):
        raise TypeError(
            f"loss must be a name or a function, got {type(name_or_callable).__name__}: {name_or_callable!r:.60}"
        )
    key = name_or_callable.strip().lower()
    if key not in LOSSES:
        raise ValueError(f"unknown loss {name_or_callable!r}; choose one of: {', '.join(LOSSES)}")
    return LOSSES[key]


def as_loss(loss: Loss | str | Callable[..., Value]) -> Loss:
    """The `Loss` record for a Keras name, one of this module's loss functions, or any callable.

    A callable of your own takes one number per output and is called as `fn(pred, target)`.
    """
    if isinstance(loss, Loss):
        return loss
    fn = get_loss(loss)
    known = _BY_FUNCTION.get(fn)
    return known if known is not None else Loss(getattr(fn, "__name__", repr(fn)), fn)


__all__ = [
    "EPSILON",
    "KERAS_LOSSES",
    "LOSSES",
    "TARGETS",
    "DataConstant",
    "Loss",
    "as_loss",
    "binary_cross_entropy",
    "categorical_cross_entropy",
    "cross_entropy",
    "get_loss",
    "hinge",
    "huber",
    "kl_divergence",
    "log_softmax",
    "mae",
    "mse",
    "multiclass_hinge",
    "softmax",
]
