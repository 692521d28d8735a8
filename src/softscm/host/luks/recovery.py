"""Escrow a volume's key to operators, and recover the volume with an operator's private key
when the module is lost."""

from __future__ import annotations

import base64
import binascii
import hmac
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ...wire.errors import EnrolmentError, LuksError
from .cryptsetup import Cryptsetup, Pbkdf
from .enroll import Enroller
from .escrow import ESCROW_TOKEN_TYPE, EscrowRecord, open_volume_key, seal_volume_key


def escrow_volume(enroller: Enroller, device: str | Path, recipients: Sequence[Any], *,
                  in_header: bool = True) -> EscrowRecord:
    """Seal the volume key of an enrolled volume to ``recipients`` (the module unlocks the key that
    reads it); with ``in_header`` the record also replaces any escrow token in the volume's header.

    :raises EnrolmentError: if the volume is not enrolled. :raises ModuleStateError,
        AuthenticationError: from the module. :raises LuksError: if cryptsetup fails.
    """
    cryptsetup = enroller.cryptsetup
    key = enroller.unlock_key(device)
    volume_key = cryptsetup.volume_key(device, key)
    record = seal_volume_key(volume_key, uuid.UUID(cryptsetup.uuid(device)), _segment_digest(cryptsetup, device),
                             recipients)
    if in_header:
        meta = cryptsetup.metadata(device)
        existing = meta.tokens_of_type(ESCROW_TOKEN_TYPE)
        token_id = existing[0].id if existing else min(set(range(len(meta.tokens) + 1)) - set(meta.tokens))
        cryptsetup.import_token(device, record.to_token(), token_id, replace=bool(existing))
    return record


def header_escrow(cryptsetup: Cryptsetup, device: str | Path) -> EscrowRecord | None:
    """The escrow record kept in the volume's header, if any. :raises LuksError: if it is malformed."""
    tokens = cryptsetup.metadata(device).tokens_of_type(ESCROW_TOKEN_TYPE)
    return EscrowRecord.from_token(dict(tokens[0].fields)) if tokens else None


def escrow_is_current(cryptsetup: Cryptsetup, device: str | Path, record: EscrowRecord) -> bool:
    """Whether ``record`` holds the volume key the data is encrypted with now (no key needed)."""
    return hmac.compare_digest(record.digest, _segment_digest(cryptsetup, device))


def recover_volume_key(cryptsetup: Cryptsetup, device: str | Path, record: EscrowRecord,
                       identities: Sequence[Any]) -> bytes:
    """The volume key from ``record``, checked to belong to ``device``.

    :raises AuthenticationError: if no identity opens the record. :raises EnrolmentError: if the
        record is for another volume or an older volume key (re-keyed since).
    """
    if str(record.volume_uuid) != cryptsetup.uuid(device):
        raise EnrolmentError("the escrow record belongs to another volume")
    if not escrow_is_current(cryptsetup, device, record):
        raise EnrolmentError("the escrow record holds an older volume key (the volume was re-keyed since)")
    return open_volume_key(record, identities)


def add_recovery_passphrase(cryptsetup: Cryptsetup, device: str | Path, record: EscrowRecord,
                            identities: Sequence[Any], passphrase: bytes, *, pbkdf: Pbkdf | None = None) -> int:
    """Add a key slot opened by ``passphrase``, authorised by the escrowed volume key; returns the slot.

    :raises AuthenticationError, EnrolmentError: see :func:`recover_volume_key`.
    :raises LuksKeyError: if the recovered key is not the volume's.
    """
    volume_key = recover_volume_key(cryptsetup, device, record, identities)
    slot = cryptsetup.metadata(device).free_keyslot()
    cryptsetup.add_key(device, auth=volume_key, new=passphrase, slot=slot, pbkdf=pbkdf, auth_is_volume_key=True)
    return slot


def _segment_digest(cryptsetup: Cryptsetup, device: str | Path) -> bytes:
    try:
        return base64.b64decode(cryptsetup.metadata(device).segment_digest().value, validate=True)
    except binascii.Error:
        raise LuksError("the volume's digest is not base64") from None
