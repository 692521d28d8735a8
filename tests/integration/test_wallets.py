"""Wallets through a real module: BIP44 addresses, 16x16 SLIP-39, 128 wallets across a restart."""

from __future__ import annotations

import random

import pytest
from bip_utils import Bip39SeedGenerator, Bip44, Bip44Changes, Bip44Coins, P2PKHAddrEncoder
from eth_hash.auto import keccak

import softscm
from softscm.wire.errors import (
    InvalidArgumentError,
    MnemonicError,
    SessionError,
    SlotEmptyError,
    WalletError,
)

from ..vectors.wallet_loaders import slip39_vectors

MNEMONIC = ("legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful "
            "legal winner thank year wave sausage worth title")


def _eth_address(raw_public: bytes) -> str:
    return "0x" + keccak(raw_public)[-20:].hex()


def test_bip44_ethereum_and_bitcoin_match_an_independent_library(scm):
    master = scm.restore_wallet_bip39("secp256k1", "bip44", MNEMONIC)
    seed = Bip39SeedGenerator(MNEMONIC).Generate()
    eth = Bip44.FromSeed(seed, Bip44Coins.ETHEREUM).Purpose().Coin().Account(0).Change(Bip44Changes.CHAIN_EXT)
    btc = Bip44.FromSeed(seed, Bip44Coins.BITCOIN).Purpose().Coin().Account(0).Change(Bip44Changes.CHAIN_EXT)
    for i in range(5):
        eth_slot = scm.derive_wallet_path(master, f"m/44'/60'/0'/0/{i}")
        assert _eth_address(scm.get_public_key(eth_slot)).lower() == eth.AddressIndex(i).PublicKey().ToAddress().lower()
        btc_slot = scm.derive_wallet_path(master, f"m/44'/0'/0'/0/{i}")
        ours = P2PKHAddrEncoder.EncodeKey(b"\x04" + scm.get_public_key(btc_slot), net_ver=b"\x00")
        assert ours == btc.AddressIndex(i).PublicKey().ToAddress()
        assert scm.get_wallet_key_slot(f"m/44'/60'/0'/0/{i}", master_slot=master) == eth_slot


def test_derived_keys_sign_and_removal_takes_descendants(scm):
    master, mnemonic = scm.create_wallet("nistp256", "tree", bip39=True)
    assert len(mnemonic.split()) == 24
    account = scm.derive_wallet_path(master, "m/1'/2'")
    leaf = scm.derive_wallet_path(master, "m/1'/2'/3")
    digest = bytes(range(32))
    scm.verify(leaf, digest, scm.sign(leaf, digest).raw)
    with pytest.raises(WalletError):
        scm.get_public_key(master)  # a master seed's public key is never exported
    scm.remove_key(account)
    for slot in (account, leaf):
        with pytest.raises(SlotEmptyError):
            scm.get_public_key(slot)
    assert scm.get_wallet_node(scm.derive_wallet_path(master, "m/1'")).wallet_name == "tree"
    scm.remove_key(master)
    assert "tree" not in [w.name for w in scm.list_wallets()]


def test_names_unique_and_ed25519_hardened_only(scm):
    master, _ = scm.create_wallet("ed25519", "edw")
    with pytest.raises(WalletError):
        scm.create_wallet("ed25519", "edw")
    with pytest.raises(WalletError):
        scm.derive_wallet_key(master, 1, hardened=False)
    child = scm.derive_wallet_key(master, 1, hardened=True, return_chain_code=True)
    assert len(child.chain_code) == 32
    with pytest.raises(WalletError):
        scm.create_wallet("x25519", "nope")
    with pytest.raises(InvalidArgumentError):
        scm.create_wallet("ed25519", "")


def test_watch_only_wallet_derives_public_children_only(scm):
    master = scm.restore_wallet_bip39("secp256k1", "full", MNEMONIC)
    account = scm.derive_wallet_key(scm.derive_wallet_path(master, "m/44'/0'"), 0, hardened=True,
                                    return_chain_code=True)
    watch = scm.create_oversight_wallet("secp256k1", "watch", public_key=scm.get_public_key(account.slot),
                                        chain_code=account.chain_code, node_addr="m/44'/0'/0'")
    for i in range(3):
        full_child = scm.derive_wallet_path(master, f"m/44'/0'/0'/{i}")
        watch_child = scm.derive_wallet_key(watch, i).slot
        assert scm.get_public_key(watch_child) == scm.get_public_key(full_child)
        with pytest.raises(SlotEmptyError):
            scm.sign(watch_child, bytes(32))
    with pytest.raises(WalletError):
        scm.derive_wallet_key(watch, 0, hardened=True)


