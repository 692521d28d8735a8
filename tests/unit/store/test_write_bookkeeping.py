"""What every keystore write updates besides its rows: the set digest and the generation counter
(kept in memory between writes, read back only after a rollback)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from softscm.module.store.keystore import GENERATION, KeyStore
from softscm.wire.errors import InvalidSlotError, StoreCorruptError

from .conftest import put

ROOT = bytes(range(32))


def test_writes_keep_digest_and_generation_right_across_a_reopen(keystore, tmp_path):
    for _ in range(3):
        put(keystore, ec.generate_private_key(ec.SECP256R1()))
    keystore.set_meta("label", b"x")
    keystore.verify_integrity()
    generation = keystore.generation
    assert keystore.get_meta(GENERATION) == str(generation).encode()
    keystore.close()
    again = KeyStore.open(tmp_path, ROOT, min_generation=generation)
    again.verify_integrity()
    put(again, ec.generate_private_key(ec.SECP256R1()))
    again.verify_integrity()
    assert again.generation == generation + 1
    again.close()


def test_a_write_rolled_back_leaves_digest_and_generation_as_they_were(keystore):
    slot = put(keystore, ec.generate_private_key(ec.SECP256R1()))
    generation, digest = keystore.generation, keystore.digest()
    with pytest.raises(InvalidSlotError):  # refused inside the transaction, after it began
        keystore.put_key(None, key_type=keystore.get(slot).key_type, public=keystore.get(slot).public, slot=slot)
    assert (keystore.generation, keystore.digest()) == (generation, digest)
    put(keystore, ec.generate_private_key(ec.SECP256R1()))
    keystore.verify_integrity()
    assert keystore.generation == generation + 1


def test_a_row_deleted_behind_the_stores_back_is_still_caught(keystore):
    slot = put(keystore, ec.generate_private_key(ec.SECP256R1()))
    put(keystore, ec.generate_private_key(ec.SECP256R1()))
    keystore._db.execute("DELETE FROM keys WHERE slot=?", (slot,))  # an attacker with the file
    put(keystore, ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(StoreCorruptError, match="digest"):
        keystore.verify_integrity()
