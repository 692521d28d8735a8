"""Loaders for tests/vectors/crypto/ (see SOURCES.md): Wycheproof JSON files, and the RFC 6979,
RFC 8032 and RFC 7748 examples that pycryptodome's self tests carry as literals (read with ``ast``,
never executed)."""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent / "crypto"


@dataclass(frozen=True)
class Case:
    """One Wycheproof test with its group's fields merged in."""

    id: str
    result: str  # "valid", "invalid" or "acceptable"
    flags: tuple[str, ...]
    fields: dict[str, Any]
    group: dict[str, Any]

    def hex(self, name: str) -> bytes:
        return bytes.fromhex(self.fields[name])


def wycheproof(name: str, prefix: str) -> list[Case]:
    data = json.loads((HERE / f"{name}_test.json").read_text())
    cases = []
    for group in data["testGroups"]:
        for test in group["tests"]:
            cases.append(Case(f"{prefix}-tc{test['tcId']}-{test['result']}", test["result"],
                              tuple(test.get("flags", ())), test, {k: v for k, v in group.items() if k != "tests"}))
    assert len(cases) == data["numberOfTests"], name
    return cases


def _module(file: str) -> ast.Module:
    return ast.parse((HERE / file).read_text())


def rfc6979_p256() -> tuple[int, list[tuple[str, str, str, str, str]]]:
    """The RFC 6979 A.2.5 P-256 private key and ``(message, k, r, s, hash)`` examples."""
    tree = _module("rfc6979_pycryptodome-3.24.1_test_dss.py.txt")
    private = None
    signatures = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name == "key_priv_p256":
                private = next(k.value.value for k in node.value.keywords if k.arg == "d")  # type: ignore[attr-defined]
            elif name == "signatures_p256_":
                signatures = [tuple(e.value if isinstance(e, ast.Constant) else e.id for e in item.elts)  # type: ignore[attr-defined]
                              for item in node.value.elts]  # type: ignore[attr-defined]
    assert private is not None and signatures
    return private, signatures  # type: ignore[return-value]


def rfc8032_ed25519() -> list[tuple[str, str, str, str]]:
    """RFC 8032 section 7.1 Ed25519 examples: ``(secret, public, message, signature)`` hex."""
    tree = _module("rfc8032_pycryptodome-3.24.1_test_eddsa.py.txt")
    table = next(n.value for n in tree.body if isinstance(n, ast.Assign)
                 and getattr(n.targets[0], "id", None) == "rfc8032_tv_str")
    cases = []
    rows = [tuple(e.value if isinstance(e, ast.Constant) else getattr(e, "id", "?") for e in row.elts)  # type: ignore[attr-defined]
            for row in table.elts]  # type: ignore[attr-defined]
    for sk, pk, msg, hashmod, ctx, sig in rows:
        if len(sk) == 64 and hashmod is None and ctx == "":  # pure Ed25519 (not ctx/ph, not Ed448)
            cases.append((sk, pk, msg, sig))
    return cases


def rfc7748_x25519() -> dict[str, Any]:
    """RFC 7748 X25519 examples: section 5.2 pairs, the 1 and 1,000 iteration results, and the
    section 6.1 Alice/Bob exchange."""
    tree = _module("rfc7748_pycryptodome-3.24.1_test_ecdh.py.txt")
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "X25519_Tests")
    funcs = {f.name: f for f in cls.body if isinstance(f, ast.FunctionDef)}
    pairs = ast.literal_eval(next(n.value for n in funcs["test_rfc7748_1"].body if isinstance(n, ast.Assign)))
    hexes = [c.value for c in ast.walk(funcs["test_rfc7748_2"]) if isinstance(c, ast.Constant) and isinstance(c.value, str)]
    alice_bob = {n.targets[0].id: n.value.value for n in funcs["test_rfc7748_3"].body  # type: ignore[attr-defined]
                 if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "").startswith("tv")}
    return {"pairs": pairs, "iterations": {"k": hexes[0], 1: hexes[1], 1000: hexes[2]}, "alice_bob": alice_bob}
