"""HD wallets: master seeds (random, BIP39, SLIP-39), child derivation, watch-only wallets.

Each wallet node lives in a user slot with its node address, its parent and its wallet; the
private key and the chain code are sealed together. The derivation itself is the pure
:mod:`softscm.module.wallet` core.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...wire.defs import Command, Event, KeyType, Mode
from ...wire.errors import (
    InvalidArgumentError,
    MnemonicError,
    NotPermittedError,
    SessionError,
    SlotEmptyError,
    WalletError,
)
from ..args import Args
from ..crypto import PrivateKey, load_private
from ..dispatch import command
from ..store.keystore import KeyRecord
from ..wallet import bip39, hd, path, slip39

if TYPE_CHECKING:
    from ..module import Module

MASTER = "m"
SEED_BYTES = 64
MAX_NAME = 64


@dataclass
class _PendingWallet:
    """What a SLIP-39 session will create once it completes."""

    key_type: KeyType
    name: str
    master_gen_key: bytes
    variant: str


@dataclass
class Slip39Session:
    wallet: _PendingWallet
    generation: slip39.Slip39Generation | None = None
    restore: slip39.Slip39Restore | None = None


def _wallet_args(module: Module, args: Args) -> _PendingWallet:
    key_type = args.key_type()
    if key_type is KeyType.X25519:
        raise WalletError("wallets use secp256k1, NIST P-256 or Ed25519")
    name = args.str("name", max=MAX_NAME)
    if not name:
        raise InvalidArgumentError("a wallet needs a name")
    if module.store.find_wallet(name=name) is not None:
        raise WalletError(f"a wallet named {name!r} already exists")
    variant = args.str("variant", "", max=32)
    if variant:
        raise InvalidArgumentError(f"wallet variant {variant!r} is not supported (only the standard derivation)")
    return _PendingWallet(key_type, name, args.bytes("master_gen_key", b"", max=128), variant)


def _check_no_session(module: Module) -> None:
    if module.slip39_session is not None:
        raise SessionError("a SLIP-39 session is open; finish or cancel it first")


def _private(module: Module, node: hd.Node) -> PrivateKey | None:
    if node.private_key is None:
        return None
    key = load_private(node.key_type, node.private_key)
    module.pairwise(key, node.public_key)
    return key


def _store_wallet(module: Module, pending: _PendingWallet, node: hd.Node, addr: str) -> int:
    _, slot = module.store.create_wallet(pending.name, pending.variant, _private(module, node), key_type=node.key_type,
                                         public=node.public_key, chain_code=node.chain_code, node_addr=addr)
    module.record(Event.WALLET_CREATED, name=pending.name, slot=slot, key_type=pending.key_type.label,
                  watch_only=node.private_key is None)
    return slot


def _create_wallet(module: Module, pending: _PendingWallet, seed: bytes) -> int:
    """Derive the master node from ``seed`` and store it with its wallet record."""
    return _store_wallet(module, pending, hd.master_node(pending.key_type, seed, pending.master_gen_key), MASTER)


@command(Command.WALLET_CREATE)
def create(module: Module, args: Args) -> dict[str, Any]:
    """Create a wallet from a random seed (``strategy="none"``), a new BIP39 mnemonic
    (``strategy="bip39"``, returned once, here) or, in development mode, a caller's raw ``seed``
    (``strategy="seed"``). SLIP-39 uses the session commands.

    :raises WalletError: for a duplicate name or a wallet key type.
    :raises SessionError: while a SLIP-39 session is open.
    """
    _check_no_session(module)
    pending = _wallet_args(module, args)
    strategy = args.str("strategy", "none")
    if strategy == "none":
        return {"slot": _create_wallet(module, pending, module.rng(SEED_BYTES))}
    if strategy == "seed":
        if module.mode is Mode.PRODUCTION:
            raise NotPermittedError("a raw seed cannot be imported in production mode")
        return {"slot": _create_wallet(module, pending, args.bytes("seed", max=SEED_BYTES))}
    if strategy != "bip39":
        raise InvalidArgumentError(f"unknown recovery strategy {strategy!r}")
    mnemonic = bip39.generate_mnemonic(module.rng)
    seed = bip39.mnemonic_to_seed(mnemonic, args.str("passphrase", "", max=1024))
    return {"slot": _create_wallet(module, pending, seed), "mnemonic": mnemonic}


@command(Command.WALLET_RESTORE_BIP39)
def restore_bip39(module: Module, args: Args) -> int:
    """Restore a wallet from a BIP39 mnemonic (and passphrase).

    :raises MnemonicError: for a bad word or checksum.
    """
    _check_no_session(module)
    pending = _wallet_args(module, args)
    mnemonic = bip39.validate_mnemonic(args.str("mnemonic", max=1024))
    return _create_wallet(module, pending, bip39.mnemonic_to_seed(mnemonic, args.str("passphrase", "", max=1024)))


@command(Command.SLIP39_GEN_START)
def slip39_generate(module: Module, args: Args) -> int:
    """Open a SLIP-39 generation session; then set each group and draw the shares one by one."""
    _check_no_session(module)
    pending = _wallet_args(module, args)
    generation = slip39.Slip39Generation(
        group_threshold=args.int("group_threshold", min=1, max=16),
        group_count=args.int("group_count", min=1, max=16),
        iteration_exponent=args.int("iteration_exponent", 1, min=0, max=5),
        passphrase=args.str("passphrase", "", max=1024).encode(),
        extendable=args.bool("extendable", True),
        rng=module.rng,
    )
    module.slip39_session = Slip39Session(pending, generation=generation)
    return 0


def _session(module: Module, *, generating: bool) -> Slip39Session:
    session = module.slip39_session
    if session is None or (session.generation is not None) != generating:
        raise SessionError(f"no SLIP-39 {'generation' if generating else 'restore'} session is open")
    return session


@command(Command.SLIP39_GEN_SET_GROUP)
def slip39_set_group(module: Module, args: Args) -> None:
    generation = _session(module, generating=True).generation
    assert generation is not None
    generation.set_group(args.int("group_index", min=0, max=15), args.int("member_count", min=1, max=16),
                         args.int("member_threshold", min=1, max=16))


@command(Command.SLIP39_GEN_NEXT_SHARE)
def slip39_next_share(module: Module, args: Args) -> dict[str, Any]:
    """Hand out the next share; when the last one is out the wallet is created (``slot`` >= 16,
    else -1)."""
    session = _session(module, generating=True)
    generation = session.generation
    assert generation is not None
    mnemonic, done = generation.next_share(args.str("passphrase", "", max=1024).encode())
    slot = -1
    if done:
        module.slip39_session = None
        slot = _create_wallet(module, session.wallet, generation.master_secret)
    return {"slot": slot, "mnemonic": mnemonic}


@command(Command.SLIP39_RESTORE_START)
def slip39_restore(module: Module, args: Args) -> int:
    """Open a SLIP-39 restore session; returns -1."""
    _check_no_session(module)
    pending = _wallet_args(module, args)
    module.slip39_session = Slip39Session(
        pending, restore=slip39.Slip39Restore(args.str("passphrase", "", max=1024).encode())
    )
    return -1


@command(Command.SLIP39_RESTORE_ADD)
def slip39_add(module: Module, args: Args) -> int:
    """Add a share; -1 until the thresholds are met, then the new wallet's master slot.

    :raises MnemonicError: for a corrupt share or one from another set (the session stays open),
        or for a complete set that does not decode (the session is closed then).
    """
    session = _session(module, generating=False)
    restore = session.restore
    assert restore is not None
    try:
        secret = restore.add(args.str("mnemonic", max=2048), args.str("passphrase", "", max=1024).encode())
    except MnemonicError:
        if restore.finished:
            module.slip39_session = None  # a set that does not decode cannot be completed
        raise
    if secret is None:
        return -1
    module.slip39_session = None
    return _create_wallet(module, session.wallet, secret)


@command(Command.SLIP39_CANCEL)
def slip39_cancel(module: Module, args: Args) -> None:
    module.slip39_session = None


def _node(module: Module, record: KeyRecord) -> hd.Node:
    """Rebuild the HD node stored in a slot."""
    chain_code = module.store.load_extra_secret(record.slot)
    private = module.store.load_private(record.slot).private_bytes() if record.has_private else None
    steps = path.parse_path(record.node_addr or MASTER)
    last = steps[-1] if steps else path.PathStep(0, False)
    return hd.Node(record.key_type, private, record.public, chain_code, len(steps), b"\x00" * 4, last.index,
                   last.hardened)


def _wallet_record(module: Module, slot: int) -> tuple[KeyRecord, Any]:
    record = module.store.get(slot)
    if record.wallet_id is None:
        raise WalletError(f"slot {slot} is not a wallet node")
    wallet = module.store.find_wallet(wallet_id=record.wallet_id)
    if wallet is None:
        raise WalletError(f"slot {slot} belongs to no wallet")
    return record, wallet


def _derive_one(module: Module, parent: KeyRecord, wallet: Any, index: int, hardened: bool) -> tuple[int, hd.Node]:
    """The child's slot and node, deriving and storing it unless it exists."""
    addr = path.format_path((*path.parse_path(parent.node_addr or MASTER), path.PathStep(index, hardened)))
    existing = module.store.find_node(wallet.id, addr)
    if existing is not None:
        return existing, _node(module, module.store.get(existing))
    parent_node = _node(module, parent)
    if parent_node.private_key is not None:
        node = hd.derive_child(parent_node, index, hardened)
    elif hardened:
        raise WalletError("a watch-only wallet cannot derive hardened children")
    else:
        node = hd.derive_public_child(parent_node, index)
    slot = module.store.put_key(_private(module, node), key_type=node.key_type, public=node.public_key,
                                wallet_id=wallet.id, parent_slot=parent.slot, node_addr=addr,
                                extra_secret=node.chain_code)
    module.record(Event.KEY_GENERATED, slot=slot, wallet=wallet.name, node=addr)
    return slot, node


