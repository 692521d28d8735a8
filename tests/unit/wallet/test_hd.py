"""HD derivation: BIP32 test vectors 1-5 through xprv/xpub serialisation and public derivation,
SLIP-10 extras (P-256 retry seed, public derivation tables, bip-utils' invalid extended keys),
and the typed errors of the core."""

from __future__ import annotations

import ast
import hashlib
import hmac

import coincurve
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from softscm.module.wallet import hd
from softscm.module.wallet.path import parse_path
from softscm.wire.defs import KeyType
from softscm.wire.errors import InvalidArgumentError, InvalidKeyError, WalletError
from slip10.base58 import b58decode_check, b58encode_check

from tests.vectors import wallet_loaders
from tests.vectors.wallet_loaders import bip32_vectors

BIP32, INVALID_XPUBS, INVALID_XPRVS = bip32_vectors()
BIP32_NODES = [(n, seed, path, xpub, xprv) for n, (seed, paths) in sorted(BIP32.items())
               for path, (xpub, xprv) in paths.items()]
SECP_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SEED = bytes(range(64))


def _table(curve: str, name: str):
    """A named table from bip-utils' SLIP-10 test module (read with ast, never executed)."""
    tree = ast.parse((wallet_loaders.HERE / f"slip10_{curve}_bip-utils-2.12.3.py.txt").read_text())
    node = next(n.value for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", None) == name)
    return wallet_loaders._evaluate(node)


def _derive(key_type: KeyType, seed: bytes, path: str) -> hd.Node:
    node = hd.master_node(key_type, seed)
    for step in parse_path(path):
        node = hd.derive_child(node, step.index, step.hardened)
    return node


# -- BIP32 vectors 1-4: every node, both serialisations ---------------------------------------------------


@pytest.mark.parametrize("n,seed,path,xpub,xprv", BIP32_NODES, ids=[f"bip32-v{n}-{p}" for n, _, p, _, _ in BIP32_NODES])
def test_bip32_vector_serialises_both_ways(n, seed, path, xpub, xprv):
    node = _derive(KeyType.SECP256K1, seed, path)
    assert hd.to_xprv(node) == xprv
    assert hd.to_xpub(node) == xpub
    assert hd.node_from_extended_key(xprv) == node
    watch = hd.node_from_extended_key(xpub)
    assert watch.private_key is None and watch.public_key == node.public_key and watch.chain_code == node.chain_code
    assert hd.to_xpub(watch) == xpub


@pytest.mark.parametrize("n", sorted(BIP32), ids=lambda n: f"bip32-v{n}-public-derivation")
def test_bip32_public_derivation_matches_the_vectors(n):
    """From each vector node, its non-hardened children derived from the xpub alone match."""
    _, paths = BIP32[n]
    checked = 0
    for path, (xpub, _) in paths.items():
        steps = parse_path(path)
        if not steps or steps[-1].hardened:
            continue
        parent_path = "/".join(path.split("/")[:-1])
        parent = hd.node_from_extended_key(paths[parent_path][0])
        assert hd.to_xpub(hd.derive_public_child(parent, steps[-1].index)) == xpub
        checked += 1
    assert checked or n in (3, 4)  # vectors 3 and 4 have hardened steps only


@pytest.mark.parametrize("text", INVALID_XPUBS + INVALID_XPRVS,
                         ids=[f"bip32-v5-xpub-{i}" for i in range(len(INVALID_XPUBS))]
                         + [f"bip32-v5-xprv-{i}" for i in range(len(INVALID_XPRVS))])
def test_bip32_vector5_is_rejected(text):
    with pytest.raises(InvalidKeyError):
        hd.node_from_extended_key(text)


@pytest.mark.parametrize("text", _table("secp256k1", "TEST_VECT_EX_KEY_ERR"),
                         ids=lambda t: f"bip-utils-bad-extended-key-{t[:6]}-{t[-4:]}")
def test_bip_utils_invalid_extended_keys_are_rejected(text):
    with pytest.raises(InvalidKeyError):
        hd.node_from_extended_key(text)


@pytest.mark.parametrize("text", ["", "not base58 0OIl", "xprv", "1111"], ids=["empty", "bad-alphabet", "short", "ones"])
def test_garbage_extended_keys_are_rejected(text):
    with pytest.raises(InvalidKeyError):
        hd.node_from_extended_key(text)


def test_extended_key_record_round_trip():
    _, paths = BIP32[1]
    node = _derive(KeyType.SECP256K1, BIP32[1][0], "m/0'/1")
    raw = b58decode_check(paths["m/0'/1"][1])
    record = hd.ExtendedKey.parse(raw)
    assert record.to_bytes() == raw
    assert record.is_private and record.depth == 2 and record.child_number == 1
    assert record.parent_fingerprint == hd.fingerprint(_derive(KeyType.SECP256K1, BIP32[1][0], "m/0'"))
    assert record.chain_code == node.chain_code and record.key_data == b"\x00" + node.private_key


def test_testnet_versions_are_accepted():
    node = _derive(KeyType.SECP256K1, SEED, "m/1")
    tprv = hd.ExtendedKey(0x04358394, node.depth, node.parent_fingerprint, 1, node.chain_code, b"\x00" + node.private_key)
    assert hd.node_from_extended_key(b58encode_check(tprv.to_bytes()).decode()) == node


# -- SLIP-10 extras ---------------------------------------------------------------------------------------


def test_slip10_nist256p1_retry_seed():
    """The seed whose first HMAC gives an invalid P-256 key: SLIP-10 retries (official vector)."""
    vector = _table("nist256p1", "TEST_RETRY_SEED")
    node = hd.master_node(KeyType.NISTP256, bytes.fromhex(vector["seed"]))
    assert node.private_key.hex() == vector["priv_key"]
    assert node.chain_code.hex() == vector["chain_code"]
    assert hd.compressed_public(node).hex() == vector["pub_key"]
    assert node.parent_fingerprint.hex() == vector["parent_fprint"]


CURVE_TABLES = [("secp256k1", KeyType.SECP256K1), ("nist256p1", KeyType.NISTP256)]


@pytest.mark.parametrize("curve,key_type", CURVE_TABLES, ids=["secp256k1", "nist256p1"])
def test_slip10_public_derivation_from_extended_key(curve, key_type):
    """bip-utils' table: m/0 and m/0/0 from vector 1's master xpub alone; m/0/0/0' refused."""
    table = _table(curve, "TEST_VECT_PUBLIC_DER_EX_KEY")
    master = hd.ExtendedKey.parse(b58decode_check(table["ex_pub"]))
    node = hd.public_only_node(key_type, master.key_data, master.chain_code, "m")
    for step in table["der_paths"][:-1]:
        node = hd.derive_public_child(node, step["index"])
        expected = hd.ExtendedKey.parse(b58decode_check(step["ex_pub"]))
        assert hd.compressed_public(node) == expected.key_data and node.chain_code == expected.chain_code
        assert node.parent_fingerprint == expected.parent_fingerprint
    with pytest.raises(WalletError):
        hd.derive_public_child(node, 0, hardened=True)


@pytest.mark.parametrize("curve,key_type", CURVE_TABLES, ids=["secp256k1", "nist256p1"])
def test_slip10_public_derivation_from_public_key(curve, key_type):
    """bip-utils' table: a bare public key (zero chain code) derives m/0 and m/0/0."""
    table = _table(curve, "TEST_VECT_PUBLIC_DER_PUB_KEY")
    assert hd.compressed_public(hd.master_node(key_type, _seed(curve))).hex() == table["pub_key"]
    node = hd.public_only_node(key_type, bytes.fromhex(table["pub_key"]), bytes(32), "m")
    for step in table["der_paths"][:-1]:
        node = hd.derive_public_child(node, step["index"])
        assert hd.compressed_public(node).hex() == step["pub_key"]


def _seed(curve: str) -> bytes:
    return bytes.fromhex(_table(curve, "TEST_VECT")[0]["seed"].decode())


@pytest.mark.parametrize("key_type", [KeyType.SECP256K1, KeyType.NISTP256], ids=["secp256k1", "nistp256"])
def test_public_derivation_agrees_with_private_derivation(key_type):
    node = _derive(key_type, SEED, "m/44'/0'/0'")
    private_child, public_child = hd.derive_child(node, 7, False), hd.derive_public_child(node, 7)
    assert public_child.public_key == private_child.public_key
    assert public_child.chain_code == private_child.chain_code
    assert public_child.private_key is None
    assert (public_child.depth, public_child.index, public_child.hardened) == (4, 7, False)
    assert public_child.parent_fingerprint == private_child.parent_fingerprint == hd.fingerprint(node)


def test_raw_public_key_formats():
    for key_type, size in [(KeyType.SECP256K1, 64), (KeyType.NISTP256, 64), (KeyType.ED25519, 32)]:
        node = hd.master_node(key_type, SEED)
        assert len(node.public_key) == size and len(node.private_key) == 32 and len(node.chain_code) == 32
    p256 = hd.master_node(KeyType.NISTP256, SEED)
    key = ec.derive_private_key(int.from_bytes(p256.private_key, "big"), ec.SECP256R1()).public_key().public_numbers()
    assert p256.public_key == key.x.to_bytes(32, "big") + key.y.to_bytes(32, "big")


# -- master_gen_key ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("key_type,standard", [(KeyType.SECP256K1, b"Bitcoin seed"), (KeyType.NISTP256, b"Nist256p1 seed"),
                                               (KeyType.ED25519, b"ed25519 seed")], ids=["secp256k1", "nistp256", "ed25519"])
