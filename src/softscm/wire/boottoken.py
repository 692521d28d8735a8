"""The remote boot authorisation token: built by the party that authorises, checked by the module.

Canonical CBOR ``[[1, challenge, serial, action, expires], signature]``. The signature is over
the SHA-256 of the canonical body, so a P-256 key (ECDSA over a digest, raw ``r||s``) and an
Ed25519 key sign the same 32 bytes. ``challenge`` is the module's one-time nonce
(``BOOT_CHALLENGE``), ``serial`` the module's serial number, ``expires`` a Unix time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import cbor2

from .defs import BootAuthAction
from .errors import InvalidArgumentError

TOKEN_FORMAT = 1


@dataclass(frozen=True)
class AuthorizationToken:
    """A signed remote authorisation."""

    challenge: bytes
    serial: str
    action: BootAuthAction
    expires: int
    signature: bytes = field(default=b"", repr=False)

    def _body(self) -> list[object]:
        return [TOKEN_FORMAT, self.challenge, self.serial, int(self.action), self.expires]

    def digest(self) -> bytes:
        """What the signer signs: SHA-256 of the canonical body."""
        return hashlib.sha256(cbor2.dumps(self._body(), canonical=True)).digest()

    def to_bytes(self) -> bytes:
        return cbor2.dumps([self._body(), self.signature], canonical=True)

    @classmethod
    def parse(cls, data: bytes) -> AuthorizationToken:
        """:raises InvalidArgumentError: if ``data`` is not a canonical token."""
        try:
            body, signature = cbor2.loads(data)
            version, challenge, serial, action, expires = body
            if (version != TOKEN_FORMAT or not isinstance(challenge, bytes) or not isinstance(serial, str)
                    or not isinstance(expires, int) or not isinstance(signature, bytes)):
                raise ValueError("format")
            token = cls(challenge, serial, BootAuthAction(action), expires, signature)
        except (ValueError, TypeError, cbor2.CBORDecodeError):
            raise InvalidArgumentError("not an authorisation token") from None
        if token.to_bytes() != bytes(data):
            raise InvalidArgumentError("not a canonical authorisation token")
        return token

    def signed(self, signer: Callable[[bytes], bytes]) -> AuthorizationToken:
        """This token signed by ``signer`` (which signs the 32-byte :meth:`digest`)."""
        return AuthorizationToken(self.challenge, self.serial, self.action, self.expires,
                                  bytes(signer(self.digest())))
