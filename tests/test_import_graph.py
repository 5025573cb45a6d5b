"""The import graph (docs/architecture.md, "Dependency direction"), checked on the source.

Every ``.py`` file of the apps is parsed with ``ast``; every ``import`` and ``from ... import``
counts, module level or inside a function (an import deferred to call time is still a
dependency: it only hides the cycle from the interpreter). Dotted names in strings (the
settings, ``include("access.urls")`` in the root URLconf, the beat schedule) are composition,
not imports, and are not checked.

1. The apps depend one way: ``access -> projects -> warehouse -> eds_portal``. ``warehouse``
   imports neither ``projects`` nor ``access``; ``projects`` does not import ``access``;
   ``eds_portal`` imports none of the three, except the root URLconf (and the exceptions
   listed in ``ALLOWED``, each with its reason).
2. Inside the packages of ``ACYCLIC_PACKAGES`` the modules import one another without cycle
   (``access/provisioning``: tasks -> publication -> delivery -> propagation -> runs -> queue).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("eds_portal", "warehouse", "projects", "access")

# The apps an app must not import (on its left in the dependency direction).
FORBIDDEN = {
    "warehouse": {"projects", "access"},
    "projects": {"access"},
    "eds_portal": {"warehouse", "projects", "access"},
}

# (importing module, imported app) -> why it is allowed. Keep each justified.
ALLOWED = {
    # The composition root: the root URLconf mounts every app's URLs (today through
    # include() strings; an import of a view would be allowed here too).
    ("eds_portal.urls", "warehouse"): "root URLconf",
    ("eds_portal.urls", "projects"): "root URLconf",
    ("eds_portal.urls", "access"): "root URLconf",
}

# Packages whose modules must import one another without cycle.
ACYCLIC_PACKAGES = ("access.provisioning",)


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # the imported module (or the package a name is taken from), dotted
    path: Path
    line: int
    deferred: bool  # inside a function: run when it is called, a dependency all the same

    def where(self) -> str:
        inside = ", inside a function" if self.deferred else ""
        return f"{self.path.relative_to(ROOT)}:{self.line}{inside}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def python_files(*apps: str) -> Iterator[Path]:
    for app in apps:
        yield from sorted((ROOT / app).rglob("*.py"))


def _is_module(dotted: str) -> bool:
    base = ROOT.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imports_of(path: Path, source: str | None = None) -> list[Import]:
    """Every import of a file, with the module it reaches (``from p import m``: ``p.m`` when
    ``m`` is a module of ours, else ``p``)."""
    source = path.read_text(encoding="utf-8") if source is None else source
    tree = ast.parse(source, filename=str(path))
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, deferred: bool) -> None:
        for child in ast.iter_child_nodes(node):
            # A class body runs at import time; a function body when it is called.
            inner = deferred or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.append(Import(module, alias.name, path, child.lineno, deferred))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (child.level - 1)]
                    base = ".".join([*anchor, child.module] if child.module else anchor)
                else:
                    base = child.module or ""
                for alias in child.names:
                    candidate = f"{base}.{alias.name}"
                    target = candidate if _is_module(candidate) else base
                    found.append(Import(module, target, path, child.lineno, deferred))
            visit(child, inner)

    visit(tree, False)
    return found


def _app_of(dotted: str) -> str:
    return dotted.split(".", 1)[0]


# --- 1. Between the apps --------------------------------------------------------------------


def test_the_apps_import_one_way_only():
    violations = []
    for path in python_files(*FORBIDDEN):
        for found in imports_of(path):
            app, target_app = _app_of(found.module), _app_of(found.target)
            if target_app not in FORBIDDEN[app]:
                continue
            if (found.module, target_app) in ALLOWED:
                continue
            violations.append(
                f"  {found.where()}: {found.module} imports {found.target} "
                f"({app} must not import {' or '.join(sorted(FORBIDDEN[app]))})"
            )
    assert not violations, (
        "imports against the dependency direction access -> projects -> warehouse -> "
        "eds_portal (docs/architecture.md):\n" + "\n".join(violations)
    )


# --- 2. Inside a package ----------------------------------------------------------------------


def package_graph(package: str) -> dict[str, dict[str, Import]]:
    """module -> {imported module of the same package -> the first such import}."""
    folder = ROOT.joinpath(*package.split("."))
    graph: dict[str, dict[str, Import]] = {}
    for path in sorted(folder.glob("**/*.py")):
        module = module_name(path)
        edges = graph.setdefault(module, {})
        for found in imports_of(path):
            inside = found.target == package or found.target.startswith(package + ".")
            if not inside or found.target == module:
                continue
            # Deferred imports count too; a module-level one names the edge if there is one.
            if found.target not in edges or (edges[found.target].deferred and not found.deferred):
                edges[found.target] = found
    return graph


def find_cycles(graph: dict[str, dict[str, Import]]) -> list[list[str]]:
    """One cycle (as a closed path) per strongly connected component that has one."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def connect(node: str) -> None:  # Tarjan
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            components.append(component)

    for node in sorted(graph):
        if node not in index:
            connect(node)

    cycles = []
    for component in components:
        start = min(component)
        if len(component) == 1 and start not in graph.get(start, {}):
            continue
        # Shortest way back to the start, inside the component (breadth first).
        previous: dict[str, str] = {}
        frontier = [start]
        while frontier and start not in previous:
            following = []
            for node in frontier:
                for target in sorted(graph.get(node, {})):
                    if target in component and target not in previous:
                        previous[target] = node
                        following.append(target)
            frontier = following
        path = [start]
        node = previous[start]
        while node != start:
            path.append(node)
            node = previous[node]
        path.append(start)
        path.reverse()
        cycles.append(path)
    return cycles


