"""Test helpers for the channel: a state directory with enrolled client keys (through the
module's own registry, before its scmd starts), and a TCP proxy that rewrites frames."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from softscm.host.client_keys import create_client_key
from softscm.module.access.clients import ClientRegistry, channel_static_key
from softscm.module import lifecycle
from softscm.wire.noise import public_bytes


@dataclass(frozen=True)
class Enrolled:
    state_dir: Path
    module_key: bytes
    client_key: Path  # an enrolled client's key file (0600)
    client: X25519PrivateKey


def enrolled_state(state_dir: Path, key_dir: Path, name: str = "test-host") -> Enrolled:
    """Initialise a module in ``state_dir`` and enrol one client key kept in ``key_dir``."""
    module = lifecycle.start(state_dir)
    try:
        key_file = key_dir / f"{name}.key"
        client = create_client_key(key_file)
        ClientRegistry(module.live().store, record=module.events.record).enroll(name, public_bytes(client))
        module_key = public_bytes(channel_static_key(module.live().store))
    finally:
        lifecycle.close(module)
    return Enrolled(state_dir, module_key, key_file, client)


Rewrite = Callable[[int, bytes], list[bytes]]  # (index of the frame in its direction, payload) -> frames to pass


def _read_frame(sock: socket.socket) -> bytes | None:
    header = _read_exact(sock, 4)
    if header is None:
        return None
    body = _read_exact(sock, struct.unpack(">I", header)[0])
    return body


def _read_exact(sock: socket.socket, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


class FrameProxy:
    """A loopback TCP proxy in front of a real scmd. Each direction's frames pass through a
    rewrite function, which may repeat, hold back, change or drop them."""

    def __init__(self, target: tuple[str, int], *, upstream: Rewrite | None = None,
                 downstream: Rewrite | None = None) -> None:
        self._target = target
        self._rewrite = {"up": upstream or (lambda i, f: [f]), "down": downstream or (lambda i, f: [f])}
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"tcp:127.0.0.1:{self.port}"
        self._sockets: list[socket.socket] = [self._listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except OSError:
            return
        server = socket.create_connection(self._target)
        self._sockets += [client, server]
        threading.Thread(target=self._pump, args=(client, server, "up"), daemon=True).start()
        threading.Thread(target=self._pump, args=(server, client, "down"), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, direction: str) -> None:
        index = 0
        try:
            while (payload := _read_frame(source)) is not None:
                for out in self._rewrite[direction](index, payload):
                    sink.sendall(struct.pack(">I", len(out)) + out)
                index += 1
        except OSError:
            pass
        finally:
            try:
                sink.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def close(self) -> None:
        for sock in self._sockets:
            sock.close()
