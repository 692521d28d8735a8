"""The module's key slots: the keystore's slots plus the volatile ephemeral key, and the
pair-wise test every new key passes before it is used."""

from __future__ import annotations

from collections.abc import Callable

from ..wire.defs import EPHEMERAL_SLOT, KeyType
from ..wire.errors import SelfTestError, SlotEmptyError
from .crypto import PrivateKey, PublicKey, generate
from .crypto.rng import Rng
from .selftest.pairwise import pairwise_check
from .store.keystore import KeyStore


class KeySlots:
    """Key lookup and generation. ``on_pairwise_failure`` is told when a new key fails its test
    (the module enters ERROR)."""

    def __init__(self, store: KeyStore, rng: Rng, on_pairwise_failure: Callable[[str], None]) -> None:
        self.store = store
        self.rng = rng
        self.ephemeral: PrivateKey | None = None
        self._on_pairwise_failure = on_pairwise_failure

    def private_key(self, slot: int) -> PrivateKey:
        """The private key in ``slot`` (-1: the ephemeral key).

        :raises SlotEmptyError: if there is none. :raises InvalidSlotError: out of range.
        """
        if slot == EPHEMERAL_SLOT:
            if self.ephemeral is None:
                raise SlotEmptyError("no ephemeral key has been generated")
            return self.ephemeral
        return self.store.load_private(slot)

    def public_key(self, slot: int, *, foreign: bool = False) -> PublicKey:
        """The public key of a slot, a foreign slot or the ephemeral key.

        :raises SlotEmptyError: if there is none.
        """
        if slot == EPHEMERAL_SLOT and not foreign:
            key = self.private_key(slot)
            return PublicKey(key.key_type, key.public)
        return self.store.public_key(slot, foreign=foreign)

    def generate(self, key_type: KeyType) -> PrivateKey:
        """A new key pair that passed its pair-wise test. :raises SelfTestError: if it did not."""
        key = generate(key_type, self.rng)
        self.pairwise(key)
        return key

    def pairwise(self, key: PrivateKey, public: bytes | None = None) -> None:
        """The conditional pair-wise consistency test of ``key`` against ``public`` (by default the
        public key computed from it; a derived key passes the one its derivation produced).

        :raises SelfTestError: if the pair is inconsistent (the module is in ERROR then).
        """
        try:
            pairwise_check(key, self.rng, public=public)
        except SelfTestError:
            self._on_pairwise_failure(f"pair-wise consistency test failed for a new {key.key_type.label} key")
            raise
