"""The floor plan, kept by test: no import cycles, accounts below swaps, pure parts pure.

Imports are read from the source (every `import`, at module level or inside a function),
so a cycle held open by a function-level import counts as a cycle.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("accounts", "swaps", "faceswap_site")
# Loaded by a fresh interpreter without Django: the engine, images, and the network code.
PURE_MODULES = (
    "swaps.engine",
    "swaps.imaging",
    "swaps.imaging.gif",
    "swaps.imaging.watermark",
    "swaps.imaging.previews",
    "swaps.imaging.credentials",
    "swaps.net",
    "swaps.net.url_policy",
    "swaps.net.fetch",
    "swaps.net.webhook_post",
)


def project_modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imported_names(module: str, path: Path) -> set[str]:
    """Every dotted name `module` imports (`from a import b` gives a.b and a)."""
    names: set[str] = set()
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            names.update(f"{target}.{alias.name}" for alias in node.names)
            names.add(target)
    return names


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()

    def owner(name: str) -> str | None:  # the project module a dotted name lives in
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for module, path in modules.items():
        targets = {owner(name) for name in _imported_names(module, path)}
        graph[module] = {
            t for t in targets if t and t != module and not module.startswith(f"{t}.")
        }  # a package's own __init__
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []
    for root in graph:
        if root not in index:
            _strongconnect(root, graph, index, low, stack, found)
    return found


def _strongconnect(
    root: str,
    graph: dict[str, set[str]],
    index: dict[str, int],
    low: dict[str, int],
    stack: list[str],
    found: list[list[str]],
) -> None:
    work = [(root, iter(sorted(graph[root])))]
    index[root] = low[root] = len(index)
    stack.append(root)
    while work:
        node, children = work[-1]
        child = next(children, None)
        if child is not None:
            if child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in stack:
                low[node] = min(low[node], index[child])
            continue
        work.pop()
        if work:
            low[work[-1][0]] = min(low[work[-1][0]], low[node])
        if low[node] == index[node]:
            group = stack[stack.index(node) :]
            del stack[stack.index(node) :]
            if len(group) > 1:
                found.append(sorted(group))


def test_no_module_imports_itself_through_others():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_sees_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_accounts_never_imports_swaps():
    graph = import_graph()
    wrong = {
        (m, t)
        for m, targets in graph.items()
        if m.startswith("accounts")
        for t in targets
        if t.startswith("swaps")
    }
    assert wrong == set()


def test_pure_parts_load_no_django():
    probe = (
        "import importlib, sys\n"
        f"for name in {PURE_MODULES!r}: importlib.import_module(name)\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] in "
        "('django', 'rest_framework', 'django_q')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.stdout.strip() == "[]"
