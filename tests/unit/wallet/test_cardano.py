"""Cardano Icarus master keys and BIP32-Ed25519 derivation against published vectors (CIP-3,
bip-utils' Icarus tables) and an independent implementation (bip-utils), and signatures checked
by an independent Ed25519 verifier."""

from __future__ import annotations

import pytest
from bip_utils import Bip32KeyIndex, Bip39Languages, CardanoIcarusBip32, CardanoIcarusSeedGenerator
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from mnemonic import Mnemonic

from softscm.module.crypto.keys import ExtendedEd25519Key, load_private
from softscm.module.wallet import cardano
from softscm.module.wallet.hd import Node
from softscm.wire.defs import KeyType
from softscm.wire.errors import InvalidArgumentError, InvalidKeyError, MnemonicError, WalletError
from tests.vectors.cardano_loaders import icarus_mnemonic_entropy, icarus_public_derivation, icarus_vectors

HARDENED = 0x80000000

# CIP-0003 (Icarus master key generation), its two published test vectors: the 15-word mnemonic
# with an empty passphrase and with "foo"; each value is kL || kR || chain code.
CIP3_MNEMONIC = "eight country switch draw meat scout mystery blade tip drift useless good keep usage title"
CIP3 = {
    "": "c065afd2832cd8b087c4d9ab7011f481ee1e0721e78ea5dd609f3ab3f156d245d176bd8fd4ec60b4731c3918a2a72a0226c0cd119ec35b"
        "47e4d55884667f552a23f7fdcd4a10c6cd2c7393ac61d877873e248f417634aa3d812af327ffe9d620",
    "foo": "70531039904019351e1afb361cd1b312a4d0565d4ff9f8062d38acf4b15cce41d7b5738d9c893feea55512a3004acb0d222c35d3e3d5"
           "cde943a15a9824cbac59443cf67e589614076ba01e354b1a432e0e6db3b59e37fc56b5fb0222970a010e",
}


@pytest.mark.parametrize("passphrase", list(CIP3), ids=["no-passphrase", "passphrase-foo"])
def test_cip3_icarus_master_keys(passphrase):
    node = cardano.icarus_master_from_mnemonic(CIP3_MNEMONIC, passphrase)
    assert (node.private_key + node.chain_code).hex() == CIP3[passphrase]
    if not passphrase:  # bip-utils (no passphrase support) agrees with the CIP's value
        theirs = CardanoIcarusBip32.FromSeed(CardanoIcarusSeedGenerator(CIP3_MNEMONIC).Generate())
        assert theirs.PrivateKey().Raw().ToBytes() + theirs.ChainCode().ToBytes() == bytes.fromhex(CIP3[""])


@pytest.mark.parametrize("vector", icarus_vectors(), ids=lambda v: f"entropy-{len(v[0])}B")
def test_icarus_bip32_vectors(vector):
    entropy, master, path = vector
    node = cardano.icarus_master(entropy)
    assert (node.private_key, node.public_key, node.chain_code) == (master.private_key, master.public_key,
                                                                    master.chain_code)
    for expected in path:
        hardened = bool(expected.index & HARDENED)
        node = cardano.derive_child(node, expected.index & ~HARDENED, hardened)
        assert (node.private_key, node.public_key, node.chain_code) == (expected.private_key, expected.public_key,
                                                                        expected.chain_code)


def test_public_derivation_vector():
    public, private, steps = icarus_public_derivation()
    watch = cardano.watch_only_node(public, bytes(32))
    full = Node(KeyType.ED25519, private, cardano.public_key(private), bytes(32), 0, bytes(4), 0, False)
    assert full.public_key == public
    for index, expected in steps:
        if expected is None:
            with pytest.raises(WalletError):
                cardano.derive_child(watch, index & ~HARDENED, True)
            continue
        watch = cardano.derive_public_child(watch, index)
        full = cardano.derive_child(full, index, False)
        assert watch.public_key == full.public_key == expected
        assert watch.chain_code == full.chain_code


@pytest.mark.parametrize("mnemonic, entropy", icarus_mnemonic_entropy()[:6], ids=lambda v: str(v)[:12])
def test_master_from_mnemonic_uses_its_entropy(mnemonic, entropy):
    assert cardano.icarus_master_from_mnemonic(mnemonic) == cardano.icarus_master(entropy)


