"""BIP39 mnemonics through the reference `mnemonic` package, in every official word list
(English by default; 24 words by default)."""

from __future__ import annotations

import unicodedata
from functools import cache

from mnemonic import Mnemonic

from ...wire.defs import Bip39Language
from ...wire.errors import InvalidArgumentError, MnemonicError
from ..crypto.rng import Rng, system_rng

STRENGTHS_BITS = (128, 160, 192, 224, 256)


@cache
def _wordlist(language: Bip39Language) -> Mnemonic:
    return Mnemonic(language.label)


@cache
def _words(language: Bip39Language) -> frozenset[str]:
    return frozenset(_wordlist(language).wordlist)


def generate_mnemonic(rng: Rng = system_rng, strength: int = 256,
                      language: Bip39Language = Bip39Language.ENGLISH) -> str:
    """A new mnemonic from ``strength`` bits of ``rng`` entropy (256 bits: 24 words) in ``language``'s
    word list (Japanese words are joined by an ideographic space, as BIP39 asks).

    :raises InvalidArgumentError: for a strength other than 128, 160, 192, 224 or 256 bits.
    """
    if strength not in STRENGTHS_BITS:
        raise InvalidArgumentError("a BIP39 mnemonic holds 128..256 bits in steps of 32")
    return _wordlist(language).to_mnemonic(rng(strength // 8))


def validate_mnemonic(mnemonic: str, language: Bip39Language | None = None) -> str:
    """Normalise (NFKD, lower case, single spaces) and check a mnemonic in ``language``'s word list,
    or, without one, in any official word list. (The seed depends on the words alone, so a
    mnemonic valid in two lists, as some Chinese ones are, gives the same seed either way.)

    :raises MnemonicError: for an unknown word, a wrong word count or a bad checksum (the mnemonic
        itself is never repeated in the message).
    """
    words = " ".join(unicodedata.normalize("NFKD", mnemonic).lower().split())
    candidates = [language] if language is not None else list(Bip39Language)
    if not any(_valid_in(words, lang) for lang in candidates):
        where = f"the {language.label} word list" if language is not None else "any official word list"
        raise MnemonicError(f"the mnemonic has an unknown word, a wrong length or a bad checksum in {where}")
    return words


def mnemonic_to_entropy(mnemonic: str, language: Bip39Language | None = None) -> bytes:
    """The entropy a mnemonic encodes, read with ``language``'s word list or, without one, with the
    first official list it is valid in (a word's index, not the word, is the entropy: a mnemonic
    in Spanish must be read with the Spanish list).

    :raises MnemonicError: as :func:`validate_mnemonic`.
    """
    words = validate_mnemonic(mnemonic, language)
    found = next(lang for lang in ([language] if language is not None else list(Bip39Language))
                 if _valid_in(words, lang))
    return bytes(_wordlist(found).to_entropy(words))


def mnemonic_to_seed(mnemonic: str, passphrase: str = "") -> bytes:
    """The 64-byte BIP39 seed (PBKDF2-HMAC-SHA512, 2048 rounds, both inputs NFKD-normalised).
    Raises nothing: check the mnemonic first with :func:`validate_mnemonic`."""
    return Mnemonic.to_seed(mnemonic, passphrase)


def _valid_in(words: str, language: Bip39Language) -> bool:
    if not _words(language).issuperset(words.split(" ")):
        return False
    try:
        return bool(_wordlist(language).check(words))
    except (LookupError, ValueError):
        return False
