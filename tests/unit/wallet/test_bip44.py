"""BIP44 accounts from a BIP39 mnemonic match an independent library (bip-utils): Ethereum
addresses on m/44'/60'/0'/0/i and Bitcoin P2PKH addresses on m/44'/0'/0'/0/i."""

from __future__ import annotations

import hashlib

import pytest
from bip_utils import Bip39SeedGenerator, Bip44, Bip44Changes, Bip44Coins
from eth_hash.auto import keccak
from slip10.base58 import b58encode_check

from softscm.module.wallet import bip39, hd
from softscm.module.wallet.path import parse_path
from softscm.wire.defs import KeyType

MNEMONIC = bip39.generate_mnemonic(lambda n: hashlib.sha256(b"softscm bip44 test").digest()[:n])
PASSPHRASE = "TREZOR"


def _account(path: str) -> hd.Node:
    node = hd.master_node(KeyType.SECP256K1, bip39.mnemonic_to_seed(MNEMONIC, PASSPHRASE))
    for step in parse_path(path):
        node = hd.derive_child(node, step.index, step.hardened)
    return node


def _reference(coin: Bip44Coins, index: int):
    seed = Bip39SeedGenerator(MNEMONIC).Generate(PASSPHRASE)
    return Bip44.FromSeed(seed, coin).Purpose().Coin().Account(0).Change(Bip44Changes.CHAIN_EXT).AddressIndex(index)


def _eip55(public: bytes) -> str:
    address = keccak(public)[-20:].hex()
    checksum = keccak(address.encode()).hex()
    return "0x" + "".join(c.upper() if int(h, 16) >= 8 else c for c, h in zip(address, checksum))


@pytest.mark.parametrize("index", range(4), ids=lambda i: f"eth-m/44'/60'/0'/0/{i}")
def test_ethereum_addresses(index):
    node = _account(f"m/44'/60'/0'/0/{index}")
    reference = _reference(Bip44Coins.ETHEREUM, index)
    assert node.private_key == reference.PrivateKey().Raw().ToBytes()
    assert _eip55(node.public_key) == reference.PublicKey().ToAddress()


@pytest.mark.parametrize("index", range(4), ids=lambda i: f"btc-m/44'/0'/0'/0/{i}")
def test_bitcoin_p2pkh_addresses(index):
    node = _account(f"m/44'/0'/0'/0/{index}")
    reference = _reference(Bip44Coins.BITCOIN, index)
    compressed = hd.compressed_public(node)
    assert compressed == reference.PublicKey().RawCompressed().ToBytes()
    hash160 = hashlib.new("ripemd160", hashlib.sha256(compressed).digest()).digest()
    assert b58encode_check(b"\x00" + hash160).decode() == reference.PublicKey().ToAddress()


def test_account_xpub_matches_and_drives_a_watch_only_wallet():
    """The account-level xpub (m/44'/0'/0') equals bip-utils'; public children from it match too."""
    account = _account("m/44'/0'/0'")
    reference = Bip44.FromSeed(Bip39SeedGenerator(MNEMONIC).Generate(PASSPHRASE), Bip44Coins.BITCOIN).Purpose().Coin().Account(0)
    assert hd.to_xpub(account) == reference.PublicKey().ToExtended()
    watch = hd.node_from_extended_key(hd.to_xpub(account))
    leaf = hd.derive_public_child(hd.derive_public_child(watch, 0), 2)
    assert hd.compressed_public(leaf) == _reference(Bip44Coins.BITCOIN, 2).PublicKey().RawCompressed().ToBytes()
