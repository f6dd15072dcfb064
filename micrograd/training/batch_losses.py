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
class 3 or 7 of a cross-entropy: `-log p_k`) share one program, fed each sample's own columns,
and all the programs run side by side on one tape (`BatchLoss._programs`): one forward and one
backward pass per batch. The numbers a graph takes from the data (targets, the largest score a
softmax subtracts) are `DataConstant`s, which the tape takes as inputs, fed per sample from
where they came from. Losses and gradients are bit for bit the scalar engine's: the same ops in
the same order, with the same libm functions.

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
    kept = Y > 0  # only these classes' terms are built, so only their clipping counts
    return np.hstack([kept, Y == 1.0, _clip_side(P) * kept]).astype(np.intp)


def _categorical_cross_entropy(P: np.ndarray, T: np.ndarray) -> np.ndarray:
    return _on_distribution(P, T.reshape(P.shape))


def _sparse_on_probabilities(P: np.ndarray, T: np.ndarray) -> np.ndarray:
    return _on_distribution(P, _one_hot(T, P))


def _class_index(P: np.ndarray, T: np.ndarray) -> np.ndarray:
    return T.reshape(-1, 1).astype(np.intp)


def _kl_divergence(P: np.ndarray, T: np.ndarray) -> np.ndarray:
    kept = T.reshape(P.shape) > 0
    return np.hstack([kept, _clip_side(P, high=1.0) * kept]).astype(np.intp)


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


#: Where an input of a loss's program comes from, in the order of `_Layout`'s columns: a model
#: output, or a `DataConstant.source`.
_KINDS = ("output", "target", "1 - target", "log target", "max")


class _Layout:
    """The columns a batch's programs are fed from, side by side: the outputs P, the targets T,
    1 − T, log T and the largest output. Only the kinds some program reads are computed."""

    def __init__(self, outputs: int, targets: int) -> None:
        self.outputs = outputs
        widths = {"output": outputs, "target": targets, "1 - target": targets, "log target": targets, "max": 1}
        self.offset: dict[str, int] = {}
        self.width = 0
        for kind in _KINDS:
            self.offset[kind] = self.width
            self.width += widths[kind]
        self.used: set[str] = set()

    def column(self, kind: str, j: int) -> int:
        if kind not in self.offset:
            raise ValueError(f"batch_losses: unknown source {kind!r} of a DataConstant")
        self.used.add(kind)
        return self.offset[kind] + j

    def matrix(self, P: np.ndarray, T: np.ndarray, resting: np.ndarray | None = None) -> np.ndarray:
        """The batch's columns (those no program reads are left unset), then `resting`'s values
        in every row."""
        F = np.empty((P.shape[0], self.width + (0 if resting is None else len(resting))))
        if resting is not None:
            F[:, self.width :] = resting
        for kind in self.used:
            if kind == "output":
                block = P
            elif kind == "max":
                block = P.max(axis=1, keepdims=True)
            else:
                T = T.reshape(P.shape[0], -1).astype(np.float64)
                if kind == "target":
                    block = T
                elif kind == "1 - target":
                    block = 1.0 - T
                else:  # libm's log, as `math.log` in the graph; read only where T > 0
                    block = NUMPY.log(np.where(T > 0, T, 1.0))
            F[:, self.offset[kind] : self.offset[kind] + block.shape[1]] = block
        return F


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
    if len(a.inputs) != len(b.inputs):
        return False
    try:
        a.check_same_structure(b)
    except DataDependentGraphError:
        return False
    return True


#: At most this many structures (and programs) per `BatchLoss`: a loss whose graph takes many
#: shapes (huber over many outputs, KL over distributions with zeros anywhere) would otherwise
#: record without end. A batch that would need one more runs one graph per sample instead.
MAX_STRUCTURES, MAX_PROGRAMS = 256, 32


class _TooMany(Exception):
    """A batch needs a structure or program beyond `MAX_STRUCTURES` / `MAX_PROGRAMS`."""


