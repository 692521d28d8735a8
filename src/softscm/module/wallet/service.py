"""The wallet service: wallets in the keystore, the SLIP-39 sessions, derivation and removal.

Each wallet node lives in a user slot with its node address, its parent and its wallet; the
private key and the chain code are sealed together. The derivation itself is the pure core
(:mod:`.hd`, :mod:`.bip39`, :mod:`.slip39`, and :mod:`.cardano` for ``variant="cardano"``).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ...wire.defs import Bip39Language, Event, KeyType, Mode
from ...wire.errors import (
    BusyError,
    InvalidArgumentError,
    MnemonicError,
    NotPermittedError,
    SessionError,
    SlotEmptyError,
    WalletError,
)
from ...wire.messages.wallet import NewWallet, SeedSource
from ..audit.recorder import Recorder
from ..crypto import PrivateKey, load_private
from ..crypto.rng import Rng
from ..keyslots import KeySlots
from ..offload import Step
from ..store.keystore import KeyRecord, WalletRecord
from . import bip39, cardano, hd, path, slip39

MASTER = "m"
SEED_BYTES = 64
CARDANO = "cardano"
VARIANTS = ("", CARDANO)  # the standard derivation (BIP32 / SLIP-10), Cardano Icarus + BIP32-Ed25519


@dataclass(frozen=True)
class Slip39Generating:
    """A SLIP-39 generation session: the wallet it will create and the shares being handed out."""

    wallet: NewWallet
    generation: slip39.Slip39Generation


@dataclass(frozen=True)
class Slip39Restoring:
    """A SLIP-39 restore session: the wallet it will create and the shares collected so far."""

    wallet: NewWallet
    restore: slip39.Slip39Restore


Slip39Session = Slip39Generating | Slip39Restoring


@dataclass(frozen=True)
class Derived:
    slot: int
    node_addr: str
    chain_code: bytes | None


class WalletService:
    """Wallet operations over the keystore. ``mode`` tells the module's current mode."""

    def __init__(self, keys: KeySlots, events: Recorder, mode: Callable[[], Mode]) -> None:
        self._keys = keys
        self._store = keys.store
        self._events = events
        self._mode = mode
        self.session: Slip39Session | None = None
        self._computing = False  # a SLIP-39 request has a step off the loop

    @property
    def rng(self) -> Rng:
        return self._keys.rng

    # -- creation ---------------------------------------------------------------------------------

    def _check_new(self, wallet: NewWallet) -> None:
        if wallet.key_type is KeyType.X25519:
            raise WalletError("wallets use secp256k1, NIST P-256 or Ed25519")
        if not wallet.name:
            raise InvalidArgumentError("a wallet needs a name")
        if self._store.find_wallet(name=wallet.name) is not None:
            raise WalletError(f"a wallet named {wallet.name!r} already exists")
        if wallet.variant not in VARIANTS:
            raise InvalidArgumentError(f"wallet variant {wallet.variant!r} is not supported (use '' or 'cardano')")
        if wallet.variant == CARDANO and wallet.key_type is not KeyType.ED25519:
            raise WalletError("the cardano variant is for Ed25519 wallets")
        if wallet.variant == CARDANO and wallet.master_gen_key:
            raise InvalidArgumentError("a cardano (Icarus) master key takes no master generation key")

    def _check_idle(self) -> None:
        """:raises BusyError: while a SLIP-39 request has a step off the loop."""
        if self._computing:
            raise BusyError("a SLIP-39 request is still being computed; try again")

    @contextmanager
    def _offloading(self) -> Iterator[None]:
        """Hold the SLIP-39 session for one request whose steps run off the loop."""
        self._check_idle()
        self._computing = True
        try:
            yield
        finally:
            self._computing = False

    def _check_no_session(self) -> None:
        self._check_idle()
        if self.session is not None:
            raise SessionError("a SLIP-39 session is open; finish or cancel it first")

    def _begin(self, wallet: NewWallet) -> None:
        self._check_no_session()
        self._check_new(wallet)

    def _private(self, node: hd.Node) -> PrivateKey | None:
        if node.private_key is None:
            return None
        key = load_private(node.key_type, node.private_key)
        self._keys.pairwise(key, node.public_key)
        return key

    def _store_wallet(self, wallet: NewWallet, node: hd.Node, addr: str) -> int:
        _, slot = self._store.create_wallet(wallet.name, wallet.variant, self._private(node), key_type=node.key_type,
                                            public=node.public_key, chain_code=node.chain_code, node_addr=addr)
        self._events.record(Event.WALLET_CREATED, name=wallet.name, slot=slot, key_type=wallet.key_type.label,
                            watch_only=node.private_key is None)
        return slot

    def _create(self, wallet: NewWallet, seed: bytes) -> int:
        """Derive the master node from ``seed`` (a random seed, a caller's seed or a SLIP-39 master
        secret; the Icarus entropy for a cardano wallet) and store it with its wallet record."""
        if wallet.variant == CARDANO:
            return self._store_wallet(wallet, cardano.icarus_master(seed), MASTER)
        return self._store_wallet(wallet, hd.master_node(wallet.key_type, seed, wallet.master_gen_key), MASTER)

    def _create_bip39(self, wallet: NewWallet, mnemonic: str, passphrase: str, language: Bip39Language | None) -> int:
        """The master node of a BIP39 mnemonic: from its seed, or (cardano) from its entropy (read
        with ``language``'s word list, or the official one it is valid in)."""
        if wallet.variant == CARDANO:
            return self._store_wallet(wallet, cardano.icarus_master_from_mnemonic(mnemonic, passphrase, language),
                                      MASTER)
        return self._create(wallet, bip39.mnemonic_to_seed(mnemonic, passphrase))

    def create(self, wallet: NewWallet, source: SeedSource, *, passphrase: str = "",
               seed: bytes | None = None, language: Bip39Language = Bip39Language.ENGLISH) -> tuple[int, str | None]:
        """Create a wallet from a random seed, a new BIP39 mnemonic in ``language``'s word list
        (returned once, here) or, in development mode, a caller's raw seed. Returns the master slot
        and the mnemonic (BIP39).

        :raises WalletError: for a duplicate name or a wallet key type.
        :raises SessionError: while a SLIP-39 session is open.
        :raises NotPermittedError: for a raw seed in production mode.
        """
        self._begin(wallet)
        if source is SeedSource.RANDOM:
            return self._create(wallet, self._keys.rng(SEED_BYTES)), None
        if source is SeedSource.SEED:
            if self._mode() is Mode.PRODUCTION:
                raise NotPermittedError("a raw seed cannot be imported in production mode")
            if seed is None:
                raise InvalidArgumentError("argument 'seed' is required")
            return self._create(wallet, seed), None
        mnemonic = bip39.generate_mnemonic(self._keys.rng, language=language)
        return self._create_bip39(wallet, mnemonic, passphrase, language), mnemonic

    def restore_bip39(self, wallet: NewWallet, mnemonic: str, passphrase: str = "",
                      language: Bip39Language | None = None) -> int:
        """Restore from a mnemonic in ``language``'s word list, or in any official one.

        :raises MnemonicError: for a bad word or checksum.
        """
        self._begin(wallet)
        words = bip39.validate_mnemonic(mnemonic, language)
        return self._create_bip39(wallet, words, passphrase, language)

    def oversight(self, wallet: NewWallet, node_addr: str, *, xpub: str | None = None,
                  public_key: bytes | None = None, chain_code: bytes | None = None) -> int:
        """A watch-only wallet from an extended public key (parts, or a BIP32 ``xpub``)."""
        self._begin(wallet)
        addr = path.format_path(path.parse_path(node_addr))
        if xpub is not None:
            node = hd.node_from_extended_key(xpub)
            if node.private_key is not None or node.key_type is not wallet.key_type:
                raise InvalidArgumentError("a watch-only wallet takes a secp256k1 xpub")
        else:
            if public_key is None or chain_code is None:
                raise InvalidArgumentError("give an xpub, or public_key and chain_code")
            node = hd.public_only_node(wallet.key_type, public_key, chain_code, addr)
        return self._store_wallet(wallet, node, addr)

    # -- SLIP-39 sessions -------------------------------------------------------------------------

    def slip39_generate(self, wallet: NewWallet,
                        generation: Callable[[], Generator[Step, Any, slip39.Slip39Generation]]
                        ) -> Generator[Step, Any, None]:
        """Open a generation session (``generation`` starts the generator once the wallet checked out).

        :raises BusyError: while a SLIP-39 request has a step off the loop (here and in every
            SLIP-39 request, and in the wallet requests refused while a session is open).
        :raises SessionError: while a SLIP-39 session is open.
        """
        self._begin(wallet)
        with self._offloading():
            session = yield from generation()
        self.session = Slip39Generating(wallet, session)

    def _generating(self) -> Slip39Generating:
        self._check_idle()
        if not isinstance(self.session, Slip39Generating):
            raise SessionError("no SLIP-39 generation session is open")
        return self.session

    def _restoring(self) -> Slip39Restoring:
        self._check_idle()
        if not isinstance(self.session, Slip39Restoring):
            raise SessionError("no SLIP-39 restore session is open")
        return self.session

    def slip39_set_group(self, group_index: int, member_count: int, member_threshold: int) -> None:
        self._generating().generation.set_group(group_index, member_count, member_threshold)

    def slip39_next_share(self, passphrase: bytes) -> Generator[Step, Any, tuple[int, str]]:
        """The next share; the slot is -1 until the last one is out, then the new wallet's."""
        session = self._generating()
        with self._offloading():
            mnemonic, done = yield from session.generation.next_share(passphrase)
        if not done:
            return -1, mnemonic
        self.session = None
        return self._create(session.wallet, session.generation.master_secret), mnemonic

    def slip39_restore(self, wallet: NewWallet, passphrase: bytes) -> None:
        self._begin(wallet)
        self.session = Slip39Restoring(wallet, slip39.Slip39Restore(passphrase))

    def slip39_add(self, mnemonic: str, passphrase: bytes) -> Generator[Step, Any, tuple[int, str]]:
        """Add a share; ``(-1, what is still missing)`` until the thresholds are met, then the new
        wallet's master slot.

        :raises MnemonicError: for a corrupt share or one from another set (the session stays open),
            or for a complete set that does not decode (the session is closed then).
        """
        session = self._restoring()
        with self._offloading():
            try:
                secret = yield from session.restore.add(mnemonic, passphrase)
            except MnemonicError:
                if session.restore.finished:
                    self.session = None  # a set that does not decode cannot be completed
                raise
        if secret is None:
            return -1, session.restore.progress().missing()
        self.session = None
        return self._create(session.wallet, secret), ""

    def slip39_cancel(self) -> None:
        """:raises BusyError: while a SLIP-39 request has a step off the loop."""
        self._check_idle()
        self.session = None

    # -- nodes ------------------------------------------------------------------------------------

    def _node(self, record: KeyRecord) -> hd.Node:
        """Rebuild the HD node stored in a slot."""
        chain_code = self._store.load_extra_secret(record.slot)
        private = self._store.load_private(record.slot).private_bytes() if record.has_private else None
        steps = path.parse_path(record.node_addr or MASTER)
        last = steps[-1] if steps else path.PathStep(0, False)
        return hd.Node(record.key_type, private, record.public, chain_code, len(steps), b"\x00" * 4, last.index,
                       last.hardened)

    def node(self, slot: int) -> tuple[KeyRecord, WalletRecord]:
        """The node record in ``slot`` and its wallet. :raises WalletError: if it is not a wallet node."""
        record = self._store.get(slot)
        if record.wallet_id is None:
            raise WalletError(f"slot {slot} is not a wallet node")
        wallet = self._store.find_wallet(wallet_id=record.wallet_id)
        if wallet is None:
            raise WalletError(f"slot {slot} belongs to no wallet")
        return record, wallet

    def _derive_one(self, parent: KeyRecord, wallet: WalletRecord, step: path.PathStep) -> tuple[int, hd.Node]:
        """The child's slot and node, deriving and storing it unless it exists."""
        addr = path.format_path((*path.parse_path(parent.node_addr or MASTER), step))
        existing = self._store.find_node(wallet.id, addr)
        if existing is not None:
            return existing, self._node(self._store.get(existing))
        parent_node = self._node(parent)
        scheme = cardano if wallet.variant == CARDANO else hd
        if parent_node.private_key is not None:
            node = scheme.derive_child(parent_node, step.index, step.hardened)
        elif step.hardened:
            raise WalletError("a watch-only wallet cannot derive hardened children")
        else:
            node = scheme.derive_public_child(parent_node, step.index)
        slot = self._store.put_key(self._private(node), key_type=node.key_type, public=node.public_key,
                                   wallet_id=wallet.id, parent_slot=parent.slot, node_addr=addr,
                                   extra_secret=node.chain_code)
        self._events.record(Event.KEY_GENERATED, slot=slot, wallet=wallet.name, node=addr)
        return slot, node

    def derive(self, parent_slot: int, steps: tuple[path.PathStep, ...] | str) -> Derived:
        """Derive the nodes ``steps`` below ``parent_slot`` (or down a full ``path`` that starts at
        the parent); nodes that exist are reused. Returns the last node.

        :raises WalletError: for a non-hardened Ed25519 child or a hardened child of a watch-only node.
        """
        self._check_no_session()
        parent, wallet = self.node(parent_slot)
        if isinstance(steps, str):
            full = path.parse_path(steps)
            base = path.parse_path(parent.node_addr or MASTER)
            if full[:len(base)] != base:
                raise InvalidArgumentError("the path does not start at the parent node")
            steps = full[len(base):]
        slot, node, record = parent.slot, None, parent
        for step in steps:
            slot, node = self._derive_one(record, wallet, step)
            record = self._store.get(slot)
        chain = node.chain_code if node is not None and node.hardened else None
        return Derived(slot, record.node_addr or MASTER, chain)

    def find_slot(self, node_addr: str, *, wallet_name: str | None = None, master_slot: int | None = None) -> int:
        """Find a node's slot by address and wallet name or master slot.

        :raises SlotEmptyError: if no such node is stored. :raises WalletError: for no such wallet.
        """
        if wallet_name is not None:
            wallet = self._store.find_wallet(name=wallet_name)
        elif master_slot is not None:
            wallet = self._store.find_wallet(master_slot=master_slot)
        else:
            raise InvalidArgumentError("give wallet_name or master_slot")
        if wallet is None:
            raise WalletError("no such wallet")
        addr = path.format_path(path.parse_path(node_addr))
        slot = self._store.find_node(wallet.id, addr)
        if slot is None:
            raise SlotEmptyError(f"wallet {wallet.name!r} has no node {addr}")
        return slot

    def wallets(self) -> list[tuple[WalletRecord, int]]:
        """Every wallet with its number of nodes."""
        return [(w, self._store.count_nodes(w.id)) for w in self._store.list_wallets()]

    def remove_node(self, record: KeyRecord) -> None:
        """Remove a wallet node and its descendants; removing the master removes the wallet."""
        wallet = self._store.find_wallet(wallet_id=record.wallet_id) if record.wallet_id is not None else None
        if wallet is not None and wallet.master_slot == record.slot:
            self._store.remove_wallet(wallet.id)
            self._events.record(Event.WALLET_REMOVED, name=wallet.name)
            return
        doomed, pending = [], [record.slot]
        while pending:
            slot = pending.pop()
            doomed.append(slot)
            pending.extend(self._store.children(slot))
        self._store.remove(doomed)
