"""HD wallets: master seeds (random, BIP39, SLIP-39), derivation, watch-only wallets."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, unique
from typing import Annotated

from ..defs import Bip39Language, Command, KeyType
from .base import Done, MaxLen, Message, Range, Request, Size, Text, command
from .keys import Slot, SlotReply

MAX_NAME = 64
MAX_PASSPHRASE = 1024
SEED_BYTES = 64
Name = Annotated[str, MaxLen(MAX_NAME)]
Passphrase = Annotated[str, MaxLen(MAX_PASSPHRASE)]
GenKey = Annotated[bytes, MaxLen(128)]
Variant = Annotated[str, MaxLen(32)]


@unique
class SeedSource(IntEnum):
    """Where a new wallet's seed comes from."""

    RANDOM = 0  # the module's generator
    BIP39 = 1  # a new 24-word mnemonic, returned once
    SEED = 2  # the caller's raw seed (development mode only)


@dataclass(frozen=True)
class NewWallet(Message):
    """What every wallet creation names: the curve, a unique name, the optional master generation
    key (the HMAC key of the master node; empty: the curve's standard one) and the variant."""

    key_type: KeyType
    name: Name
    master_gen_key: GenKey = b""
    variant: Variant = ""


@dataclass(frozen=True)
class WalletCreated(Message):
    slot: int
    mnemonic: Text | None = None


@command(Command.WALLET_CREATE, WalletCreated)
@dataclass(frozen=True)
class WalletCreateRequest(Request[WalletCreated]):
    wallet: NewWallet
    source: SeedSource = SeedSource.RANDOM
    passphrase: Passphrase = ""
    seed: Annotated[bytes, MaxLen(SEED_BYTES)] | None = None
    language: Bip39Language = Bip39Language.ENGLISH  # the word list of a new BIP39 mnemonic


@command(Command.WALLET_RESTORE_BIP39, SlotReply)
@dataclass(frozen=True)
class WalletRestoreBip39Request(Request[SlotReply]):
    wallet: NewWallet
    mnemonic: Annotated[str, MaxLen(1024)]
    passphrase: Passphrase = ""
    language: Bip39Language | None = None  # None: any official word list the mnemonic is valid in


@command(Command.SLIP39_GEN_START, Done)
@dataclass(frozen=True)
class Slip39GenerateRequest(Request[Done]):
    """Open a SLIP-39 generation session; then set each group and draw the shares one by one."""

    wallet: NewWallet
    group_threshold: Annotated[int, Range(1, 16)]
    group_count: Annotated[int, Range(1, 16)]
    iteration_exponent: Annotated[int, Range(0, 5)] = 1
    passphrase: Passphrase = ""
    extendable: bool = True


@command(Command.SLIP39_GEN_SET_GROUP, Done)
@dataclass(frozen=True)
class Slip39SetGroupRequest(Request[Done]):
    group_index: Annotated[int, Range(0, 15)]
    member_count: Annotated[int, Range(1, 16)]
    member_threshold: Annotated[int, Range(1, 16)]


@dataclass(frozen=True)
class Share(Message):
    """A share handed out; ``slot`` is -1 until the last share, then the new wallet's master slot."""

    slot: int
    mnemonic: Text


@command(Command.SLIP39_GEN_NEXT_SHARE, Share)
@dataclass(frozen=True)
class Slip39NextShareRequest(Request[Share]):
    passphrase: Passphrase = ""


@command(Command.SLIP39_RESTORE_START, Done)
@dataclass(frozen=True)
class Slip39RestoreRequest(Request[Done]):
    wallet: NewWallet
    passphrase: Passphrase = ""


@dataclass(frozen=True)
class Slip39ShareAdded(Message):
    """After a share: the master slot once the thresholds are met (else -1), and what is still
    missing, for a person (groups, then the shares of each group begun)."""

    slot: int
    missing: Text = ""


@command(Command.SLIP39_RESTORE_ADD, Slip39ShareAdded)
@dataclass(frozen=True)
class Slip39AddShareRequest(Request[Slip39ShareAdded]):
    """Add a share; the reply's slot is -1 until the thresholds are met, and says what is missing."""

    mnemonic: Annotated[str, MaxLen(2048)]
    passphrase: Passphrase = ""


@command(Command.SLIP39_CANCEL, Done)
@dataclass(frozen=True)
class Slip39CancelRequest(Request[Done]):
    pass


@dataclass(frozen=True)
class DerivedKey(Message):
    """A derived wallet node: its slot, its address and (hardened nodes, when asked) its chain code."""

    slot: int
    node_addr: str
    chain_code: bytes | None = None


@command(Command.WALLET_DERIVE, DerivedKey)
@dataclass(frozen=True)
class WalletDeriveRequest(Request[DerivedKey]):
    """Derive one child (``index``, ``hardened``) or every node down ``path`` from ``parent_slot``."""

    parent_slot: Slot
    index: Annotated[int, Range(0, 2**31 - 1)] | None = None
    hardened: bool = False
    path: Annotated[str, MaxLen(256)] | None = None
    return_chain_code: bool = False


@command(Command.WALLET_OVERSIGHT, SlotReply)
@dataclass(frozen=True)
class WalletOversightRequest(Request[SlotReply]):
    """A watch-only wallet from an extended public key (parts, or a BIP32 ``xpub``)."""

    wallet: NewWallet
    node_addr: Annotated[str, MaxLen(256)] = "m"
    xpub: Annotated[str, MaxLen(200)] | None = None
    public_key: Annotated[bytes, MaxLen(65)] | None = None
    chain_code: Annotated[bytes, Size(32)] | None = None


@dataclass(frozen=True)
class WalletNode(Message):
    """Where a wallet node lives: its address, its wallet's name and the wallet's master slot."""

    node_addr: str
    wallet_name: str
    master_slot: int
    key_type: KeyType
    watch_only: bool


@command(Command.WALLET_NODE_INFO, WalletNode)
@dataclass(frozen=True)
class WalletNodeRequest(Request[WalletNode]):
    slot: Slot


@command(Command.WALLET_FIND_SLOT, SlotReply)
@dataclass(frozen=True)
class WalletFindSlotRequest(Request[SlotReply]):
    """Find a node's slot by address and wallet name or master slot."""

    node_addr: Annotated[str, MaxLen(256)]
    wallet_name: Name | None = None
    master_slot: Slot | None = None


@dataclass(frozen=True)
class WalletSummary(Message):
    name: str
    key_type: KeyType
    master_slot: int
    variant: str
    watch_only: bool
    nodes: int


@dataclass(frozen=True)
class WalletList(Message):
    wallets: tuple[WalletSummary, ...]


@command(Command.WALLET_LIST, WalletList)
@dataclass(frozen=True)
class WalletListRequest(Request[WalletList]):
    pass
