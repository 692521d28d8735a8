"""Certificates: a chain per key slot, named trust roots, verification against them."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from ...wire.defs import Event, Role
from ...wire.messages import Done
from ...wire.messages.cert import (
    CertChain,
    CertGetRequest,
    CertListRequest,
    CertRemoveRequest,
    CertRootGetRequest,
    CertRootListRequest,
    CertRootRemoveRequest,
    CertRootStoreRequest,
    CertSlots,
    CertStoreRequest,
    CertVerifyRequest,
    ChainVerified,
    TrustRoot,
    TrustRootNames,
)
from ..audit.recorder import Recorder
from ..dispatch import Route, route
from ..store.certs import CertStore


class CertCommands:
    def __init__(self, certs: CertStore, events: Recorder, clock: Callable[[], float]) -> None:
        self._certs = certs
        self._events = events
        self._clock = clock

    def routes(self) -> list[Route]:
        admin = Role.ADMIN  # changing what the module trusts or presents; reading is for users
        return [
            route(CertStoreRequest, self.store, role=admin),
            route(CertGetRequest, self.get),
            route(CertRemoveRequest, self.remove, role=admin),
            route(CertListRequest, self.list_slots),
            route(CertRootStoreRequest, self.store_root, role=admin),
            route(CertRootGetRequest, self.get_root),
            route(CertRootRemoveRequest, self.remove_root, role=admin),
            route(CertRootListRequest, self.list_roots),
            route(CertVerifyRequest, self.verify),
        ]

    def store(self, request: CertStoreRequest) -> Done:
        """:raises CertificateError: if the chain is malformed or its leaf is for another key."""
        self._certs.put_chain(request.slot, request.chain)
        self._events.record(Event.CERT_STORED, slot=request.slot, length=len(request.chain))
        return Done()

    def get(self, request: CertGetRequest) -> CertChain:
        """:raises NotFoundError: if no chain is stored for the slot."""
        return CertChain(tuple(self._certs.get_chain(request.slot)))

    def remove(self, request: CertRemoveRequest) -> Done:
        self._certs.remove_chain(request.slot)
        self._events.record(Event.CERT_REMOVED, slot=request.slot)
        return Done()

    def list_slots(self, request: CertListRequest) -> CertSlots:
        return CertSlots(tuple(self._certs.chain_slots()))

    def store_root(self, request: CertRootStoreRequest) -> Done:
        """:raises CertificateError: unless the certificate is a self-signed CA."""
        self._certs.put_root(request.name, request.certificate)
        self._events.record(Event.TRUST_ROOT_CHANGED, name=request.name, stored=True)
        return Done()

    def get_root(self, request: CertRootGetRequest) -> TrustRoot:
        return TrustRoot(self._certs.get_root(request.name))

    def remove_root(self, request: CertRootRemoveRequest) -> Done:
        self._certs.remove_root(request.name)
        self._events.record(Event.TRUST_ROOT_CHANGED, name=request.name, stored=False)
        return Done()

    def list_roots(self, request: CertRootListRequest) -> TrustRootNames:
        return TrustRootNames(tuple(self._certs.root_names()))

    def verify(self, request: CertVerifyRequest) -> ChainVerified:
        """:raises CertificateError: if the chain does not verify. :raises NotFoundError: if no
        chain or root is stored."""
        at = datetime.datetime.fromtimestamp(self._clock() if request.at is None else request.at, datetime.timezone.utc)
        return ChainVerified(self._certs.verify(request.slot, at, root=request.root))
