"""Official wallet vectors: BIP39, BIP32 1-5, SLIP-10 (three curves), SLIP-39 — through the pure
wallet core and through the module API."""

from __future__ import annotations

import pytest
import shamir_mnemonic
from bip_utils import Bip32KeyIndex, Bip32Slip10Secp256k1
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

import softscm
from softscm.module.wallet import bip39, hd, slip39
from softscm.module.wallet.path import parse_path
from softscm.wire.defs import KeyType
from softscm.wire.errors import InvalidKeyError, MnemonicError

from tests.stepping import inline

from .wallet_loaders import bip32_vectors, bip39_vectors, slip10_vectors, slip39_vectors

BIP32, INVALID_XPUBS, INVALID_XPRVS = bip32_vectors()
CURVES = {"secp256k1": KeyType.SECP256K1, "nist256p1": KeyType.NISTP256, "ed25519": KeyType.ED25519}
SLIP10 = [(curve, v) for curve in CURVES for v in slip10_vectors(curve)]


@pytest.fixture(scope="module")
def scm(tmp_path_factory):
    with softscm.connect(f"embedded:{tmp_path_factory.mktemp('wallet-vectors') / 'state'}") as client:
        yield client


def _derive_core(key_type: KeyType, seed: bytes, path: str) -> hd.Node:
    node = hd.master_node(key_type, seed)
    for step in parse_path(path):
        node = hd.derive_child(node, step.index, step.hardened)
    return node


def _compressed(key_type: KeyType, raw: bytes) -> bytes:
    if key_type is KeyType.ED25519:
        return b"\x00" + raw
    curve = ec.SECP256K1() if key_type is KeyType.SECP256K1 else ec.SECP256R1()
    return ec.EllipticCurvePublicKey.from_encoded_point(curve, b"\x04" + raw).public_bytes(
        Encoding.X962, PublicFormat.CompressedPoint)


# -- BIP39 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", bip39_vectors(), ids=lambda v: f"bip39-{v[0][:8]}-{len(v[1].split())}w")
def test_bip39_core(vector):
    entropy, mnemonic, seed, xprv = vector
    assert bip39.generate_mnemonic(lambda n: bytes.fromhex(entropy), strength=len(entropy) * 4) == mnemonic
    assert bip39.validate_mnemonic(mnemonic) == mnemonic
    assert bip39.mnemonic_to_seed(mnemonic, "TREZOR").hex() == seed
    assert hd.master_node(KeyType.SECP256K1, bytes.fromhex(seed)).to_slip10().get_xpriv() == xprv


@pytest.mark.parametrize("vector", bip39_vectors(), ids=lambda v: f"bip39-module-{v[0][:8]}-{len(v[1].split())}w")
def test_bip39_through_the_module(scm, vector):
    entropy, mnemonic, _, xprv = vector
    master = scm.restore_wallet_bip39("secp256k1", f"bip39-{entropy[:16]}-{len(mnemonic)}", mnemonic,
                                      passphrase="TREZOR")
    child = scm.derive_wallet_key(master, 0, hardened=True, return_chain_code=True)
    expected = Bip32Slip10Secp256k1.FromExtendedKey(xprv).ChildKey(Bip32KeyIndex.HardenIndex(0))
    assert _compressed(KeyType.SECP256K1, scm.get_public_key(child.slot)) == expected.PublicKey().RawCompressed().ToBytes()
    assert child.chain_code == expected.ChainCode().ToBytes()


@pytest.mark.parametrize("vector", bip39_vectors()[:6], ids=lambda v: f"bip39-bad-{v[0][:8]}")
def test_bip39_corrupted_mnemonic_is_rejected(scm, vector):
    words = vector[1].split()
    words[3] = "zoo" if words[3] != "zoo" else "abandon"
    with pytest.raises(MnemonicError) as info:
        scm.restore_wallet_bip39("secp256k1", f"bad-{vector[0][:16]}", " ".join(words))
    assert " ".join(words) not in str(info.value)
    with pytest.raises(MnemonicError):
        scm.restore_wallet_bip39("secp256k1", f"bad2-{vector[0][:16]}", vector[1] + " abandon")


# -- BIP32 ---------------------------------------------------------------------------------------------


BIP32_NODES = [(n, seed, path, xpub, xprv) for n, (seed, paths) in BIP32.items()
               for path, (xpub, xprv) in paths.items()]


@pytest.mark.parametrize("n,seed,path,xpub,xprv", BIP32_NODES, ids=[f"bip32-v{n}-{p}" for n, _, p, _, _ in BIP32_NODES])
def test_bip32_core(n, seed, path, xpub, xprv):
    node = _derive_core(KeyType.SECP256K1, seed, path)
    assert node.to_slip10().get_xpriv() == xprv
    assert hd.node_from_extended_key(xprv) == node
    assert hd.node_from_extended_key(xpub).public_key == node.public_key


@pytest.mark.parametrize("n", sorted(BIP32), ids=lambda n: f"bip32-module-v{n}")
def test_bip32_through_the_module(scm, n):
    seed, paths = BIP32[n]
    master = scm.restore_wallet_seed("secp256k1", f"bip32-v{n}", seed)
    for path, (xpub, _) in paths.items():
        if path == "m":
            continue
        slot = scm.derive_wallet_path(master, path)
        expected = hd.node_from_extended_key(xpub)
        assert scm.get_public_key(slot) == expected.public_key
        assert scm.get_wallet_node(slot).node_addr == path


