"""The built-in losses on a whole batch at once, for `fit` on a tape: the loss's own graph, replayed.

On a tape the model costs a few matrix products per batch, and building a loss graph of Values
per sample would then take most of a step (a softmax cross-entropy over 10 classes: ~45 nodes and
one backward walk per sample). So `fit` builds ONE sample's loss graph, exactly as the scalar
engine builds it (`losses.py`, with the softmax of a softmax layer in front), records it on a
`Tape` and replays it on the batch: the tape's forward gives each sample's loss, and its backward
(`Tape.input_gradients`) the gradient with respect to the model's outputs. No derivative is
written here: every one comes from `micrograd.engine.ops`, as in the scalar engine.

What the data decides. A loss graph is not the same for every sample: a probability is clipped
only when it is near 0 or 1, huber picks one of its two pieces, a term whose target weight is 0
is left out, a class index picks a score. So the graph is recorded once per *structure* a batch
shows, from a sample that has it: `_STRUCTURE` computes, for each built-in loss, the choices each
sample's graph makes (the `if`s of `losses.py`, as numbers; tests/test_batch_losses.py checks
every branch against the scalar engine). Structures whose programs are the same (the target
class 3 or 7 of a cross-entropy: `-log p_k`) share one tape, fed each sample's own columns. The
numbers a graph takes from the data (targets, the largest score a softmax subtracts) are
`DataConstant`s, which the tape takes as inputs, fed per sample from where they came from.

A loss of your own is built per sample by the scalar engine (`batch_loss` returns None).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..engine import Value
from ..engine.graph import topological_order
from ..engine.tape import NUMPY, DataDependentGraphError, Tape
from .losses import EPSILON, KERAS_LOSSES, DataConstant, Loss, softmax

__all__ = ["BatchLoss", "batch_loss"]

#: Per built-in loss: (P, T) -> the choices of each sample's graph, one row of small ints per sample.
Structure = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _columns(T: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Targets shaped like the outputs: a single output's targets come as one number per sample."""
    return T.reshape(P.shape).astype(np.float64)


def _clip_side(P: np.ndarray, high: float = 1.0 - EPSILON) -> np.ndarray:
    """`_clip_probability`'s branch: 1 below EPSILON, 2 above `high`, 0 inside."""
    return np.where(P < EPSILON, 1, np.where(high < P, 2, 0))


def _one_hot(T: np.ndarray, P: np.ndarray) -> np.ndarray:
    Y = np.zeros(P.shape)
    Y[np.arange(P.shape[0]), T.astype(np.intp)] = 1.0
    return Y


def _no_choice(P: np.ndarray, T: np.ndarray) -> np.ndarray:
    return np.zeros((P.shape[0], 1), dtype=np.intp)


def _huber(P: np.ndarray, T: np.ndarray) -> np.ndarray:
    return (np.abs(P - _columns(T, P)) < 1.0).astype(np.intp)  # the default delta, as `Loss` calls it


def _binary_cross_entropy(P: np.ndarray, T: np.ndarray) -> np.ndarray:
    y = _columns(T, P)  # terms kept (y > 0, y < 1), weights of 1 left out, the clipping
    return np.hstack([y > 0, y < 1, y == 1.0, 1.0 - y == 1.0, _clip_side(P)]).astype(np.intp)


def _on_distribution(P: np.ndarray, Y: np.ndarray) -> np.ndarray:
    return np.hstack([Y > 0, Y == 1.0, _clip_side(P)]).astype(np.intp)


def _categorical_cross_entropy(P: np.ndarray, T: np.ndarray) -> np.ndarray:
    return _on_distribution(P, T.reshape(P.shape))


def _sparse_on_probabilities(P: np.ndarray, T: np.ndarray) -> np.ndarray:
    return _on_distribution(P, _one_hot(T, P))


def _class_index(P: np.ndarray, T: np.ndarray) -> np.ndarray:
    return T.reshape(-1, 1).astype(np.intp)


def _kl_divergence(P: np.ndarray, T: np.ndarray) -> np.ndarray:
    return np.hstack([T.reshape(P.shape) > 0, _clip_side(P, high=1.0)]).astype(np.intp)


