"""Step through backprop one node at a time, each step with the chain-rule sum that produced it.

    for frame in steps(J):
        print(frame.equation)      # dJ/da = dd/da × dJ/dd = 1 × 2 = 2
    steps(J).widget()              # Jupyter: a slider and Prev/Next over the pictures

One frame per node, in the order `backward()` reaches them (reverse topological order, the output
first). A node's gradient is complete when the walk reaches it, because every node that uses it
has been passed already; frame k shows exactly the gradients complete after step k, and leaves
blank the ones not known yet. Leaves get a frame too (dJ/dw is what training needs); constants
get none: their gradient is never used, and showing it would only distract from the inputs.

Nothing here writes to the user's graph: the gradients come from the engine's own reverse walk
(`micrograd.engine.graph.gradients`, the walk of `Value.backward()` run on a copy of the graph,
with a record of each term), so the last frame holds bit for bit what a fresh `backward()` gives.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Iterator, Sequence
from functools import cached_property
from typing import Any, overload

import graphviz

from micrograd import Constant, Value
from micrograd.engine.graph import Term, gradients
from micrograd.engine.names import node_names

from .draw import DrawOptions, draw_with
from .render import render
from .svg import fitted_html
from .text import short_number

__all__ = ["Frame", "Steps", "Term", "steps"]


def equation_number(x: float) -> str:
    """A number in an equation: as briefly as the drawing writes an op's parameter ("2", "0.5")."""
    return "0" if x == 0 else short_number(x)


class Frame:
    """One step of the backward pass: `node`'s gradient, found by `equation`.

    `grads` maps every node whose gradient is known after this step to that gradient. In
    Jupyter a frame shows as the drawing with `node` (and its path to the output) in orange,
    the known gradients written in, and the others blank; it fills the cell's width only as far
    as its text stays readable, then scrolls (`viz.svg`), like `draw()`.
    """

    def __init__(self, owner: Steps, index: int, node: Value, equation: str) -> None:
        self._owner = owner
        self.index = index
        self.node = node
        self.equation = equation

    @property
    def terms(self) -> list[Term]:
        """The terms of this node's chain-rule sum, in the order of the formula (the consumers in
        the order they were computed); empty for the output itself."""
        return self._owner._terms(self.node)

    @property
    def name(self) -> str:
        """The node's name in the equations and the pictures (`micrograd.engine.names.node_names`)."""
        return self._owner.names[self.node]

    @cached_property
    def grads(self) -> dict[Value, float]:
        final = self._owner._backprop.grads
        return {node: final[node] for node in self._owner.nodes[: self.index + 1]}

    def graph(self) -> graphviz.Digraph:
        """The drawing of this step, made by `draw()`'s code."""
        return self._owner._graph(self)

    @cached_property
    def _svg(self) -> str:
        return render(self.graph(), "svg").decode("utf-8")

    def svg(self) -> str:
        """The drawing as SVG text (rendered once, by Graphviz's `dot`)."""
        return self._svg

    def _repr_svg_(self) -> str:
        return self._svg

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        caption = (
            f"<p><b>step {self.index + 1} / {len(self._owner)}</b>&nbsp; <code>{html.escape(self.equation)}</code></p>"
        )
        return {
            "text/html": f"<div>{caption}{fitted_html(self._svg)}</div>",
            "image/svg+xml": self._svg,
            "text/plain": repr(self),
        }

    def __repr__(self) -> str:
        return f"<Frame {self.index + 1}/{len(self._owner)}: {self.equation}>"