@pytest.mark.parametrize("xpub", INVALID_XPUBS, ids=lambda x: f"bip32-v5-xpub-{x[-6:]}")
def test_bip32_vector5_invalid_xpub_rejected_by_the_module(scm, xpub):
    with pytest.raises(InvalidKeyError):
        scm.create_oversight_wallet("secp256k1", f"watch-{xpub[-8:]}", xpub=xpub)


@pytest.mark.parametrize("xprv", INVALID_XPRVS, ids=lambda x: f"bip32-v5-xprv-{x[-6:]}")
def test_bip32_vector5_invalid_xprv_rejected(xprv):
    with pytest.raises(InvalidKeyError):
        hd.node_from_extended_key(xprv)


def test_bip32_vector5_list_is_complete():
    assert len(INVALID_XPUBS) == 8 and len(INVALID_XPRVS) == 10
    assert sorted(BIP32) == [1, 2, 3, 4]


# -- SLIP-10 --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("curve,vector", SLIP10, ids=[v.name for _, v in SLIP10])
def test_slip10_core(curve, vector):
    key_type = CURVES[curve]
    for expected in vector.nodes:
        node = _derive_core(key_type, vector.seed, expected.path)
        assert node.private_key == expected.private_key, expected.path
        assert node.chain_code == expected.chain_code, expected.path
        assert _compressed(key_type, node.public_key) == expected.public_key, expected.path


@pytest.mark.parametrize("curve,vector", SLIP10, ids=[f"{v.name}-module" for _, v in SLIP10])
def test_slip10_through_the_module(scm, curve, vector):
    key_type = CURVES[curve]
    master = scm.restore_wallet_seed(key_type, vector.name, vector.seed)
    for expected in vector.nodes[1:]:
        slot = scm.derive_wallet_path(master, expected.path)
        assert _compressed(key_type, scm.get_public_key(slot)) == expected.public_key, expected.path
        last = expected.path.rsplit("/", 1)[1]
        if last.endswith("'"):
            again = scm.derive_wallet_key(scm.get_wallet_node(slot) and _parent(scm, vector.name, expected.path),
                                          int(last[:-1]), hardened=True, return_chain_code=True)
            assert again.slot == slot and again.chain_code == expected.chain_code


def _parent(scm, wallet: str, path: str) -> int:
    return scm.get_wallet_key_slot(path.rsplit("/", 1)[0], wallet_name=wallet)


# -- SLIP-39 ----------------------------------------------------------------------------------------------


SLIP39 = slip39_vectors()


def _slip39_id(vector) -> str:
    return "slip39-" + vector[0].split(".")[0] + ("-valid" if vector[2] else "-invalid")


def _reference_accepts(mnemonics: list[str]) -> bool:
    try:
        shamir_mnemonic.combine_mnemonics(mnemonics, b"TREZOR")
        return True
    except (shamir_mnemonic.MnemonicError, ValueError):
        return False


@pytest.mark.parametrize("vector", SLIP39, ids=_slip39_id)
def test_slip39_core(vector):
    """A session completes at the first share that meets the thresholds; for an invalid vector that
    may only happen on a prefix the reference library accepts on its own (e.g. a 1-of-1 share)."""
    _, mnemonics, secret, _ = vector
    restore = slip39.Slip39Restore(b"TREZOR")
    for count, mnemonic in enumerate(mnemonics, 1):
        try:
            result = inline(restore.add(mnemonic))
        except MnemonicError:
            assert not secret, "a valid set was refused"
            return
        if result is not None:
            if secret:
                assert result.hex() == secret
            else:
                assert count < len(mnemonics) and _reference_accepts(mnemonics[:count])
            return
    assert not secret, "a valid set did not complete"


@pytest.mark.parametrize("vector", SLIP39, ids=lambda v: _slip39_id(v) + "-module")
def test_slip39_through_the_module(scm, vector):
    description, mnemonics, secret, xprv = vector
    name = "slip39-" + description.split(".")[0]
    scm.slip39_restore("secp256k1", name, passphrase="TREZOR")
    slot = -1
    for count, mnemonic in enumerate(mnemonics, 1):
        try:
            slot = scm.slip39_add_share(mnemonic)
        except MnemonicError:
            assert not secret, "a valid set was refused"
            scm.slip39_cancel()
            return
        if slot != -1:
            break
    if not secret:
        assert slot == -1 or (count < len(mnemonics) and _reference_accepts(mnemonics[:count]))
        scm.slip39_cancel()
        return
    assert slot >= 16
    child = scm.derive_wallet_key(slot, 0, hardened=True, return_chain_code=True)
    expected = Bip32Slip10Secp256k1.FromExtendedKey(xprv).ChildKey(Bip32KeyIndex.HardenIndex(0))
    assert _compressed(KeyType.SECP256K1, scm.get_public_key(child.slot)) == expected.PublicKey().RawCompressed().ToBytes()
    assert child.chain_code == expected.ChainCode().ToBytes()