def _hinge(P: np.ndarray, T: np.ndarray) -> np.ndarray:
    return (_columns(T, P) == 1.0).astype(np.intp)


#: Each built-in loss (by its name in `KERAS_LOSSES`): (its structure on any outputs, on a softmax's).
_STRUCTURE: dict[str, tuple[Structure, Structure | None]] = {
    "mse": (_no_choice, None),
    "mae": (_no_choice, None),
    "huber": (_huber, None),
    "binary_crossentropy": (_binary_cross_entropy, None),
    "categorical_crossentropy": (_categorical_cross_entropy, None),
    "sparse_categorical_crossentropy": (_class_index, _sparse_on_probabilities),
    "kl_divergence": (_kl_divergence, None),
    "hinge": (_hinge, None),
    "multiclass_hinge": (_class_index, None),
}
assert set(_STRUCTURE) == {loss.name for loss in KERAS_LOSSES}, "every built-in loss needs its structure here"


class _Replay:
    """One recorded program and, per structure it serves, where each of its inputs comes from."""

    def __init__(self, tape: Tape, sources: list[tuple[str, int]]) -> None:
        self.tape = tape
        self.sources = {0: sources}  # structure number -> one source per input, in tape.inputs order


def _record(graph: Value | list[Value], outputs: list[Value]) -> tuple[Tape, list[tuple[str, int]]]:
    """`graph` (a loss, or the softmax's probabilities) on a tape whose inputs are the model
    outputs it reads and its `DataConstant`s, with where each comes from: ("output", j) or the
    constant's `source`."""
    position = {node: j for j, node in enumerate(outputs)}
    inputs: list[Value] = []
    sources: list[tuple[str, int]] = []
    seen: set[Value] = set()
    for out in [graph] if isinstance(graph, Value) else graph:
        for node in topological_order(out):
            if node in seen:
                continue
            seen.add(node)
            if node in position:
                inputs.append(node)
                sources.append(("output", position[node]))
            elif isinstance(node, DataConstant):
                inputs.append(node)
                sources.append(node.source)
    return Tape.record(graph, inputs=inputs, lower=False), sources


def _same_program(a: Tape, b: Tape) -> bool:
    try:
        a.check_same_structure(b)
    except DataDependentGraphError:
        return False
    return True


class _Columns:
    """What a program's inputs are fed from, for one batch: each kind of source as a matrix."""

    def __init__(self, P: np.ndarray, T: np.ndarray) -> None:
        self.P, self.T = P, T.reshape(P.shape[0], -1).astype(np.float64)
        self._made: dict[str, np.ndarray] = {}

    def of(self, kind: str) -> np.ndarray:
        if kind not in self._made:
            T = self.T
            if kind == "output":
                made = self.P
            elif kind == "target":
                made = T
            elif kind == "1 - target":
                made = 1.0 - T
            elif kind == "log target":  # libm's log, as `math.log` in the graph; only where T > 0 is read
                made = NUMPY.log(np.where(T > 0, T, 1.0))
            elif kind == "max":
                made = self.P.max(axis=1, keepdims=True)
            else:
                raise ValueError(f"batch_losses: unknown source {kind!r} of a DataConstant")
            self._made[kind] = made
        return self._made[kind]


