"""Step through one training step as students write it: forward, backward, update.

    for frame in steps(J, lr=0.1):
        print(frame.phase, frame.equation)
    # forward   c = w × x = 2 × (−2) = −4
    # backward  w̄ = ∂c/∂w × c̄ = −2 × 2 = −4   (c = w × x, so ∂c/∂w = x = −2)
    # update    w ← w − η·w̄ = 2 − 0.1 × (−4) = 2.4
    steps(J)                       # Jupyter: the widget (with ipywidgets), else every frame

One notation throughout, the trace table's: ū ("u bar") is the total gradient ∂J/∂u of the
output J with respect to u, and ∂c/∂u the local derivative of the one op c that uses u. No
equation has the same symbol on both sides.

- Forward: one frame per value in topological order, each with its computation; the values not
  computed yet are blank in the picture.
- Backward: one frame per node in the order `backward()` reaches them (the output first). A node's
  gradient is complete when the walk reaches it, because every node that uses it has been passed
  already. Each frame writes its chain-rule sum, one term per use (a node used twice has two,
  each named by its consumer), then each local derivative's formula before its number (from
  `viz.op_formulas`, keyed like the op registry). Constants get no frame and no derivative with
  respect to them: nothing is learned or traced back through a constant.
- Update (with `lr`): one frame per parameter, `w ← w − η·w̄`, then the output recomputed at the
  new values by a tape (`micrograd.engine.tape.Tape`): did J go down?

Nothing here writes to the user's graph: the gradients come from the engine's own reverse walk on
a copy (`micrograd.engine.graph.gradients`), so the last backward frame holds bit for bit what a
fresh `backward()` gives, and the updated values live only in the frames.
"""

from __future__ import annotations

import dataclasses
import html
import math
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from typing import Any, overload

import graphviz
import numpy as np

from micrograd import Constant, Parameter, Value
from micrograd.engine.graph import Term, gradients
from micrograd.engine.names import adjoint_name, node_names, partial_name
from micrograd.engine.ops import OPS
from micrograd.engine.tape import Tape

from .draw import FOCUS_CURRENT, FOCUS_EDGE, FOCUS_USED, DrawOptions, Focus, draw_with
from .op_formulas import definition, local_formula, number
from .render import render
from .svg import fitted_html

__all__ = ["PHASES", "Frame", "Steps", "Term", "steps"]

PHASES = ("forward", "backward", "update")
TOLERANCE = 1e-3  # an answer within this relative error of the frame's number counts as right

# What each mark of a picture means, per phase: (mark, text). The marks are drawn by viz/draw.py
# (`Focus`); "current" is an orange box, "edge" a thick purple arrow, "used" a blue box.
LEGENDS: dict[str, tuple[tuple[str, str], ...]] = {
    "input": (("current", "a given value"),),
    "forward": (("current", "the value this step computes"), ("used", "the values it is computed from")),
    "seed": (("current", "the output: its gradient is 1"),),
    "backward": (
        ("current", "ū: the gradient this step finds"),
        ("edge", "∂c/∂u: the local derivative it uses"),
        ("used", "c̄: the gradient it multiplies"),
    ),
    "update": (("current", "the parameter this step moves against its gradient"),),
    "result": (("current", "the output at the new values"), ("used", "the parameters moved")),
}
_MARK_COLORS = {"current": FOCUS_CURRENT, "used": FOCUS_USED}


@dataclasses.dataclass(frozen=True)
class _Picture:
    """What a frame's drawing shows: the known gradients and values, the focus, which number the
    exercise hides ("grad" or "value" of `node`)."""

    known: frozenset[Value]
    values: Mapping[Value, float] | None
    shown: frozenset[Value] | None
    focus: Focus
    hides: str


