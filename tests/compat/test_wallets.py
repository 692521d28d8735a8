"""Wallets through a real scmd: BIP39 (base64 passphrases), SLIP-39 in groups with member
passwords, children, watch-only wallets, and 100 Ethereum addresses against bip-utils."""

from __future__ import annotations

import base64
import errno
import hashlib

import coincurve
import pytest
import shamir_mnemonic
from bip_utils import (
    Bip32Secp256k1,
    Bip39SeedGenerator,
    Bip44,
    Bip44Changes,
    Bip44Coins,
    CardanoIcarusBip32,
    CardanoIcarusSeedGenerator,
)
from Crypto.Hash import keccak
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

import zymkey
from softscm.module.wallet import cardano

from .conftest import return_code

MNEMONIC = ("legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful "
            "legal winner thank year wave sausage worth title")


def _address(raw_public: bytes) -> str:
    return "0x" + keccak.new(data=raw_public, digest_bits=256).digest()[-20:].hex()


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_100_ethereum_addresses_match_bip_utils(zk):
    master = zk.restore_wallet_master_seed("secp256k1", "", "eth100", zymkey.RecoveryStrategyBIP39(), MNEMONIC)
    assert master >= 16
    node = master
    for index in (44, 60, 0):
        node = zk.gen_wallet_child_key(node, index, True)
    external = zk.gen_wallet_child_key(node, 0, False)
    theirs = Bip44.FromSeed(Bip39SeedGenerator(MNEMONIC).Generate(), Bip44Coins.ETHEREUM).Purpose().Coin() \
        .Account(0).Change(Bip44Changes.CHAIN_EXT)
    for i in range(100):
        slot = zk.gen_wallet_child_key(external, i, False)
        assert _address(bytes(zk.get_public_key(slot))) == theirs.AddressIndex(i).PublicKey().ToAddress().lower()
    assert zk.get_wallet_node_addr(slot) == ("m/44'/60'/0'/0/99", "eth100", master)
    assert zk.get_wallet_key_slot("m/44'/60'/0'/0/99", "eth100") == slot
    assert zk.get_wallet_key_slot("m/44'/60'/0'/0/99", master_seed_slot=master) == slot


def test_keccak_signature_recovers_the_account_address(zk):
    master = zk.get_wallet_key_slot("m", "eth100")
    slot = zk.get_wallet_key_slot("m/44'/60'/0'/0/7", master_seed_slot=master)
    digest = keccak.new(digest_bits=256)
    digest.update(b"\x19Ethereum Signed Message:\n5hello")
    signature, recid = zk.sign_digest(digest, slot, True)
    recovered = coincurve.PublicKey.from_signature_and_message(bytes(signature) + bytes([recid.value]),
                                                               digest.digest(), hasher=None)
    assert _address(recovered.format(compressed=False)[1:]) == _address(bytes(zk.get_public_key(slot)))


def test_bip39_wallet_and_base64_passphrase(zk):
    slot, mnemonic = zk.gen_wallet_master_seed("nistp256", "", "bip39-new", zymkey.RecoveryStrategyBIP39())
    assert slot >= 16 and isinstance(mnemonic, str) and len(mnemonic.split()) == 24
    again = zk.restore_wallet_master_seed("nistp256", b"", "bip39-again", zymkey.RecoveryStrategyBIP39(), mnemonic)
    first = zk.gen_wallet_child_key(slot, 3, True)
    second = zk.gen_wallet_child_key(again, 3, True)
    assert zk.get_public_key(first) == zk.get_public_key(second)
    with_pass = zk.restore_wallet_master_seed("secp256k1", "", "bip39-pass",
                                              zymkey.RecoveryStrategyBIP39("", _b64("TREZOR")), MNEMONIC)
    child, chain_code = zk.gen_wallet_child_key(with_pass, 0, True, return_chain_code=True)
    theirs = Bip32Secp256k1.FromSeed(Bip39SeedGenerator(MNEMONIC).Generate("TREZOR")).ChildKey(0x80000000)
    assert bytes(zk.get_public_key(child)) == theirs.PublicKey().RawUncompressed().ToBytes()[1:]
    assert isinstance(chain_code, bytearray) and chain_code == theirs.ChainCode().ToBytes()
    with pytest.raises(AssertionError) as info:
        zk.restore_wallet_master_seed("secp256k1", "", "bad-b64", zymkey.RecoveryStrategyBIP39("", "not base64!"),
                                      MNEMONIC)
    assert return_code(info.value) == -errno.EINVAL
    with pytest.raises(AssertionError):  # bad checksum
        zk.restore_wallet_master_seed("secp256k1", "", "bad-words", zymkey.RecoveryStrategyBIP39(),
                                      MNEMONIC.replace("title", "legal"))