def _reachable(graph: dict[str, dict[str, Import]], start: str, *, backward: bool) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        node = todo.pop()
        if backward:
            following = [source for source, edges in graph.items() if node in edges]
        else:
            following = list(graph.get(node, {}))
        for other in following:
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return seen


def describe(cycle: list[str], graph: dict[str, dict[str, Import]]) -> str:
    """The cycle, each edge with the line that makes it; then, if more modules are caught in
    the same knot, every import between them."""
    steps = [cycle[0]]
    for source, target in pairwise(cycle):
        steps.append(f"-> {target} ({graph[source][target].where()})")
    text = "  " + " ".join(steps)
    knot = _reachable(graph, cycle[0], backward=False) & _reachable(graph, cycle[0], backward=True)
    if len(knot) > len(set(cycle)):
        edges = [
            f"    {source} -> {target} ({found.where()})"
            for source in sorted(knot)
            for target, found in sorted(graph[source].items())
            if target in knot
        ]
        text += "\n  every import between the modules caught in it:\n" + "\n".join(edges)
    return text


@pytest.mark.parametrize("package", ACYCLIC_PACKAGES)
def test_package_modules_import_one_another_without_cycle(package):
    graph = package_graph(package)
    assert len(graph) > 1, f"no module found in {package}"
    cycles = find_cycles(graph)
    assert not cycles, f"import cycles in {package}:\n" + "\n".join(
        describe(cycle, graph) for cycle in cycles
    )


def test_provisioning_actions_do_not_import_the_tasks():
    """The jobs are bound to the tasks by ``tasks`` itself; the actions only know ``queue``."""
    graph = package_graph("access.provisioning")
    for module in ("runs", "publication", "delivery", "propagation", "queue"):
        edges = graph[f"access.provisioning.{module}"]
        assert "access.provisioning.tasks" not in edges, edges["access.provisioning.tasks"].where()
    queue_imports = set(graph["access.provisioning.queue"])
    assert not queue_imports, f"queue imports {sorted(queue_imports)}"


# --- The checker itself -----------------------------------------------------------------------


def test_the_checker_sees_deferred_and_relative_imports():
    path = ROOT / "warehouse" / "export" / "engine.py"
    source = (
        "from . import plan\n"
        "from .output import sha256_of\n"
        "def f():\n"
        "    from access.provisioning import runs\n"
        "    import projects.models\n"
    )
    found = {(i.target, i.deferred) for i in imports_of(path, source)}
    assert found == {
        ("warehouse.export.plan", False),
        ("warehouse.export.output", False),
        ("access.provisioning.runs", True),
        ("projects.models", True),
    }


def test_the_checker_names_the_cycle():
    here = Path(__file__)
    edge = Import("a", "b", here, 1, deferred=False)
    graph = {
        "a": {"b": edge},
        "b": {"c": Import("b", "c", here, 2, True)},
        "c": {"a": Import("c", "a", here, 3, False)},
        "d": {"a": Import("d", "a", here, 4, False)},
    }
    assert find_cycles(graph) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"a": edge}}) == [["a", "a"]]
    assert find_cycles({"a": {"b": edge}, "b": {}}) == []
    assert "-> c (tests/test_import_graph.py:2, inside a function)" in describe(
        ["a", "b", "c", "a"], graph
    )