class Frame:
    """One step: `node`, found by `equation`, in `phase` ("forward", "backward" or "update").

    `answer` is the number the step finds (None for a given input), `question` the equation up
    to it ("c = w × x = 2 × (−2) = ?") and `hint` the chain-rule reminder the exercise gives
    after a wrong answer. `note` is what the ops whose local derivatives the step uses say about
    them (`Op.note`: a step passes no gradient back), "" for most frames. `grads` maps every node
    whose gradient is known at this step to it. In Jupyter a frame shows as its equation (and
    note) above the drawing, the marks explained by a legend.
    """

    def __init__(
        self,
        owner: Steps,
        index: int,
        phase: str,
        node: Value,
        equation: str,
        *,
        kind: str,
        question: str | None = None,
        answer: float | None = None,
        hint: str = "",
        note: str = "",
        picture: _Picture,
    ) -> None:
        self._owner = owner
        self.index = index
        self.phase = phase
        self.node = node
        self.equation = equation
        self.kind = kind  # the key of its legend: "input", "forward", "seed", "backward", "update", "result"
        self.question = question
        self.answer = answer
        self.hint = hint
        self.note = note
        self._picture = picture

    @property
    def terms(self) -> list[Term]:
        """The terms of this node's chain-rule sum (backward frames; the consumers in the order
        they were computed); empty for the output and for the other phases."""
        return self._owner._terms(self.node) if self.phase == "backward" else []

    @property
    def name(self) -> str:
        """The node's name in the equations and the pictures (`micrograd.engine.names.node_names`)."""
        return self._owner.names[self.node]

    @property
    def legend(self) -> tuple[tuple[str, str], ...]:
        """The marks of the picture and what each means: ("current" | "edge" | "used", text)."""
        return LEGENDS[self.kind]

    @cached_property
    def grads(self) -> dict[Value, float]:
        final = self._owner._backprop.grads
        return {node: final[node] for node in self._owner.backward_nodes if node in self._picture.known}

    def graph(self, legend: bool = True, hide_answer: bool = False) -> graphviz.Digraph:
        """The drawing of this step, made by `draw()`'s code; `hide_answer` leaves the number this
        step finds blank (the exercise's picture before it is answered)."""
        return self._owner._graph(self._picture, self.kind if legend else "", hide_answer, self.node)

    @cached_property
    def _svg(self) -> str:
        return self.render_svg()

    def render_svg(self, legend: bool = True, hide_answer: bool = False) -> str:
        """The drawing as SVG text (one run of Graphviz's `dot`)."""
        if legend and not hide_answer and "_svg" in self.__dict__:
            return self._svg
        return render(self.graph(legend, hide_answer), "svg").decode("utf-8")

    def svg(self) -> str:
        """The drawing as SVG text, legend included (rendered once)."""
        return self._svg

    def _repr_svg_(self) -> str:
        return self._svg

    def caption_html(self) -> str:
        note = f"<p><i>Note: {html.escape(self.note)}</i></p>" if self.note else ""
        return (
            f"<p><b>step {self.index + 1} / {len(self._owner)}</b> ({self.phase})&nbsp; "
            f"<code>{html.escape(self.equation)}</code></p>{note}"
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {
            "text/html": f"<div>{self.caption_html()}{fitted_html(self._svg)}</div>",
            "image/svg+xml": self._svg,
            "text/plain": repr(self),
        }

    def __repr__(self) -> str:
        return f"<Frame {self.index + 1}/{len(self._owner)} {self.phase}: {self.equation}>"


class Steps(Sequence[Frame]):
    """The frames of one training step over the graph of `root` (see `steps`).

    The equations and numbers are computed at once; each picture is drawn the first time it is
    shown, from the graph's data at that moment, so make the frames again after changing the
    graph. A graph too large to draw (`draw`'s max_nodes) still has its equations; only showing a
    frame's picture raises draw's ValueError.
    """

    def __init__(
        self,
        root: Value,
        *,
        forward: bool = True,
        lr: float | None = None,
        params: Sequence[Value] | None = None,
        edge_labels: bool = False,
        precision: int = 4,
        rankdir: str = "LR",
        mark_edge: Any = None,
    ) -> None:
        if not isinstance(root, Value):
            raise TypeError(f"steps() needs a micrograd Value (the output of a graph), got {type(root).__name__}")
        if not isinstance(forward, bool):
            raise TypeError(f"steps(forward={forward!r:.40}): choose True or False")
        if lr is not None and (isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr)):
            raise ValueError(f"steps(lr={lr!r:.40}): give the learning rate η as a finite number, such as 0.1")
        self._options = DrawOptions(
            show_grad=True, edge_labels=bool(edge_labels), precision=precision, rankdir=rankdir, mark_edge=mark_edge
        )
        self.root = root
        self.lr = None if lr is None else float(lr)
        self._backprop = gradients(root)
        order = self._backprop.order
        self.order = order
        self.names = node_names(order)
        self.params = self._parameters(params)
        # The output always has a backward frame (even a lone constant); other constants never do.
        self.backward_nodes = [node for node in reversed(order) if node is root or not isinstance(node, Constant)]
        self.new_values: dict[Value, float] = {}
        self._frames: list[Frame] = []
        if forward:
            self._forward_frames()
        self._backward_frames()
        if self.lr is not None:
            self._update_frames(self.lr)

    # -- which leaves learn -----------------------------------------------------------------------

    def _parameters(self, params: Sequence[Value] | None) -> list[Value]:
        """The leaves an update moves: `params`, else the graph's Parameters, else every labelled
        leaf; in the order of the graph."""
        leaves = [node for node in self.order if not node.children and not isinstance(node, Constant)]
        if params is None:
            chosen: list[Value] = [node for node in leaves if isinstance(node, Parameter)] or [
                node for node in leaves if node.label
            ]
            return chosen
        if isinstance(params, Value) or not isinstance(params, Sequence):
            raise TypeError("steps(params=...) takes a list of leaves of the graph: params=[w, b]")
        for p in params:
            if not isinstance(p, Value) or p not in self.names:
                raise ValueError(f"steps(params=...): {p!r:.60} is not part of the graph of the output")
            if isinstance(p, Constant) or p.children:
                raise ValueError(
                    f"steps(params=...): {self.names[p]} is {'a constant' if isinstance(p, Constant) else 'computed'}, "
                    "not a leaf that learning can move"
                )
        wanted = set(params)
        return [node for node in leaves if node in wanted]

    # -- the three phases -------------------------------------------------------------------------

    def _add(self, phase: str, node: Value, equation: str, **kwargs: Any) -> None:
        self._frames.append(Frame(self, len(self._frames), phase, node, equation, **kwargs))

    def _forward_frames(self) -> None:
        name = self.names.__getitem__
        shown: set[Value] = {node for node in self.order if isinstance(node, Constant)}
        for node in self.order:
            if isinstance(node, Constant) and node is not self.root:
                continue
            shown.add(node)
            picture = _Picture(frozenset(), None, frozenset(shown), Focus(current=frozenset([node])), "value")
            value = number(node.data)
            if not node.children:
                self._add("forward", node, f"{name(node)} = {value}", kind="input", picture=picture)
                continue
            used = frozenset(c for c in node.children if not isinstance(c, Constant))
            picture = dataclasses.replace(picture, focus=Focus(current=frozenset([node]), used=used))
            symbolic, numeric = definition(node, name), definition(node, name, values=True)
            chain = f"{name(node)} = {symbolic}" + ("" if numeric == symbolic else f" = {numeric}")
            operands = " and ".join(dict.fromkeys(name(c) for c in node.children if not isinstance(c, Constant)))
            self._add(
                "forward",
                node,
                f"{chain} = {value}",
                kind="forward",
                question=f"{chain} = ?",
                answer=node.data,
                hint=f"{name(node)} = {symbolic}: put in the value{'s' if ' and ' in operands else ''} of {operands}",
                picture=picture,
            )

    def _backward_frames(self) -> None:
        name = self.names.__getitem__
        known: set[Value] = set()
        grads = self._backprop.grads
        for node in self.backward_nodes:
            known.add(node)
            focus = Focus(current=frozenset([node]))
            if node is self.root:
                picture = _Picture(frozenset(known), None, None, focus, "grad")
                self._add(
                    "backward",
                    node,
                    f"{self._adjoint(node)} = 1",
                    kind="seed",
                    question=f"{self._adjoint(node)} = ?",
                    answer=1.0,
                    hint=f"the backward pass starts at the output: by how much does {name(node)} change when "
                    f"{name(node)} changes by 1?",
                    picture=picture,
                )
                continue
            terms = self._terms(node)
            focus = Focus(
                current=frozenset([node]),
                edges=frozenset((t.consumer, t.slot) for t in terms),
                used=frozenset(t.consumer for t in terms),
            )
            picture = _Picture(frozenset(known), None, None, focus, "grad")
            symbols = " + ".join(f"{self._local_name(t)} × {self._adjoint(t.consumer)}" for t in terms)
            numbers = " + ".join(
                f"{_factor(t.local, first=i == 0)} × {_factor(t.upstream)}" for i, t in enumerate(terms)
            )
            chain = f"{self._adjoint(node)} = {symbols}"
            locals_ = self._locals(terms)
            self._add(
                "backward",
                node,
                f"{chain} = {numbers} = {number(grads[node])}   ({locals_})",
                kind="backward",
                question=f"{chain} = ?   ({self._definitions(terms)})",
                answer=grads[node],
                hint=f"{chain}: {self._formulas(terms)}; read "
                f"{' and '.join(dict.fromkeys(self._adjoint(t.consumer) for t in terms))} in the picture",
                note=_notes(terms),
                picture=picture,
            )

    def _adjoint(self, node: Value) -> str:
        """ū, the gradient of the output with respect to `node` (see `adjoint_name`)."""
        return adjoint_name(self.names[self.root], self.names[node])

    def _local_name(self, term: Term) -> str:
        """∂c/∂u of one term; "(1st)" or "(2nd)" when the consumer uses u twice (c = u × u)."""
        consumer = term.consumer
        text = partial_name(self.names[consumer], self.names[term.node])
        if len(consumer.children) == 2 and consumer.children[0] is consumer.children[1]:
            text += (" (1st)", " (2nd)")[term.slot]
        return text

    def _by_consumer(self, terms: list[Term]) -> list[list[Term]]:
        groups: dict[Value, list[Term]] = {}
        for t in terms:
            groups.setdefault(t.consumer, []).append(t)
        return list(groups.values())

    def _definitions(self, terms: list[Term]) -> str:
        name = self.names.__getitem__
        return "; ".join(
            f"{name(group[0].consumer)} = {definition(group[0].consumer, name)}" for group in self._by_consumer(terms)
        )

    def _formulas(self, terms: list[Term]) -> str:
        """Each local derivative as a formula, without its number: "∂c/∂w = x for c = w × x"."""
        name = self.names.__getitem__
        parts = []
        for t in terms:
            formula = local_formula(t.consumer, t.slot, name)
            said = "comes from user code (its _backward)" if formula is None else f"= {formula}"
            parts.append(f"{self._local_name(t)} {said} for {name(t.consumer)} = {definition(t.consumer, name)}")
        return "; ".join(parts)

    def _locals(self, terms: list[Term]) -> str:
        """Each consumer's definition, then each of its local derivatives, formula before number:
        "c = w × x, so ∂c/∂w = x = −2"; from user code: "t = tanh(x), ∂t/∂x = 0.79 from user code"."""
        name = self.names.__getitem__
        parts = []
        for group in self._by_consumer(terms):
            consumer = group[0].consumer
            derivatives = []
            for t in group:
                formula = local_formula(consumer, t.slot, name)
                value = number(t.local)
                if formula is None:
                    derivatives.append(f"{self._local_name(t)} = {value} from user code")
                else:
                    derivatives.append(
                        f"{self._local_name(t)} = {formula}" + ("" if formula == value else f" = {value}")
                    )
            parts.append(f"{name(consumer)} = {definition(consumer, name)}, so {' and '.join(derivatives)}")
        return "; ".join(parts)

    def _update_frames(self, lr: float) -> None:
        name = self.names.__getitem__
        grads = self._backprop.grads
        eta = number(lr)
        values = {node: node.data for node in self.order}
        every = frozenset(self.backward_nodes)
        for p in self.params:
            new = p.data - lr * grads[p]
            values[p] = new
            self.new_values[p] = new
            rule = f"{name(p)} ← {name(p)} − η·{self._adjoint(p)}"
            numbers = f"{number(p.data)} − {eta} × {_factor(grads[p])}"
            picture = _Picture(every, dict(values), None, Focus(current=frozenset([p])), "value")
            self._add(
                "update",
                p,
                f"{rule} = {numbers} = {number(new)}",
                kind="update",
                question=f"{rule} = ?   (η = {eta})",
                answer=new,
                hint=f"step against the gradient: subtract η × {self._adjoint(p)} = {eta} × {self._adjoint(p)} from "
                f"{name(p)}; read {name(p)} and {self._adjoint(p)} in the picture",
                picture=picture,
            )
        after = self._recompute()
        out = name(self.root)
        before = self.root.data
        change = after[self.root] - before
        went = "down" if change < 0 else "up" if change > 0 else "nowhere"
        moved = ", ".join(name(p) for p in self.params) or "nothing"
        picture = _Picture(
            frozenset(),
            after,
            frozenset(self.order),
            Focus(current=frozenset([self.root]), used=frozenset(self.params)),
            "value",
        )
        self._add(
            "update",
            self.root,
            f"{out} = {number(after[self.root])} at the new values (was {number(before)}: "
            f"{went}{'' if change == 0 else ' by ' + number(abs(change))})",
            kind="result",
            question=f"{out} at the new values = ?",
            answer=after[self.root],
            hint=f"run the forward pass again with the new {moved}",
            picture=picture,
        )

    def _recompute(self) -> dict[Value, float]:
        """Every value at the updated parameters, by a tape recorded from the graph (the graph
        itself is not touched)."""
        try:
            tape = Tape.record(self.root, inputs=self.params) if self.params else Tape.record(self.root)
            tape.forward({p: self.new_values[p] for p in self.params})
        except (TypeError, ValueError, ZeroDivisionError) as error:
            raise ValueError(
                f"steps(lr=...): cannot recompute {self.names[self.root]} at the new values: {error}"
            ) from None
        recomputed = tape.values()
        return {node: float(np.asarray(recomputed.get(node, node.data)).reshape(-1)[0]) for node in self.order}

    # -- shared by the frames ---------------------------------------------------------------------

    @property
    def nodes(self) -> list[Value]:
        """The nodes of the backward frames, in the order `backward()` reaches them."""
        return self.backward_nodes

    @property
    def grads(self) -> dict[Value, float]:
        """The gradients after the backward pass: what `backward()` gives on a fresh graph."""
        return {node: self._backprop.grads[node] for node in self.backward_nodes}

    def phase(self, name: str) -> list[Frame]:
        """The frames of one phase: "forward", "backward" or "update"."""
        if name not in PHASES:
            raise ValueError(f"phase({name!r:.40}): choose one of {', '.join(PHASES)}")
        return [frame for frame in self._frames if frame.phase == name]

    def _terms(self, node: Value) -> list[Term]:
        # Backward adds the terms from the output down; a learner writes them in the order of the
        # formula (ā = ∂p/∂a × p̄ + ∂q/∂a × q̄ when p was computed before q). Only the text is
        # reordered: the sum itself is the one backward() computes.
        position = self._backprop.position
        return sorted(self._backprop.terms.get(node, []), key=lambda t: (position[t.consumer], t.slot))

    def _graph(self, picture: _Picture, legend: str, hide_answer: bool, node: Value) -> graphviz.Digraph:
        known, shown = picture.known, picture.shown
        if hide_answer and picture.hides == "grad":
            known = known - {node}
        elif hide_answer and shown is not None:
            shown = shown - {node}
        elif hide_answer:  # an update: the value it finds, blank among the others
            shown = frozenset(self.order) - {node}
        focus = dataclasses.replace(picture.focus, legend=_legend(legend) if legend else "", ask=hide_answer)
        return draw_with(
            self.root,
            self._options,
            grads=self._backprop.grads,
            known=known,
            values=picture.values,
            shown=shown,
            focus=focus,
        )

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
        counts = ", ".join(f"{len(self.phase(p))} {p}" for p in PHASES if self.phase(p))
        return f"<Steps: {len(self)} frames ({counts}) of a training step from {self.names[self.root]}>"

    def __str__(self) -> str:
        return "\n".join(frame.equation for frame in self._frames)

    # -- in Jupyter -------------------------------------------------------------------------------

    def _repr_html_(self) -> str:
        """Every frame, its equation above its picture (what Jupyter shows without ipywidgets)."""
        return "".join(f"<div>{frame.caption_html()}{fitted_html(frame.svg())}</div>" for frame in self._frames)

    def _ipython_display_(self) -> None:
        """`steps(J)` as the last line of a cell: the widget when ipywidgets is there, else the frames."""
        from IPython.display import HTML, display

        try:
            widget = self.widget()
        except ImportError:
            display(HTML(self._repr_html_()))
        else:
            display(widget)

    def widget(self, exercise: bool = False) -> Any:
        """A Jupyter widget: a slider and Prev/Next over the frames, the phase and equation above
        the picture. With `exercise`, each frame asks for its number first (see export_html)."""
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
        answer = ipywidgets.Text(placeholder="your number", description="answer")
        check = ipywidgets.Button(description="Check")
        reveal = ipywidgets.Button(description="Reveal")
        feedback = ipywidgets.HTML()
        revealed: set[int] = set()

        def show(_change: object = None) -> None:
            k = slider.value - 1
            frame = self._frames[k]
            counter.value = f"{slider.value} / {count} · {frame.phase}"
            asking = exercise and frame.answer is not None and k not in revealed
            text = frame.question if asking and frame.question else frame.equation
            note = f"<br><i>Note: {html.escape(frame.note)}</i>" if frame.note else ""
            equation.value = f"<b>{frame.phase}</b>&nbsp; <code>{html.escape(text)}</code>{note}"
            picture.value = fitted_html(frame.render_svg(hide_answer=True) if asking else frame.svg())
            answer.disabled = check.disabled = reveal.disabled = not asking
            if not asking:
                answer.value = ""
            back.disabled = slider.value == 1
            forward.disabled = slider.value == count

        def on_check(_button: object) -> None:
            frame = self._frames[slider.value - 1]
            verdict = check_answer(answer.value, frame.answer)
            if verdict is True:
                feedback.value = "✔ right"
                revealed.add(frame.index)
                show()
            elif verdict is None:
                feedback.value = "type a number, such as −4 or 0.5"
            else:
                feedback.value = f"✘ not quite. Hint: {html.escape(frame.hint)}"

        def on_reveal(_button: object) -> None:
            revealed.add(slider.value - 1)
            feedback.value = ""
            show()

        def move(by: int) -> None:
            feedback.value = ""
            slider.value = min(count, max(1, slider.value + by))

        slider.observe(show, names="value")
        back.on_click(lambda _button: move(-1))
        forward.on_click(lambda _button: move(1))
        check.on_click(on_check)
        reveal.on_click(on_reveal)
        show()
        parts = [ipywidgets.HBox([back, slider, forward, counter]), equation]
        if exercise:
            parts.append(ipywidgets.HBox([answer, check, reveal, feedback]))
        return ipywidgets.VBox([*parts, picture])