@command(Command.WALLET_DERIVE)
def derive(module: Module, args: Args) -> dict[str, Any]:
    """Derive a child of ``parent_slot`` (``index``, ``hardened``), or every node down ``path``
    from ``parent_slot``; nodes that exist are reused. Returns the last node's slot and address.

    :raises WalletError: for a non-hardened Ed25519 child or a hardened child of a watch-only node.
    """
    _check_no_session(module)
    parent, wallet = _wallet_record(module, args.int("parent_slot"))
    if args.has("path"):
        steps = path.parse_path(args.str("path"))
        base = path.parse_path(parent.node_addr or MASTER)
        if steps[:len(base)] != base:
            raise InvalidArgumentError("the path does not start at the parent node")
        steps = steps[len(base):]
    else:
        steps = (path.PathStep(args.int("index", min=0, max=2**31 - 1), args.bool("hardened", False)),)
    slot, node, record = parent.slot, None, parent
    for step in steps:
        slot, node = _derive_one(module, record, wallet, step.index, step.hardened)
        record = module.store.get(slot)
    result: dict[str, Any] = {"slot": slot, "node_addr": record.node_addr}
    if args.bool("return_chain_code", False) and node is not None and node.hardened:
        result["chain_code"] = node.chain_code
    return result


@command(Command.WALLET_OVERSIGHT)
def oversight(module: Module, args: Args) -> int:
    """Create a watch-only wallet from an extended public key (public key, chain code, node address)."""
    _check_no_session(module)
    pending = _wallet_args(module, args)
    if args.has("xpub"):
        node = hd.node_from_extended_key(args.str("xpub", max=200))
        if node.private_key is not None or node.key_type is not pending.key_type:
            raise InvalidArgumentError("a watch-only wallet takes a secp256k1 xpub")
        addr = path.format_path(path.parse_path(args.str("node_addr", MASTER)))
    else:
        addr = path.format_path(path.parse_path(args.str("node_addr", MASTER)))
        node = hd.public_only_node(pending.key_type, args.bytes("public_key", max=65),
                                   args.bytes("chain_code", size=32), addr)
    return _store_wallet(module, pending, node, addr)