class BatchLoss:
    """A built-in loss (and a softmax layer in front of it) on a whole batch, by tape replay.

    `BatchLoss(loss, activation, softmax_layer)(S, T)` takes the model's outputs S (samples,
    outputs), before the softmax if `softmax_layer`, and the targets as `Loss.targets` gives them (as an array), and returns (the outputs
    P, the per-sample losses, dL/dS (samples, outputs)). The tapes are recorded when a structure
    first shows and kept for the next batches: make one per `fit`.
    """

    def __init__(self, loss: Loss, activation: str | None, softmax_layer: bool = False) -> None:
        self.fn = loss.for_output(activation)
        plain, on_softmax = _STRUCTURE[loss.name]
        self.softmax = softmax_layer
        self.structure = on_softmax if on_softmax is not None and self.softmax else plain
        self.index = loss.target == "index"
        self._head: tuple[Tape, list[tuple[str, int]]] | None = None
        self._numbers: dict[bytes, tuple[_Replay, int]] = {}  # a structure -> its program and number
        self._replays: list[_Replay] = []

    def __call__(self, S: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        P = self._head_forward(S) if self.softmax else S
        choices = np.ascontiguousarray(self.structure(P, T), dtype=np.int64)
        # one byte string per sample (np.unique of rows, axis=0, sorts 20x slower)
        kinds, which = np.unique(choices.view(np.dtype((np.void, 8 * choices.shape[1]))).ravel(), return_inverse=True)
        losses = np.empty(P.shape[0])
        G = np.zeros(P.shape)
        columns = _Columns(P, T)
        groups: dict[int, list[tuple[int, np.ndarray]]] = {}
        for number, kind in enumerate(kinds):
            rows = np.flatnonzero(which == number)
            replay, index = self._replay(kind, P, T, int(rows[0]))
            groups.setdefault(id(replay), []).append((index, rows))
        for replay in self._replays:
            members = groups.get(id(replay))
            if members is None:
                continue
            rows = np.concatenate([r for _, r in members])
            feed = {}
            for i, node in enumerate(replay.tape.inputs):
                feed[node] = np.concatenate(
                    [columns.of(replay.sources[index][i][0])[r, replay.sources[index][i][1]] for index, r in members]
                )
            losses[rows] = replay.tape.forward(feed)
            grads = replay.tape.input_gradients()
            for i in range(len(replay.tape.inputs)):
                start = 0
                for index, r in members:
                    kind, j = replay.sources[index][i]
                    if kind == "output":
                        G[r, j] += grads[start : start + len(r), i]
                    start += len(r)
        return P, losses, self._head_backward(G) if self.softmax else G

    def _replay(self, kind: np.void, P: np.ndarray, T: np.ndarray, i: int) -> tuple[_Replay, int]:
        """The program for a structure, recorded from sample i (which has it) when first seen."""
        key = kind.tobytes()
        if key in self._numbers:
            return self._numbers[key]
        outputs = [Value(v) for v in P[i].tolist()]
        target = int(T[i]) if self.index else T[i].tolist()
        tape, sources = _record(self.fn(outputs[0] if len(outputs) == 1 else outputs, target), outputs)
        for replay in self._replays:
            if len(replay.tape.inputs) == len(sources) and _same_program(replay.tape, tape):
                number = len(replay.sources)
                replay.sources[number] = sources
                self._numbers[key] = (replay, number)
                return replay, number
        replay = _Replay(tape, sources)
        self._replays.append(replay)
        self._numbers[key] = (replay, 0)
        return replay, 0

    def _head_forward(self, S: np.ndarray) -> np.ndarray:
        """The softmax layer's outputs, by its graph (`losses.softmax`) on a tape."""
        if self._head is None:
            scores = [Value(0.0) for _ in range(S.shape[1])]
            self._head = _record(softmax(scores), scores)
        tape, sources = self._head
        columns = _Columns(S, np.zeros((S.shape[0], 0)))
        feed = {node: columns.of(kind)[:, j] for node, (kind, j) in zip(tape.inputs, sources)}
        return np.asarray(tape.forward(feed))

    def _head_backward(self, G: np.ndarray) -> np.ndarray:
        """dL/dS from dL/dP, back through the softmax's tape."""
        assert self._head is not None
        tape, sources = self._head
        grads = tape.input_gradients(G)
        dS = np.zeros(G.shape)
        for i, (kind, j) in enumerate(sources):
            if kind == "output":
                dS[:, j] += grads[:, i]
        return dS


def batch_loss(loss: Loss, activation: str | None, softmax_layer: bool = False) -> BatchLoss | None:
    """`loss.for_output(activation)` (after the softmax of a softmax layer) on a batch, or None
    for a loss of your own."""
    if not any(loss is known for known in KERAS_LOSSES):
        return None
    return BatchLoss(loss, activation, softmax_layer)
