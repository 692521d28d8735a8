"""BIP39 through the core: generation from injected entropy, normalisation, typed rejections.
(The python-mnemonic vector file runs through the core in tests/vectors/test_wallet_vectors.py.)"""

from __future__ import annotations

import pytest

from softscm.module.wallet import bip39
from softscm.wire.errors import InvalidArgumentError, MnemonicError
from tests.vectors.wallet_loaders import bip39_vectors

ENTROPY, MNEMONIC, SEED, _ = bip39_vectors()[10]  # a 256-bit vector: 24 words


def test_generation_uses_the_injected_rng_and_gives_24_words():
    requested = []

    def rng(n: int) -> bytes:
        requested.append(n)
        return bytes.fromhex(ENTROPY)

    assert bip39.generate_mnemonic(rng) == MNEMONIC
    assert requested == [32] and len(MNEMONIC.split()) == 24


def test_generated_mnemonics_validate():
    assert bip39.validate_mnemonic(bip39.generate_mnemonic()) and len(bip39.generate_mnemonic(strength=128).split()) == 12


@pytest.mark.parametrize("strength", [0, 64, 96, 100, 288], ids=lambda s: f"{s}-bits")
def test_bad_strength(strength):
    with pytest.raises(InvalidArgumentError):
        bip39.generate_mnemonic(strength=strength)


def test_validation_normalises_case_and_spacing():
    messy = "  " + "   ".join(MNEMONIC.upper().split()) + "\n"
    assert bip39.validate_mnemonic(messy) == MNEMONIC
    assert bip39.mnemonic_to_seed(bip39.validate_mnemonic(messy), "TREZOR").hex() == SEED


def _swap_last_word(words: list[str]) -> list[str]:
    return [*words[:-1], "abandon" if words[-1] != "abandon" else "zoo"]


@pytest.mark.parametrize("mnemonic", [
    " ".join(MNEMONIC.split()[:-1] + ["notaword"]),
    " ".join(_swap_last_word(MNEMONIC.split())),
    " ".join(MNEMONIC.split()[:-1]),
    MNEMONIC + " abandon",
    "",
], ids=["unknown-word", "bad-checksum", "23-words", "25-words", "empty"])
def test_bad_mnemonics_raise_without_echoing_the_words(mnemonic):
    with pytest.raises(MnemonicError) as info:
        bip39.validate_mnemonic(mnemonic)
    words = MNEMONIC.split()
    assert not any(f"{a} {b}" in str(info.value) for a, b in zip(words, words[1:]))


def test_passphrase_changes_the_seed():
    assert bip39.mnemonic_to_seed(MNEMONIC) != bip39.mnemonic_to_seed(MNEMONIC, "TREZOR")
    assert len(bip39.mnemonic_to_seed(MNEMONIC)) == 64
