"""wallet derive shows the address a path stands for and the xpub of its deepest hardened node:
checked against published examples and against bip_utils (an independent implementation) on a
wallet restored from python-mnemonic's BIP39 vector."""

from __future__ import annotations

import json

import pytest
from bip_utils import (
    Bip32KeyNetVersions,
    Bip32Secp256k1,
    EthAddrEncoder,
    P2PKHAddrEncoder,
    P2WPKHAddrEncoder,
)
from click.testing import CliRunner
from coincurve import PrivateKey

import softscm
from softscm.host import addresses
from softscm.host.cli.main import cli
from softscm.module.wallet import bip39
from tests.vectors.wallet_loaders import bip39_vectors

ONE = PrivateKey((1).to_bytes(32, "big")).public_key.format(compressed=False)[1:]  # the generator point G
TESTNET = Bip32KeyNetVersions(bytes.fromhex("043587cf"), bytes.fromhex("04358394"))


def test_published_examples_for_the_generator_point():
    assert addresses.p2wpkh_address(ONE) == "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"  # BIP-173's P2WPKH example
    assert addresses.p2pkh_address(ONE) == "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH"
    assert addresses.eip55_address(ONE) == "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
    assert addresses.hash160(addresses.compress(ONE)).hex() == "751e76e8199196d454941c45d1b3a323f1433bd6"


@pytest.mark.parametrize(("path", "xpub_node", "kind"), [
    ("m/44'/60'/0'/0/0", "m/44'/60'/0'", "eth"),
    ("m/44'/0'/0'/0/7", "m/44'/0'/0'", "p2pkh"),
    ("m/84'/0'/0'/1/2", "m/84'/0'/0'", "p2wpkh"),
    ("m/84'/1'/0'/0/0", "m/84'/1'/0'", "p2wpkh-testnet"),
    ("m/44'/60'/1'", "m/44'/60'/1'", "eth"),
    ("m/0/1", None, None),
    ("m/49'/0'/0'/0/0", "m/49'/0'/0'", None),
])
def test_derive_matches_an_independent_implementation(tmp_path, path, xpub_node, kind):
    _, mnemonic, seed, _ = bip39_vectors()[-1]
    url = f"embedded:{tmp_path / 'state'}"
    with softscm.connect(url) as scm:
        scm.restore_wallet_bip39("secp256k1", "w", mnemonic, passphrase="TREZOR")
    result = CliRunner().invoke(cli, ["--url", url, "--json", "wallet", "derive", "w", path])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert bip39.mnemonic_to_seed(mnemonic, "TREZOR").hex() == seed
    node = Bip32Secp256k1.FromSeed(bytes.fromhex(seed)).DerivePath(path)
    public = node.PublicKey().RawCompressed().ToBytes()
    assert addresses.compress(bytes.fromhex(shown["public_key"])) == public
    expected_address = {
        "eth": lambda: EthAddrEncoder.EncodeKey(public),
        "p2pkh": lambda: P2PKHAddrEncoder.EncodeKey(public, net_ver=b"\x00"),
        "p2wpkh": lambda: P2WPKHAddrEncoder.EncodeKey(public, hrp="bc", wit_ver=0),
        "p2wpkh-testnet": lambda: P2WPKHAddrEncoder.EncodeKey(public, hrp="tb", wit_ver=0),
        None: lambda: None,
    }[kind]()
    assert shown["address"] == expected_address
    assert shown["xpub_node"] == xpub_node
    if xpub_node is None:
        assert shown["xpub"] is None
    else:
        versions = TESTNET if "/1'/" in xpub_node else None
        root = Bip32Secp256k1.FromSeed(bytes.fromhex(seed), versions) if versions else \
            Bip32Secp256k1.FromSeed(bytes.fromhex(seed))
        assert shown["xpub"] == root.DerivePath(xpub_node).PublicKey().ToExtended()


def test_other_curves_show_no_address(tmp_path):
    url = f"embedded:{tmp_path / 'state'}"
    runner = CliRunner()
    assert runner.invoke(cli, ["--url", url, "wallet", "create", "p", "--type", "P-256"]).exit_code == 0
    shown = json.loads(runner.invoke(cli, ["--url", url, "--json", "wallet", "derive", "p", "m/44'/0'/0'"]).stdout)
    assert "address" not in shown and "xpub" not in shown and len(shown["public_key"]) == 128


@pytest.mark.parametrize("path", ["44'/0'", "m/x", "m/2147483648", "m//1"])
def test_malformed_paths_are_refused(path):
    with pytest.raises(ValueError):
        addresses.parse_path(path)