def test_master_gen_key_is_the_hmac_key(key_type, standard):
    assert hd.master_node(key_type, SEED, standard) == hd.master_node(key_type, SEED)
    custom = hd.master_node(key_type, SEED, b"my device key")
    digest = hmac.new(b"my device key", SEED, hashlib.sha512).digest()
    assert custom.private_key == digest[:32] and custom.chain_code == digest[32:]
    assert hd.master_node(key_type, SEED).private_key != custom.private_key


# -- errors ------------------------------------------------------------------------------------------------


def test_ed25519_derives_hardened_only():
    node = hd.master_node(KeyType.ED25519, SEED)
    with pytest.raises(WalletError):
        hd.derive_child(node, 0, False)
    with pytest.raises(WalletError):
        hd.derive_public_child(node, 0)
    with pytest.raises(WalletError):
        hd.to_xpub(node)


def test_watch_only_nodes_cannot_derive_privately_or_export_xprv():
    master = hd.master_node(KeyType.SECP256K1, SEED)
    watch = hd.public_only_node(KeyType.SECP256K1, hd.compressed_public(master), master.chain_code, "m/44'/0'/0'")
    assert (watch.depth, watch.index, watch.hardened) == (3, 0, True)
    with pytest.raises(WalletError):
        hd.derive_child(watch, 0, False)
    with pytest.raises(WalletError):
        hd.to_xprv(watch)
    assert "watch-only" in repr(watch) and master.private_key.hex() not in repr(master)


