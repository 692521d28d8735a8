"""Corrupted indexes are never believed: flipped bits in the ``keys_by_wallet`` index pages make
the module refuse to start (``PRAGMA integrity_check``) or a lookup fail with a typed error, never
answer another key's slot (issue 17, defect 3)."""

from __future__ import annotations

import random
import shutil
import sqlite3
from pathlib import Path

import pytest

from softscm.embedded import open_embedded
from softscm.module.crypto.rng import system_rng
from softscm.module.store.keystore import KEYSTORE_FILE, KeyStore
from softscm.module.store.rootkey import load_root_key
from softscm.wire.defs import KeyType
from softscm.wire.errors import ScmError, SlotEmptyError, StoreCorruptError

NODES = ["m/44'/0'/0'/0/0", "m/44'/0'/0'/0/1", "m/44'/0'/0'/1/0", "m/0/1", "m/7"]


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> tuple[Path, dict[tuple[str, str], int]]:
    """A stopped module with wallets of two curves and derived nodes; the node -> slot map."""
    state = tmp_path_factory.mktemp("index") / "state"
    expected: dict[tuple[str, str], int] = {}
    with open_embedded(state) as scm:
        for name, key_type in (("k1", KeyType.SECP256K1), ("ed", KeyType.ED25519), ("k1b", KeyType.SECP256K1)):
            master, _ = scm.create_wallet(key_type, name)
            nodes = NODES if key_type is KeyType.SECP256K1 else ["m/0'/1'", "m/5'"]
            for node in nodes:
                expected[(name, node)] = scm.derive_wallet_path(master, node)
            expected[(name, "m")] = master
        scm.gen_key_pairs(KeyType.NISTP256, 8)
    return state, expected


def _index_pages(db_file: Path) -> list[int]:
    db = sqlite3.connect(db_file)
    try:
        return [row[0] for row in db.execute("SELECT pageno FROM dbstat WHERE name='keys_by_wallet'")]
    finally:
        db.close()


def _flip(db_file: Path, page: int, rng: random.Random) -> None:
    """Flip one bit in the cells of an index page (its records: wallet id, node path, slot)."""
    data = bytearray(db_file.read_bytes())
    page_size = 4096
    base = (page - 1) * page_size
    header = base + (100 if page == 1 else 0)
    content = int.from_bytes(data[header + 5:header + 7], "big") or 65536
    offset = base + rng.randrange(content, page_size)
    data[offset] ^= 1 << rng.randrange(8)
    db_file.write_bytes(bytes(data))


def _lookups(find, keys) -> dict[tuple[str, str], object]:
    answers: dict[tuple[str, str], object] = {}
    for wallet, node in keys:
        try:
            answers[(wallet, node)] = find(wallet, node)
        except (StoreCorruptError, SlotEmptyError) as exc:
            answers[(wallet, node)] = type(exc)
    return answers


def test_flipped_index_bits_never_answer_another_key(template, tmp_path):
    state, expected = template
    pages = _index_pages(state / KEYSTORE_FILE)
    assert pages
    rng = random.Random(17)
    outcomes = {"refused": 0, "typed error": 0, "right": 0}
    for trial in range(24):
        copy = tmp_path / f"trial{trial}"
        shutil.copytree(state, copy)
        _flip(copy / KEYSTORE_FILE, rng.choice(pages), rng)
        # the store as the lookups see it, without the start-up check: each answer is right or typed
        root_key, _ = load_root_key(copy)
        db = KeyStore._connect(copy / KEYSTORE_FILE)
        store = KeyStore(db, root_key, system_rng, fresh=True)

        def find(wallet: str, node: str, store: KeyStore = store) -> int | None:
            record = store.find_wallet(name=wallet)
            return None if record is None else store.find_node(record.id, node)

        try:
            answers = _lookups(find, expected)
        except sqlite3.DatabaseError:
            answers = {}
        db.close()
        for key, answer in answers.items():
            assert answer in (expected[key], StoreCorruptError, SlotEmptyError, None), (trial, key, answer)
        # the module itself: refuses to start, or every lookup is right or a typed error
        try:
            scm = open_embedded(copy)
        except ScmError as exc:
            assert isinstance(exc, StoreCorruptError), exc
            outcomes["refused"] += 1
            continue
        with scm:
            for (wallet, node), slot in expected.items():
                try:
                    assert scm.get_wallet_key_slot(node, wallet_name=wallet) == slot
                    outcomes["right"] += 1
                except (StoreCorruptError, SlotEmptyError):
                    outcomes["typed error"] += 1
    assert outcomes["refused"] > 0, outcomes
