"""Every file scmctl writes is owner-only (0600) under any umask, and complete or absent.

Against a real scmd: unlock, lock, random --out, keys pub --out, log export --out, log checkpoint
--out. The writer itself: a failure half-way leaves the old file and no temp file behind; a
device path is written in place, never replaced.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from softscm.host.cli.main import cli
from softscm.host.files import atomic_output, write_file


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _scmctl(url: str, *args: str):
    result = CliRunner().invoke(cli, ["--url", url, *args])
    assert result.exit_code == 0, result.output
    return result


def test_every_output_file_is_owner_only(daemon, tmp_path, umask_022):
    url = daemon.url
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"attack at dawn")
    out = tmp_path / "out"
    out.mkdir()
    _scmctl(url, "lock", str(secret), str(out / "secret.blob"))
    _scmctl(url, "unlock", str(out / "secret.blob"), str(out / "plain.txt"))
    assert (out / "plain.txt").read_bytes() == b"attack at dawn"
    _scmctl(url, "random", "32", "--out", str(out / "random.bin"))
    assert len((out / "random.bin").read_bytes()) == 32
    _scmctl(url, "keys", "pub", "0", "--pem", "--out", str(out / "pub.pem"))
    _scmctl(url, "log", "export", "--out", str(out / "log.jsonl"))
    _scmctl(url, "log", "checkpoint", "--out", str(out / "checkpoint.json"))
    written = sorted(p.name for p in out.iterdir())
    assert written == ["checkpoint.json", "log.jsonl", "plain.txt", "pub.pem", "random.bin", "secret.blob"]
    assert {name: _mode(out / name) for name in written} == dict.fromkeys(written, 0o600)


def test_an_existing_world_readable_file_is_replaced_owner_only(daemon, tmp_path, umask_022):
    target = tmp_path / "plain.txt"
    target.write_text("old")
    os.chmod(target, 0o644)
    _scmctl(daemon.url, "random", "16", "--out", str(target))
    assert _mode(target) == 0o600 and len(target.read_bytes()) == 16


def test_a_failed_unlock_leaves_no_file(daemon, tmp_path):
    blob = tmp_path / "secret.blob"
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"attack at dawn")
    _scmctl(daemon.url, "lock", str(secret), str(blob))
    data = bytearray(blob.read_bytes())
    data[-1] ^= 1
    blob.write_bytes(bytes(data))
    result = CliRunner().invoke(cli, ["--url", daemon.url, "unlock", str(blob), str(tmp_path / "plain.txt")])
    assert result.exit_code == 4
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("scm")) == ["secret.blob", "secret.txt"]


def test_an_interrupted_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "data.bin"
    target.write_bytes(b"old contents")
    with pytest.raises(RuntimeError), atomic_output(target) as stream:
        stream.write(b"half of the new")
        raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old contents"
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]


def test_a_symlink_is_followed_and_a_device_written_in_place(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_file(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new" and _mode(real) == 0o600
    write_file("/dev/null", b"discarded")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)  # not replaced by a regular file (root could)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        write_file(fifo, b"through the pipe")
        assert os.read(reader, 100) == b"through the pipe"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