def test_slip39_sixteen_by_sixteen(scm):
    scm.slip39_generate("secp256k1", "shamir", group_threshold=9, group_count=16, iteration_exponent=0)
    with pytest.raises(SessionError):  # one session at a time blocks other wallet generation
        scm.create_wallet("secp256k1", "other")
    for group in range(16):
        scm.slip39_set_group(group, 16, 9)
    shares: list[list[str]] = [[] for _ in range(16)]
    slot = -1
    for group in range(16):
        for _ in range(16):
            assert slot == -1
            slot, mnemonic = scm.slip39_next_share()
            assert len(mnemonic.split()) == 33
            shares[group].append(mnemonic)
    assert slot >= 16
    reference = scm.get_public_key(scm.derive_wallet_key(slot, 0, hardened=True).slot)

    rng = random.Random(7)
    groups = rng.sample(range(16), 9)
    subset = [m for g in groups for m in rng.sample(shares[g], 9)]
    rng.shuffle(subset)

    scm.slip39_restore("secp256k1", "shamir-restored")
    foreign = _other_set_share(scm)
    scm.slip39_restore("secp256k1", "shamir-restored")
    restored = -1
    for i, mnemonic in enumerate(subset):
        if i == 3:
            with pytest.raises(MnemonicError):
                scm.slip39_add_share(foreign)  # a share from another set: typed error, session stays open
            corrupt = mnemonic.split()
            corrupt[5] = "academic" if corrupt[5] != "academic" else "acid"
            with pytest.raises(MnemonicError):
                scm.slip39_add_share(" ".join(corrupt))
        if i < len(subset) - 1:
            assert scm.slip39_add_share(mnemonic) == -1
        else:
            restored = scm.slip39_add_share(mnemonic)
    assert restored >= 16
    assert scm.get_public_key(scm.derive_wallet_key(restored, 0, hardened=True).slot) == reference


def _other_set_share(scm) -> str:
    """A share from a different set (made by a second generation session, then cancelled)."""
    scm.slip39_cancel()
    scm.slip39_generate("secp256k1", "throwaway", group_threshold=1, group_count=1, iteration_exponent=0)
    scm.slip39_set_group(0, 3, 2)
    _, share = scm.slip39_next_share()
    scm.slip39_cancel()
    return share


def test_slip39_below_threshold_creates_nothing(scm):
    scm.slip39_generate("ed25519", "small", group_threshold=2, group_count=3, iteration_exponent=0,
                        passphrase="pass")
    for group in range(3):
        scm.slip39_set_group(group, 3, 2)
    shares = []
    slot = -1
    while slot == -1:
        slot, share = scm.slip39_next_share()
        shares.append(share)
    scm.slip39_restore("ed25519", "small-again", passphrase="pass")
    for share in (shares[0], shares[1], shares[3]):  # group 0 complete, group 1 one short
        assert scm.slip39_add_share(share) == -1
    scm.slip39_cancel()
    assert "small-again" not in [w.name for w in scm.list_wallets()]
    with pytest.raises(SessionError):
        scm.slip39_add_share(shares[4])


def test_128_wallets_with_four_accounts_survive_a_restart(daemon_factory):
    daemon = daemon_factory("wallets", "--user-capacity", "1024")
    publics = {}
    with daemon.connect() as scm:
        for w in range(128):
            master, _ = scm.create_wallet(("secp256k1", "nistp256", "ed25519")[w % 3], f"wallet-{w}")
            for account in range(4):
                slot = scm.derive_wallet_key(master, account, hardened=True).slot
                publics[(w, account)] = (slot, scm.get_public_key(slot))
        with pytest.raises(softscm.wire.errors.NoFreeSlotError):
            scm.create_wallet("secp256k1", "one-too-many")
    daemon.stop()
    daemon.start()
    with daemon.connect() as scm:
        assert len(scm.list_wallets()) == 128
        for (w, account), (slot, public) in publics.items():
            assert scm.get_public_key(slot) == public
            assert scm.get_wallet_key_slot(f"m/{account}'", wallet_name=f"wallet-{w}") == slot


def test_slip39_member_passwords_protect_their_shares(scm):
    scm.slip39_generate("secp256k1", "pw", group_threshold=1, group_count=1, iteration_exponent=0,
                        passphrase="set secret")
    scm.slip39_set_group(0, 3, 2)
    with pytest.raises(InvalidArgumentError):
        scm.slip39_next_share(passphrase="not ascii: é")
    slots, shares = zip(*(scm.slip39_next_share(passphrase=p) for p in ("alice", "", "carol")))
    scm.slip39_restore("secp256k1", "pw-restored", passphrase="set secret")
    assert scm.slip39_add_share(shares[0], passphrase="alice") == -1
    restored = scm.slip39_add_share(shares[2], passphrase="carol")
    assert restored >= 16
    public = [scm.get_public_key(scm.derive_wallet_path(master, "m/0'")) for master in (slots[-1], restored)]
    assert public[0] == public[1]


def test_slip39_set_that_does_not_decode_closes_the_session(scm):
    description, mnemonics, secret, _ = next(v for v in slip39_vectors() if "invalid digest" in v[0])
    assert not secret
    scm.slip39_restore("secp256k1", "bad-digest", passphrase="TREZOR")
    with pytest.raises(MnemonicError):
        for mnemonic in mnemonics:
            scm.slip39_add_share(mnemonic)
    with pytest.raises(SessionError):  # closed: a new session can start
        scm.slip39_add_share(mnemonics[0])
    scm.create_wallet("secp256k1", "after-bad-digest")
