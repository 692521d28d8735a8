"""Loaders for the Cardano vector files in tests/vectors/wallet/ (bip-utils' test modules, kept
unmodified as ``.py.txt`` and read with ``ast``, never executed; see SOURCES.md)."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from .wallet_loaders import HERE, _evaluate

ICARUS_FILE = "cardano_icarus_bip32_bip-utils-2.12.3.py.txt"
MNEMONIC_FILE = "cardano_mnemonic_bip-utils-2.12.3.py.txt"


@dataclass(frozen=True)
class IcarusNode:
    index: int  # with the hardened bit where it applies
    public_key: bytes  # 32 bytes (upstream writes 00 || key)
    private_key: bytes  # kL || kR
    chain_code: bytes


def _table(filename: str, name: str) -> object:
    tree = ast.parse((HERE / filename).read_text())
    node = next(n.value for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", None) == name)
    return _evaluate(node)


def _node(entry: dict) -> IcarusNode:
    return IcarusNode(int(entry.get("index", 0)), bytes.fromhex(entry["pub_key"])[1:], bytes.fromhex(entry["priv_key"]),
                      bytes.fromhex(entry["chain_code"]))


def icarus_vectors() -> list[tuple[bytes, IcarusNode, list[IcarusNode]]]:
    """``(entropy, master, nodes down the path)`` for each of bip-utils' Icarus BIP32 vectors."""
    return [(bytes.fromhex(v["seed"].decode()), _node(v["master"]), [_node(d) for d in v["der_paths"]])
            for v in _table(ICARUS_FILE, "TEST_VECT")]  # type: ignore[union-attr]


def icarus_public_derivation() -> tuple[bytes, bytes, list[tuple[int, bytes | None]]]:
    """``(public key, extended private key, [(index, child public key or None: must fail)])``:
    public derivation with a zero chain code (bip-utils' ``TEST_VECT_PUBLIC_DER_PUB_KEY``)."""
    table = _table(ICARUS_FILE, "TEST_VECT_PUBLIC_DER_PUB_KEY")
    steps = [(int(d["index"]), bytes.fromhex(d["pub_key"])[1:] if "pub_key" in d else None)
             for d in table["der_paths"]]  # type: ignore[index]
    return bytes.fromhex(table["pub_key"])[1:], bytes.fromhex(table["priv_key"]), steps  # type: ignore[index]


def icarus_mnemonic_entropy() -> list[tuple[str, bytes]]:
    """``(mnemonic, Icarus entropy)`` pairs from bip-utils' Cardano mnemonic tests."""
    return [(v["mnemonic"], bytes.fromhex(v["seed_icarus"].decode()))
            for v in _table(MNEMONIC_FILE, "TEST_VECT")]  # type: ignore[union-attr]
