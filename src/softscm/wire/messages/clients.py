"""Channel clients: enrol, list and revoke the client keys the encrypted channel accepts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from ..defs import Command
from .base import MaxLen, Message, Request, Size, command

NAME = Annotated[str, MaxLen(64)]
KEY = Annotated[bytes, Size(32)]


@dataclass(frozen=True)
class ClientInfo(Message):
    """An enrolled client: its name, X25519 public key and enrolment time (Unix seconds)."""

    name: NAME
    public_key: KEY
    created: int


@dataclass(frozen=True)
class Enrolled(Message):
    """The enrolled client, and the module's channel public key for the host to pin."""

    client: ClientInfo
    module_key: KEY


@command(Command.CLIENTS_ENROLL, Enrolled)
@dataclass(frozen=True)
class ClientsEnrollRequest(Request[Enrolled]):
    """Enrol a client's channel key under a name (an administrator action)."""

    name: NAME
    public_key: KEY


@dataclass(frozen=True)
class ClientList(Message):
    clients: tuple[ClientInfo, ...]
    module_key: KEY


@command(Command.CLIENTS_LIST, ClientList)
@dataclass(frozen=True)
class ClientsListRequest(Request[ClientList]):
    """The enrolled clients (in enrolment order) and the module's channel public key."""


@command(Command.CLIENTS_REVOKE, ClientInfo)
@dataclass(frozen=True)
class ClientsRevokeRequest(Request[ClientInfo]):
    """Revoke a client by name or by public key (exactly one); its next handshake is refused."""

    name: NAME | None = None
    public_key: KEY | None = None
