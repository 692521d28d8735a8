"""A request too large for one frame is a typed usage error raised before anything is sent (exit 7
in scmctl), not "module unreachable"; the connection stays usable. (scmctl lock streams, so it has
no such limit: tests/integration/test_lock_stream.py.)"""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner

import softscm
from softscm.host.aio import AsyncClient
from softscm.host.cli.exits import Exit
from softscm.host.cli.main import cli
from softscm.wire.defs import MAX_FRAME_SIZE

BIG = b"\0" * (MAX_FRAME_SIZE + 1)


@pytest.mark.parametrize("kind", ["scmd", "embedded"])
def test_an_oversize_request_raises_before_sending_and_the_connection_goes_on(daemon, tmp_path, kind):
    url = daemon.url if kind == "scmd" else f"embedded:{tmp_path / 'state'}"
    with softscm.connect(url) as scm:
        with pytest.raises(softscm.RequestTooLargeError, match="frame limit") as caught:
            scm.lock(BIG)
        assert isinstance(caught.value, softscm.InvalidArgumentError)
        assert scm.unlock(scm.lock(b"still here")) == b"still here"


def test_the_async_client_raises_it_too_and_goes_on(daemon):
    async def scenario() -> bytes:
        client = await AsyncClient.connect(daemon.url)
        try:
            with pytest.raises(softscm.RequestTooLargeError):
                await client.lock(BIG)
            return await client.unlock(await client.lock(b"still here"))
        finally:
            await client.close()

    assert asyncio.run(scenario()) == b"still here"


@pytest.mark.parametrize("args", [["sign", "16", "--file", "{big}"],
                                  ["verify", "16", "--file", "{big}", "--signature", "00" * 64]],
                         ids=["sign-ed25519", "verify-ed25519"])
def test_scmctl_reports_a_usage_error_with_its_own_exit_code(daemon, tmp_path, args):
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (5 * 1024 * 1024))
    runner = CliRunner()
    assert runner.invoke(cli, ["--url", daemon.url, "keys", "gen", "ed25519"]).exit_code == 0
    argv = [a.format(big=big, out=tmp_path / "out.blob") for a in args]
    result = runner.invoke(cli, ["--url", daemon.url, *argv])
    assert result.exit_code == Exit.TOO_LARGE == 7
    assert "RequestTooLargeError" in result.stderr and "frame limit" in result.stderr
    assert not (tmp_path / "out.blob").exists()
