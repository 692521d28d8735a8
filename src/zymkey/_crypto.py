"""LED, random numbers, lock/unlock, sign/verify, ECDH and key slots."""

from __future__ import annotations

import errno
import os
from typing import Any

from softscm.wire.defs import KdfType
from softscm.wire.errors import AuthenticationError, InvalidSignatureError, SlotEmptyError

from . import _adapters
from ._base import ZymkeyBase, as_bytes
from ._errors import failure, translated
from .exceptions import VerificationError
from .types import ENCRYPTION_KEYS, ZYMKEY_ENCRYPTION_KEY, DigestObject, Hash, RecoveryId, kdfFuncTypes, keyTypes

Source = str | bytes | bytearray | list[int]


def read_source(src: Source) -> bytes:
    """A ``str`` is a file path whose contents are read; anything else is the data itself."""
    if isinstance(src, str):
        with open(src, "rb") as handle:
            return handle.read()
    return bytes(src)


def write_file(path: str, data: bytes) -> None:
    """Write ``data`` to ``path``, creating it owner-only (it may hold secrets)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def deliver(data: bytes, dst: str | None) -> bytearray | None:
    """A ``str`` ``dst`` receives the data as a file (then ``None``); otherwise a ``bytearray``."""
    if isinstance(dst, str):
        write_file(dst, data)
        return None
    return bytearray(data)


def check_encryption_key(encryption_key: str) -> None:
    if encryption_key not in ENCRYPTION_KEYS:
        raise failure(f"encryption_key is one of {ENCRYPTION_KEYS}, not {encryption_key!r}", -errno.EINVAL)


class CryptoMixin(ZymkeyBase):
    # -- LED and random numbers ---------------------------------------------------------------

    @translated
    def led_on(self) -> None:
        """Turn the LED on. :raises AssertionError: if the module refuses."""
        self._scm.led("on")

    @translated
    def led_off(self) -> None:
        """Turn the LED off. :raises AssertionError: if the module refuses."""
        self._scm.led("off")

    @translated
    def led_flash(self, on_ms: int, off_ms: int = 0, num_flashes: int = 0) -> None:
        """Flash the LED: ``off_ms`` 0 means the same as ``on_ms``, ``num_flashes`` 0 forever."""
        self._scm.led("flash", on_ms=on_ms, off_ms=off_ms, flashes=num_flashes)

    @translated
    def get_random(self, num_bytes: int) -> bytearray:
        """``num_bytes`` random bytes from the module."""
        return bytearray(self._scm.get_random(num_bytes))

    @translated
    def create_random_file(self, file_path: str, num_bytes: int) -> None:
        """Write ``num_bytes`` random bytes from the module to ``file_path`` (created owner-only)."""
        write_file(file_path, self._scm.get_random(num_bytes))

    # -- lock and unlock ------------------------------------------------------------------------

    @translated
    def lock(self, src: Source, dst: str | None = None, encryption_key: str = ZYMKEY_ENCRYPTION_KEY
             ) -> bytearray | None:
        """Encrypt and sign ``src`` (a file path, or bytes / bytearray / list of ints) under the
        module's key (``"zymkey"``) or the shared ``"cloud"`` key. A ``str`` ``dst`` receives the
        blob as a file (returns ``None``); otherwise the blob is returned as a ``bytearray``.

        :raises AssertionError: for another ``encryption_key`` or a failed call.
        """
        check_encryption_key(encryption_key)
        return deliver(self._scm.lock(read_source(src), key=encryption_key), dst)

    @translated
    def unlock(self, src: Source, dst: str | None = None, encryption_key: str = ZYMKEY_ENCRYPTION_KEY,
               raise_exception: bool = True) -> bytearray | None:
        """Reverse :meth:`lock` (same rules for ``src`` and ``dst``).

        :raises VerificationError: if the blob fails authentication or was locked under the other
            key (with ``raise_exception=False``: returns ``None``).
        :raises AssertionError: for another ``encryption_key`` or a failed call.
        """
        check_encryption_key(encryption_key)
        blob = read_source(src)
        try:
            if _adapters.lock_blob_key(blob) not in (None, encryption_key):
                raise AuthenticationError("the blob was locked under the other key")
            data = self._scm.unlock(blob)
        except AuthenticationError:
            if raise_exception:
                raise VerificationError("the blob failed authentication") from None
            return None
        return deliver(data, dst)

    # -- sign and verify --------------------------------------------------------------------------

    @translated
    def sign(self, src: str | bytes | bytearray, slot: int = 0, return_recid: bool = False, encoding: str = "utf-8",
             digest: Any = None) -> bytearray | tuple[bytearray, RecoveryId]:
        """Hash ``src`` (:class:`DigestObject`: SHA-256 unless ``digest`` is given) and sign the
        digest with ``slot``: ``bytearray(64)`` (ECDSA ``r || s``, not normalised to low-S; Ed25519
        signs the digest), or ``(signature, recovery_id)`` with ``return_recid=True``.

        :raises AssertionError: for an X25519 slot, an empty slot or a failed call.
        """
        return self.sign_digest(DigestObject(src, encoding, digest), slot, return_recid)

    @translated
    def sign_digest(self, digest: Hash, slot: int = 0, return_recid: bool = False
                    ) -> bytearray | tuple[bytearray, RecoveryId]:
        """Sign ``digest.digest()`` (a hashlib-like object: SHA-256, Keccak-256, ...) with ``slot``.

        :raises AssertionError: for an X25519 slot, ``return_recid`` on a key without recovery ids
            (Ed25519), or a failed call.
        """
        raw, recid = _adapters.signature_parts(self._scm.sign(slot, digest.digest(), recid=return_recid))
        if not return_recid:
            return bytearray(raw)
        if recid is None:
            raise failure("recovery ids exist for ECDSA keys only", -errno.EOPNOTSUPP)
        return bytearray(raw), RecoveryId(recid)

    @translated
    def verify(self, src: str | bytes | bytearray, sig: bytes | bytearray, raise_exception: bool = True,
               pubkey_slot: int = 0, foreign: bool = False, encoding: str = "utf-8", digest: Any = None) -> bool:
        """Verify ``sig`` over ``src`` hashed as :meth:`sign` hashes it; ``True`` if it verifies.

        :raises VerificationError: if it does not (with ``raise_exception=False``: ``False``).
        :raises AssertionError: for an empty slot or a failed call.
        """
        return self.verify_digest(DigestObject(src, encoding, digest), sig, raise_exception, pubkey_slot, foreign)

    @translated
    def verify_digest(self, digest: Hash, sig: bytes | bytearray, raise_exception: bool = True, pubkey_slot: int = 0,
                      foreign: bool = False) -> bool:
        """Verify ``sig`` over ``digest.digest()`` with the key in ``pubkey_slot`` (a foreign slot
        with ``foreign=True``); ``True`` if it verifies.

        :raises VerificationError: if it does not (with ``raise_exception=False``: ``False``).
        :raises AssertionError: for an empty slot or a failed call.
        """
        try:
            self._scm.verify(pubkey_slot, digest.digest(), bytes(sig), foreign=foreign)
        except InvalidSignatureError:
            if raise_exception:
                raise VerificationError("the signature does not verify") from None
            return False
        return True

    # -- ECDH --------------------------------------------------------------------------------------

    @translated
    def ecdh(self, local_slot: int, peer_pubkey: bytes | bytearray | list[int] | int, kdf_func_type: str = "none",
             salt: bytes | bytearray | list[int] = [], info: bytes | bytearray | list[int] = [],  # noqa: B006
             num_iterations: int = 1, peer_pubkey_slot_is_foreign: bool = True, derived_key_size: int = 32
             ) -> bytearray:
        """ECDH between ``local_slot`` (-1: the ephemeral key) and ``peer_pubkey`` (raw key bytes,
        or an int slot: foreign unless ``peer_pubkey_slot_is_foreign=False``), then the KDF named
        by ``kdf_func_type`` (:data:`kdfFuncTypes`; ``"none"`` gives the raw shared secret).

        :raises KeyError: for an unknown KDF name.
        :raises AssertionError: for an Ed25519 slot, a bad peer key, salt or info over 128 bytes,
            or a failed call.
        """
        kdf = KdfType(kdfFuncTypes[kdf_func_type])
        peer: bytes | int = peer_pubkey if isinstance(peer_pubkey, int) else as_bytes(peer_pubkey)
        secret = self._scm.ecdh(local_slot, peer, kdf=kdf, salt=as_bytes(salt), info=as_bytes(info),
                                iterations=num_iterations, length=derived_key_size,
                                peer_foreign=peer_pubkey_slot_is_foreign)
        return bytearray(secret)

    # -- keys ----------------------------------------------------------------------------------------

    @translated
    def gen_key_pair(self, key_type: str) -> int:
        """A new key pair (:data:`keyTypes` name) in the lowest free user slot (16+); its slot.

        :raises KeyError: for an unknown key type. :raises AssertionError: if no slot is free.
        """
        return int(self._scm.gen_key_pair(keyTypes[key_type]))

    @translated
    def gen_ephemeral_key_pair(self, key_type: str) -> None:
        """Replace the volatile ephemeral key (slot -1).

        :raises KeyError: for an unknown key type.
        """
        self._scm.gen_ephemeral_key_pair(keyTypes[key_type])

    @translated
    def invalidate_ephemeral_key(self) -> int:
        """Forget the ephemeral key; returns 0."""
        self._scm.invalidate_ephemeral_key()
        return 0

    @translated
    def get_public_key(self, slot: int = 0, foreign: bool = False) -> bytearray:
        """The raw public key: 64 bytes ``X || Y`` (P-256, secp256k1) or 32 (Ed25519, X25519).

        :raises AssertionError: for an empty slot, a master seed, a slot whose export is disabled.
        """
        return bytearray(self._scm.get_public_key(slot, foreign=foreign))

    def get_ecdsa_public_key(self, slot: int = 0) -> bytearray:
        """The older name of :meth:`get_public_key`."""
        return self.get_public_key(slot)

    @translated
    def create_public_key_file(self, filename: str, slot: int = 0, foreign: bool = False) -> None:
        """Write the slot's public key to ``filename`` as PEM."""
        pem = self._scm.get_public_key_pem(slot, foreign=foreign)
        write_file(filename, pem.encode() if isinstance(pem, str) else bytes(pem))

    def create_ecdsa_public_key_file(self, filename: str, slot: int = 0) -> None:
        """The older name of :meth:`create_public_key_file`."""
        self.create_public_key_file(filename, slot)

    @translated
    def get_slot_alloc_list(self, foreign: bool = False) -> tuple[list[int], int]:
        """``(allocated slots, max_num_keys)``; the factory slots 0-15 are listed too."""
        return _adapters.slot_numbers(self._scm.list_slots(foreign=foreign))

    @translated
    def store_foreign_public_key(self, key_type: str, pubkey: bytes | bytearray | list[int]) -> int:
        """Store a public key in the foreign store; returns its foreign slot.

        :raises KeyError: for an unknown key type. :raises AssertionError: for an invalid key.
        """
        return int(self._scm.store_foreign_public_key(keyTypes[key_type], as_bytes(pubkey)))

    @translated
    def disable_public_key_export(self, slot: int = 0, foreign: bool = False) -> None:
        """Disable public key export for the slot, for good."""
        self._scm.disable_public_key_export(slot, foreign=foreign)

    @translated
    def remove_key(self, slot: int, foreign: bool = False) -> None:
        """Remove a key (a wallet node takes its descendants, a master seed its wallet). A slot
        that is already empty (e.g. removed with its wallet) is not an error."""
        try:
            self._scm.remove_key(slot, foreign=foreign)
        except SlotEmptyError:
            pass
