"""A state directory scmd cannot verify makes it refuse to start, and it is left untouched."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

import softscm
from softscm.wire.errors import StoreCorruptError

from ..conftest import run_scmd


def _snapshot(state: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(state.iterdir()) if p.is_file()}


def _make_module(state: Path) -> int:
    with softscm.connect(f"embedded:{state}") as scm:
        return scm.gen_key_pair("secp256k1")


def _flip_wrapped_key(state: Path, slot: int) -> None:
    db = sqlite3.connect(state / "keystore.db")
    wrapped = bytearray(db.execute("SELECT wrapped FROM keys WHERE slot=?", (slot,)).fetchone()[0])
    wrapped[20] ^= 1
    db.execute("UPDATE keys SET wrapped=? WHERE slot=?", (bytes(wrapped), slot))
    db.commit()
    db.close()


def _delete_row(state: Path, slot: int) -> None:
    db = sqlite3.connect(state / "keystore.db")
    db.execute("DELETE FROM keys WHERE slot=?", (slot,))
    db.commit()
    db.close()


def _swap_public(state: Path, slot: int) -> None:
    db = sqlite3.connect(state / "keystore.db")
    other = db.execute("SELECT public FROM keys WHERE slot=0").fetchone()[0]
    db.execute("UPDATE keys SET public=? WHERE slot=?", (other, slot))
    db.commit()
    db.close()


def _flip_mode(state: Path, slot: int) -> None:
    db = sqlite3.connect(state / "keystore.db")
    db.execute("UPDATE meta SET value=? WHERE name='mode'", (b"1",))  # claim production without the MAC key
    db.commit()
    db.close()


def _truncate_root_key(state: Path, slot: int) -> None:
    data = (state / "root.key").read_bytes()
    (state / "root.key").write_bytes(data[:-5])


def _flip_root_key(state: Path, slot: int) -> None:
    data = bytearray((state / "root.key").read_bytes())
    data[-3] ^= 0x80
    (state / "root.key").write_bytes(bytes(data))


def _garbage_database(state: Path, slot: int) -> None:
    for suffix in ("-wal", "-shm"):
        (state / f"keystore.db{suffix}").unlink(missing_ok=True)
    (state / "keystore.db").write_bytes(b"this is not an sqlite database" * 100)


def _remove_marker(state: Path, slot: int) -> None:
    (state / "initialised").unlink()


def _remove_root_key(state: Path, slot: int) -> None:
    (state / "root.key").unlink()


CORRUPTIONS = {
    "wrapped-key-byte-flipped": _flip_wrapped_key,
    "key-row-deleted": _delete_row,
    "public-key-swapped": _swap_public,
    "mode-value-edited": _flip_mode,
    "root-key-truncated": _truncate_root_key,
    "root-key-byte-flipped": _flip_root_key,
    "keystore-not-a-database": _garbage_database,
    "half-written-no-marker": _remove_marker,
    "root-key-missing": _remove_root_key,
}


@pytest.mark.parametrize("corrupt", list(CORRUPTIONS.values()), ids=list(CORRUPTIONS))
def test_scmd_refuses_an_unverifiable_state_dir_and_leaves_it_alone(tmp_path, corrupt):
    state = tmp_path / "state"
    slot = _make_module(state)
    corrupt(state, slot)
    before = _snapshot(state)
    result = run_scmd(state)
    assert result.returncode != 0
    assert "cannot start the module" in result.stderr
    assert "Traceback" not in result.stderr
    assert _snapshot(state) == before
    with pytest.raises(StoreCorruptError):
        softscm.connect(f"embedded:{state}")


def test_secrets_never_appear_in_logs_or_errors(tmp_path, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    state = tmp_path / "state"
    with softscm.connect(f"embedded:{state}") as scm:
        slot = scm.gen_key_pair("secp256k1")
        host = scm.host
        private = host.call(lambda: host.module.live().store.load_private(slot).private_bytes())
        try:
            scm.sign(slot, b"short")
        except softscm.ScmError as exc:
            assert private.hex() not in str(exc)
        assert private.hex() not in repr(host.call(lambda: host.module.live().store.load_private(slot)))
    assert private.hex() not in caplog.text
    assert private not in b"".join(p.read_bytes() for p in state.iterdir() if p.is_file())


def test_one_module_per_state_directory(daemon, tmp_path):
    from softscm.wire.errors import BusyError

    with pytest.raises(BusyError):
        softscm.connect(f"embedded:{daemon.state_dir}")  # scmd holds it
    second = run_scmd(daemon.state_dir)
    assert second.returncode != 0 and "already using" in second.stderr
    state = tmp_path / "embedded"
    with softscm.connect(f"embedded:{state}"):
        with pytest.raises(BusyError):
            softscm.connect(f"embedded:{state}")
    with softscm.connect(f"embedded:{state}") as again:  # released on close
        assert again.status().state.name == "READY"
