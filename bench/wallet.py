"""Wallet work through scmd beside the same work in-process with the reference libraries:
a 5-level derivation and signing with the derived key; SLIP-39 16x16 share generation at
iteration exponent 1.

    .venv/bin/python bench/wallet.py
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

import coincurve
import shamir_mnemonic
from slip10 import SLIP10

sys.path.insert(0, str(Path(__file__).parent))
from scmd_runner import running_scmd  # noqa: E402

import softscm  # noqa: E402

PATH = "m/44'/60'/0'/0/7"
DIGEST = hashlib.sha256(b"wallet bench").digest()


def timed(fn, repeat: int = 1) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def main() -> None:
    seed = os.urandom(64)
    groups = [(9, 16)] * 16

    def library_derive_and_sign() -> None:
        node = SLIP10.from_seed(seed)
        private = node.get_privkey_from_path(PATH)
        coincurve.PrivateKey(private).sign_recoverable(DIGEST, hasher=None)

    lib_derive = timed(library_derive_and_sign, 20)
    lib_slip39 = timed(lambda: shamir_mnemonic.generate_mnemonics(9, groups, os.urandom(32), b"", True, 1), 2)
    with tempfile.TemporaryDirectory() as tmp, running_scmd(Path(tmp), user_capacity=10_000) as url:
        with softscm.connect(url) as scm:
            counter = iter(range(10_000))

            def module_derive_and_sign() -> None:
                master = scm.restore_wallet_seed("secp256k1", f"w{next(counter)}", seed)
                scm.sign(scm.derive_wallet_path(master, PATH), DIGEST)

            scm_derive = timed(module_derive_and_sign, 20)

            def module_slip39() -> None:
                scm.slip39_generate("secp256k1", f"s{next(counter)}", group_threshold=9, group_count=16,
                                    iteration_exponent=1)
                for group in range(16):
                    scm.slip39_set_group(group, 16, 9)
                slot = -1
                while slot == -1:
                    slot, _ = scm.slip39_next_share()

            scm_slip39 = timed(module_slip39, 2)
    print(f"{'work':42s} {'in-process':>12s} {'through scmd':>14s} {'ratio':>8s}")
    print(f"{'5-level derivation (new wallet) + sign':42s} {lib_derive * 1e3:10.2f}ms {scm_derive * 1e3:12.2f}ms "
          f"{scm_derive / lib_derive:8.2f}")
    print(f"{'SLIP-39 16x16 shares, exponent 1':42s} {lib_slip39 * 1e3:10.1f}ms {scm_slip39 * 1e3:12.1f}ms "
          f"{scm_slip39 / lib_slip39:8.2f}")
    print("(scmd also stores every derived node durably and logs the wallet creation)")


if __name__ == "__main__":
    main()
