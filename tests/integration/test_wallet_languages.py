"""BIP39 in every official word list through the module (create and restore, API and scmctl), and
a SLIP-39 restore that says what is still missing."""

from __future__ import annotations

import json

import pytest
from bip_utils import Bip32Secp256k1
from click.testing import CliRunner
from mnemonic import Mnemonic

import softscm
from softscm.host.cli.main import cli
from tests.vectors.wallet_loaders import bip39_vectors


def test_create_in_a_named_word_list_and_restore_from_any(tmp_path):
    _, french, seed, _ = bip39_vectors("french")[-1]
    with softscm.connect(f"embedded:{tmp_path / 'state'}") as scm:
        _, words = scm.create_wallet("secp256k1", "jp", bip39=True, language="japanese")
        assert words is not None and "\u3000" in words
        assert Mnemonic("japanese").check(words.replace("\u3000", " "))
        master = scm.restore_wallet_bip39("secp256k1", "fr", french, passphrase="TREZOR")
        node = Bip32Secp256k1.FromSeed(bytes.fromhex(seed)).DerivePath("m/44'/0'/0'/0/0")
        slot = scm.derive_wallet_path(master, "m/44'/0'/0'/0/0")
        assert scm.get_public_key(slot) == node.PublicKey().RawUncompressed().ToBytes()[1:]
        with pytest.raises(softscm.MnemonicError):
            scm.restore_wallet_bip39("secp256k1", "it", french, language="italian")


def test_scmctl_create_and_restore_with_a_language(tmp_path):
    url = f"embedded:{tmp_path / 'state'}"
    runner = CliRunner()
    created = runner.invoke(cli, ["--url", url, "--json", "wallet", "create", "w", "--bip39", "--language", "spanish"])
    assert created.exit_code == 0, created.output
    words = json.loads(created.stdout)["mnemonic"]
    assert Mnemonic("spanish").check(words) and not Mnemonic("english").check(words)
    _, czech, _, _ = bip39_vectors("czech")[3]
    restored = runner.invoke(cli, ["--url", url, "wallet", "restore", "cz", "--language", "czech"], input=czech + "\n")
    assert restored.exit_code == 0, restored.output


def _shares(scm) -> list[list[str]]:
    scm.slip39_generate("secp256k1", "vault", group_threshold=2, group_count=3, iteration_exponent=0)
    groups = []
    for index, (threshold, count) in enumerate([(2, 3), (1, 1), (3, 5)]):
        scm.slip39_set_group(index, count, threshold)
        groups.append([scm.slip39_next_share()[1] for _ in range(count)])
    return groups


def test_slip39_restore_says_what_is_missing(tmp_path):
    url = f"embedded:{tmp_path / 'state'}"
    with softscm.connect(url) as scm:
        groups = _shares(scm)
        scm.slip39_restore("secp256k1", "again")
        first = scm.slip39_add(groups[2][0])
        assert first.slot == -1 and first.missing == (
            "2 more complete groups (the set needs 2 of 3); group 3: 2 more of its 3 shares")
        assert scm.slip39_add(groups[1][0]).missing == ("1 more complete group (the set needs 2 of 3); "
                                                         "group 3: 2 more of its 3 shares")
        scm.slip39_add(groups[0][1])
        done = scm.slip39_add(groups[0][2])
        assert done.slot >= 16 and done.missing == ""
        scm.slip39_restore("secp256k1", "cli")  # the CLI below runs in its own embedded module
        scm.slip39_cancel()
    result = CliRunner().invoke(cli, ["--url", url, "wallet", "slip39", "restore", "partial"],
                                input=f"{groups[0][0]}\n\n")
    assert result.exit_code == 1
    assert "share accepted; still missing: 2 more complete groups" in result.stderr
    assert "nothing was restored; still missing: 2 more complete groups (the set needs 2 of 3); " \
           "group 1: 1 more of its 2 shares" in result.stderr


def test_a_cardano_wallet_from_a_japanese_mnemonic_is_created_and_restored_alike(scm):
    """Its Icarus master comes from the mnemonic's entropy, read with the Japanese list."""
    slot, mnemonic = scm.create_wallet("ed25519", "ada-ja", bip39=True, language="japanese", variant="cardano")
    restored = scm.restore_wallet_bip39("ed25519", "ada-ja-again", mnemonic, variant="cardano")
    path = "m/1852'/1815'/0'/0/0"
    assert scm.get_public_key(scm.derive_wallet_path(restored, path)) == scm.get_public_key(
        scm.derive_wallet_path(slot, path))