def test_random_wallet_children_and_errors(zk):
    master = zk.gen_wallet_master_seed("ed25519", "", "plain")
    assert isinstance(master, int) and master >= 16
    with pytest.raises(AssertionError):  # a master seed's public key cannot be exported
        zk.get_public_key(master)
    with pytest.raises(AssertionError):  # names are unique
        zk.gen_wallet_master_seed("ed25519", "", "plain")
    with pytest.raises(KeyError):
        zk.gen_wallet_master_seed("rsa", "", "nope")
    child = zk.gen_wallet_child_key(master, 1, True)
    assert len(zk.get_public_key(child)) == 32
    with pytest.raises(AssertionError):  # Ed25519 (SLIP-10) derives hardened children only
        zk.gen_wallet_child_key(child, 1, False)
    with pytest.raises(AssertionError):
        zk.gen_wallet_child_key(child, 1, False, return_chain_code=True)
    with pytest.raises(AssertionError):
        zk.restore_wallet_master_seed("ed25519", "", "x", zymkey.RecoveryStrategy(), "words")
    with pytest.raises(AssertionError):
        zk.get_wallet_node_addr(zk.gen_key_pair("ed25519"))  # not a wallet node
    with pytest.raises(AssertionError):
        zk.get_wallet_key_slot("m/9'", "plain")
    custom = zk.gen_wallet_master_seed("secp256k1", bytearray(b"my hmac key"), "custom-gen-key")
    zk.remove_key(master)  # the wallet goes, with its nodes
    assert zk.remove_key(child) is None  # already removed with its wallet: quiet
    with pytest.raises(AssertionError):
        zk.get_wallet_key_slot("m", "plain")
    assert zk.get_wallet_node_addr(custom)[1] == "custom-gen-key"


def _slip39_generate(zk, name: str, passwords: list[list[str]], layout: list[tuple[int, int]]
                     ) -> tuple[int, list[list[str]]]:
    assert zk.gen_wallet_master_seed("secp256k1", "", name, zymkey.RecoveryStrategySLIP39(3, 2, 0)) == 0
    shares: list[list[str]] = []
    ret = -1
    for group, (count, threshold) in enumerate(layout):
        zk.set_gen_SLIP39_group_info(group, count, threshold)
        shares.append([])
        for member in range(count):
            assert ret == -1
            ret, mnemonic = zk.add_gen_SLIP39_member_pwd(passwords[group][member])
            assert len(mnemonic.split()) == 33
            shares[-1].append(mnemonic)
    assert ret >= 16
    return ret, shares


LAYOUT = [(1, 1), (3, 2), (4, 3)]  # (members, threshold) per group; 2 of the 3 groups needed


def test_slip39_with_empty_member_passwords_is_standard(zk):
    master, shares = _slip39_generate(zk, "slip-std", [[""] * 1, [""] * 3, [""] * 4], LAYOUT)
    secret = shamir_mnemonic.combine_mnemonics([shares[0][0], shares[1][0], shares[1][2]])
    theirs = Bip32Secp256k1.FromSeed(secret).ChildKey(0x80000005)
    ours = zk.gen_wallet_child_key(master, 5, True)
    assert bytes(zk.get_public_key(ours)) == theirs.PublicKey().RawUncompressed().ToBytes()[1:]


