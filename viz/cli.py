"""`micrograd-viz` (also `python -m viz`): evaluate a formula, print its gradients, draw it.

    $ micrograd-viz "c = w*x; a = c + b; d = a - y; J = d**2/2" w=2 x=-2 b=8 y=2 -o J.svg
    J = 2.0000   ∂J/∂w = -4.0000   ∂J/∂x = 4.0000   ∂J/∂b = 2.0000   ∂J/∂y = -2.0000
    wrote J.svg

With `--steps backprop.html` it also writes a training step as a page to step through (see
viz/html.py): one self-contained file, the forward pass (one frame per value), the backward pass
(one frame per node with its chain-rule equation) and, with `--lr 0.1`, the update of every input
(w ← w − η·w̄) and the output recomputed at the new values.

Exit status: 0 on success, 2 for a formula, input or option that cannot be used (one line on
stderr, no file written), 1 when the drawing cannot be rendered or written (e.g. no Graphviz).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import unicodedata
from collections.abc import Sequence
from typing import NoReturn

from micrograd import Value
from micrograd.files import check_writable, write_atomic

from . import html
from .draw import COLORINGS, RANKDIRS, draw
from .formula import FUNCTIONS, MAX_LENGTH, NUMBER_PARAMETER, Evaluation, FormulaError, evaluate
from .render import FORMATS, GraphvizNotFoundError, check_page, check_path, render
from .steps import steps
from .tables import printable
from .text import format_number

PROG = "micrograd-viz"


class _UsageError(Exception):
    """Bad input on the command line: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (argparse prints the whole usage first)."""

    def error(self, message: str) -> NoReturn:
        _fail(f"{message} (see {PROG} --help)")
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Evaluate a formula with micrograd, print the output and the gradient of every "
        "input, and draw the computation graph.",
        epilog=f'example: {PROG} "c = w*x; a = c + b; d = a - y; J = d**2/2" w=2 x=-2 b=8 y=2 -o J.svg  '
        f"| functions: {', '.join(FUNCTIONS)} ({' and '.join(NUMBER_PARAMETER)} take an optional number: "
        "leaky_relu(x, 0.1))",
    )
    parser.add_argument(
        "formula", help=f"';'-separated assignments, at most {MAX_LENGTH} characters; the last one is the output"
    )
    parser.add_argument("inputs", nargs="*", metavar="NAME=VALUE", help="a number for each input of the formula")
    parser.add_argument("-o", "--output", metavar="PATH", help=f"write the drawing here ({', '.join(FORMATS)})")
    parser.add_argument(
        "--steps",
        metavar="PAGE.html",
        help="write a training step as a self-contained web page: the forward pass, the backward pass "
        "(one step per node with its chain-rule equation) and, with --lr, the update (uses --edge-labels, "
        "--rankdir and --precision)",
    )
    parser.add_argument(
        "--lr",
        type=float,
        metavar="ETA",
        help="with --steps: the learning rate η; the page ends with the update w ← w − η·w̄ of every input "
        "and the output at the new values",
    )
    parser.add_argument("--edge-labels", action="store_true", help="write each local derivative ∂out/∂in on its edge")
    parser.add_argument("--color", choices=COLORINGS, help="fill boxes by gradient or by role (with a legend)")
    parser.add_argument("--rankdir", choices=RANKDIRS, default="LR", help="direction of the drawing (default LR)")
    parser.add_argument("--precision", type=int, default=4, metavar="N", help="digits after the point (default 4)")
    parser.add_argument(
        "--highlight",
        action="append",
        default=[],
        metavar="NAME",
        help="draw this value and its path to the output in orange (repeatable)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_intermixed_args(argv)
        return _run(args)
    except BrokenPipeError:
        # The reader of our output went away (`| head -1`): stop quietly, as Unix tools do, and
        # keep Python from complaining again when it flushes stdout at exit.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, the status a shell shows for a tool stopped by a closed pipe
    except (_UsageError, FormulaError, ValueError, FileNotFoundError, IsADirectoryError) as error:
        _fail(str(error))
        return 2
    except (GraphvizNotFoundError, RuntimeError, OSError) as error:
        _fail(str(error))
        return 1
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130


def _run(args: argparse.Namespace) -> int:
    """Everything that can be refused is checked before anything is printed or written: the
    options, the paths (writable), the formula, the drawing's and the page's size. Then the
    files are rendered, written, and only then the results printed."""
    if not 0 <= args.precision <= 15:
        raise _UsageError(f"--precision {args.precision}: give a number of digits from 0 to 15")
    if args.output is not None:
        check_path(args.output)  # a bad suffix or folder is reported before any work
        check_writable(args.output)
    if args.steps is not None:
        html.check_path(args.steps)
        check_writable(args.steps)
    if args.lr is not None and (args.steps is None or not math.isfinite(args.lr)):
        raise _UsageError(
            f"--lr {args.lr}: give a finite learning rate, with --steps PAGE.html"
            if args.steps is not None
            else "--lr is for the --steps page: add --steps PAGE.html"
        )
    result = evaluate(args.formula, _parse_inputs(args.inputs))
    highlight = [_named(result, name) for name in args.highlight]
    # The frames are made before backward(); they never read or write `.grad` anyway.
    frames = None
    if args.steps is not None:
        frames = steps(
            result.output, lr=args.lr, edge_labels=args.edge_labels, precision=args.precision, rankdir=args.rankdir
        )
        check_page(frames, html.MAX_FRAMES)
    result.output.backward()
    files: list[tuple[str, bytes]] = []
    if args.output is not None:
        graph = draw(
            result.output,
            edge_labels=args.edge_labels,
            color=args.color,
            rankdir=args.rankdir,
            precision=args.precision,
            highlight=highlight or None,
        )
        files.append((args.output, render(graph, FORMATS[os.path.splitext(args.output)[1].lower()])))
    if frames is not None:
        files.append((args.steps, html.page(frames).encode("utf-8")))
    for path, data in files:
        write_atomic(path, data)
    print(_summary(result, args.precision), flush=True)
    for note in _gradient_notes(result):
        print(f"{PROG}: note: {note}", file=sys.stderr)
    if args.output is None and (args.highlight or args.color or (args.edge_labels and args.steps is None)):
        used = "the --steps page uses only --edge-labels, --rankdir, --precision and --lr" if args.steps else ""
        print(
            f"{PROG}: note: drawing options have no effect without -o PATH{'; ' + used if used else ''}",
            file=sys.stderr,
        )
    for path, _ in files:
        print(f"wrote {path}", flush=True)
    return 0


def _parse_inputs(items: Sequence[str]) -> dict[str, float]:
    values: dict[str, float] = {}
    for item in items:
        name, equals, text = item.partition("=")
        # Python reads identifiers in NFKC form (the formula's "ﬁ" is "fi"): so are the names given.
        name = unicodedata.normalize("NFKC", name.strip())
        if not equals or not name.isidentifier():
            raise _UsageError(f"{item!r:.60} is not an input: write NAME=VALUE, e.g. w=2")
        if name in values:
            raise _UsageError(f"input {name!r} is given twice")
        try:
            value = float(text)
        except ValueError:
            raise _UsageError(f"input {name}={text!r:.40} is not a number") from None
        if not math.isfinite(value):
            raise _UsageError(f"input {name}={text!r:.40} is not a finite number")
        values[name] = value
    return values


def _named(result: Evaluation, name: str) -> Value:
    if name not in result.named:
        raise _UsageError(f"--highlight {name!r:.40}: no input or assigned name of the formula is called that")
    return result.named[name]


def _gradient_notes(result: Evaluation) -> list[str]:
    """A gradient may be nan or inf where the derivative is undefined (x**y in y for x < 0, as in
    PyTorch) or infinite (sqrt at 0): printed as is, with a note so it is never silent."""
    out = result.name
    return [
        f"∂{out}/∂{name} is {value.grad}: the derivative is {'undefined' if math.isnan(value.grad) else 'infinite'} at this point"
        for name, value in result.inputs.items()
        if not math.isfinite(value.grad)
    ]


def _summary(result: Evaluation, precision: int) -> str:
    out = result.name
    parts = [f"{out} = {format_number(result.output.data, precision)}"]
    parts += [f"∂{out}/∂{name} = {format_number(value.grad, precision)}" for name, value in result.inputs.items()]
    return "   ".join(parts)


def _fail(message: str) -> None:
    """One line on stderr, every control character of it shown as an escape, never sent raw."""
    print(f"{PROG}: error: {printable(' '.join(message.split()))}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover - `python -m viz` goes through viz/__main__.py
    sys.exit(main())