@command(Command.WALLET_NODE_INFO)
def node_info(module: Module, args: Args) -> dict[str, Any]:
    record, wallet = _wallet_record(module, args.int("slot"))
    return {"node_addr": record.node_addr, "wallet_name": wallet.name, "master_slot": wallet.master_slot,
            "key_type": int(record.key_type), "watch_only": wallet.watch_only}


@command(Command.WALLET_FIND_SLOT)
def find_slot(module: Module, args: Args) -> int:
    """Find a node's slot by address and wallet name or master slot.

    :raises SlotEmptyError: if no such node is stored.
    """
    if args.has("wallet_name"):
        wallet = module.store.find_wallet(name=args.str("wallet_name", max=MAX_NAME))
    elif args.has("master_slot"):
        wallet = module.store.find_wallet(master_slot=args.int("master_slot"))
    else:
        raise InvalidArgumentError("give wallet_name or master_slot")
    if wallet is None:
        raise WalletError("no such wallet")
    addr = path.format_path(path.parse_path(args.str("node_addr")))
    slot = module.store.find_node(wallet.id, addr)
    if slot is None:
        raise SlotEmptyError(f"wallet {wallet.name!r} has no node {addr}")
    return slot


@command(Command.WALLET_LIST)
def list_wallets(module: Module, args: Args) -> list[dict[str, Any]]:
    return [
        {"name": w.name, "key_type": int(w.key_type), "master_slot": w.master_slot, "variant": w.variant,
         "watch_only": w.watch_only, "nodes": module.store.count_nodes(w.id)}
        for w in module.store.list_wallets()
    ]


def remove_node(module: Module, record: KeyRecord) -> None:
    """Remove a wallet node and its descendants; removing the master removes the wallet."""
    wallet = module.store.find_wallet(wallet_id=record.wallet_id) if record.wallet_id is not None else None
    if wallet is not None and wallet.master_slot == record.slot:
        module.store.remove_wallet(wallet.id)
        module.record(Event.WALLET_REMOVED, name=wallet.name)
        return
    doomed, pending = [], [record.slot]
    while pending:
        slot = pending.pop()
        doomed.append(slot)
        pending.extend(module.store.children(slot))
    module.store.remove(doomed)