def test_slip39_member_passwords_restore_in_any_order(zk):
    passwords = [["root"], ["a1", "", "a3"], ["b1", "b2", "", "b4"]]
    master, shares = _slip39_generate(zk, "slip-pw", passwords, LAYOUT)
    assert zk.restore_wallet_master_seed("secp256k1", "", "slip-pw-restored", zymkey.RecoveryStrategySLIP39(3, 2, 0)
                                         ) == -1
    with pytest.raises(AssertionError) as info:  # one SLIP-39 session at a time, no other wallet meanwhile
        zk.gen_wallet_master_seed("secp256k1", "", "meanwhile")
    assert return_code(info.value) == -errno.EBUSY
    assert zk.add_restore_SLIP39_mnemonic("not a share at all") == -1
    corrupt = shares[2][0].split()
    corrupt[-1] = "academic" if corrupt[-1] != "academic" else "acid"
    assert zk.add_restore_SLIP39_mnemonic(" ".join(corrupt), "b1") == -1
    order = [(2, 3), (1, 1), (2, 0), (1, 2), (2, 2)]
    results = [zk.add_restore_SLIP39_mnemonic(shares[g][m], passwords[g][m]) for g, m in order]
    assert results[:-1] == [-1] * 4 and results[-1] >= 16
    ours = [zk.get_public_key(zk.gen_wallet_child_key(m, 0, True)) for m in (master, results[-1])]
    assert ours[0] == ours[1]


def test_slip39_cancel_and_session_errors(zk):
    assert zk.gen_wallet_master_seed("secp256k1", "", "cancelled", zymkey.RecoveryStrategySLIP39(1, 1, 0)) == 0
    with pytest.raises(AssertionError):  # the group has no layout yet
        zk.add_gen_SLIP39_member_pwd()
    zk.cancel_SLIP39_session()
    with pytest.raises(AssertionError):
        zk.set_gen_SLIP39_group_info(0, 1, 1)
    with pytest.raises(AssertionError):
        zk.add_restore_SLIP39_mnemonic("no session open")
    zk.gen_wallet_master_seed("secp256k1", "", "cancelled")  # the name was not taken


def test_oversight_wallet_from_xpub_parts(zk):
    account = Bip44.FromSeed(Bip39SeedGenerator(MNEMONIC).Generate(), Bip44Coins.ETHEREUM).Purpose().Coin().Account(0)
    public = account.PublicKey().RawCompressed().ToBytes()
    chain = account.PublicKey().ChainCode().ToBytes()
    slot = zk.gen_oversight_wallet("secp256k1", public, chain, "m/44'/60'/0'", "watch")
    assert zk.get_wallet_node_addr(slot) == ("m/44'/60'/0'", "watch", slot)
    child = zk.gen_wallet_child_key(zk.gen_wallet_child_key(slot, 0, False), 4, False)
    expected = account.Change(Bip44Changes.CHAIN_EXT).AddressIndex(4).PublicKey().ToAddress().lower()
    assert _address(bytes(zk.get_public_key(child))) == expected
    with pytest.raises(AssertionError):  # no private key: no hardened child, no signature
        zk.gen_wallet_child_key(slot, 0, True)
    with pytest.raises(AssertionError):
        zk.sign_digest(hashlib.sha256(b"x"), child)
    with pytest.raises(AssertionError):
        zk.gen_oversight_wallet("secp256k1", public, chain[:31], "m", "watch-bad")


CIP3_MNEMONIC = "eight country switch draw meat scout mystery blade tip drift useless good keep usage title"


def _ed25519_verify(public: bytes, message: bytes, signature: bytes) -> None:
    Ed25519PublicKey.from_public_bytes(public).verify(signature, message)


def test_cardano_variant_matches_bip_utils_and_signs(zk):
    master = zk.restore_wallet_master_seed("ed25519", "", "ada", zymkey.RecoveryStrategyBIP39("cardano"), MNEMONIC)
    theirs = CardanoIcarusBip32.FromSeed(CardanoIcarusSeedGenerator(MNEMONIC).Generate())
    node = master
    for index in (1852, 1815, 0):
        node = zk.gen_wallet_child_key(node, index, True)
        theirs = theirs.ChildKey(0x80000000 | index)
    account = node
    external = zk.gen_wallet_child_key(account, 0, False)  # BIP32-Ed25519 has non-hardened children
    theirs = theirs.ChildKey(0)
    for i in range(3):
        child = zk.gen_wallet_child_key(external, i, False)
        public = bytes(zk.get_public_key(child))
        assert public == theirs.ChildKey(i).PublicKey().RawCompressed().ToBytes()[1:]
        signature = zk.sign("cardano tx %d" % i, slot=child)
        _ed25519_verify(public, hashlib.sha256(b"cardano tx %d" % i).digest(), bytes(signature))
        assert zk.verify("cardano tx %d" % i, signature, pubkey_slot=child)
    assert zk.get_wallet_node_addr(child) == ("m/1852'/1815'/0'/0/2", "ada", master)