@pytest.mark.parametrize("language", ["spanish", "french", "chinese_traditional", "korean"])
def test_a_master_from_a_mnemonic_in_another_word_list_matches_bip_utils(language):
    """The entropy is the words' indices in their own list (read with the English list, a Spanish
    mnemonic was a ValueError, an INTERNAL error through the module)."""
    mnemonic = Mnemonic(language).to_mnemonic(bytes(range(32)))
    theirs = CardanoIcarusBip32.FromSeed(CardanoIcarusSeedGenerator(mnemonic, Bip39Languages[language.upper()]).Generate())
    assert cardano.icarus_master_from_mnemonic(mnemonic, "").public_key == theirs.PublicKey().RawCompressed().ToBytes()[1:]


def test_cip1852_account_matches_bip_utils():
    """m/1852'/1815'/0'/0/i from a 24-word mnemonic, against bip-utils' own Icarus implementation."""
    mnemonic = ("hamster diagram private dutch cause delay private meat slide toddler razor book happy fancy "
                "gospel tennis maple dilemma loan word shrug inflict delay length")
    theirs = CardanoIcarusBip32.FromSeed(CardanoIcarusSeedGenerator(mnemonic).Generate())
    ours = cardano.icarus_master_from_mnemonic(mnemonic)
    for step in (1852, 1815, 0):
        ours = cardano.derive_child(ours, step, True)
        theirs = theirs.ChildKey(Bip32KeyIndex.HardenIndex(step))
    external = cardano.derive_child(ours, 0, False)
    theirs = theirs.ChildKey(0)
    for i in range(5):
        child = cardano.derive_child(external, i, False)
        assert child.private_key == theirs.ChildKey(i).PrivateKey().Raw().ToBytes()
        assert child.public_key == theirs.ChildKey(i).PublicKey().RawCompressed().ToBytes()[1:]
        assert cardano.derive_public_child(cardano.watch_only_node(external.public_key, external.chain_code),
                                           i).public_key == child.public_key


def test_signatures_verify_with_an_independent_ed25519_verifier():
    node = cardano.derive_child(cardano.icarus_master_from_mnemonic(CIP3_MNEMONIC), 7, True)
    message = b"a cardano transaction body hash"
    signature = cardano.sign(node.private_key, message)
    verifier = Ed25519PublicKey.from_public_bytes(node.public_key)
    verifier.verify(signature, message)
    with pytest.raises(InvalidSignature):
        verifier.verify(signature, message + b"!")
    assert cardano.sign(node.private_key, message) == signature  # deterministic, as Ed25519 is


def test_extended_key_object_signs_like_an_ed25519_key():
    node = cardano.derive_child(cardano.icarus_master(bytes(range(32))), 0, True)
    key = load_private(KeyType.ED25519, node.private_key)
    assert isinstance(key, ExtendedEd25519Key)
    assert key.public == node.public_key and key.private_bytes() == node.private_key
    assert node.private_key.hex() not in repr(key) and "ed25519" in repr(key)
    signature = key.sign(b"payload")
    assert signature.recovery_id is None
    Ed25519PublicKey.from_public_bytes(key.public).verify(signature.raw, b"payload")
    with pytest.raises(InvalidKeyError):
        load_private(KeyType.ED25519, bytes(64))  # a zero scalar


def test_errors():
    master = cardano.icarus_master(bytes(16))
    with pytest.raises(InvalidArgumentError):
        cardano.icarus_master(bytes(15))
    with pytest.raises(InvalidArgumentError):
        cardano.derive_child(master, HARDENED, False)
    with pytest.raises(WalletError):
        cardano.derive_child(cardano.watch_only_node(master.public_key, master.chain_code), 0, True)
    with pytest.raises(InvalidKeyError):
        cardano.watch_only_node(bytes(32), master.chain_code)  # not a point of the curve's main group
    with pytest.raises(InvalidKeyError):
        cardano.watch_only_node(master.public_key, bytes(31))
    with pytest.raises(InvalidKeyError):
        cardano.public_key(bytes(32))
    with pytest.raises(MnemonicError):
        cardano.icarus_master_from_mnemonic(CIP3_MNEMONIC.replace("eight", "eighth"))
