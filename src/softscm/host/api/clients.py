"""Channel clients: enrol, list and revoke the client keys the module's encrypted channel accepts."""

from __future__ import annotations

from ...wire.messages.clients import (
    ClientInfo,
    ClientList,
    ClientsEnrollRequest,
    ClientsListRequest,
    ClientsRevokeRequest,
    Enrolled,
)
from .base import ApiBase, same


class ClientsApi(ApiBase):
    def enroll_client(self, name: str, public_key: bytes) -> Enrolled:
        """Enrol a client's X25519 public key under ``name``; the reply carries the module's channel
        public key, which the client pins.

        :raises ClientKeyError: if the name or key is already enrolled.
        :raises InvalidArgumentError: for a bad name or key.
        """
        return self._call(ClientsEnrollRequest(name, public_key), same)

    def list_clients(self) -> ClientList:
        """The enrolled clients and the module's channel public key."""
        return self._call(ClientsListRequest(), same)

    def revoke_client(self, client: str | bytes) -> ClientInfo:
        """Revoke a client by name (``str``) or public key (``bytes``); its next handshake is refused.

        :raises ClientKeyError: if no such client is enrolled.
        """
        request = ClientsRevokeRequest(public_key=client) if isinstance(client, bytes) else ClientsRevokeRequest(client)
        return self._call(request, same)
