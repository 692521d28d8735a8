"""Streamed lock and unlock through a real scmd: data of any size (here past the 4 MiB frame) in
authenticated chunks, the key in the module; scmctl lock/unlock of files, a changed or cut stream
refused with exit 4 and no output file; one-shot blobs still unlock."""

from __future__ import annotations

import asyncio
import io
import os

import pytest
from click.testing import CliRunner

import softscm
from softscm.host.aio import AsyncClient
from softscm.host.cli.main import cli
from softscm.host.lockfiles import lock_file, unlock_file
from softscm.module.crypto.stream import StreamHeader
from softscm.wire.defs import MAX_FRAME_SIZE, Role

from ..conftest import Daemon
from .test_access import OTHER_UID, as_other_user, shared  # noqa: F401  (shared: a fixture)

BIG = os.urandom(MAX_FRAME_SIZE + 2 * 1024 * 1024 + 17)  # past one frame, not a multiple of anything


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    """One scmd for this file's tests (each uses its own streams)."""
    base = tmp_path_factory.mktemp("lockstream")
    started = Daemon(base / "scm", base / "scm.sock").start()
    yield started
    started.stop()


def test_files_larger_than_a_frame_round_trip_through_the_api(daemon):
    locked, plain = io.BytesIO(), io.BytesIO()
    with softscm.connect(daemon.url) as scm:
        assert lock_file(scm, io.BytesIO(BIG), locked, piece=1024 * 1024) == len(locked.getvalue())
        assert unlock_file(scm, io.BytesIO(locked.getvalue()), plain, piece=300_000) == len(BIG)
    assert plain.getvalue() == BIG
    assert locked.getvalue()[:4] == b"SCS1" and BIG[:1000] not in locked.getvalue()


def test_one_request_each_way_for_data_that_fits(daemon):
    data = os.urandom(1024 * 1024)
    with softscm.connect(daemon.url) as scm:
        locked = scm.lock_stream(data, final=True)
        assert locked.handle is None
        assert scm.unlock_stream(locked.data, final=True).data == data
        small_chunks = scm.lock_stream(data, final=True, chunk_size=4096, key="cloud").data
        assert scm.unlock_stream(small_chunks, final=True).data == data


def test_a_changed_reordered_or_cut_stream_fails(daemon):
    with softscm.connect(daemon.url) as scm:
        stream = scm.lock_stream(os.urandom(10_000), final=True, chunk_size=1000).data
        record, head = 1016, StreamHeader.size_from(stream)
        body = stream[head:]
        swapped = stream[:head] + body[record:2 * record] + body[:record] + body[2 * record:]
        flipped = bytearray(stream)
        flipped[-5] ^= 1
        for bad in (swapped, bytes(flipped), stream[:-record], stream + body[:record]):
            with pytest.raises(softscm.AuthenticationError):
                scm.unlock_stream(bad, final=True)
        opened = scm.unlock_stream(stream[:head + 3 * record])
        assert len(opened.data) == 2000  # two chunks authenticated, the third held back
        with pytest.raises(softscm.AuthenticationError):
            scm.stream_update(opened.handle, b"", final=True)  # ends after a chunk not sealed as the last


def test_handles_are_checked_and_streams_can_be_cancelled(daemon):
    with softscm.connect(daemon.url) as scm:
        with pytest.raises(softscm.InvalidArgumentError):
            scm.stream_update(12345, b"data")
        started = scm.lock_stream(b"first piece")
        scm.stream_cancel(started.handle)
        with pytest.raises(softscm.InvalidArgumentError):
            scm.stream_update(started.handle, b"", final=True)


def test_the_async_client_streams_too(daemon):
    async def scenario() -> bytes:
        client = await AsyncClient.connect(daemon.url)
        try:
            started = await client.lock_stream(b"a" * 5000, chunk_size=1024)
            rest = await client.stream_update(started.handle, b"b" * 3000, final=True)
            return (await client.unlock_stream(started.data + rest.data, final=True)).data
        finally:
            await client.close()

    assert asyncio.run(scenario()) == b"a" * 5000 + b"b" * 3000


def _scmctl(url: str, *args: str, input: bytes | None = None):
    return CliRunner().invoke(cli, ["--url", url, *args], input=input)


def test_scmctl_locks_and_unlocks_files_of_any_size(daemon, tmp_path):
    source = tmp_path / "big.bin"
    source.write_bytes(BIG)
    assert _scmctl(daemon.url, "lock", str(source), str(tmp_path / "big.lock")).exit_code == 0
    assert _scmctl(daemon.url, "unlock", str(tmp_path / "big.lock"), str(tmp_path / "big.out")).exit_code == 0
    assert (tmp_path / "big.out").read_bytes() == BIG
    piped = _scmctl(daemon.url, "lock", "-", "-", input=b"through pipes")
    assert _scmctl(daemon.url, "unlock", "-", "-", input=piped.stdout_bytes).stdout_bytes == b"through pipes"


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_scmctl_unlock_of_a_damaged_stream_exits_4_and_writes_nothing(daemon, tmp_path, damage):
    source = tmp_path / "big.bin"
    source.write_bytes(BIG)
    _scmctl(daemon.url, "lock", str(source), str(tmp_path / "big.lock"))
    data = bytearray((tmp_path / "big.lock").read_bytes())
    if damage == "flip":
        data[len(data) - 100] ^= 1  # in the last chunk: every earlier chunk authenticates first
    else:
        del data[-2000:]
    (tmp_path / "big.lock").write_bytes(bytes(data))
    result = _scmctl(daemon.url, "unlock", str(tmp_path / "big.lock"), str(tmp_path / "big.out"))
    assert result.exit_code == 4 and "AuthenticationError" in result.stderr
    assert not (tmp_path / "big.out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".big.out")]


def test_scmctl_unlock_still_reads_one_shot_blobs(daemon, tmp_path):
    with softscm.connect(daemon.url) as scm:
        (tmp_path / "old.blob").write_bytes(scm.lock(b"an older blob"))
    result = _scmctl(daemon.url, "unlock", str(tmp_path / "old.blob"), "-")
    assert result.exit_code == 0 and result.stdout_bytes == b"an older blob"


def test_a_module_key_stream_is_its_lockers_alone(shared):  # noqa: F811
    url = shared.url
    with shared.connect() as root:
        mine = root.lock_stream(b"root's stream", final=True).data
        cloud = root.lock_stream(b"for every user", key="cloud", final=True).data
        open_handle = root.lock_stream(b"first piece").handle
        root.set_role(f"uid:{OTHER_UID}", Role.USER)
    assert StreamHeader.parse(mine[:StreamHeader.size_from(mine)]).owner == "uid:0"
    assert as_other_user(url, lambda s: s.unlock_stream(mine, final=True))[:2] == ("error", "AccessDeniedError")
    assert as_other_user(url, lambda s: s.unlock_stream(mine[:100]))[:2] == ("error", "AccessDeniedError")
    assert as_other_user(url, lambda s: s.unlock_stream(cloud, final=True).data) == ("ok", b"for every user")
    own = as_other_user(url, lambda s: s.unlock_stream(s.lock_stream(b"its own", final=True).data, final=True).data)
    assert own == ("ok", b"its own")
    assert as_other_user(url, lambda s: s.stream_update(open_handle, b"", final=True))[:2] == \
        ("error", "InvalidArgumentError")  # another caller's handle is no handle
    with shared.connect() as root:
        assert root.unlock_stream(mine, final=True).data == b"root's stream"
        assert root.stream_update(open_handle, b"", final=True).handle is None
