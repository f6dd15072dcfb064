"""The main job: the course's worked examples, computed, checked and drawn, then networks trained.

Run through `bash scripts/run-demo.sh`, which installs what this needs first. Pictures go to out/.
"""

from __future__ import annotations

import random
from pathlib import Path

from micrograd import Value, gradcheck
from micrograd.datasets import make_moons
from micrograd.nn import MLP, Dense, Sequential
from micrograd.optim import Adam
from viz import export_html, nudge, plot_decision_boundary, save, steps, trace_table
from viz.op_formulas import number

OUT = Path(__file__).resolve().parent.parent / "out"


def worked_example() -> Value:
    """c = w·x, a = c + b, d = a − y, J = d²/2 with w=2, x=−2, b=8, y=2 (the course's handwritten notes, *Train a Neural Network*)."""
    w, x, b, y = Value(2.0, "w"), Value(-2.0, "x"), Value(8.0, "b"), Value(2.0, "y")
    c = w * x
    c.label = "c"
    a = c + b
    a.label = "a"
    d = a - y
    d.label = "d"
    J = d**2 / 2
    J.label = "J"
    J.backward()
    print("Worked example  J = (a − y)²/2,  c = w × x,  a = c + b,  d = a − y   (ū = ∂J/∂u)")
    print(f"  J = {number(J.data)}   d̄ = {number(d.grad)}   ā = {number(a.grad)}   c̄ = {number(c.grad)}")
    print(f"  w̄ = {number(w.grad)}   x̄ = {number(x.grad)}   b̄ = {number(b.grad)}   ȳ = {number(y.grad)}")
    report = gradcheck(lambda w, x, b, y: ((w * x + b - y) ** 2) / 2, [w, x, b, y])
    print(f"  finite differences agree: {report.ok}")
    return J


def step_through(J: Value) -> None:
    """The backward pass of the worked example one node at a time, checked by nudging the inputs."""
    print("\nThe forward pass, then the backward pass (reverse topological order), step by step")
    for frame in steps(J):
        print(f"  {frame.equation}")
    print("\nNudge each input by 0.001: the change in J is about the gradient times 0.001")
    print("  " + str(nudge(J)).replace("\n", "\n  "))
    print("\nThe evaluation trace (Baydin et al. 2018)")
    print("  " + str(trace_table(J)).replace("\n", "\n  "))
    export_html(J, OUT / "backprop.html")
    print(f"  wrote {OUT.name}/backprop.html (open it in a browser: Prev/Next or the arrow keys)")


def xor() -> None:
    """An MLP learns XOR, which no linear model can (the lectures *Deep Learning 101* and *Introduction to Deep Learning*)."""
    X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    Y = [0.0, 1.0, 1.0, 0.0]
    model = MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=1)
    params = model.parameters()
    print(f"\nXOR with {model!r}, mean squared error, gradient descent (lr 1.0)")
    for epoch in range(501):
        loss = sum((model(x) - y) ** 2 for x, y in zip(X, Y)) / len(X)
        model.zero_grad()
        loss.backward()
        for p in params:
            p.data -= 1.0 * p.grad
        if epoch % 100 == 0:
            print(f"  epoch {epoch:3d}  loss {loss.data:.6f}")
    predictions = [model(x).data for x in X]
    for x, y, p in zip(X, Y, predictions):
        print(f"  {x} -> {p:.4f}  (target {y:g})")
    correct = sum((p > 0.5) == (y > 0.5) for p, y in zip(predictions, Y))
    print(f"  accuracy {correct}/{len(X)}")


def two_moons() -> None:
    """The Keras way (the course's Keras slides): Sequential, compile, fit, on two moons."""
    X, y = make_moons(200, noise=0.1, seed=0)
    model = Sequential(
        [Dense(16, activation="relu"), Dense(16, activation="relu"), Dense(1, activation="sigmoid")],
        input_dim=2,
        seed=0,
    )
    print("\nTwo moons, 200 points")
    model.summary()
    model.compile(loss="binary_crossentropy", optimizer=Adam(lr=0.05), metrics=["accuracy"])
    model.fit(X, y, epochs=20, batch_size=32, validation_split=0.2, seed=0, verbose=0)
    loss, accuracy = model.evaluate(X, y)
    print(f"  after 20 epochs: loss {loss:.4f}, accuracy {accuracy:.1%} (trained on a tape: micrograd.Tape)")
    plot_decision_boundary(model, X, y, path=OUT / "moons_decision_boundary.png")
    print(f"  wrote {OUT.name}/moons_decision_boundary.png")


def main() -> None:
    random.seed(0)
    OUT.mkdir(exist_ok=True)
    J = worked_example()
    save(J, OUT / "worked_example.svg", edge_labels=True)
    print(f"  wrote {OUT.name}/worked_example.svg")
    step_through(J)
    xor()
    two_moons()


if __name__ == "__main__":
    main()
