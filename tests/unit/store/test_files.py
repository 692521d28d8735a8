"""The module's encrypted file store on a real keystore: put/get/list/remove, limits, crashes, tampering."""

from __future__ import annotations

import hashlib
import os
import stat

import pytest

from softscm.module.store.files import FILES_DIR, FileStore
from softscm.module.store.keystore import KeyStore
from softscm.wire.errors import InvalidArgumentError, NotFoundError, StorageFullError, StoreCorruptError

BOOTCODE = os.urandom(52 * 1024)
START = os.urandom(300 * 1024)


def blobs(tmp_path):
    return sorted(p.name for p in (tmp_path / FILES_DIR).iterdir())


def test_put_get_list_remove(tmp_path, keystore: KeyStore):
    files = FileStore(keystore, tmp_path)
    stored = files.put("boot/bootcode4.bin", BOOTCODE)
    assert stored.size == len(BOOTCODE) and stored.sha256 == hashlib.sha256(BOOTCODE).digest()
    files.put("boot/start4.elf", START)
    files.put("golden/start4.elf", START)
    assert files.get("boot/bootcode4.bin") == BOOTCODE
    assert [f.name for f in files.list("boot/")] == ["boot/bootcode4.bin", "boot/start4.elf"]
    assert files.info("golden/start4.elf").sha256 == hashlib.sha256(START).digest()
    files.remove("golden/start4.elf")
    with pytest.raises(NotFoundError):
        files.get("golden/start4.elf")
    with pytest.raises(NotFoundError):
        files.remove("golden/start4.elf")
    assert len(blobs(tmp_path)) == 2


def test_content_is_sealed_and_owner_only(tmp_path, keystore: KeyStore):
    FileStore(keystore, tmp_path).put("boot/start4.elf", START)
    directory = tmp_path / FILES_DIR
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for name in blobs(tmp_path):
        path = directory / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert START[:64] not in path.read_bytes()


def test_replace_leaves_one_blob_and_survives_reopen(tmp_path, keystore: KeyStore):
    files = FileStore(keystore, tmp_path)
    files.put("boot/start4.elf", START)
    files.put("boot/start4.elf", BOOTCODE)
    assert len(blobs(tmp_path)) == 1
    keystore.close()
    reopened = KeyStore.open(tmp_path, bytes(range(32)))
    assert FileStore(reopened, tmp_path).get("boot/start4.elf") == BOOTCODE
    reopened.close()


def test_limits_and_names(tmp_path, keystore: KeyStore):
    files = FileStore(keystore, tmp_path, max_file_size=1000, max_total_size=1500, max_files=2)
    for bad in ("", "/x", "a//b", "../x", "a/.x", "x" * 129, "a b"):
        with pytest.raises(InvalidArgumentError):
            files.put(bad, b"x")
    with pytest.raises(InvalidArgumentError):
        files.put("big", bytes(1001))
    files.put("a", bytes(1000))
    with pytest.raises(StorageFullError):
        files.put("b", bytes(501))
    files.put("b", bytes(500))
    with pytest.raises(StorageFullError):
        files.put("c", b"x")
    files.put("a", bytes(900))  # replacing does not count the old content twice
    assert [f.size for f in files.list()] == [900, 500]


def test_crash_leftovers_are_removed_and_the_old_content_stays(tmp_path, keystore: KeyStore):
    files = FileStore(keystore, tmp_path)
    files.put("boot/start4.elf", START)
    directory = tmp_path / FILES_DIR
    (directory / ("ab" * 16 + ".sealed")).write_bytes(b"half-done")  # a blob written before its index commit
    (directory / (".cd" + "cd" * 15 + ".sealed.tmp")).write_bytes(b"torn")
    (directory / "README").write_bytes(b"not ours")
    files = FileStore(keystore, tmp_path)
    left = blobs(tmp_path)
    assert "README" in left and len(left) == 2 and not any(name.startswith((".", "abab")) for name in left)
    assert files.get("boot/start4.elf") == START


def test_tampered_swapped_and_rolled_back_blobs_fail_closed(tmp_path, keystore: KeyStore):
    files = FileStore(keystore, tmp_path)
    files.put("a", BOOTCODE)
    old_blob = (tmp_path / FILES_DIR / blobs(tmp_path)[0]).read_bytes()
    files.put("a", START)
    files.put("b", START)
    index = {f: keystore.get_meta(f"file:{f}") for f in ("a", "b")}
    path_a = next(p for p in (tmp_path / FILES_DIR).iterdir() if index["a"] and p.name.encode() in index["a"])
    path_a.write_bytes(old_blob)  # the older content of the same name: authenticates, but is not what was recorded
    with pytest.raises(StoreCorruptError, match="not the content"):
        files.get("a")
    path_b = next(p for p in (tmp_path / FILES_DIR).iterdir() if p.name.encode() in index["b"])
    path_a.write_bytes(path_b.read_bytes())  # another name's blob
    with pytest.raises(StoreCorruptError):
        files.get("a")
    flipped = bytearray(path_b.read_bytes())
    flipped[40] ^= 1
    path_b.write_bytes(bytes(flipped))
    with pytest.raises(StoreCorruptError):
        files.get("b")
    path_b.unlink()
    with pytest.raises(StoreCorruptError, match="missing"):
        files.get("b")


def test_zeroize_overwrites_and_removes_every_blob(tmp_path, keystore: KeyStore):
    files = FileStore(keystore, tmp_path)
    files.put("boot/start4.elf", START)
    [blob] = blobs(tmp_path)
    sealed = (tmp_path / FILES_DIR / blob).read_bytes()
    os.link(tmp_path / FILES_DIR / blob, tmp_path / "witness")  # sees what happens to the blob's bytes
    (tmp_path / FILES_DIR / "README").write_bytes(b"not ours")
    files.zeroize()
    assert blobs(tmp_path) == ["README"]
    witness = (tmp_path / "witness").read_bytes()
    assert len(witness) == len(sealed) and witness != sealed
