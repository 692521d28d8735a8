"""HD wallets: master seeds (random, BIP39, SLIP-39), derivation, watch-only wallets."""

from __future__ import annotations

from ...wire.defs import Bip39Language
from ...wire.messages.wallet import (
    DerivedKey,
    NewWallet,
    SeedSource,
    Slip39AddShareRequest,
    Slip39CancelRequest,
    Slip39GenerateRequest,
    Slip39NextShareRequest,
    Slip39RestoreRequest,
    Slip39SetGroupRequest,
    Slip39ShareAdded,
    WalletCreateRequest,
    WalletDeriveRequest,
    WalletFindSlotRequest,
    WalletListRequest,
    WalletNode,
    WalletNodeRequest,
    WalletOversightRequest,
    WalletRestoreBip39Request,
    WalletSummary,
)
from .base import ApiBase, KeyTypeLike, as_key_type, nothing, same


def _new(key_type: KeyTypeLike, name: str, master_gen_key: bytes, variant: str = "") -> NewWallet:
    return NewWallet(as_key_type(key_type), name, bytes(master_gen_key), variant)


class WalletApi(ApiBase):
    def create_wallet(self, key_type: KeyTypeLike, name: str, *, bip39: bool = False, passphrase: str = "",
                      master_gen_key: bytes = b"", language: Bip39Language | str = Bip39Language.ENGLISH,
                      variant: str = "") -> tuple[int, str | None]:
        """Create a wallet from a random seed, or from a new 24-word BIP39 mnemonic with ``bip39=True``
        (in ``language``'s official word list: ``"english"``, ``"japanese"``, ``"french"``...).
        ``variant="cardano"`` (Ed25519): Icarus master key and BIP32-Ed25519 derivation.

        Returns ``(master_slot, mnemonic)``; the mnemonic (BIP39 only) is shown this once.

        :raises WalletError: for a duplicate name. :raises SessionError: while a SLIP-39 session is open.
        """
        request = WalletCreateRequest(_new(key_type, name, master_gen_key, variant),
                                      SeedSource.BIP39 if bip39 else SeedSource.RANDOM, passphrase,
                                      language=Bip39Language.parse(language))
        return self._call(request, lambda r: (r.slot, r.mnemonic))

    def restore_wallet_seed(self, key_type: KeyTypeLike, name: str, seed: bytes, *,
                            master_gen_key: bytes = b"", variant: str = "") -> int:
        """Create a wallet from a raw 16..64-byte seed (development mode only).

        :raises NotPermittedError: in production mode.
        """
        request = WalletCreateRequest(_new(key_type, name, master_gen_key, variant), SeedSource.SEED, seed=bytes(seed))
        return self._call(request, lambda r: r.slot)

    def restore_wallet_bip39(self, key_type: KeyTypeLike, name: str, mnemonic: str, *, passphrase: str = "",
                             master_gen_key: bytes = b"", language: Bip39Language | str | None = None,
                             variant: str = "") -> int:
        """Restore a wallet from a BIP39 mnemonic in any official word list (or only ``language``'s);
        returns the master slot.

        :raises MnemonicError: for a bad word or checksum.
        """
        request = WalletRestoreBip39Request(_new(key_type, name, master_gen_key, variant), mnemonic, passphrase,
                                            None if language is None else Bip39Language.parse(language))
        return self._call(request, lambda r: r.slot)

    def slip39_generate(self, key_type: KeyTypeLike, name: str, *, group_threshold: int, group_count: int,
                        iteration_exponent: int = 1, passphrase: str = "", extendable: bool = True,
                        master_gen_key: bytes = b"", variant: str = "") -> None:
        """Open a SLIP-39 generation session (then :meth:`slip39_set_group`, :meth:`slip39_next_share`)."""
        request = Slip39GenerateRequest(_new(key_type, name, master_gen_key, variant), group_threshold, group_count,
                                        iteration_exponent, passphrase, extendable)
        return self._call(request, nothing)

    def slip39_set_group(self, group_index: int, member_count: int, member_threshold: int) -> None:
        return self._call(Slip39SetGroupRequest(group_index, member_count, member_threshold), nothing)

    def slip39_next_share(self, passphrase: str = "") -> tuple[int, str]:
        """The next share; the slot is -1 until the last share, then the new wallet's master slot.
        ``passphrase`` is this member's password: empty gives a standard SLIP-39 share, otherwise
        the share's value is protected by it (docs/zymkey.md, "Per-member SLIP-39 passwords")."""
        return self._call(Slip39NextShareRequest(passphrase), lambda r: (r.slot, r.mnemonic))

    def slip39_restore(self, key_type: KeyTypeLike, name: str, *, passphrase: str = "",
                       master_gen_key: bytes = b"", variant: str = "") -> None:
        """Open a SLIP-39 restore session (then :meth:`slip39_add_share`)."""
        return self._call(Slip39RestoreRequest(_new(key_type, name, master_gen_key, variant), passphrase), nothing)

    def slip39_add_share(self, mnemonic: str, passphrase: str = "") -> int:
        """Add a share with its member's password (empty for a standard share): -1 until the
        thresholds are met, then the master slot.

        :raises MnemonicError: for a corrupt share or one from another set (the session stays open).
        """
        return self._call(Slip39AddShareRequest(mnemonic, passphrase), lambda r: r.slot)

    def slip39_add(self, mnemonic: str, passphrase: str = "") -> Slip39ShareAdded:
        """Add a share and learn what is still missing (groups, and shares of each group begun).

        :raises MnemonicError: for a corrupt share or one from another set (the session stays open).
        """
        return self._call(Slip39AddShareRequest(mnemonic, passphrase), same)

    def slip39_cancel(self) -> None:
        return self._call(Slip39CancelRequest(), nothing)

    def derive_wallet_key(self, parent_slot: int, index: int, *, hardened: bool = False,
                          return_chain_code: bool = False) -> DerivedKey:
        """Derive a child node into a slot (the existing slot if it was derived before)."""
        request = WalletDeriveRequest(parent_slot, index, hardened, return_chain_code=return_chain_code)
        return self._call(request, same)

    def derive_wallet_path(self, master_slot: int, node_addr: str) -> int:
        """Derive every node down ``node_addr`` (e.g. ``"m/44'/60'/0'/0/3"``) from the wallet node in
        ``master_slot``; nodes that exist are reused. Returns the last node's slot."""
        return self._call(WalletDeriveRequest(master_slot, path=node_addr), lambda r: r.slot)

    def create_oversight_wallet(self, key_type: KeyTypeLike, name: str, *, public_key: bytes = b"",
                                chain_code: bytes = b"", node_addr: str = "m", xpub: str | None = None,
                                variant: str = "") -> int:
        """A watch-only wallet from an extended public key (parts, or a BIP32 ``xpub``)."""
        wallet = _new(key_type, name, b"", variant)
        if xpub is not None:
            request = WalletOversightRequest(wallet, node_addr, xpub=xpub)
        else:
            request = WalletOversightRequest(wallet, node_addr, public_key=bytes(public_key),
                                             chain_code=bytes(chain_code))
        return self._call(request, lambda r: r.slot)

    def get_wallet_node(self, slot: int) -> WalletNode:
        return self._call(WalletNodeRequest(slot), same)

    def get_wallet_key_slot(self, node_addr: str, *, wallet_name: str | None = None,
                            master_slot: int | None = None) -> int:
        """:raises SlotEmptyError: if that node has not been derived."""
        return self._call(WalletFindSlotRequest(node_addr, wallet_name, master_slot), lambda r: r.slot)

    def list_wallets(self) -> list[WalletSummary]:
        return self._call(WalletListRequest(), lambda r: list(r.wallets))
