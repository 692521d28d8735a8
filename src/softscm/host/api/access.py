"""Access control: who am I, PIN login, roles and key grants."""

from __future__ import annotations

from ...wire.defs import Role
from ...wire.messages.access import (
    AccessListRequest,
    AccessTable,
    GrantKeyRequest,
    Identity,
    LoginRequest,
    LogoutRequest,
    ResetPinRequest,
    RevokeKeyRequest,
    SetPinRequest,
    SetRoleRequest,
    WhoAmIRequest,
)
from .base import ApiBase, nothing, same


class AccessApi(ApiBase):
    def whoami(self) -> Identity:
        """This connection's principal and role, and whether it logged in with the PIN."""
        return self._call(WhoAmIRequest(), same)

    def login(self, pin: str) -> None:
        """Log in with the administrator PIN.

        :raises AccessDeniedError: for a wrong PIN. :raises PinLockedError: once it is locked.
        """
        return self._call(LoginRequest(pin), nothing)

    def logout(self) -> None:
        return self._call(LogoutRequest(), nothing)

    def set_pin(self, pin: str) -> None:
        """Set or change the administrator PIN (an administrator; logged in if one is set)."""
        return self._call(SetPinRequest(pin), nothing)

    def reset_pin(self, pin: str) -> None:
        """Replace a locked or forgotten PIN. :raises AccessDeniedError: unless the caller is the
        module owner (the uid scmd runs as)."""
        return self._call(ResetPinRequest(pin), nothing)

    def set_role(self, principal: str, role: Role | int) -> None:
        """Give ``principal`` (``uid:N``, ``gid:N``, ``client:NAME``) a role; ``Role.NONE`` removes it."""
        return self._call(SetRoleRequest(principal, Role(role)), nothing)

    def access_table(self) -> AccessTable:
        """Roles, key grants and the PIN's state."""
        return self._call(AccessListRequest(), same)

    def grant_key(self, slot: int, principal: str) -> None:
        """Let ``principal`` use the key in ``slot``."""
        return self._call(GrantKeyRequest(slot, principal), nothing)

    def revoke_key(self, slot: int, principal: str) -> None:
        return self._call(RevokeKeyRequest(slot, principal), nothing)
