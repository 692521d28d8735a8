"""A raw frame client for the reliability tests (sends anything, reads replies by hand)."""

from __future__ import annotations

import socket
import struct
from typing import Any

import cbor2

from softscm.host.transport import SocketTransport
from softscm.wire.codec import Reply, Request, parse_incoming
from softscm.wire.defs import PROTOCOL_VERSION, Command


def request(command: int, args: Any, request_id: int = 7) -> bytes:
    return cbor2.dumps({0: request_id, 1: command, 2: args})


class RawClient:
    def __init__(self, path: str, timeout: float = 30.0) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)  # blocking: with a timeout set, a full listen backlog is EAGAIN at once, not a wait
        self.sock.settimeout(timeout)
        self.transport = SocketTransport(self.sock)

    def send(self, payload: bytes) -> None:
        self.sock.sendall(struct.pack(">I", len(payload)) + payload)

    def reply(self, timeout: float = 30.0) -> Reply:
        message = parse_incoming(self.transport.recv(timeout=timeout))
        assert isinstance(message, Reply)
        return message

    def hello(self) -> None:
        self.send(Request(1, Command.HELLO, {"version": PROTOCOL_VERSION}).to_bytes())
        assert self.reply().status == 0

    def call(self, command: int, args: Any, request_id: int = 7) -> Reply:
        self.send(request(command, args, request_id))
        return self.reply()

    def close(self) -> None:
        self.sock.close()
