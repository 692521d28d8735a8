"""Loaders for the wallet vector files in tests/vectors/wallet/ (see SOURCES.md).

Two of the upstream files are Python test modules that hold the official vectors as literals or
assertions; they are kept unmodified (renamed ``.py.txt`` so nothing imports or collects them) and
read here with the ``ast`` module, never executed.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent / "wallet"
HARDENED = 0x80000000


@dataclass(frozen=True)
class DerivedVector:
    path: str
    public_key: bytes  # SEC1 compressed for ECDSA curves, 00||key for Ed25519 (as upstream)
    private_key: bytes
    chain_code: bytes


@dataclass(frozen=True)
class SeedVector:
    name: str
    seed: bytes
    nodes: tuple[DerivedVector, ...]  # the master ("m") first


def bip39_vectors(language: str = "english") -> list[list[str]]:
    """``[entropy hex, mnemonic, seed hex, xprv]`` with passphrase "TREZOR" (python-mnemonic), for one
    of the file's word lists (the ten official ones)."""
    return json.loads((HERE / "bip39_vectors.json").read_text())[language]


def bip39_languages() -> list[str]:
    """The word lists the BIP39 vector file covers."""
    return list(json.loads((HERE / "bip39_vectors.json").read_text()))


def slip39_vectors() -> list[list]:
    """``[description, mnemonics, master secret hex ('' if invalid), xprv]`` (passphrase "TREZOR")."""
    return json.loads((HERE / "slip39_vectors.json").read_text())


def bip32_vectors() -> tuple[dict[int, tuple[bytes, dict[str, tuple[str, str]]]], list[str], list[str]]:
    """BIP32 test vectors 1-4 as ``{n: (seed, {path: (xpub, xprv)})}``, and vector 5's invalid
    xpubs and xprvs, read from python-bip32's test module."""
    tree = ast.parse((HERE / "bip32_vectors_python-bip32-5.0.0.py.txt").read_text())
    vectors: dict[int, tuple[bytes, dict[str, tuple[str, str]]]] = {}
    invalid_xpubs: list[str] = []
    invalid_xprvs: list[str] = []
    for func in tree.body:
        if not (isinstance(func, ast.FunctionDef) and func.name.startswith("test_vector_")):
            continue
        number = int(func.name.rsplit("_", 1)[1])
        if number == 5:
            for node in ast.walk(func):
                if isinstance(node, ast.Assign) and isinstance(node.value, ast.List):
                    target = node.targets[0].id  # type: ignore[attr-defined]
                    values = [ast.literal_eval(e) for e in node.value.elts]
                    (invalid_xpubs if target == "invalid_xpubs" else invalid_xprvs).extend(values)
            continue
        seed = b""
        paths: dict[str, dict[str, str]] = {}
        for node in ast.walk(func):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "fromhex"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "bytes" and not seed):
                seed = bytes.fromhex(ast.literal_eval(node.args[0]))
            if isinstance(node, ast.Compare) and isinstance(node.left, ast.Call):
                call, expected = node.left, node.comparators[0]
                if not (isinstance(call.func, ast.Attribute) and isinstance(expected, ast.Constant)):
                    continue
                kind = call.func.attr
                if kind in ("get_xpub", "get_xpriv"):
                    path = "m"
                elif kind in ("get_xpub_from_path", "get_xpriv_from_path") and isinstance(call.args[0], ast.Constant):
                    path = call.args[0].value
                elif kind in ("get_xpub_from_path", "get_xpriv_from_path") and isinstance(call.args[0], ast.List):
                    indices = [_index(e) for e in call.args[0].elts]
                    path = "/".join(["m", *(f"{i & ~HARDENED}'" if i & HARDENED else str(i) for i in indices)])
                else:
                    continue
                path = path.replace("H", "'").replace("h", "'")
                paths.setdefault(path, {})["xpub" if "xpub" in kind else "xprv"] = expected.value
        vectors[number] = (seed, {p: (v["xpub"], v["xprv"]) for p, v in paths.items() if len(v) == 2})
    return vectors, invalid_xpubs, invalid_xprvs


def _index(node: ast.AST) -> int:
    """An index expression of python-bip32's tests: ``HARDENED_INDEX``, ``n``, ``HARDENED_INDEX + n``."""
    if isinstance(node, ast.Name) and node.id == "HARDENED_INDEX":
        return HARDENED
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _index(node.left) + _index(node.right)
    raise ValueError(f"unexpected index expression: {ast.dump(node)[:80]}")


def _evaluate(node: ast.AST) -> object:
    """Evaluate the literal subset bip-utils' vector tables use."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.List):
        return [_evaluate(e) for e in node.elts]
    if isinstance(node, ast.Dict):
        return {_evaluate(k): _evaluate(v) for k, v in zip(node.keys, node.values)}  # type: ignore[arg-type]
    if isinstance(node, ast.Attribute):
        return node.attr  # e.g. EllipticCurveTypes.ED25519
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "HardenIndex":
        return int(_evaluate(node.args[0])) | HARDENED  # type: ignore[arg-type]
    raise ValueError(f"unexpected syntax in a vector table: {ast.dump(node)[:80]}")


def slip10_vectors(curve: str) -> list[SeedVector]:
    """SLIP-10 vectors for ``curve`` in {"secp256k1", "nist256p1", "ed25519"} (bip-utils' tables)."""
    tree = ast.parse((HERE / f"slip10_{curve}_bip-utils-2.12.3.py.txt").read_text())
    table = next(n.value for n in tree.body if isinstance(n, ast.Assign)
                 and getattr(n.targets[0], "id", None) == "TEST_VECT")
    result = []
    for number, vector in enumerate(_evaluate(table), 1):  # type: ignore[arg-type]
        nodes = [DerivedVector("m", *(bytes.fromhex(vector["master"][k]) for k in ("pub_key", "priv_key", "chain_code")))]
        for derived in vector["der_paths"]:
            nodes.append(DerivedVector(derived["path"].replace("H", "'").replace("h", "'"),
                                       *(bytes.fromhex(derived[k]) for k in ("pub_key", "priv_key", "chain_code"))))
        result.append(SeedVector(f"{curve}-vector{number}", bytes.fromhex(vector["seed"].decode()), tuple(nodes)))
    return result
