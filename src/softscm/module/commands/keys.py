"""Key slots: generate, import, remove, export public keys, foreign keys, listing."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

from ...wire.defs import EPHEMERAL_SLOT, FIRST_USER_SLOT, Event, Mode, Role
from ...wire.errors import ExportDisabledError, InvalidSlotError, NoFreeSlotError, NotPermittedError, WalletError
from ...wire.messages import Done
from ...wire.messages.keys import (
    DisableExportRequest,
    GenEphemeralRequest,
    GenKeyRequest,
    GenKeysRequest,
    GetPublicKeyRequest,
    ImportKeyRequest,
    InvalidateEphemeralRequest,
    ListSlotsRequest,
    PublicKey,
    RemoveKeyRequest,
    SlotList,
    SlotReply,
    SlotsReply,
    StoreForeignRequest,
)
from ..audit.recorder import Recorder
from ..crypto import PrivateKey, load_private, normalize_public, public_to_pem
from ..dispatch import Route, route, slot_of
from ..keyslots import KeySlots
from ..offload import Step, Stepped
from ..wallet.service import WalletService

GEN_KEYS_STEP = 32
"""Keys a GEN_KEYS generates before the loop serves others again (about 10 to 20 ms of work)."""


class KeyCommands:
    def __init__(self, keys: KeySlots, wallets: WalletService, events: Recorder, mode: Callable[[], Mode]) -> None:
        self._keys = keys
        self._store = keys.store
        self._wallets = wallets
        self._events = events
        self._mode = mode
        self._generating = 0  # keys that GEN_KEYS requests under way will store

    def routes(self) -> list[Route]:
        return [
            route(GenKeyRequest, self.gen_key, creates=slot_of),
            route(GenKeysRequest, self.gen_keys, creates=lambda reply: reply.slots),
            route(GenEphemeralRequest, self.gen_ephemeral),
            route(InvalidateEphemeralRequest, self.invalidate_ephemeral),
            route(ImportKeyRequest, self.import_key, role=Role.ADMIN, creates=slot_of),
            route(RemoveKeyRequest, self.remove_key, role=Role.ADMIN),
            route(GetPublicKeyRequest, self.get_public_key),
            route(DisableExportRequest, self.disable_export, role=Role.ADMIN),
            route(StoreForeignRequest, self.store_foreign, role=Role.ADMIN),
            route(ListSlotsRequest, self.list_slots),
        ]

    def gen_key(self, request: GenKeyRequest) -> SlotReply:
        """Generate a key pair in the lowest free user slot. :raises NoFreeSlotError: when full."""
        slot = self._store.put_key(self._keys.generate(request.key_type))
        self._events.record(Event.KEY_GENERATED, slot=slot, key_type=request.key_type.label)
        return SlotReply(slot)

    def gen_keys(self, request: GenKeysRequest) -> Stepped:
        """Generate ``count`` key pairs, :data:`GEN_KEYS_STEP` at a time on the loop (the others are
        served between steps), and store them in one durable transaction (all or none).

        :raises NoFreeSlotError: if they do not all fit in the free slots that generations already
            under way leave (checked first, and again when storing).
        """
        free = self._store.free_user_slots() - self._generating
        if request.count > free:  # before generating them: a refusal costs nothing
            raise NoFreeSlotError(f"{request.count} keys do not fit in the {max(free, 0)} free user slots")
        self._generating += request.count
        return Stepped(self._gen_keys(request))

    def _gen_keys(self, request: GenKeysRequest) -> Generator[Step, Any, SlotsReply]:
        try:
            keys: list[PrivateKey] = []
            while len(keys) < request.count:
                keys += [self._keys.generate(request.key_type)
                         for _ in range(min(GEN_KEYS_STEP, request.count - len(keys)))]
                yield None
        finally:
            self._generating -= request.count
        slots = self._store.put_keys(keys)
        label = request.key_type.label
        self._events.record_many([(Event.KEY_GENERATED, {"slot": slot, "key_type": label}) for slot in slots])
        return SlotsReply(tuple(slots))

    def gen_ephemeral(self, request: GenEphemeralRequest) -> PublicKey:
        """Replace the volatile ephemeral key (slot -1); returns its public key."""
        key = self._keys.generate(request.key_type)
        self._keys.ephemeral = key
        return PublicKey(key.key_type, key.public)

    def invalidate_ephemeral(self, request: InvalidateEphemeralRequest) -> Done:
        self._keys.ephemeral = None
        return Done()

    def import_key(self, request: ImportKeyRequest) -> SlotReply:
        """Store a caller-supplied private key (development mode only).

        :raises NotPermittedError: in production mode. :raises InvalidKeyError: for a bad key.
        """
        if self._mode() is Mode.PRODUCTION:
            raise NotPermittedError("plain private keys cannot be imported in production mode")
        key = load_private(request.key_type, request.private_key)
        self._keys.pairwise(key)
        slot = self._store.put_key(key)
        self._events.record(Event.KEY_IMPORTED, slot=slot, key_type=key.key_type.label)
        return SlotReply(slot)

    def remove_key(self, request: RemoveKeyRequest) -> Done:
        """Remove a user key or foreign key; a wallet node takes its descendants with it.

        :raises InvalidSlotError: for a factory slot. :raises SlotEmptyError: if it is empty.
        """
        slot = request.slot
        if request.foreign:
            self._store.remove_foreign(slot)
            self._events.record(Event.KEY_REMOVED, slot=slot, foreign=True)
            return Done()
        if slot < FIRST_USER_SLOT:
            raise InvalidSlotError("factory slots 0..15 cannot be removed")
        record = self._store.get(slot)
        if record.wallet_id is not None:
            self._wallets.remove_node(record)
        else:
            self._store.remove([slot])
        self._events.record(Event.KEY_REMOVED, slot=slot)
        return Done()

    def get_public_key(self, request: GetPublicKeyRequest) -> PublicKey:
        """The public key raw, and as PEM text with ``pem``.

        :raises ExportDisabledError: if export was disabled. :raises WalletError: for a master seed.
        """
        slot = request.slot
        if slot == EPHEMERAL_SLOT and not request.foreign:
            key = self._keys.private_key(slot)
            key_type, public = key.key_type, key.public
        else:
            record = self._store.get_foreign(slot) if request.foreign else self._store.get(slot)
            if not record.exportable:
                raise ExportDisabledError(f"public key export is disabled for slot {slot}")
            if record.wallet_id is not None and record.node_addr == "m":
                raise WalletError("a master seed's public key is never exported")
            key_type, public = record.key_type, record.public
        return PublicKey(key_type, public, public_to_pem(key_type, public) if request.pem else None)

    def disable_export(self, request: DisableExportRequest) -> Done:
        """Permanently disable public key export for a slot."""
        self._store.set_exportable(request.slot, False, foreign=request.foreign)
        self._events.record(Event.EXPORT_DISABLED, slot=request.slot, foreign=request.foreign)
        return Done()

    def store_foreign(self, request: StoreForeignRequest) -> SlotReply:
        """Store a public key in the foreign key store. :raises InvalidKeyError: for a bad key."""
        public = normalize_public(request.key_type, request.public_key)
        slot = self._store.put_foreign(request.key_type, public)
        self._events.record(Event.FOREIGN_KEY_STORED, slot=slot, key_type=request.key_type.label)
        return SlotReply(slot)

    def list_slots(self, request: ListSlotsRequest) -> SlotList:
        """Occupied slots with their key types, and the capacity (factory slots included)."""
        if request.foreign:
            return SlotList(tuple(self._store.list_foreign()), self._store.foreign_capacity)
        return SlotList(tuple(self._store.list_slots()), FIRST_USER_SLOT + self._store.user_capacity)
