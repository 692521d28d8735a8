"""Key slots: generate, import, remove, export public keys, foreign keys, listing."""

from __future__ import annotations

from ...wire.messages.keys import (
    DisableExportRequest,
    GenEphemeralRequest,
    GenKeyRequest,
    GenKeysRequest,
    GetPublicKeyRequest,
    ImportKeyRequest,
    InvalidateEphemeralRequest,
    ListSlotsRequest,
    RemoveKeyRequest,
    SlotList,
    StoreForeignRequest,
)
from .base import ApiBase, KeyTypeLike, as_key_type, nothing, same


class KeysApi(ApiBase):
    def gen_key_pair(self, key_type: KeyTypeLike) -> int:
        """Generate a key pair in the lowest free user slot (16+) and return the slot.

        :raises NoFreeSlotError: if every user slot is in use.
        """
        return self._call(GenKeyRequest(as_key_type(key_type)), lambda r: r.slot)

    def gen_key_pairs(self, key_type: KeyTypeLike, count: int) -> list[int]:
        """Generate ``count`` (1..1024) key pairs in one durable transaction; returns their slots.

        :raises NoFreeSlotError: if they do not all fit (then none is stored).
        """
        return self._call(GenKeysRequest(as_key_type(key_type), count), lambda r: list(r.slots))

    def gen_ephemeral_key_pair(self, key_type: KeyTypeLike) -> bytes:
        """Replace the volatile ephemeral key (slot -1); returns its public key."""
        return self._call(GenEphemeralRequest(as_key_type(key_type)), lambda r: r.public_key)

    def invalidate_ephemeral_key(self) -> None:
        return self._call(InvalidateEphemeralRequest(), nothing)

    def import_key(self, key_type: KeyTypeLike, private_key: bytes) -> int:
        """Store a raw 32-byte private key (development mode only) and return its slot.

        :raises NotPermittedError: in production mode. :raises InvalidKeyError: for a bad key.
        """
        return self._call(ImportKeyRequest(as_key_type(key_type), bytes(private_key)), lambda r: r.slot)

    def remove_key(self, slot: int, *, foreign: bool = False) -> None:
        """Remove a key (a wallet node takes its descendants; a master seed its wallet)."""
        return self._call(RemoveKeyRequest(slot, foreign), nothing)

    def get_public_key(self, slot: int, *, foreign: bool = False) -> bytes:
        """The raw public key (64 bytes X||Y for ECDSA curves, 32 for Ed25519/X25519).

        :raises ExportDisabledError: if export is disabled for the slot.
        """
        return self._call(GetPublicKeyRequest(slot, foreign), lambda r: r.public_key)

    def get_public_key_pem(self, slot: int, *, foreign: bool = False) -> str:
        """The public key as a PEM SubjectPublicKeyInfo."""
        return self._call(GetPublicKeyRequest(slot, foreign, pem=True), lambda r: r.pem or "")

    def disable_public_key_export(self, slot: int, *, foreign: bool = False) -> None:
        """Permanently disable public key export for ``slot``."""
        return self._call(DisableExportRequest(slot, foreign), nothing)

    def store_foreign_public_key(self, key_type: KeyTypeLike, public_key: bytes) -> int:
        """Store a public key in the foreign store; returns its foreign slot.

        :raises InvalidKeyError: if the key is invalid. :raises NoFreeSlotError: if full.
        """
        return self._call(StoreForeignRequest(as_key_type(key_type), bytes(public_key)), lambda r: r.slot)

    def list_slots(self, *, foreign: bool = False) -> SlotList:
        """Occupied slots with types (factory slots included) and the total slot count."""
        return self._call(ListSlotsRequest(foreign), same)
