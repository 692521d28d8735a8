"""The `zymkey` API's tables, constants and helper classes."""

from __future__ import annotations

import hashlib
from typing import Any, Protocol

CLOUD_ENCRYPTION_KEY = "cloud"
ZYMKEY_ENCRYPTION_KEY = "zymkey"
ENCRYPTION_KEYS = (CLOUD_ENCRYPTION_KEY, ZYMKEY_ENCRYPTION_KEY)

keyTypes = {"secp256r1": 0, "nistp256": 0, "secp256k1": 1, "ed25519": 2, "x25519": 3}  # noqa: N816 (reference name)
kdfFuncTypes = {"none": 0, "rfc5869-sha256": 1, "rfc5869-sha512": 2, "pbkdf2-sha256": 3,  # noqa: N816
                "pbkdf2-sha512": 4}


class Hash(Protocol):
    """Anything with ``digest()``: a hashlib object, a pycryptodome Keccak object, a :class:`DigestObject`."""

    def digest(self) -> bytes: ...


class Hasher(Hash, Protocol):
    """A hashlib-like object: ``update`` and ``digest``."""

    def update(self, data: bytes, /) -> Any: ...


class RecoveryStrategy:
    """No recovery material: the master seed is random and cannot be exported."""

    def __init__(self, variant: str = "") -> None:
        self.recovery_strategy = ""
        self.variant = variant
        self.passphrase = ""


class RecoveryStrategyBIP39(RecoveryStrategy):
    """A 24-word BIP39 mnemonic; ``passphrase`` is base64 text (empty: none)."""

    def __init__(self, variant: str = "", passphrase: str = "") -> None:
        super().__init__(variant)
        self.recovery_strategy = "BIP39"
        self.passphrase = passphrase


class RecoveryStrategySLIP39(RecoveryStrategy):
    """SLIP-39 shares: ``group_threshold`` of ``group_count`` groups, iteration exponent 0..5;
    ``passphrase`` (the set's) is base64 text (empty: none)."""

    def __init__(self, group_count: int, group_threshold: int, iteration_exponent: int, variant: str = "",
                 passphrase: str = "") -> None:
        super().__init__(variant)
        self.recovery_strategy = "SLIP39"
        self.passphrase = passphrase
        self.group_count = group_count
        self.group_threshold = group_threshold
        self.iteration_exponent = iteration_exponent


class DigestObject:
    """A message hashed for signing: text, or bytes decoded with ``encoding``, hashed with SHA-256
    or the given hashlib-like ``digest`` (an object such as ``hashlib.sha256()``, or a constructor).

    :raises UnicodeDecodeError: for bytes that are not text in ``encoding``.
    """

    def __init__(self, src: str | bytes | bytearray, encoding: str = "utf-8", digest: Any = None) -> None:
        self.src = src
        self.encoding = encoding
        self.str = src if isinstance(src, str) else bytes(src).decode(encoding)
        if digest is None:
            digest = hashlib.sha256()
        elif not hasattr(digest, "update"):
            digest = digest()
        self.digest_obj: Hasher = digest
        self.digest_obj.update(self.str.encode(encoding))

    def digest(self) -> bytes:
        """The digest bytes."""
        return bytes(self.digest_obj.digest())


class RecoveryId(int):
    """An ECDSA recovery id (0..3): an ``int`` that also has ``.value`` (the shipped library
    returns a ctypes unsigned int, which code reads with ``.value``)."""

    @property
    def value(self) -> int:
        return int(self)


class ZymkeyAccelAxisData:
    """One accelerometer axis: the acceleration in g and the direction of the last tap (-1, 0, +1)."""

    def __init__(self, g_force: float, tap_dir: int) -> None:
        self.g_force = g_force
        self.tap_dir = tap_dir

    def __repr__(self) -> str:
        return f"ZymkeyAccelAxisData(g_force={self.g_force!r}, tap_dir={self.tap_dir!r})"