def test_cardano_passphrase_and_watch_only(zk):
    master = zk.restore_wallet_master_seed("ed25519", "", "ada-foo",
                                           zymkey.RecoveryStrategyBIP39("cardano", _b64("foo")), CIP3_MNEMONIC)
    expected = cardano.derive_child(cardano.icarus_master_from_mnemonic(CIP3_MNEMONIC, "foo"), 3, True)
    account, chain_code = zk.gen_wallet_child_key(master, 3, True, return_chain_code=True)
    assert bytes(zk.get_public_key(account)) == expected.public_key and bytes(chain_code) == expected.chain_code
    watch = zk.gen_oversight_wallet("ed25519", zk.get_public_key(account), chain_code, "m/3'", "ada-watch", "cardano")
    for i in (0, 7):
        assert zk.get_public_key(zk.gen_wallet_child_key(watch, i, False)) == \
            zk.get_public_key(zk.gen_wallet_child_key(account, i, False))
    with pytest.raises(AssertionError):
        zk.gen_wallet_child_key(watch, 0, True)


def test_cardano_slip39_and_refusals(zk):
    strategy = zymkey.RecoveryStrategySLIP39(1, 1, 0, variant="cardano")
    assert zk.gen_wallet_master_seed("ed25519", "", "ada-slip", strategy) == 0
    zk.set_gen_SLIP39_group_info(0, 2, 2)
    shares = [zk.add_gen_SLIP39_member_pwd(p) for p in ("pw", "")]
    master = shares[-1][0]
    assert zk.restore_wallet_master_seed("ed25519", "", "ada-slip-again", strategy) == -1
    assert zk.add_restore_SLIP39_mnemonic(shares[1][1]) == -1
    again = zk.add_restore_SLIP39_mnemonic(shares[0][1], "pw")
    assert again >= 16
    assert zk.get_public_key(zk.gen_wallet_child_key(master, 0, False)) == \
        zk.get_public_key(zk.gen_wallet_child_key(again, 0, False))
    for bad in (lambda: zk.gen_wallet_master_seed("secp256k1", "", "ada-k1", zymkey.RecoveryStrategy("cardano")),
                lambda: zk.gen_wallet_master_seed("ed25519", b"key", "ada-key", zymkey.RecoveryStrategy("cardano")),
                lambda: zk.gen_wallet_master_seed("ed25519", "", "ada-other", zymkey.RecoveryStrategy("byron"))):
        with pytest.raises(AssertionError):
            bad()


def test_cardano_keys_survive_a_restart(daemon_factory, monkeypatch):
    daemon = daemon_factory("ada")
    monkeypatch.setenv("ZYMKEY_SOFTSCM_URL", daemon.url)
    zk = zymkey.Zymkey()
    master = zk.gen_wallet_master_seed("ed25519", "", "ada-restart", zymkey.RecoveryStrategy("cardano"))
    child = zk.gen_wallet_child_key(zk.gen_wallet_child_key(master, 0, True), 5, False)
    public = bytes(zk.get_public_key(child))
    zk.close()
    daemon.stop()
    daemon.start()
    zk = zymkey.Zymkey()
    try:
        assert bytes(zk.get_public_key(child)) == public
        _ed25519_verify(public, hashlib.sha256(b"after").digest(), bytes(zk.sign("after", slot=child)))
        grandchild = zk.gen_wallet_child_key(child, 1, False)  # derivation reads the stored extended key
        _ed25519_verify(bytes(zk.get_public_key(grandchild)), hashlib.sha256(b"x").digest(),
                        bytes(zk.sign("x", slot=grandchild)))
    finally:
        zk.close()
