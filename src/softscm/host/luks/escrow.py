"""Recovery escrow: the volume key encrypted to operators' public keys, for when the module is lost.

The key is sealed in the `age <https://age-encryption.org/v1>`_ format (X25519, HKDF-SHA256,
ChaCha20-Poly1305) through ``pyrage``, so an operator can open it with softscm or with the stock
``age`` tool, using an age identity (``age-keygen``) or an OpenSSH Ed25519/RSA key. The record
binds the volume's UUID (outside, and again inside the sealed part) and the public digest of the
volume key it holds, so ``status`` can tell whether an escrow is still current after a re-key.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import struct
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyrage

from ...wire.errors import AuthenticationError, InvalidKeyError, LuksError

ESCROW_MAGIC = b"SCMESCROW"
ESCROW_VERSION = 1
ESCROW_TOKEN_TYPE = "softscm-escrow"
_ARMOR_BEGIN = "-----BEGIN SOFTSCM LUKS ESCROW-----"
_ARMOR_END = "-----END SOFTSCM LUKS ESCROW-----"
_HEADER = struct.Struct(">9sB16sH")  # magic, version, volume UUID, digest length


@dataclass(frozen=True)
class EscrowRecord:
    """A volume key sealed to one or more operators."""

    volume_uuid: uuid.UUID
    digest: bytes  # the LUKS2 digest (public) of the sealed volume key
    sealed: bytes  # an age file holding volume UUID || volume key
    version: int = ESCROW_VERSION

    def to_bytes(self) -> bytes:
        return _HEADER.pack(ESCROW_MAGIC, self.version, self.volume_uuid.bytes, len(self.digest)) + self.digest + \
            self.sealed

    @classmethod
    def parse(cls, data: bytes) -> EscrowRecord:
        """:raises LuksError: if ``data`` is not an escrow record of this version."""
        if len(data) < _HEADER.size:
            raise LuksError("not a softscm escrow record (too short)")
        magic, version, raw_uuid, digest_size = _HEADER.unpack_from(data)
        if magic != ESCROW_MAGIC:
            raise LuksError("not a softscm escrow record")
        if version != ESCROW_VERSION:
            raise LuksError(f"escrow record version {version} is not supported")
        digest = data[_HEADER.size:_HEADER.size + digest_size]
        sealed = data[_HEADER.size + digest_size:]
        if len(digest) != digest_size or not sealed:
            raise LuksError("truncated escrow record")
        return cls(uuid.UUID(bytes=raw_uuid), digest, sealed, version)

    def to_armor(self) -> str:
        """The record as text: base64 between BEGIN/END lines, 64 characters a line."""
        body = base64.b64encode(self.to_bytes()).decode()
        lines = [body[i:i + 64] for i in range(0, len(body), 64)]
        return "\n".join([_ARMOR_BEGIN, *lines, _ARMOR_END]) + "\n"

    @classmethod
    def parse_armor(cls, text: str) -> EscrowRecord:
        """:raises LuksError: if ``text`` is not an armored escrow record."""
        stripped = text.strip()
        if not (stripped.startswith(_ARMOR_BEGIN) and stripped.endswith(_ARMOR_END)):
            raise LuksError("not an armored softscm escrow record")
        body = stripped[len(_ARMOR_BEGIN):-len(_ARMOR_END)]
        try:
            return cls.parse(base64.b64decode("".join(body.split()), validate=True))
        except binascii.Error:
            raise LuksError("the escrow record is not valid base64") from None

    def to_token(self) -> dict[str, Any]:
        """The record as a LUKS2 token (assigned to no key slot), kept in the volume's header."""
        return {"type": ESCROW_TOKEN_TYPE, "keyslots": [], "record": base64.b64encode(self.to_bytes()).decode()}

    @classmethod
    def from_token(cls, token: dict[str, Any]) -> EscrowRecord:
        """:raises LuksError: if the token is not a softscm escrow token."""
        if token.get("type") != ESCROW_TOKEN_TYPE or not isinstance(token.get("record"), str):
            raise LuksError("not a softscm escrow token")
        try:
            return cls.parse(base64.b64decode(token["record"], validate=True))
        except binascii.Error:
            raise LuksError("the escrow token is not valid base64") from None


def parse_recipient(text: str) -> Any:
    """An age recipient (``age1...``) or an OpenSSH public key line (``ssh-ed25519 ...``, ``ssh-rsa ...``).

    :raises InvalidKeyError: for anything else.
    """
    text = text.strip()
    try:
        if text.startswith("ssh-"):
            return pyrage.ssh.Recipient.from_str(text)
        return pyrage.x25519.Recipient.from_str(text)
    except pyrage.RecipientError:
        raise InvalidKeyError("not an age recipient or an OpenSSH public key") from None


def parse_identities(data: bytes) -> list[Any]:
    """The private keys in an identity file: an age identity file (``AGE-SECRET-KEY-1...`` lines)
    or an unencrypted OpenSSH private key.

    :raises InvalidKeyError: if the file holds neither (the message never quotes the file).
    """
    try:
        if b"PRIVATE KEY-----" in data:
            return [pyrage.ssh.Identity.from_buffer(data)]
        lines = [line.strip() for line in data.decode().splitlines()]
        identities = [pyrage.x25519.Identity.from_str(line) for line in lines if line and not line.startswith("#")]
    except (pyrage.IdentityError, UnicodeDecodeError, ValueError):
        raise InvalidKeyError("the identity file holds no usable age or OpenSSH private key") from None
    if not identities:
        raise InvalidKeyError("the identity file holds no private key")
    return identities


def seal_volume_key(volume_key: bytes, volume_uuid: uuid.UUID, digest: bytes, recipients: Sequence[Any]
                    ) -> EscrowRecord:
    """Seal ``volume_key`` to every recipient (any one of them can recover it).

    :raises InvalidKeyError: if no recipient is given.
    """
    if not recipients:
        raise InvalidKeyError("an escrow needs at least one recipient")
    try:
        sealed = pyrage.encrypt(volume_uuid.bytes + volume_key, list(recipients))
    except pyrage.EncryptError:
        raise InvalidKeyError("the recipients cannot be encrypted to") from None
    return EscrowRecord(volume_uuid, digest, sealed)


def open_volume_key(record: EscrowRecord, identities: Sequence[Any]) -> bytes:
    """The volume key in ``record``.

    :raises AuthenticationError: if none of ``identities`` opens it, or it was made for another volume.
    """
    try:
        plain = pyrage.decrypt(record.sealed, list(identities))
    except pyrage.DecryptError:
        raise AuthenticationError("none of the identities opens this escrow record") from None
    if len(plain) <= 16 or not hmac.compare_digest(plain[:16], record.volume_uuid.bytes):
        raise AuthenticationError("the escrow record was altered (its volume does not match)")
    return plain[16:]
