"""No module of rigcheck/ is in an import cycle: every import counts, top-level, inside a function
(lazy) or under TYPE_CHECKING, since each says one module depends on the other."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "rigcheck"


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(pkg: Path = PKG) -> dict[str, set[str]]:
    """module -> the rigcheck modules it imports (a package import counts as its __init__)."""
    files = {_module_name(p, pkg.parent): p for p in pkg.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in files}
    for mod, path in files.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    head = ".".join(base + ([node.module] if node.module else []))
                else:
                    head = node.module or ""
                targets = [head] + [f"{head}.{a.name}" for a in node.names]
            for t in targets:
                # the deepest rigcheck module the name denotes (a name imported from a module is
                # an attribute of it)
                while t and t not in files:
                    t = t.rpartition(".")[0]
                if t and t != mod:
                    graph[mod].add(t)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _pkg_init_edges_ok(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    # A submodule "importing" its own package: Python runs the package's __init__ first
    # anyway, so that edge (rigcheck.doctor.checks.driver -> rigcheck.doctor) says nothing.
    g = {m: set(d) for m, d in graph.items()}
    for m, deps in g.items():
        for d in list(deps):
            if m.startswith(d + "."):
                deps.discard(d)
    return g


def test_the_cycle_finder_finds_a_cycle(tmp_path: Path) -> None:
    pkg = tmp_path / "rigcheck"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from rigcheck.sub import b\n")
    (pkg / "sub" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..a import f\n")
    (pkg / "c.py").write_text("from rigcheck import a\n")
    graph = import_graph(pkg)
    assert graph["rigcheck.a"] == {"rigcheck.sub", "rigcheck.sub.b"}
    assert graph["rigcheck.sub.b"] == {"rigcheck.a"}
    assert cycles(graph) == [["rigcheck.a", "rigcheck.sub.b"]]


def test_no_module_of_rigcheck_is_in_an_import_cycle() -> None:
    found = cycles(_pkg_init_edges_ok(import_graph()))
    assert found == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in found)
