"""A lost or damaged keystore WAL, or an older keystore.db, never yields a READY module with less
than it acknowledged: scmd refuses to start and names the rollback (issue 17, defect 2)."""

from __future__ import annotations

import shutil

import pytest

from softscm.wire.defs import KeyType, ModuleState

WAL = "keystore.db-wal"


def _acknowledged_work(daemon) -> tuple[list[int], int]:
    """Keys and a wallet created (each acknowledged), one key removed; returns (slots, removed)."""
    with daemon.connect() as scm:
        slots = [scm.gen_key_pair(KeyType.SECP256K1) for _ in range(20)]
        scm.create_wallet(KeyType.SECP256K1, "acknowledged")
        scm.remove_key(slots[-1])
    return slots[:-1], slots[-1]


@pytest.fixture
def killed(daemon_factory):
    """A real scmd with acknowledged changes, then SIGKILLed (its WAL still holds them)."""
    daemon = daemon_factory()
    slots, removed = _acknowledged_work(daemon)
    daemon.kill()
    assert (daemon.state_dir / WAL).stat().st_size > 0
    return daemon, slots, removed


def _start_or_refuse(daemon, slots, removed) -> str:
    """Restart the killed scmd: it refuses (returns "refused"), or it serves everything it acknowledged."""
    try:
        daemon.start()
    except RuntimeError as exc:
        assert "cannot start the module" in str(exc), exc
        return "refused:" + ("rollback" if "rolled back" in str(exc) else "corrupt:" + str(exc)[-300:])
    with daemon.connect() as scm:
        listed = {slot for slot, _ in scm.list_slots().slots}
        assert set(slots) <= listed and removed not in listed
        assert [w for w in scm.list_wallets() if w.name == "acknowledged"]
        assert scm.status().state is ModuleState.READY
    daemon.stop()
    return "intact"


def test_deleted_wal_is_refused_as_a_rollback(killed):
    daemon, slots, removed = killed
    (daemon.state_dir / WAL).unlink()
    (daemon.state_dir / "keystore.db-shm").unlink(missing_ok=True)
    outcome = _start_or_refuse(daemon, slots, removed)
    assert outcome == "refused:rollback"


def test_deleted_wal_with_its_shm_left_is_refused(killed):
    daemon, slots, removed = killed
    (daemon.state_dir / WAL).unlink()
    assert _start_or_refuse(daemon, slots, removed) == "refused:rollback"


@pytest.mark.parametrize("fraction", [0.1, 0.6])
def test_truncated_wal_is_refused(killed, fraction):
    daemon, slots, removed = killed
    wal = daemon.state_dir / WAL
    with open(wal, "r+b") as fh:
        fh.truncate(int(wal.stat().st_size * fraction))
    assert _start_or_refuse(daemon, slots, removed) == "refused:rollback"


@pytest.mark.parametrize("position", [40, 0.5, -100])
def test_a_flipped_byte_in_the_wal_never_loses_acknowledged_state(killed, position):
    daemon, slots, removed = killed
    wal = daemon.state_dir / WAL
    data = bytearray(wal.read_bytes())
    offset = position if isinstance(position, int) else int(len(data) * position)
    data[offset] ^= 0x40
    wal.write_bytes(bytes(data))
    assert _start_or_refuse(daemon, slots, removed) in ("refused:rollback", "refused:corrupt", "intact")


def test_an_older_keystore_copy_is_refused(daemon_factory, tmp_path):
    daemon = daemon_factory()
    with daemon.connect() as scm:
        slot = scm.gen_key_pair(KeyType.NISTP256)
    daemon.stop()
    old = tmp_path / "old-keystore.db"
    shutil.copy2(daemon.state_dir / "keystore.db", old)  # a clean stop leaves no WAL behind
    daemon.start()
    with daemon.connect() as scm:
        scm.remove_key(slot)
    daemon.stop()
    shutil.copy2(old, daemon.state_dir / "keystore.db")
    with pytest.raises(RuntimeError, match="rolled back") as caught:
        daemon.start()
    assert "generation" in str(caught.value) and "keystore.db" in str(caught.value)


def test_refusal_leaves_the_state_as_it_was(killed):
    daemon, slots, removed = killed
    (daemon.state_dir / WAL).unlink()
    before = {p.name: p.read_bytes() for p in daemon.state_dir.iterdir() if p.is_file()}
    with pytest.raises(RuntimeError, match="rolled back"):
        daemon.start()
    after = {p.name: p.read_bytes() for p in daemon.state_dir.iterdir() if p.is_file()}
    assert {k: v for k, v in after.items() if not k.startswith("keystore.db-")} == \
        {k: v for k, v in before.items() if not k.startswith("keystore.db-")}
