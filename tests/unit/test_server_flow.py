"""The daemon's stream server (in-process here, on a real Unix socket): what it does with a
client that subscribes and then never reads."""

from __future__ import annotations

import asyncio
import socket
import struct
from pathlib import Path

from softscm.module import server as server_module
from softscm.module import lifecycle
from softscm.module.server import Server
from softscm.wire.codec import Request
from softscm.wire.defs import PROTOCOL_VERSION, Command, Event


def _frame(request: Request) -> bytes:
    payload = request.to_bytes()
    return struct.pack(">I", len(payload)) + payload


def test_a_subscriber_that_leaves_too_much_unread_is_disconnected(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(server_module, "MAX_UNREAD", 256 * 1024)
    module = lifecycle.start(tmp_path / "state")
    path = tmp_path / "s.sock"

    async def scenario() -> tuple[bool, bool]:
        server = Server(module)
        await server.listen_unix(path)
        loop = asyncio.get_running_loop()
        reader = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        reader.setblocking(False)
        await loop.sock_connect(reader, str(path))
        await loop.sock_sendall(reader, _frame(Request(1, Command.HELLO, {"version": PROTOCOL_VERSION}))
                                + _frame(Request(2, Command.SUBSCRIBE, {})))
        await asyncio.sleep(0.1)
        for _ in range(200):  # 200 x 8 KiB of events, never read
            module.events.publish(Event.POLICY_CHANGE, padding="x" * 8192)
            await asyncio.sleep(0)
        await asyncio.sleep(0.1)
        closed = False
        try:
            while chunk := reader.recv(1 << 20):
                assert chunk
        except BlockingIOError:
            pass
        except ConnectionResetError:
            closed = True
        else:
            closed = True
        reader.close()
        await server.close()
        return closed, module.state.name == "READY"

    try:
        closed, ready = asyncio.run(scenario())
    finally:
        lifecycle.close(module)
    assert closed and ready
