"""Channel clients: enrol, list and revoke the keys the encrypted channel accepts."""

from __future__ import annotations

from collections.abc import Callable

from ...wire.defs import Role
from ...wire.errors import InvalidArgumentError
from ...wire.messages.clients import (
    ClientInfo,
    ClientList,
    ClientsEnrollRequest,
    ClientsListRequest,
    ClientsRevokeRequest,
    Enrolled,
)
from ..access.clients import ClientRecord, ClientRegistry
from ..dispatch import Route, route


def _info(record: ClientRecord) -> ClientInfo:
    return ClientInfo(record.name, record.public_key, record.created)


class ClientCommands:
    """``module_key`` gives the module's channel public key (created on first use)."""

    def __init__(self, clients: ClientRegistry, module_key: Callable[[], bytes]) -> None:
        self._clients = clients
        self._module_key = module_key

    def routes(self) -> list[Route]:
        return [
            route(ClientsEnrollRequest, self.enroll, role=Role.ADMIN),
            route(ClientsListRequest, self.list, role=Role.ADMIN),
            route(ClientsRevokeRequest, self.revoke, role=Role.ADMIN),
        ]

    def enroll(self, request: ClientsEnrollRequest) -> Enrolled:
        """:raises ClientKeyError: if the name or key is enrolled already. :raises InvalidArgumentError:"""
        return Enrolled(_info(self._clients.enroll(request.name, request.public_key)), self._module_key())

    def list(self, request: ClientsListRequest) -> ClientList:
        return ClientList(tuple(_info(record) for record in self._clients.list()), self._module_key())

    def revoke(self, request: ClientsRevokeRequest) -> ClientInfo:
        """:raises InvalidArgumentError: unless exactly one of name and key is given.
        :raises ClientKeyError: if no such client is enrolled."""
        client: str | bytes
        if request.name is not None and request.public_key is None:
            client = request.name
        elif request.public_key is not None and request.name is None:
            client = request.public_key
        else:
            raise InvalidArgumentError("name the client to revoke, or give its public key (not both)")
        return _info(self._clients.revoke(client))
