"""The shape of the code: which package may import which, no import cycles, no private imports.

Read from the source with `ast`, so an import inside a function counts as much as one at the top
(an import made only for type annotations, under `if TYPE_CHECKING:`, does not: it never runs).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("micrograd", "viz")

# What each part of the project may import from the project, layer by layer (a prefix match).
ALLOWED = {
    "micrograd.checks": (),
    "micrograd.files": (),
    "micrograd.engine": ("micrograd.engine", "micrograd.checks", "micrograd.files"),
    "micrograd.training": ("micrograd.training", "micrograd.engine", "micrograd.checks", "micrograd.files"),
    "micrograd.nn": ("micrograd.nn", "micrograd.training", "micrograd.engine", "micrograd.checks", "micrograd.files"),
    "micrograd.data": ("micrograd.data", "micrograd.checks"),
    "micrograd": ("micrograd",),  # the package itself and its compatibility modules (optim, datasets)
    # The way out to PyTorch (micrograd/export.py): one module that gathers the engine's twin
    # script and the models' converters, so it sits above both.
    "micrograd.export": ("micrograd.engine", "micrograd.nn", "micrograd.checks"),
    # The network view (viz/network.py) reads models: their layers, neurons and activations.
    "viz": ("viz", "micrograd", "micrograd.engine", "micrograd.files", "micrograd.checks", "micrograd.nn"),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def imports(name: str, path: Path, known: set[str]) -> list[tuple[str, tuple[str, ...], int]]:
    """(imported module, the names taken from it, line) for every import that runs."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    stack: list[ast.AST] = [tree]
    while stack:  # no recursion, as everywhere in the project
        node = stack.pop()
        if _type_checking_only(node):
            continue
        stack.extend(ast.iter_child_nodes(node))
        if isinstance(node, ast.Import):
            found += [(alias.name, (), node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            taken = tuple(alias.name for alias in node.names)
            submodules = [f"{base}.{t}" for t in taken if f"{base}.{t}" in known]
            found += [(m, (), node.lineno) for m in submodules]
            rest = tuple(t for t in taken if f"{base}.{t}" not in known)
            if rest or not submodules:
                found.append((base, rest, node.lineno))
    return found


def project_imports() -> dict[str, list[tuple[str, tuple[str, ...], int]]]:
    mods = modules()
    known = set(mods)
    return {
        name: [
            (m, taken, line)
            for m, taken, line in imports(name, path, known)
            if m.split(".")[0] in PACKAGES or m.split(".")[0] == "graphviz"
        ]
        for name, path in mods.items()
    }


def layer_of(name: str) -> str:
    return max((layer for layer in ALLOWED if name == layer or name.startswith(layer + ".")), key=len)


def test_every_module_imports_only_from_its_layer_and_below() -> None:
    wrong = []
    for name, found in project_imports().items():
        allowed = ALLOWED[layer_of(name)]
        for target, _, line in found:
            if target.startswith("graphviz"):
                if name.startswith("micrograd"):
                    wrong.append(f"{name}:{line} imports graphviz (micrograd never draws)")
                continue
            if not any(target == a or target.startswith(a + ".") for a in allowed):
                wrong.append(f"{name}:{line} imports {target}")
    assert wrong == []


def test_no_import_cycles() -> None:
    graph = {name: sorted({t for t, _, _ in found if t in modules()}) for name, found in project_imports().items()}
    # Tarjan's strongly connected components, with an explicit stack.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    cycles = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    assert cycles == []


def test_no_private_name_is_imported_from_another_module() -> None:
    private = [
        f"{name}:{line} takes {', '.join(t for t in taken if t.startswith('_') and not t.startswith('__'))} from {target}"
        for name, found in project_imports().items()
        for target, taken, line in found
        if any(t.startswith("_") and not t.startswith("__") for t in taken)
    ]
    assert private == []


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_every_layer_has_modules(layer: str) -> None:
    """The rules above name real parts of the project (a renamed folder must update them)."""
    assert any(name == layer or name.startswith(layer + ".") for name in modules())


def test_the_checker_sees_relative_imports_in_functions_and_skips_type_checking(tmp_path: Path) -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from .value import Value\n"
        "def f():\n    from ..training import loop\n    from . import _hidden\n"
    )
    path = tmp_path / "graph.py"
    path.write_text(source)
    found = imports("micrograd.engine.graph", path, {"micrograd.training.loop"})
    assert ("micrograd.training.loop", (), 5) in found
    assert ("micrograd.engine", ("_hidden",), 6) in found
    assert not any(target == "micrograd.engine.value" for target, _, _ in found)