@pytest.mark.parametrize("index", [-1, 2**31, 2**32], ids=["negative", "2^31", "2^32"])
def test_index_out_of_range(index):
    node = hd.master_node(KeyType.SECP256K1, SEED)
    with pytest.raises(InvalidArgumentError):
        hd.derive_child(node, index, True)
    with pytest.raises(InvalidArgumentError):
        hd.derive_public_child(node, index)


@pytest.mark.parametrize("size", [0, 15, 65], ids=lambda s: f"{s}-bytes")
def test_seed_length(size):
    with pytest.raises(InvalidArgumentError):
        hd.master_node(KeyType.SECP256K1, bytes(size))


def test_x25519_has_no_wallet():
    with pytest.raises(WalletError):
        hd.master_node(KeyType.X25519, SEED)
    with pytest.raises(WalletError):
        hd.public_only_node(KeyType.X25519, bytes(32), bytes(32), "m")


@pytest.mark.parametrize("public,chain", [(b"\x02" + bytes(32), bytes(32)), (bytes(64), bytes(32)), (None, bytes(31))],
                         ids=["not-on-curve", "zero-point", "short-chain-code"])
def test_public_only_node_rejects_bad_parts(public, chain):
    good = hd.master_node(KeyType.SECP256K1, SEED).public_key
    with pytest.raises(InvalidKeyError):
        hd.public_only_node(KeyType.SECP256K1, public if public is not None else good, chain, "m")


def test_depth_limit():
    node = hd.public_only_node(KeyType.SECP256K1, hd.master_node(KeyType.SECP256K1, SEED).public_key, bytes(32),
                               "m/" + "/".join(["1"] * 255))
    with pytest.raises(WalletError):
        hd.derive_public_child(node, 0)


def _forced_digest(monkeypatch, left: bytes) -> None:
    """Make every HMAC in hd return ``left || 32 zero bytes`` (an invalid BIP32 IL)."""
    class Forced:
        def digest(self) -> bytes:
            return left + bytes(32)
    monkeypatch.setattr(hd.hmac, "new", lambda *args, **kwargs: Forced())


@pytest.mark.parametrize("il", [SECP_N, 2**256 - 1, 0], ids=["IL=n", "IL=max", "IL=0"])
def test_secp256k1_invalid_master_key_raises(monkeypatch, il):
    _forced_digest(monkeypatch, il.to_bytes(32, "big"))
    with pytest.raises(WalletError):
        hd.master_node(KeyType.SECP256K1, SEED)


@pytest.mark.parametrize("il", [SECP_N, 2**256 - 1], ids=["IL=n", "IL=max"])
def test_secp256k1_invalid_child_raises(monkeypatch, il):
    node = hd.master_node(KeyType.SECP256K1, SEED)
    _forced_digest(monkeypatch, il.to_bytes(32, "big"))
    with pytest.raises(WalletError):
        hd.derive_child(node, 0, True)
    with pytest.raises(WalletError):
        hd.derive_public_child(node, 0)


def test_secp256k1_child_key_of_zero_raises(monkeypatch):
    """IL = n - k makes the child key zero: invalid in BIP32."""
    node = hd.master_node(KeyType.SECP256K1, SEED)
    _forced_digest(monkeypatch, (SECP_N - int.from_bytes(node.private_key, "big")).to_bytes(32, "big"))
    with pytest.raises(WalletError):
        hd.derive_child(node, 0, False)
    with pytest.raises(WalletError):
        hd.derive_public_child(node, 0)


def test_fingerprint_is_hash160_of_the_compressed_key():
    node = hd.master_node(KeyType.SECP256K1, SEED)
    compressed = coincurve.PrivateKey(node.private_key).public_key.format(compressed=True)
    assert hd.compressed_public(node) == compressed
    assert hd.fingerprint(node) == hashlib.new("ripemd160", hashlib.sha256(compressed).digest()).digest()[:4]