class BatchLoss:
    """A built-in loss (and a softmax layer in front of it) on a whole batch, by tape replay.

    `BatchLoss(loss, activation, softmax_layer)(S, T)` takes the model's outputs S (samples,
    outputs), before the softmax if `softmax_layer`, and the targets as `Loss.targets` gives them
    (as an array), and returns (the outputs P, the per-sample losses, dL/dS (samples, outputs)).
    A program is recorded when its structure first shows and kept for the next batches: make
    one `BatchLoss` per `fit`.
    """

    def __init__(self, loss: Loss, activation: str | None, softmax_layer: bool = False) -> None:
        self.fn = loss.for_output(activation)
        plain, on_softmax = _STRUCTURE[loss.name]
        self.softmax = softmax_layer
        self.structure = on_softmax if on_softmax is not None and self.softmax else plain
        self.index = loss.target == "index"
        self._head: tuple[Tape, _Layout, np.ndarray, np.ndarray] | None = None  # and its feed and grad columns
        self._layout: _Layout | None = None
        self._numbers: dict[bytes, int] = {}  # a structure (its choices) -> its number
        self._structures: list[tuple[int, list[tuple[str, int]]]] = []  # its program, its inputs' sources
        self._tapes: list[Tape] = []  # the programs, each recorded once
        self._union: Tape | None = None  # all of them on one tape (`_programs`), and from there:
        self._resting = np.zeros(0)  # each input's value at rest
        self._feed = np.zeros((0, 0), dtype=np.intp)  # per structure, each input's column to read
        self._grad = np.zeros((0, 0), dtype=np.intp)  # per structure, each input's output (or k: none)
        self._program_of = np.zeros(0, dtype=np.intp)  # per structure, its program

    def __call__(self, S: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        P = self._head_forward(S) if self.softmax else S
        n, k = P.shape
        if self._layout is None:
            self._layout = _Layout(k, T.reshape(n, -1).shape[1])
        # each sample's choices as one byte string (np.unique(axis=0) on the rows sorts 20x slower), a
        # byte per choice: each is a branch (0, 1, 2) or a class index, below k
        choices = np.ascontiguousarray(self.structure(P, T), dtype=np.int8 if k < 128 else np.int64)
        kinds, first, which = np.unique(
            choices.view(np.dtype((np.void, choices.itemsize * choices.shape[1]))).ravel(),
            return_index=True,
            return_inverse=True,
        )
        known = self._numbers
        try:
            numbers = [
                known[key] if key in known else self._structure(key, P, T, i)
                for key, i in zip((kind.tobytes() for kind in kinds), first.tolist())
            ]
        except _TooMany:
            return self._per_sample(S, T)
        structure = np.array(numbers, dtype=np.intp)[which.reshape(-1)]  # each sample's
        programs = self._programs()
        program = self._program_of[structure]
        every = np.arange(n)
        X = self._layout.matrix(P, T, self._resting)[every[:, None], self._feed[structure]]
        seeds = np.zeros((n, len(self._tapes)))
        seeds[every, program] = 1.0
        losses = programs.forward(X)[every, program]
        G = np.zeros((n, k + 1))  # the last column takes the gradients of inputs that are not outputs
        G[every[:, None], self._grad[structure]] = programs.input_gradients(seeds)
        G = G[:, :k]
        return P, losses, self._head_backward(G) if self.softmax else G

    def _structure(self, key: bytes, P: np.ndarray, T: np.ndarray, i: int) -> int:
        """The number of a structure (its choices as bytes); its program recorded from sample i
        (which has it) when first seen, and kept as a new program unless it is one already kept
        (`_programs` makes them one tape)."""
        if key not in self._numbers:
            if len(self._structures) >= MAX_STRUCTURES:
                raise _TooMany
            outputs = [Value(v) for v in P[i].tolist()]
            target = int(T[i]) if self.index else T[i].tolist()
            tape, sources = _record(self.fn(outputs[0] if len(outputs) == 1 else outputs, target), outputs)
            program = next((p for p, kept in enumerate(self._tapes) if _same_program(kept, tape)), None)
            if program is None:
                if len(self._tapes) >= MAX_PROGRAMS:
                    raise _TooMany
                program = len(self._tapes)
                self._tapes.append(tape)
            self._numbers[key] = len(self._structures)
            self._structures.append((program, sources))
        return self._numbers[key]

    def _programs(self) -> Tape:
        """Every program so far on one tape, their graphs side by side (one output each), so that a
        batch runs them all in one forward and one backward pass: a sample's row feeds its own
        program's inputs, and every other program the values that program was recorded on
        (`_resting`: inside its ops' domains); only its own program's output is read, and only its
        gradient seeded. Made again, with the tables of where each input comes from, when a
        structure shows that was not seen before."""
        if self._union is None or len(self._feed) != len(self._structures):
            layout = self._layout
            assert layout is not None
            inputs = [x for tape in self._tapes for x in tape.inputs]
            if self._union is None or len(self._union.outputs) != len(self._tapes):
                self._union = Tape.record([tape.outputs[0] for tape in self._tapes], inputs=inputs, lower=False)
            self._resting = np.array([x.data for x in inputs])
            starts = np.cumsum([0] + [len(tape.inputs) for tape in self._tapes])
            m = len(inputs)
            self._feed = np.empty((len(self._structures), m), dtype=np.intp)
            self._grad = np.empty((len(self._structures), m), dtype=np.intp)
            for number, (program, sources) in enumerate(self._structures):
                own = slice(starts[program], starts[program + 1])
                self._feed[number] = layout.width + np.arange(m)  # the other programs' inputs: at rest
                self._feed[number, own] = [layout.column(kind, j) for kind, j in sources]
                self._grad[number] = layout.outputs  # dropped
                self._grad[number, own] = [j if kind == "output" else layout.outputs for kind, j in sources]
            self._program_of = np.array([program for program, _ in self._structures], dtype=np.intp)
        return self._union

    def _per_sample(self, S: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What `__call__` returns, from one graph of Values per sample and its backward pass."""
        P, losses, G = np.empty(S.shape), np.empty(S.shape[0]), np.empty(S.shape)
        for i, row in enumerate(S.tolist()):
            scores = [Value(v) for v in row]
            outputs = softmax(scores) if self.softmax else scores
            target = int(T[i]) if self.index else T[i].tolist()
            loss = self.fn(outputs[0] if len(outputs) == 1 else outputs, target)
            loss.backward()
            P[i], losses[i], G[i] = [o.data for o in outputs], loss.data, [s.grad for s in scores]
        return P, losses, G

    def _head_forward(self, S: np.ndarray) -> np.ndarray:
        """The softmax layer's outputs, by its graph (`losses.softmax`) on a tape."""
        n, k = S.shape
        if self._head is None:
            scores = [Value(0.0) for _ in range(k)]
            tape, sources = _record(softmax(scores), scores)
            layout = _Layout(k, 0)
            feed = np.array([layout.column(kind, j) for kind, j in sources], dtype=np.intp)
            grad = np.array([j if kind == "output" else k for kind, j in sources], dtype=np.intp)
            self._head = tape, layout, feed, grad
        tape, layout, feed, _ = self._head
        return np.asarray(tape.forward(layout.matrix(S, np.zeros((n, 0)))[:, feed]))

    def _head_backward(self, G: np.ndarray) -> np.ndarray:
        """dL/dS from dL/dP, back through the softmax's tape."""
        assert self._head is not None
        tape, _, _, grad = self._head
        dS = np.empty((G.shape[1] + 1, G.shape[0]))
        dS[grad] = tape.input_gradients(G).T  # each score is one input; the max's go to the last row
        return dS[:-1].T


def batch_loss(loss: Loss, activation: str | None, softmax_layer: bool = False) -> BatchLoss | None:
    """`loss.for_output(activation)` (after the softmax of a softmax layer) on a batch, or None
    for a loss of your own."""
    if not any(loss is known for known in KERAS_LOSSES):
        return None
    return BatchLoss(loss, activation, softmax_layer)
