"""Certificates in the module: a chain per key slot, named trust roots, verification in the module."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from ..defs import Command
from .base import Done, MaxLen, Message, Request, command
from .keys import Slot

MAX_CHAIN = 8
MAX_CERTIFICATE = 16 * 1024
Certificate = Annotated[bytes, MaxLen(MAX_CERTIFICATE)]
RootName = Annotated[str, MaxLen(64)]


@dataclass(frozen=True)
class CertChain(Message):
    """DER certificates, leaf first."""

    chain: Annotated[tuple[Certificate, ...], MaxLen(MAX_CHAIN)]


@dataclass(frozen=True)
class CertSlots(Message):
    slots: tuple[int, ...]


@dataclass(frozen=True)
class TrustRoot(Message):
    certificate: Certificate


@dataclass(frozen=True)
class TrustRootNames(Message):
    names: tuple[str, ...]


@dataclass(frozen=True)
class ChainVerified(Message):
    """The name of the stored root the chain leads to."""

    root: str


@command(Command.CERT_STORE, Done)
@dataclass(frozen=True)
class CertStoreRequest(Request[Done]):
    """Store (or replace) the chain for the key in ``slot`` (DER, leaf first, each issued by the
    next); the leaf must certify that key."""

    slot: Slot
    chain: Annotated[tuple[Certificate, ...], MaxLen(MAX_CHAIN)]


@command(Command.CERT_GET, CertChain)
@dataclass(frozen=True)
class CertGetRequest(Request[CertChain]):
    """The chain stored for ``slot``."""

    slot: Slot


@command(Command.CERT_REMOVE, Done)
@dataclass(frozen=True)
class CertRemoveRequest(Request[Done]):
    slot: Slot


@command(Command.CERT_LIST, CertSlots)
@dataclass(frozen=True)
class CertListRequest(Request[CertSlots]):
    """The slots that have a chain stored."""


@command(Command.CERT_ROOT_STORE, Done)
@dataclass(frozen=True)
class CertRootStoreRequest(Request[Done]):
    """Store (or replace) a trusted root (a self-signed CA certificate) under ``name``."""

    name: RootName
    certificate: Certificate


@command(Command.CERT_ROOT_GET, TrustRoot)
@dataclass(frozen=True)
class CertRootGetRequest(Request[TrustRoot]):
    name: RootName


@command(Command.CERT_ROOT_REMOVE, Done)
@dataclass(frozen=True)
class CertRootRemoveRequest(Request[Done]):
    name: RootName


@command(Command.CERT_ROOT_LIST, TrustRootNames)
@dataclass(frozen=True)
class CertRootListRequest(Request[TrustRootNames]):
    """The names of the stored trust roots."""


@command(Command.CERT_VERIFY, ChainVerified)
@dataclass(frozen=True)
class CertVerifyRequest(Request[ChainVerified]):
    """Verify the chain stored for ``slot`` against the stored roots (or the one named) at time
    ``at`` (epoch seconds; default: the module's clock)."""

    slot: Slot
    root: RootName | None = None
    at: float | None = None