def _legend(kind: str) -> str:
    """The marks of a picture, as an HTML-like Graphviz label under it."""
    cells = []
    for mark, text in LEGENDS[kind]:
        if mark == "edge":
            cells.append(f'<td border="0"><font color="{FOCUS_EDGE}">━━▶ {text}</font></td>')
        else:
            outline, fill = _MARK_COLORS[mark]
            cells.append(f'<td bgcolor="{fill}" color="{outline}" border="2">{text}</td>')
    return f'<<table border="0" cellborder="1" cellspacing="6" cellpadding="3"><tr>{"".join(cells)}</tr></table>>'


def check_answer(text: str, expected: float | None) -> bool | None:
    """Whether `text` is `expected` within a relative error of TOLERANCE; None when it is not a
    number. The page's script applies the same rule (viz/html.py)."""
    try:
        given = float(text.strip().replace("−", "-").replace(",", "."))
    except ValueError:
        return None
    if expected is None or not math.isfinite(given):
        return None if expected is None else given == expected
    return given == expected or abs(given - expected) <= TOLERANCE * abs(expected)


def _notes(terms: list[Term]) -> str:
    """What the ops of these terms say about their derivatives (`Op.note`), each once."""
    notes = (OPS[t.consumer.op].note for t in terms if t.consumer.op in OPS)
    return " ".join(f"{note[0].upper()}{note[1:]}." for note in dict.fromkeys(notes) if note)


