"""Running Graphviz's `dot`: the one place a drawing is laid out, with a timeout.

The `graphviz` package's `pipe` has no timeout, and a graph can keep `dot` busy for minutes, so
`dot` is run here as a child process that is killed (and waited for, never left running) on a
timeout, an error or an interrupt. Kept apart from viz/render.py so that `draw`'s Jupyter
display uses it too without an import cycle.
"""

from __future__ import annotations

import shutil
import subprocess

__all__ = ["DOT_TIMEOUT", "INSTALL_GRAPHVIZ", "GraphvizNotFoundError", "run_dot"]

# Seconds one run of `dot` may take. A drawing within draw()'s limits takes a few seconds at
# most; `dot` is stopped (killed, never left running) when it takes longer.
DOT_TIMEOUT = 60.0

INSTALL_GRAPHVIZ = (
    "Install Graphviz, which provides it: `sudo apt install graphviz` (Debian/Ubuntu), "
    "`brew install graphviz` (macOS) or `conda install -c conda-forge graphviz`; "
    "or save to a .dot file, which needs no Graphviz"
)


class GraphvizNotFoundError(RuntimeError):
    """Rendering needs the `dot` program of Graphviz, and it is not on PATH."""


def run_dot(source: bytes, fmt: str, timeout: float) -> bytes:
    """`dot -T<fmt>` on `source`: its output, or an error in one line (dot's own stderr is
    summed up in the message, never echoed)."""
    program = shutil.which("dot")
    if program is None:
        raise GraphvizNotFoundError(
            f"rendering to {fmt.upper()} needs Graphviz's `dot` program, which is not on PATH. " + INSTALL_GRAPHVIZ
        )
    try:
        process = subprocess.Popen(
            [program, f"-T{fmt}"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    except OSError as error:
        raise GraphvizNotFoundError(f"cannot run Graphviz's `dot` ({program}): {error.strerror or error}") from None
    try:
        output, errors = process.communicate(source, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError(
            f"Graphviz took more than {timeout:g} seconds to lay out this drawing and was stopped; "
            "draw a smaller graph (or collapse='neuron' / 'layer' for a model)"
        ) from None
    finally:
        if process.poll() is None:  # a timeout, Ctrl-C or any other error: never leave dot running
            process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    if process.returncode != 0:
        lines = [line.strip() for line in errors.decode("utf-8", "replace").splitlines() if line.strip()]
        reason = lines[0][:200] if lines else f"it exited with status {process.returncode}"
        raise RuntimeError(f"Graphviz could not render this drawing to {fmt.upper()}: {reason}")
    return output
