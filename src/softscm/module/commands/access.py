"""Access control: who am I, PIN login, roles and key grants."""

from __future__ import annotations

from ...wire.defs import Role
from ...wire.messages import Done
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
from ..access.caller import Session
from ..access.control import AccessControl
from ..dispatch import READY_OR_HOLD, Route, route


class AccessCommands:
    def __init__(self, access: AccessControl) -> None:
        self._access = access

    def routes(self) -> list[Route]:
        states, anyone, admin = READY_OR_HOLD, Role.NONE, Role.ADMIN
        return [
            route(WhoAmIRequest, self.whoami, states=states, role=anyone, session=True),
            route(LoginRequest, self.login, states=states, role=anyone, session=True),
            route(LogoutRequest, self.logout, states=states, role=anyone, session=True),
            route(ResetPinRequest, self.reset_pin, states=states, role=anyone, session=True),
            route(SetPinRequest, self.set_pin, states=states, role=admin),
            route(SetRoleRequest, self.set_role, states=states, role=admin),
            route(AccessListRequest, self.list, states=states, role=admin),
            route(GrantKeyRequest, self.grant, role=admin),
            route(RevokeKeyRequest, self.revoke, role=admin),
        ]

    def whoami(self, request: WhoAmIRequest, session: Session) -> Identity:
        access = self._access
        return Identity(session.caller.principal, access.role(session.caller), session.logged_in, access.pin_set,
                        access.pin_locked)

    def login(self, request: LoginRequest, session: Session) -> Done:
        """:raises AccessDeniedError: for a wrong PIN. :raises PinLockedError: once locked."""
        self._access.login(session, request.pin)
        return Done()

    def logout(self, request: LogoutRequest, session: Session) -> Done:
        session.logged_in = False
        return Done()

    def reset_pin(self, request: ResetPinRequest, session: Session) -> Done:
        """:raises AccessDeniedError: unless the caller is the module owner."""
        self._access.reset_pin(session, request.pin)
        return Done()

    def set_pin(self, request: SetPinRequest) -> Done:
        self._access.set_pin(request.pin)
        return Done()

    def set_role(self, request: SetRoleRequest) -> Done:
        self._access.set_role(request.principal, request.role)
        return Done()

    def list(self, request: AccessListRequest) -> AccessTable:
        table = self._access.table
        return AccessTable({k: Role(v) for k, v in table.roles.items()},
                           {str(slot): tuple(g.principals) for slot, g in table.grants.items()},
                           self._access.pin_set, table.pin_failures, self._access.pin_locked)

    def grant(self, request: GrantKeyRequest) -> Done:
        """:raises SlotEmptyError: for an empty slot."""
        self._access.grant(request.slot, request.principal)
        return Done()

    def revoke(self, request: RevokeKeyRequest) -> Done:
        self._access.revoke(request.slot, request.principal)
        return Done()
