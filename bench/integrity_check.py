"""Cost of the keystore's start-up checks at 640 keys and 128 wallets (issue 17, defect 3):
``PRAGMA integrity_check`` (tables and indexes agree), ``quick_check`` (what ran before), and the
whole row-MAC verification, on a module filled through the embedded transport.

Run: ``.venv/bin/python bench/integrity_check.py``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from softscm.embedded import open_embedded
from softscm.module.module import ModuleConfig
from softscm.module.store.keystore import KEYSTORE_FILE
from softscm.wire.defs import KeyType


def best(fn, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "state"
        config = ModuleConfig(user_capacity=1024)
        with open_embedded(state, config=config) as scm:
            for i in range(128):
                scm.create_wallet(KeyType.SECP256K1, f"w{i}")
            scm.gen_key_pairs(KeyType.NISTP256, 640 - 16 - 128)
            keys = len(scm.list_slots().slots)
            store = scm.host.module.live().store
            integrity = best(lambda: scm.host.call(lambda: store._db.execute("PRAGMA integrity_check(1)").fetchone()))
            quick = best(lambda: scm.host.call(lambda: store._db.execute("PRAGMA quick_check").fetchone()))
            full = best(lambda: scm.host.call(store.verify_integrity))
        size = (state / KEYSTORE_FILE).stat().st_size
        opened = best(lambda: open_embedded(state, config=config).close(), repeat=3)
    print(f"keys {keys}, wallets 128, keystore.db {size / 1024:.0f} KiB")
    print(f"PRAGMA integrity_check: {integrity * 1000:.2f} ms   quick_check: {quick * 1000:.2f} ms")
    print(f"verify_integrity (integrity_check + every row MAC + set digest): {full * 1000:.2f} ms")
    print(f"module start and stop (power-on self test included): {opened * 1000:.0f} ms")


if __name__ == "__main__":
    main()
