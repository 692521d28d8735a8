"""BIP39 mnemonics through the reference `mnemonic` package (English, 24 words by default)."""

from __future__ import annotations

import unicodedata

from mnemonic import Mnemonic

from ...wire.errors import InvalidArgumentError, MnemonicError
from ..crypto.rng import Rng, system_rng

_ENGLISH = Mnemonic("english")
STRENGTHS_BITS = (128, 160, 192, 224, 256)


def generate_mnemonic(rng: Rng = system_rng, strength: int = 256) -> str:
    """A new mnemonic from ``strength`` bits of ``rng`` entropy (256 bits: 24 words).

    :raises InvalidArgumentError: for a strength other than 128, 160, 192, 224 or 256 bits.
    """
    if strength not in STRENGTHS_BITS:
        raise InvalidArgumentError("a BIP39 mnemonic holds 128..256 bits in steps of 32")
    return _ENGLISH.to_mnemonic(rng(strength // 8))


def validate_mnemonic(mnemonic: str) -> str:
    """Normalise and check a mnemonic.

    :raises MnemonicError: for an unknown word, a wrong word count or a bad checksum (the
        mnemonic itself is not repeated in the message).
    """
    words = " ".join(unicodedata.normalize("NFKD", mnemonic).lower().split())
    try:
        valid = _ENGLISH.check(words)
    except (LookupError, ValueError):
        valid = False
    if not valid:
        raise MnemonicError("the mnemonic has an unknown word, a wrong length or a bad checksum")
    return words


def mnemonic_to_seed(mnemonic: str, passphrase: str = "") -> bytes:
    """The 64-byte BIP39 seed (PBKDF2-HMAC-SHA512, 2048 rounds, both inputs NFKD-normalised).
    Raises nothing: check the mnemonic first with :func:`validate_mnemonic`."""
    return Mnemonic.to_seed(mnemonic, passphrase)
