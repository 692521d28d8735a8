"""The ``softscm`` LUKS2 token: the module-locked volume key and the enrolment's progress.

The token lives in the volume's own LUKS2 header, so the volume carries everything a rerun needs
to know where an interrupted enrolment stopped; cryptsetup writes the header atomically.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import Enum, unique
from typing import Any

from ...wire.errors import LuksError

TOKEN_TYPE = "softscm"
TOKEN_VERSION = 1


@unique
class EnrolState(str, Enum):
    """Where a volume's enrolment stands (kept in the token)."""

    ADDING = "adding"  # the token is written; the module's key slot is being added and checked
    ENROLLED = "enrolled"  # the module's key opens the volume; the default key slots are gone
    REKEYING = "rekeying"  # re-encryption to a per-unit volume key started (from ``rekey_from``)
    REKEYED = "rekeyed"  # the volume has its own volume key


@dataclass(frozen=True)
class SoftscmToken:
    """The token's fields. ``blob`` is the key, locked by module ``serial``; ``keyslot`` is the slot
    that key opens; ``default_keyslots`` are the factory slots the enrolment removes; ``rekey_from``
    is the digest of the volume key a re-encryption started from."""

    blob: bytes
    serial: str
    keyslot: int
    state: EnrolState
    default_keyslots: tuple[int, ...] = ()
    bound: bool = False  # assigned to ``keyslot`` in the LUKS2 metadata
    rekey_from: str = ""
    version: int = TOKEN_VERSION

    @classmethod
    def parse(cls, document: Mapping[str, Any]) -> SoftscmToken:
        """Read a token's JSON. :raises LuksError: if it is not a softscm token this version reads."""
        try:
            if document["type"] != TOKEN_TYPE:
                raise LuksError(f"a {document['type']!r} token is not a softscm token")
            version = int(document["version"])
            if version != TOKEN_VERSION:
                raise LuksError(f"softscm token version {version} is not supported")
            keyslot = int(document["keyslot"])
            state = EnrolState(document["state"])
            bound = [int(k) for k in document["keyslots"]]
            # re-encryption moves the assignment to the new slot before the token records it
            if bound and keyslot not in bound and state is not EnrolState.REKEYING:
                raise LuksError("the softscm token is not assigned to the key slot it names")
            return cls(
                blob=base64.b64decode(document["blob"], validate=True),
                serial=str(document["serial"]),
                keyslot=keyslot,
                state=state,
                default_keyslots=tuple(int(k) for k in document.get("default_keyslots", [])),
                bound=bool(bound),
                rekey_from=str(document.get("rekey_from", "")),
                version=version,
            )
        except (KeyError, ValueError, TypeError, binascii.Error) as exc:
            if isinstance(exc, LuksError):
                raise
            raise LuksError(f"malformed softscm token ({exc.__class__.__name__})") from None

    def to_json(self) -> dict[str, Any]:
        """The token as cryptsetup stores it (numbers as strings, as LUKS2 keeps them)."""
        document: dict[str, Any] = {
            "type": TOKEN_TYPE,
            "keyslots": [str(self.keyslot)] if self.bound else [],
            "version": self.version,
            "serial": self.serial,
            "blob": base64.b64encode(self.blob).decode(),
            "keyslot": str(self.keyslot),
            "state": self.state.value,
            "default_keyslots": [str(k) for k in self.default_keyslots],
        }
        if self.rekey_from:
            document["rekey_from"] = self.rekey_from
        return document

    def evolve(self, **changes: Any) -> SoftscmToken:
        return replace(self, **changes)
