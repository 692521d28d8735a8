"""HD wallets: master seeds (random, BIP39, SLIP-39), children, watch-only wallets."""

from __future__ import annotations

import base64
import binascii
import errno

from softscm.wire.errors import MnemonicError

from . import _adapters
from ._base import ZymkeyBase, as_bytes
from ._errors import failure, translated
from .types import RecoveryStrategy, RecoveryStrategySLIP39, keyTypes

SLIP39_PENDING = -1


def decode_passphrase(passphrase: str) -> str:
    """A strategy's passphrase: base64 text of the UTF-8 passphrase (empty: none).

    :raises AssertionError: if it is not base64 of UTF-8 text.
    """
    try:
        return base64.b64decode(passphrase, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise failure("a recovery strategy's passphrase is base64 text", -errno.EINVAL) from None


def as_mnemonic(mnemonics: str | list[str] | None) -> str:
    if mnemonics is None:
        raise failure("a BIP39 restore needs the mnemonic sentence", -errno.EINVAL)
    return mnemonics if isinstance(mnemonics, str) else " ".join(mnemonics)


class WalletMixin(ZymkeyBase):
    @translated
    def gen_wallet_master_seed(self, key_type: str, master_gen_key: bytes | bytearray | str, wallet_name: str,
                               recovery_strategy: RecoveryStrategy = RecoveryStrategy()  # noqa: B008
                               ) -> int | tuple[int, str]:
        """Create a wallet. The base strategy returns the master seed's slot; BIP39 returns
        ``(slot, mnemonic)`` (24 words, shown this once); SLIP39 opens a generation session
        (then :meth:`set_gen_SLIP39_group_info` and :meth:`add_gen_SLIP39_member_pwd`) and returns 0.
        ``master_gen_key`` (may be empty) replaces the curve's standard HMAC key.

        :raises KeyError: for an unknown key type.
        :raises AssertionError: for a duplicate name, an open SLIP-39 session, a bad passphrase
            or an unknown strategy.
        """
        kind = keyTypes[key_type]
        gen_key, variant = as_bytes(master_gen_key), recovery_strategy.variant
        strategy = recovery_strategy.recovery_strategy
        if strategy == "":
            slot, _ = _adapters.created_wallet(self._scm.create_wallet(kind, wallet_name, master_gen_key=gen_key,
                                                                       variant=variant))
            return slot
        passphrase = decode_passphrase(recovery_strategy.passphrase)
        if strategy == "BIP39":
            slot, mnemonic = _adapters.created_wallet(self._scm.create_wallet(
                kind, wallet_name, bip39=True, passphrase=passphrase, master_gen_key=gen_key, variant=variant))
            return slot, str(mnemonic)
        if isinstance(recovery_strategy, RecoveryStrategySLIP39):
            self._scm.slip39_generate(kind, wallet_name, group_threshold=recovery_strategy.group_threshold,
                                      group_count=recovery_strategy.group_count,
                                      iteration_exponent=recovery_strategy.iteration_exponent,
                                      passphrase=passphrase, master_gen_key=gen_key, variant=variant)
            return 0
        raise failure(f"unknown recovery strategy {strategy!r}", -errno.EINVAL)

    @translated
    def set_gen_SLIP39_group_info(self, group_index: int, member_count: int, member_threshold: int) -> None:  # noqa: N802
        """Set a SLIP-39 group's layout (group by group, before its shares are drawn).

        :raises AssertionError: for bad numbers or no generation session.
        """
        self._scm.slip39_set_group(group_index, member_count, member_threshold)

    @translated
    def add_gen_SLIP39_member_pwd(self, passphrase: str = "") -> tuple[int, str]:  # noqa: N802
        """The next member's share, protected by ``passphrase`` (empty: a standard SLIP-39 share;
        see docs/zymkey.md for the scheme). Returns ``(ret, mnemonic)``: ``ret`` is -1 until the
        last share of the last group, then the new master seed's slot.

        :raises AssertionError: for no generation session or a group without a layout.
        """
        return _adapters.next_share(self._scm.slip39_next_share(passphrase))

    @translated
    def cancel_SLIP39_session(self) -> None:  # noqa: N802
        """Close the open SLIP-39 session (generation or restore); nothing is created."""
        self._scm.slip39_cancel()

    @translated
    def restore_wallet_master_seed(self, key_type: str, master_gen_key: bytes | bytearray | str, wallet_name: str,
                                   recovery_strategy: RecoveryStrategy, mnemonics: str | list[str] | None = None
                                   ) -> int:
        """BIP39: restore from the ``mnemonics`` sentence and return the master seed's slot.
        SLIP39: open a restore session (then :meth:`add_restore_SLIP39_mnemonic`) and return -1.

        :raises KeyError: for an unknown key type.
        :raises AssertionError: for a bad mnemonic, a duplicate name, the base strategy.
        """
        kind = keyTypes[key_type]
        gen_key, variant = as_bytes(master_gen_key), recovery_strategy.variant
        strategy = recovery_strategy.recovery_strategy
        if strategy == "BIP39":
            return int(self._scm.restore_wallet_bip39(kind, wallet_name, as_mnemonic(mnemonics),
                                                      passphrase=decode_passphrase(recovery_strategy.passphrase),
                                                      master_gen_key=gen_key, variant=variant))
        if strategy == "SLIP39":
            self._scm.slip39_restore(kind, wallet_name, passphrase=decode_passphrase(recovery_strategy.passphrase),
                                     master_gen_key=gen_key, variant=variant)
            return SLIP39_PENDING
        raise failure("only BIP39 and SLIP39 strategies can restore a wallet", -errno.EINVAL)

    @translated
    def add_restore_SLIP39_mnemonic(self, mnemonic_sentence: str, passphrase: str = "") -> int:  # noqa: N802
        """Add a share (with its member's ``passphrase``); -1 until the thresholds are met, then
        the master seed's slot. A corrupt, foreign or wrong share also gives -1 (never an error).

        :raises AssertionError: if no restore session is open.
        """
        try:
            return int(self._scm.slip39_add_share(mnemonic_sentence, passphrase))
        except MnemonicError:
            return SLIP39_PENDING

    @translated
    def gen_wallet_child_key(self, parent_key_slot: int, index: int, hardened: bool, return_chain_code: bool = False
                             ) -> int | tuple[int, bytearray]:
        """Derive child ``index`` of the node in ``parent_key_slot``; its slot, or ``(slot,
        chain_code)`` with ``return_chain_code=True`` (hardened children only).

        :raises AssertionError: for a chain code of a non-hardened child, a non-hardened Ed25519
            child, a hardened child of a watch-only node, or no free slot.
        """
        if return_chain_code and not hardened:
            raise failure("the chain code is returned for hardened children only", -errno.EINVAL)
        slot, chain_code = _adapters.derived_parts(
            self._scm.derive_wallet_key(parent_key_slot, index, hardened=hardened, return_chain_code=return_chain_code))
        if not return_chain_code:
            return slot
        return slot, bytearray(chain_code or b"")

    @translated
    def gen_oversight_wallet(self, key_type: str, pub_key: bytes | bytearray | list[int],
                             chain_code: bytes | bytearray | list[int], node_addr: str, wallet_name: str,
                             variant: str = "") -> int:
        """A watch-only wallet from a node's public key (raw or SEC1) and chain code; its slot.

        :raises KeyError: for an unknown key type.
        :raises AssertionError: for an invalid key, a chain code that is not 32 bytes, a bad node
            address or a duplicate name.
        """
        return int(self._scm.create_oversight_wallet(keyTypes[key_type], wallet_name, public_key=as_bytes(pub_key),
                                                     chain_code=as_bytes(chain_code), node_addr=node_addr,
                                                     variant=variant))

    @translated
    def get_wallet_node_addr(self, slot: int) -> tuple[str, str, int]:
        """``(node_addr, wallet_name, master_seed_slot)`` of a wallet node.

        :raises AssertionError: if the slot is not a wallet node.
        """
        return _adapters.wallet_node_parts(self._scm.get_wallet_node(slot))

    @translated
    def get_wallet_key_slot(self, node_addr: str, wallet_name: str | None = None, master_seed_slot: int | None = None
                            ) -> int:
        """The slot of the node ``node_addr`` of the wallet named ``wallet_name`` or whose master
        seed is in ``master_seed_slot``.

        :raises AssertionError: if there is no such wallet or node.
        """
        return int(self._scm.get_wallet_key_slot(node_addr, wallet_name=wallet_name, master_slot=master_seed_slot))