def _factor(x: float, first: bool = False) -> str:
    """A number in a product: negative ones in parentheses except at the start ("−2 × 2", "3 × (−1)")."""
    text = number(x)
    return text if first or not text.startswith("−") else f"({text})"


def steps(
    root: Value,
    *,
    forward: bool = True,
    lr: float | None = None,
    params: Sequence[Value] | None = None,
    edge_labels: bool = False,
    precision: int = 4,
    rankdir: str = "LR",
    mark_edge: Any = None,
) -> Steps:
    """One training step on the graph of `root`, frame by frame (see this module's docstring).

    - forward: start with the forward pass (default True); False gives the backward pass only.
    - lr: the learning rate η; with it, one update frame per parameter and a last frame with the
      output recomputed at the new values.
    - params: the leaves an update moves; default the graph's `Parameter`s, else every labelled leaf.

    The other options are `draw()`'s, for the pictures: `mark_edge=gradcheck(root).first_wrong_edge`
    marks in every frame the edge whose derivative is wrong. The user's graph is left as it is:
    no `.grad` or `.data` changes. `export_html(steps(...), path)` writes the frames as a page.
    """
    return Steps(
        root,
        forward=forward,
        lr=lr,
        params=params,
        edge_labels=edge_labels,
        precision=precision,
        rankdir=rankdir,
        mark_edge=mark_edge,
    )
