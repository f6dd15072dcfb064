"""micrograd.nn.Perceptron: the perceptron rule against a hand computation, AND and OR learned,
XOR reported as not linearly separable, and the decision line it draws."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from matplotlib.collections import QuadMesh
from matplotlib.contour import ContourSet

from micrograd.nn import NotSeparableWarning, Perceptron
from micrograd.nn.perceptron import Update
from viz import draw, plot_decision_boundary, steps
from viz.boundary import boundary_grid

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
AND = [0, 0, 0, 1]
OR = [0, 1, 1, 1]
XOR = [0, 1, 1, 0]


# -- the rule, by hand -----------------------------------------------------------------------------


def test_the_first_two_epochs_on_AND_are_the_hand_computation() -> None:
    """Weights 0, η = 0.5. z = w0·x0 + w1·x1 + b, ŷ = step(z) (1 only for z > 0), e = y − ŷ,
    and on a mistake w ← w + η·e·x, b ← b + η·e.

    epoch 1, from w = (0, 0), b = 0:
      x = (0, 0), y = 0: z = 0,   ŷ = 0, e = 0:  nothing moves
      x = (0, 1), y = 0: z = 0,   ŷ = 0, e = 0:  nothing moves
      x = (1, 0), y = 0: z = 0,   ŷ = 0, e = 0:  nothing moves
      x = (1, 1), y = 1: z = 0,   ŷ = 0, e = 1:  w = (0.5, 0.5), b = 0.5
    epoch 2:
      x = (0, 0), y = 0: z = 0.5, ŷ = 1, e = −1: w = (0.5, 0.5), b = 0
      x = (0, 1), y = 0: z = 0.5, ŷ = 1, e = −1: w = (0.5, 0),   b = −0.5
      x = (1, 0), y = 0: z = 0,   ŷ = 0, e = 0:  nothing moves
      x = (1, 1), y = 1: z = 0,   ŷ = 0, e = 1:  w = (1, 0.5),   b = 0
    """
    p = Perceptron(2)
    by_hand = [
        Update((0.0, 0.0), 0, 0.0, 0, 0, (0.0, 0.0), 0.0),
        Update((0.0, 1.0), 0, 0.0, 0, 0, (0.0, 0.0), 0.0),
        Update((1.0, 0.0), 0, 0.0, 0, 0, (0.0, 0.0), 0.0),
        Update((1.0, 1.0), 1, 0.0, 0, 1, (0.5, 0.5), 0.5),
        Update((0.0, 0.0), 0, 0.5, 1, -1, (0.5, 0.5), 0.0),
        Update((0.0, 1.0), 0, 0.5, 1, -1, (0.5, 0.0), -0.5),
        Update((1.0, 0.0), 0, 0.0, 0, 0, (0.5, 0.0), -0.5),
        Update((1.0, 1.0), 1, 0.0, 0, 1, (1.0, 0.5), 0.0),
    ]
    got = [p.update(x, y, lr=0.5) for _ in range(2) for x, y in zip(X.tolist(), AND)]
    assert got == by_hand
    assert ([w.data for w in p.w], p.b.data) == ([1.0, 0.5], 0.0)  # the Parameters moved


def test_fit_applies_the_same_rule_and_counts_the_mistakes_per_epoch() -> None:
    by_rule = Perceptron(2)
    mistakes = []
    while not mistakes or mistakes[-1]:
        mistakes.append(sum(by_rule.update(x, y, lr=0.5).error != 0 for x, y in zip(X.tolist(), AND)))
    fitted = Perceptron(2).fit(X, AND, lr=0.5)
    assert fitted.mistakes == mistakes and mistakes[:2] == [1, 3]  # epoch 1 and 2 above: 1 and 3 mistakes
    assert fitted.converged and fitted.epochs == len(mistakes)
    assert [w.data for w in fitted.w] + [fitted.b.data] == [w.data for w in by_rule.w] + [by_rule.b.data]


# -- AND and OR are learned, XOR is not ------------------------------------------------------------


@pytest.mark.parametrize("targets", [AND, OR], ids=["AND", "OR"])
@pytest.mark.parametrize("init, lr", [("zeros", 1.0), ("zeros", 0.1), ("small_random", 0.1), ("small_random", 1.0)])
def test_and_and_or_are_learned_without_a_warning(targets: list[int], init: str, lr: float) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = Perceptron(2, init=init, seed=1).fit(X, targets, lr=lr)
    assert p.converged and p.mistakes[-1] == 0
    assert p.predict(X).tolist() == targets
    # the line w·x + b = 0 separates them: every 1 strictly on its positive side, every 0 not
    z = p.decision_function(X)
    assert all((z > 0) == np.array(targets, dtype=bool))


def test_xor_is_reported_not_linearly_separable_when_the_rule_cycles() -> None:
    p = Perceptron(2)
    with pytest.warns(NotSeparableWarning, match="the data is not linearly separable") as record:
        result = p.fit(X, XOR)
    assert result is p and not p.converged
    message = str(record[0].message)
    assert "Epoch 4 would start from the same weights as epoch 3" in message
    assert "XOR is such data" in message
    assert p.epochs == 3 and p.mistakes == [2, 3, 4]
    assert p.predict(X).tolist() != XOR  # the weights it kept still get XOR wrong
    assert record[0].filename == __file__  # the warning points at the caller's line


def test_running_out_of_epochs_says_the_data_looks_not_separable() -> None:
    with pytest.warns(NotSeparableWarning, match=r"3 mistakes in epoch 2, the last one \(max_epochs\): the data looks"):
        p = Perceptron(2).fit(X, XOR, max_epochs=2)
    assert not p.converged and p.epochs == 2
    with pytest.warns(NotSeparableWarning, match="try a larger max_epochs"):
        Perceptron(2).fit(X, AND, max_epochs=2)  # separable, but it needs 6 epochs at η = 1


def test_a_second_fit_starts_from_the_learned_weights_and_resets_the_record() -> None:
    p = Perceptron(2).fit(X, AND)
    p.fit(X, AND)
    assert p.converged and p.mistakes == [0] and p.epochs == 1


# -- init, inputs, the graph ----------------------------------------------------------------------


def test_init_is_zeros_or_small_seeded_random_numbers() -> None:
    assert [w.data for w in Perceptron(3).parameters()] == [0.0] * 4
    a, b, c = (Perceptron(3, init="small_random", seed=s) for s in (7, 7, 8))
    assert [w.data for w in a.w] == [w.data for w in b.w] != [w.data for w in c.w]
    assert a.b.data == 0.0 and all(0 < abs(w.data) < 0.05 for w in a.w)  # N(0, 0.01²)
    big = Perceptron(20_000, init="small_random", seed=0)
    assert np.std([w.data for w in big.w]) == pytest.approx(0.01, rel=0.02)
    with pytest.raises(ValueError, match="Perceptron: unknown init 'he'; choose one of: zeros, small_random"):
        Perceptron(2, init="he")
    # "normal" is N(0, 1) for Dense and MLP: here it is refused with the word to write instead
    with pytest.raises(
        ValueError,
        match=r"init='normal' is not a perceptron init \(for Dense and MLP it means N\(0, 1\)\); write init='small_random'",
    ):
        Perceptron(2, init="normal", seed=1)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda p: p.fit(X[:, :1], AND), ValueError, r"shape \(samples, 2\); got shape \(4, 1\)"),
        (lambda p: p.fit(X, [0, 1, 2, 1]), ValueError, r"y must hold 0 and 1 \(the two answers of step\), got \[2\]"),
        (lambda p: p.fit(X, [-1, 1, 1, 1]), ValueError, r"got \[-1\]"),
        (lambda p: p.fit(X, AND[:3]), ValueError, "X has 4 samples but y has 3"),
        (lambda p: p.fit(X, AND, lr=0), ValueError, "Perceptron.fit: lr must be a positive finite number"),
        (lambda p: p.fit(X, AND, max_epochs=0), ValueError, "max_epochs must be a positive int"),
        (lambda p: p.predict([[np.nan, 1.0]]), ValueError, r"X must hold finite numbers; row 0 is \[nan, 1.0\]"),
        (lambda p: p.predict("ab"), TypeError, "Perceptron.predict: X must be numbers"),
        (lambda p: p([1.0]), ValueError, "Perceptron expects 2 inputs, got 1"),
    ],
)
def test_bad_input_is_refused_naming_the_call(call, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        call(Perceptron(2))


def test_its_graph_is_step_of_the_weighted_sum_and_passes_no_gradient() -> None:
    p = Perceptron(2).fit(X, AND)
    for x, expected in zip(X.tolist(), p.predict(X).tolist()):
        out = p(x)
        assert out.op == "step" and out.data == expected
    out = p([1.0, 1.0])
    out.backward()
    assert [q.grad for q in p.parameters()] == [0.0, 0.0, 0.0]  # why it needs a rule of its own
    assert [q.label for q in p.parameters()] == ["w0", "w1", "b"]
    source = draw(out).source
    assert all(name in source for name in ("w0", "w1", "step"))  # drawn, its parameters named
    assert any("∂" in f.equation and "step" in f.equation for f in steps(out))


def test_the_decision_boundary_is_the_line_w_x_plus_b_equals_zero() -> None:
    p = Perceptron(2).fit(X, AND)
    w0, w1, b = (q.data for q in p.parameters())
    fig = plot_decision_boundary(p, X, AND, resolution=40)
    ax = fig.axes[0]
    (line,) = [c for c in ax.collections if isinstance(c, ContourSet) and list(c.levels) == [0.0]]
    vertices = np.concatenate([path.vertices for path in line.get_paths()])
    assert len(vertices) > 10
    np.testing.assert_allclose(w0 * vertices[:, 0] + w1 * vertices[:, 1] + b, 0.0, atol=1e-9)
    # It answers only 0 or 1: two flat colours named by a legend, no continuous "model output" scale
    assert len(fig.axes) == 1  # no colour bar
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 0", "class 1"]
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    painted = np.asarray(mesh.get_array()).ravel()
    assert mesh.cmap.N == 2 and painted.tolist() == p.predict(boundary_grid("test", X, 40).points).tolist()
    assert set(painted.tolist()) == {0, 1}
