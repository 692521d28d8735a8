"""BIP39 in every official word list: python-mnemonic's vectors (all ten languages, unmodified in
tests/vectors) through the core's generation and restore; the language found by itself, or named."""

from __future__ import annotations

import hashlib
import random
import unicodedata

import pytest
from mnemonic import Mnemonic

from softscm.module.wallet import bip39
from softscm.wire.defs import Bip39Language
from softscm.wire.errors import MnemonicError
from tests.vectors.wallet_loaders import bip39_languages, bip39_vectors

VECTORS = [(language, *vector) for language in bip39_languages() if language != "english"
           for vector in bip39_vectors(language)]


def test_the_vector_file_covers_every_official_word_list():
    assert sorted(bip39_languages()) == sorted(lang.label for lang in Bip39Language)


@pytest.mark.parametrize(("language", "entropy", "mnemonic", "seed", "xprv"), VECTORS,
                         ids=[f"{v[0]}-{v[1][:8]}-{len(v[2].split())}w" for v in VECTORS])
def test_generation_and_restore_in_each_word_list(language, entropy, mnemonic, seed, xprv):
    lang = Bip39Language.parse(language)
    generated = bip39.generate_mnemonic(lambda n: bytes.fromhex(entropy), strength=len(entropy) * 4, language=lang)
    assert generated == mnemonic  # Japanese joined by U+3000, as the vectors are
    restored = bip39.validate_mnemonic(mnemonic)  # the word list is found by itself
    assert restored == bip39.validate_mnemonic(mnemonic, lang)
    assert bip39.mnemonic_to_seed(restored, "TREZOR").hex() == seed


@pytest.mark.parametrize("language", ["french", "spanish", "japanese", "czech"])
def test_composed_accents_and_plain_spaces_restore_the_same_seed(language):
    _, mnemonic, seed, _ = bip39_vectors(language)[-1]
    typed = unicodedata.normalize("NFC", mnemonic).replace("\u3000", " ").upper()
    assert bip39.mnemonic_to_seed(bip39.validate_mnemonic(typed), "TREZOR").hex() == seed


def test_the_wrong_language_or_a_bad_checksum_is_refused_without_echoing_words():
    _, mnemonic, _, _ = bip39_vectors("french")[5]
    with pytest.raises(MnemonicError, match="italian word list"):
        bip39.validate_mnemonic(mnemonic, Bip39Language.ITALIAN)
    words = mnemonic.split()
    broken = " ".join([*words[:-1], words[-2]])
    with pytest.raises(MnemonicError) as caught:
        bip39.validate_mnemonic(broken)
    assert not any(word in caught.value.message for word in words)


def _ambiguous_12_words() -> str:
    """12 words found in both the English and French lists that pass both checksums."""
    english, french = Mnemonic("english"), Mnemonic("french")
    shared = sorted(set(english.wordlist) & set(french.wordlist))
    chooser = random.Random(0)
    for _ in range(100_000):  # both 4-bit checksums pass about once in 256 tries
        words = " ".join(chooser.choices(shared, k=12))
        if english.check(words) and french.check(words):
            return words
    raise AssertionError("no ambiguous mnemonic found")


def test_a_mnemonic_valid_in_two_lists_restores_one_seed_whichever_list_checks_it():
    mnemonic = _ambiguous_12_words()
    checked = {bip39.validate_mnemonic(mnemonic, lang) for lang in (None, Bip39Language.ENGLISH, Bip39Language.FRENCH)}
    assert checked == {mnemonic}
    assert bip39.mnemonic_to_seed(mnemonic) == hashlib.pbkdf2_hmac("sha512", mnemonic.encode(), b"mnemonic", 2048)
    with pytest.raises(MnemonicError):
        bip39.validate_mnemonic(mnemonic, Bip39Language.ITALIAN)


@pytest.mark.parametrize(("name", "expected"), [("French", Bip39Language.FRENCH),
                                                ("chinese-simplified", Bip39Language.CHINESE_SIMPLIFIED),
                                                (1, Bip39Language.JAPANESE)])
def test_language_names(name, expected):
    assert Bip39Language.parse(name) is expected


@pytest.mark.parametrize("name", ["russian", "turkish", "klingon"])
def test_unofficial_word_lists_are_refused(name):
    with pytest.raises(ValueError):
        Bip39Language.parse(name)
