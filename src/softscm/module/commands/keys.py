"""Key slots: generate, import, remove, export public keys, foreign keys, listing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...wire.defs import EPHEMERAL_SLOT, FIRST_USER_SLOT, Command, Event, Mode
from ...wire.errors import ExportDisabledError, InvalidSlotError, NotPermittedError, WalletError
from ..args import Args
from ..crypto import generate, load_private, normalize_public, public_to_pem
from ..dispatch import command
from .wallets import remove_node

MAX_BATCH_KEYS = 1024

if TYPE_CHECKING:
    from ..module import Module


@command(Command.GEN_KEY)
def gen_key(module: Module, args: Args) -> int:
    """Generate a key pair in the lowest free user slot. :raises NoFreeSlotError: when full."""
    key_type = args.key_type()
    key = generate(key_type, module.rng)
    module.pairwise(key)
    slot = module.store.put_key(key)
    module.record(Event.KEY_GENERATED, slot=slot, key_type=key_type.label)
    return slot


@command(Command.GEN_KEYS)
def gen_keys(module: Module, args: Args) -> list[int]:
    """Generate ``count`` key pairs in one durable transaction (all or none); returns their slots.

    :raises NoFreeSlotError: if they do not all fit.
    """
    key_type = args.key_type()
    keys = [generate(key_type, module.rng) for _ in range(args.int("count", min=1, max=MAX_BATCH_KEYS))]
    for key in keys:
        module.pairwise(key)
    slots = module.store.put_keys(keys)
    module.record_many([(Event.KEY_GENERATED, {"slot": slot, "key_type": key_type.label}) for slot in slots])
    return slots


@command(Command.GEN_EPHEMERAL)
def gen_ephemeral(module: Module, args: Args) -> bytes:
    """Replace the volatile ephemeral key (slot -1); returns its public key."""
    key = generate(args.key_type(), module.rng)
    module.pairwise(key)
    module.ephemeral = key
    return key.public


@command(Command.INVALIDATE_EPHEMERAL)
def invalidate_ephemeral(module: Module, args: Args) -> None:
    module.ephemeral = None


@command(Command.IMPORT_KEY)
def import_key(module: Module, args: Args) -> int:
    """Store a caller-supplied private key (development mode only).

    :raises NotPermittedError: in production mode. :raises InvalidKeyError: for a bad key.
    """
    if module.mode is Mode.PRODUCTION:
        raise NotPermittedError("plain private keys cannot be imported in production mode")
    key = load_private(args.key_type(), args.bytes("private_key", size=32))
    module.pairwise(key)
    slot = module.store.put_key(key)
    module.record(Event.KEY_IMPORTED, slot=slot, key_type=key.key_type.label)
    return slot


@command(Command.REMOVE_KEY)
def remove_key(module: Module, args: Args) -> None:
    """Remove a user key or foreign key; a wallet node takes its descendants with it.

    :raises InvalidSlotError: for a factory slot. :raises SlotEmptyError: if it is empty.
    """
    slot = args.int("slot")
    if args.bool("foreign", False):
        module.store.remove_foreign(slot)
        module.record(Event.KEY_REMOVED, slot=slot, foreign=True)
        return
    if slot < FIRST_USER_SLOT:
        raise InvalidSlotError("factory slots 0..15 cannot be removed")
    record = module.store.get(slot)
    if record.wallet_id is not None:
        remove_node(module, record)
    else:
        module.store.remove([slot])
    module.record(Event.KEY_REMOVED, slot=slot)


@command(Command.GET_PUBLIC_KEY)
def get_public_key(module: Module, args: Args) -> Any:
    """Return the public key raw, or as PEM text with ``pem=True``.

    :raises ExportDisabledError: if export was disabled. :raises WalletError: for a master seed.
    """
    slot, foreign = args.int("slot"), args.bool("foreign", False)
    if slot == EPHEMERAL_SLOT and not foreign:
        key_type, public = module.private_key(slot).key_type, module.private_key(slot).public
    else:
        record = module.store.get_foreign(slot) if foreign else module.store.get(slot)
        if not record.exportable:
            raise ExportDisabledError(f"public key export is disabled for slot {slot}")
        if record.wallet_id is not None and record.node_addr == "m":
            raise WalletError("a master seed's public key is never exported")
        key_type, public = record.key_type, record.public
    return public_to_pem(key_type, public) if args.bool("pem", False) else public


@command(Command.DISABLE_EXPORT)
def disable_export(module: Module, args: Args) -> None:
    """Permanently disable public key export for a slot."""
    slot, foreign = args.int("slot"), args.bool("foreign", False)
    module.store.set_exportable(slot, False, foreign=foreign)
    module.record(Event.EXPORT_DISABLED, slot=slot, foreign=foreign)


@command(Command.STORE_FOREIGN)
def store_foreign(module: Module, args: Args) -> int:
    """Store a public key in the foreign key store. :raises InvalidKeyError: for a bad key."""
    key_type = args.key_type()
    public = normalize_public(key_type, args.bytes("public_key", max=512))
    slot = module.store.put_foreign(key_type, public)
    module.record(Event.FOREIGN_KEY_STORED, slot=slot, key_type=key_type.label)
    return slot


@command(Command.LIST_SLOTS)
def list_slots(module: Module, args: Args) -> dict[str, Any]:
    """Occupied slots with their key types, and the capacity (factory slots included)."""
    if args.bool("foreign", False):
        slots, capacity = module.store.list_foreign(), module.store.foreign_capacity
    else:
        slots, capacity = module.store.list_slots(), FIRST_USER_SLOT + module.store.user_capacity
    return {"slots": [[slot, int(key_type)] for slot, key_type in slots], "capacity": capacity}