class Steps(Sequence[Frame]):
    """The frames of one backward pass over the graph of `root` (see `steps`).

    The equations and gradients are computed at once; each picture is drawn the first time it is
    shown, from the graph's data at that moment, so make the frames again after changing the
    graph (an optimizer step). A graph too large to draw (`draw`'s max_nodes) still has its
    equations; only showing a frame's picture raises draw's ValueError.
    """

    def __init__(
        self, root: Value, *, edge_labels: bool = False, precision: int = 4, rankdir: str = "LR", mark_edge: Any = None
    ) -> None:
        if not isinstance(root, Value):
            raise TypeError(f"steps() needs a micrograd Value (the output of a graph), got {type(root).__name__}")
        self._options = DrawOptions(
            show_grad=True, edge_labels=bool(edge_labels), precision=precision, rankdir=rankdir, mark_edge=mark_edge
        )
        self.root = root
        self._backprop = gradients(root)
        order = self._backprop.order
        self.names = node_names(order)
        # The output always has a frame (even a lone constant); other constants never do.
        self.nodes = [node for node in reversed(order) if node is root or not isinstance(node, Constant)]
        self._frames = [Frame(self, k, node, self._equation(node)) for k, node in enumerate(self.nodes)]

    @property
    def grads(self) -> dict[Value, float]:
        """The gradients after the last step: what `backward()` gives on a fresh graph."""
        return self._frames[-1].grads

    def _equation(self, node: Value) -> str:
        """ "dJ/da = dd/da × dJ/dd = 1 × 2 = 2", one term per use of `node` (so a*a gives two)."""
        out = self.names[self.root]
        name = self.names[node]
        if node is self.root:
            return f"d{out}/d{out} = 1"
        terms = self._terms(node)
        symbols = " + ".join(f"d{self.names[t.consumer]}/d{name} × d{out}/d{self.names[t.consumer]}" for t in terms)
        numbers = " + ".join(f"{_factor(t.local, first=i == 0)} × {_factor(t.upstream)}" for i, t in enumerate(terms))
        equation = f"d{out}/d{name} = {symbols} = {numbers} = {equation_number(self._backprop.grads[node])}"
        from_code = sorted({self.names[t.consumer] for t in terms if t.consumer.user_op})
        if from_code:  # a user-defined op: its local derivative is whatever its _backward computes
            equation += f" ({', '.join(f'd{c}/d{name}' for c in from_code)} from user code: its _backward)"
        return equation

    def _terms(self, node: Value) -> list[Term]:
        # Backward adds the terms from the output down; a learner writes them in the order of the
        # formula (dJ/da = dp/da × dJ/dp + dq/da × dJ/dq when p was computed before q). Only the
        # text is reordered: the sum itself is the one backward() computes.
        position = self._backprop.position
        return sorted(self._backprop.terms.get(node, []), key=lambda t: (position[t.consumer], t.slot))

    def _graph(self, frame: Frame) -> graphviz.Digraph:
        options = dataclasses.replace(self._options, highlight=frame.node)
        return draw_with(self.root, options, grads=self._backprop.grads, known=frame.grads)

    def __len__(self) -> int:
        return len(self._frames)

    @overload
    def __getitem__(self, k: int) -> Frame: ...

    @overload
    def __getitem__(self, k: slice) -> list[Frame]: ...

    def __getitem__(self, k: int | slice) -> Frame | list[Frame]:
        return self._frames[k]

    def __iter__(self) -> Iterator[Frame]:
        return iter(self._frames)

    def __repr__(self) -> str:
        return f"<Steps: {len(self)} frames of the backward pass from {self.names[self.root]}>"

    def __str__(self) -> str:
        return "\n".join(frame.equation for frame in self._frames)

    def widget(self) -> Any:
        """A Jupyter widget: a slider and Prev/Next buttons over the frames, the equation and the picture."""
        try:
            import ipywidgets
        except ImportError:
            raise ImportError(
                "Steps.widget() needs ipywidgets (pip install ipywidgets); without it, show the frames "
                "one by one (`steps(J)[0]`) or write a page with viz.export_html(J, 'backprop.html')"
            ) from None
        count = len(self)
        slider = ipywidgets.IntSlider(value=1, min=1, max=count, description="step", continuous_update=True)
        back = ipywidgets.Button(description="◀ Prev", tooltip="previous step")
        forward = ipywidgets.Button(description="Next ▶", tooltip="next step")
        counter = ipywidgets.Label()
        equation = ipywidgets.HTML()
        picture = ipywidgets.HTML()

        def show(_change: object = None) -> None:
            frame = self._frames[slider.value - 1]
            counter.value = f"{slider.value} / {count}"
            equation.value = f"<code>{html.escape(frame.equation)}</code>"
            picture.value = fitted_html(frame.svg())
            back.disabled = slider.value == 1
            forward.disabled = slider.value == count

        def move(by: int) -> None:
            slider.value = min(count, max(1, slider.value + by))

        slider.observe(show, names="value")
        back.on_click(lambda _button: move(-1))
        forward.on_click(lambda _button: move(1))
        show()
        return ipywidgets.VBox([ipywidgets.HBox([back, slider, forward, counter]), equation, picture])


def _factor(x: float, first: bool = False) -> str:
    """A number in a product: negative ones in parentheses except at the start ("-2 × 2", "3 × (-1)")."""
    text = equation_number(x)
    return text if first or not text.startswith("-") else f"({text})"


def steps(
    root: Value, *, edge_labels: bool = False, precision: int = 4, rankdir: str = "LR", mark_edge: Any = None
) -> Steps:
    """The backward pass from `root`, one frame per node (see this module's docstring).

    The options are `draw()`'s, for the pictures: `mark_edge=gradcheck(root).first_wrong_edge`
    marks in every frame the edge whose derivative is wrong. The user's graph is left as it is:
    no `.grad` changes, whether or not `backward()` was called before. `export_html(steps(...),
    path)` writes the frames as a page, marked edge included.
    """
    return Steps(root, edge_labels=edge_labels, precision=precision, rankdir=rankdir, mark_edge=mark_edge)
