"""DESIGN section 1: imports go one way, host -> wire and module -> wire; neither side imports the other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import softscm

PACKAGE = Path(softscm.__file__).parent


def _imported_layers(path: Path) -> set[str]:
    """The top-level softscm subpackages ``path`` imports (absolute or relative)."""
    parts = path.relative_to(PACKAGE).parts
    layers = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(parts[:-node.level]) + (node.module.split(".") if node.module else [])
                layers.add(base[0] if base else "")
            elif node.module and node.module.startswith("softscm."):
                layers.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            layers.update(a.name.split(".")[1] for a in node.names if a.name.startswith("softscm."))
    return layers


@pytest.mark.parametrize("side, other", [("module", "host"), ("host", "module"), ("wire", "host"), ("wire", "module"),
                                         ("pkcs11", "module")])
def test_no_import_crosses_the_boundary(side, other):
    offenders = [str(p.relative_to(PACKAGE)) for p in sorted((PACKAGE / side).rglob("*.py")) if other in _imported_layers(p)]
    assert offenders == []
