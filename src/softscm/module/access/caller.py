"""The caller behind a connection, as the transport identified it."""

from __future__ import annotations

import re
import socket
import struct
from dataclasses import dataclass

from ...wire.errors import InvalidArgumentError

OWNER = "owner"
CLIENT_PREFIX = "client:"
_PRINCIPAL = re.compile(r"(uid|gid):\d{1,10}|client:[A-Za-z0-9_.-]{1,64}|tcp:[0-9a-fA-F.:\[\]]{1,64}|owner")


def check_principal(text: str) -> str:
    """:raises InvalidArgumentError: for text that names no principal."""
    if not _PRINCIPAL.fullmatch(text):
        raise InvalidArgumentError("a principal is uid:N, gid:N, client:NAME, tcp:ADDRESS or owner")
    return text


@dataclass(frozen=True)
class Caller:
    """Who sent a request: a principal (``uid:N``, ``client:NAME``, ``tcp:ADDR``, ``owner``) and
    the groups it belongs to (``gid:N``), which may hold roles and key grants too."""

    principal: str
    groups: tuple[str, ...] = ()
    is_owner: bool = False  # the module's own uid (or the in-process embedded client)

    @property
    def names(self) -> tuple[str, ...]:
        """The principal and its groups: everything a role or grant may be given to."""
        return (self.principal, *self.groups)


EMBEDDED = Caller(OWNER, is_owner=True)


def unix_peer(sock: socket.socket, owner_uid: int) -> Caller:
    """The peer of a Unix socket connection, from the kernel (``SO_PEERCRED``): it cannot lie."""
    _pid, uid, gid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
    return Caller(f"uid:{uid}", (f"gid:{gid}",), is_owner=uid == owner_uid)


def client_peer(name: str) -> Caller:
    """A client that proved an enrolled key on the encrypted channel."""
    return Caller(CLIENT_PREFIX + name)


def tcp_peer(address: object) -> Caller:
    """An unauthenticated TCP peer: nothing is known of it but its address."""
    host = address[0] if isinstance(address, tuple) and address else "unknown"
    return Caller(f"tcp:{host}")


@dataclass
class Session:
    """One connection's access state: its caller and whether it logged in with the PIN."""

    caller: Caller
    logged_in: bool = False
