"""The access table's persistence (module/access/control.py): roles and the PIN in one row, each
key's grant in a row of its own, so a new key writes its grant and not the whole table (which
cost a rewrite of every grant per key generation: 50 % of a keygen with a few thousand keys)."""

from __future__ import annotations

import json

from cryptography.hazmat.primitives.asymmetric import ec

from softscm.module.access.caller import EMBEDDED, Caller, Session
from softscm.module.access.control import ACCESS, GRANT_PREFIX, AccessControl
from softscm.module.audit.recorder import Recorder
from softscm.module.crypto.rng import system_rng
from softscm.module.store.keystore import KeyStore
from softscm.wire.defs import Role

from .conftest import put

ALICE = Session(Caller("uid:1000"))


def _control(store: KeyStore) -> AccessControl:
    return AccessControl(store, Recorder(None), system_rng)


def test_a_new_keys_grant_is_its_own_row_and_the_table_is_not_rewritten(keystore):
    control = _control(keystore)
    control.set_role("uid:1000", Role.USER)
    table = keystore.get_meta(ACCESS)
    slots = [put(keystore, ec.generate_private_key(ec.SECP256R1())) for _ in range(3)]
    control.created(ALICE, slots)
    assert keystore.get_meta(ACCESS) == table
    assert keystore.meta_names(GRANT_PREFIX) == sorted(f"{GRANT_PREFIX}{slot}" for slot in slots)
    assert "grants" not in json.loads(table)
    control.revoke(slots[0], "uid:1000")
    assert keystore.get_meta(f"{GRANT_PREFIX}{slots[0]}") is None  # an empty grant leaves no row


def test_grants_and_roles_survive_reopening(keystore, tmp_path):
    control = _control(keystore)
    control.set_role("uid:1000", Role.USER)
    slot = put(keystore, ec.generate_private_key(ec.SECP256R1()))
    control.created(ALICE, [slot])
    keystore.close()
    reopened = KeyStore.open(tmp_path, bytes(range(32)))
    try:
        again = _control(reopened)
        again.check_keys(ALICE, [slot], "sign")  # no AccessDeniedError
        assert again.role(ALICE.caller) is Role.USER
    finally:
        reopened.close()


def test_an_older_tables_inline_grants_move_to_their_rows_at_the_first_write(keystore, tmp_path):
    slot = put(keystore, ec.generate_private_key(ec.SECP256R1()))
    public = keystore.get(slot).public.hex()
    keystore.set_meta(ACCESS, json.dumps({"roles": {"uid:1000": 1}, "grants": {str(slot): [public, ["uid:1000"]]},
                                          "pin_salt": "", "pin_hash": "", "pin_failures": 0}).encode())
    control = _control(keystore)
    control.check_keys(ALICE, [slot], "sign")  # read from the old table
    control.set_role("gid:5", Role.USER)  # the first write
    assert "grants" not in json.loads(keystore.get_meta(ACCESS) or b"")
    assert keystore.meta_names(GRANT_PREFIX) == [f"{GRANT_PREFIX}{slot}"]
    _control(keystore).check_keys(ALICE, [slot], "sign")  # and read back from its row


def test_the_owner_gets_no_grant_but_a_removed_keys_grant_is_dropped(keystore):
    owner = Session(EMBEDDED)
    control = _control(keystore)
    slot = put(keystore, ec.generate_private_key(ec.SECP256R1()))
    control.created(owner, [slot])
    assert keystore.meta_names(GRANT_PREFIX) == []  # nothing written for the owner
    control.created(ALICE, [slot])
    keystore.remove([slot])
    assert put(keystore, ec.generate_private_key(ec.SECP256R1())) == slot  # another key, same slot
    control.created(owner, [slot])
    assert keystore.meta_names(GRANT_PREFIX) == []  # Alice's grant for the old key is gone
    assert slot not in control.table.grants
