"""Issue 12: the module package has no import circle (``Module`` is not a hub every file imports
back). Imports made only for type checking (under ``if TYPE_CHECKING:``) are not counted."""

from __future__ import annotations

import ast
from pathlib import Path

import softscm

PACKAGE = Path(softscm.__file__).parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(path: Path) -> set[str]:
    """The softscm modules ``path`` imports at run time (``from x import y`` counts as x, or as
    x.y when x.y is a module)."""
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
                continue
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for alias in node.names:
                    candidate = f"{target}.{alias.name}"
                    found.add(candidate if _exists(candidate) else target)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            for child in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(node, child, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                    visit(inner)

    visit(ast.parse(path.read_text()).body)
    return {name for name in found if name.startswith("softscm")}


def _exists(name: str) -> bool:
    relative = Path(*name.split(".")[1:])
    return (PACKAGE / relative).with_suffix(".py").is_file() or (PACKAGE / relative / "__init__.py").is_file()


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle in ``graph`` (as the list of its nodes), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := walk(nxt)) is not None:
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := walk(node)) is not None:
            return cycle
    return None


def _graph(package: str) -> dict[str, set[str]]:
    root = PACKAGE / package
    names = {_module_name(p): p for p in root.rglob("*.py")}
    return {name: {i for i in _runtime_imports(path) if i in names and i != name} for name, path in names.items()}


def test_the_cycle_finder_finds_a_circle():
    """The guard itself: a deliberate circle is found, a chain is not."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_module_package_has_no_import_circle():
    graph = _graph("module")
    assert len(graph) > 40  # the walk saw the package
    assert find_cycle(graph) is None


def test_wire_and_host_have_no_import_circle():
    for package in ("wire", "host"):
        assert find_cycle(_graph(package)) is None, package
