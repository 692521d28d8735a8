"""The pure wallet core beside the reference libraries, in-process: a 5-level derivation on each
curve, and SLIP-39 generation of 16 groups x 16 members at iteration exponent 1. The library
column is `slip10` (one child object with its public key) and `shamir_mnemonic.generate_mnemonics`;
the core also computes every intermediate node's public key and fingerprint, as stored nodes need.

    .venv/bin/python bench/wallet_core.py
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import shamir_mnemonic
from slip10 import SLIP10

from softscm.module.wallet import hd
from softscm.module.wallet.path import parse_path
from softscm.module.wallet.slip39 import Slip39Generation
from softscm.wire.defs import KeyType

PATHS = {KeyType.SECP256K1: "m/44'/60'/0'/0/7", KeyType.NISTP256: "m/44'/60'/0'/0/7",
         KeyType.ED25519: "m/44'/501'/0'/0'/7'"}
LIBRARY_CURVES = {KeyType.SECP256K1: "secp256k1", KeyType.NISTP256: "secp256r1", KeyType.ED25519: "ed25519"}
GROUPS = [(9, 16)] * 16


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Best-of-three mean seconds per call."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        best = min(best, (time.perf_counter() - start) / repeat)
    return best


def core_derive(key_type: KeyType, seed: bytes) -> bytes:
    node = hd.master_node(key_type, seed)
    for step in parse_path(PATHS[key_type]):
        node = hd.derive_child(node, step.index, step.hardened)
    return node.public_key


def core_slip39() -> int:
    session = Slip39Generation(9, 16, 1)
    for index in range(16):
        session.set_group(index, 16, 9)
    count = 0
    while not session.done:
        session.next_share()
        count += 1
    return count


def row(label: str, core: float, library: float) -> None:
    print(f"{label:<34} {core * 1e3:>10.3f} {library * 1e3:>10.3f} {core / library:>7.2f}x")


def main() -> None:
    seed = os.urandom(64)
    print(f"{'work':<34} {'core ms':>10} {'library ms':>10} {'ratio':>8}")
    for key_type, path in PATHS.items():
        curve = LIBRARY_CURVES[key_type]
        row(f"derive {path} {key_type.label}", timed(lambda k=key_type: core_derive(k, seed), 200),
            timed(lambda c=curve, p=path: SLIP10.from_seed(seed, curve_name=c).get_child_from_path(p).pubkey, 200))
    secret = os.urandom(32)
    row("SLIP-39 16x16 shares, exponent 1", timed(core_slip39, 2),
        timed(lambda: shamir_mnemonic.generate_mnemonics(9, GROUPS, secret, b"", True, 1), 2))


if __name__ == "__main__":
    main()
