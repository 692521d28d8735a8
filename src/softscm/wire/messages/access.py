"""Access control: who the caller is, administrator PIN login, roles and per-key rights."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from ..defs import Command, Role
from .base import Done, MaxLen, Message, Request, command
from .keys import Slot

MIN_PIN = 6
"""The administrator PIN has at least this many characters (and at most 128)."""
Pin = Annotated[str, MaxLen(128)]
Principal = Annotated[str, MaxLen(80)]
"""``uid:N``, ``gid:N`` (a local user or group on the Unix socket), ``client:NAME`` (an enrolled
client key on an encrypted channel), ``tcp:ADDRESS`` (an unauthenticated TCP peer) or ``owner``
(the module's own process: the embedded transport)."""


@dataclass(frozen=True)
class Identity(Message):
    """The caller as the module sees it, its role, whether it logged in with the PIN, and the
    PIN's state (whether one is set, and locked after too many wrong PINs)."""

    principal: str
    role: Role
    logged_in: bool
    pin_set: bool
    pin_locked: bool = False


@command(Command.ACCESS_WHOAMI, Identity)
@dataclass(frozen=True)
class WhoAmIRequest(Request[Identity]):
    pass


@command(Command.ACCESS_LOGIN, Done)
@dataclass(frozen=True)
class LoginRequest(Request[Done]):
    """Log this connection in with the administrator PIN (needed for administrator commands once
    a PIN is set)."""

    pin: Pin


@command(Command.ACCESS_LOGOUT, Done)
@dataclass(frozen=True)
class LogoutRequest(Request[Done]):
    pass


@command(Command.ACCESS_SET_PIN, Done)
@dataclass(frozen=True)
class SetPinRequest(Request[Done]):
    """Set or change the administrator PIN (an administrator, logged in if a PIN is set)."""

    pin: Pin


@command(Command.ACCESS_RESET_PIN, Done)
@dataclass(frozen=True)
class ResetPinRequest(Request[Done]):
    """Replace a locked (or forgotten) PIN: only the module owner's own identity may."""

    pin: Pin


@command(Command.ACCESS_SET_ROLE, Done)
@dataclass(frozen=True)
class SetRoleRequest(Request[Done]):
    """Give ``principal`` a role (``NONE`` takes it away)."""

    principal: Principal
    role: Role


@dataclass(frozen=True)
class AccessTable(Message):
    """Every role given, every key's grants (slot -> principals) and the PIN's state."""

    roles: dict[str, Role]
    keys: dict[str, tuple[str, ...]]
    pin_set: bool
    pin_failures: int
    pin_locked: bool


@command(Command.ACCESS_LIST, AccessTable)
@dataclass(frozen=True)
class AccessListRequest(Request[AccessTable]):
    pass


@command(Command.ACCESS_GRANT_KEY, Done)
@dataclass(frozen=True)
class GrantKeyRequest(Request[Done]):
    """Let ``principal`` use the key in ``slot``."""

    slot: Slot
    principal: Principal


@command(Command.ACCESS_REVOKE_KEY, Done)
@dataclass(frozen=True)
class RevokeKeyRequest(Request[Done]):
    slot: Slot
    principal: Principal
