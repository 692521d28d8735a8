"""Per-member SLIP-39 passwords: empty ones give standard shares, non-empty ones follow the
documented scheme (checked here against an independent reading of it), and either way a set
restores in the module and, once unlocked, with python-shamir-mnemonic."""

from __future__ import annotations

import hashlib
import random

import pytest
import shamir_mnemonic
from shamir_mnemonic import Share

from softscm.module.wallet.slip39 import Slip39Generation, Slip39Restore
from softscm.module.wallet.slip39_members import apply_password, unlock_share
from softscm.wire.errors import InvalidArgumentError, MnemonicError
from tests.stepping import inline

LAYOUT = [(1, 1), (2, 3), (3, 5)]  # three groups, two of them needed


def _generate(passwords: dict[tuple[int, int], bytes], passphrase: bytes = b"", exponent: int = 0
              ) -> tuple[bytes, list[list[str]]]:
    session = inline(Slip39Generation.start(2, len(LAYOUT), exponent, passphrase, rng=random.Random(5).randbytes))
    groups: list[list[str]] = []
    for index, (threshold, count) in enumerate(LAYOUT):
        session.set_group(index, count, threshold)
        groups.append([inline(session.next_share(passwords.get((index, m), b"")))[0] for m in range(count)])
    assert session.done
    return session.master_secret, groups


def _spec_unlock(mnemonic: str, password: bytes) -> bytes:
    """The scheme as docs/zymkey.md states it, written out independently."""
    share = Share.from_mnemonic(mnemonic)
    salt = b"softscm slip39 member" + share.identifier.to_bytes(2, "big") + bytes([share.group_index, share.index])
    key = hashlib.pbkdf2_hmac("sha256", password, salt, 10000 << share.iteration_exponent, len(share.value))
    return bytes(a ^ b for a, b in zip(share.value, key))


PASSWORDS = {(1, 0): b"alice", (1, 2): b"carol", (2, 1): b"dave", (2, 3): b"alice"}


@pytest.fixture(scope="module")
def protected() -> tuple[bytes, list[list[str]]]:
    return _generate(PASSWORDS, passphrase=b"TREZOR")


def test_empty_member_passwords_give_standard_shares():
    secret, groups = _generate({})
    chosen = groups[1][:2] + groups[2][:3]
    assert shamir_mnemonic.combine_mnemonics(chosen) == secret


def test_protected_shares_are_valid_slip39_mnemonics_of_the_same_set(protected):
    _, groups = protected
    shares = [Share.from_mnemonic(m) for g in groups for m in g]
    assert len({s.identifier for s in shares}) == 1
    assert [(s.group_index, s.index) for s in shares] == [(g, m) for g, (_, n) in enumerate(LAYOUT) for m in range(n)]


def test_module_restores_with_each_members_password(protected):
    secret, groups = protected
    restore = Slip39Restore(b"TREZOR")
    chosen = [(groups[2][i], PASSWORDS.get((2, i), b"")) for i in (3, 0, 1)] + \
             [(groups[1][i], PASSWORDS.get((1, i), b"")) for i in (2, 1)]
    results = [inline(restore.add(m, p)) for m, p in chosen]
    assert results == [None] * 4 + [secret]


def test_unlocked_shares_combine_with_the_reference_library(protected):
    secret, groups = protected
    chosen = [(1, 0), (1, 2), (2, 1), (2, 3), (2, 4)]  # the reference takes exactly the thresholds
    unlocked = [unlock_share(groups[g][i], PASSWORDS.get((g, i), b"")) for g, i in chosen]
    assert shamir_mnemonic.combine_mnemonics(unlocked, b"TREZOR") == secret
    with pytest.raises(shamir_mnemonic.MnemonicError):  # the protected ones do not, as they are
        shamir_mnemonic.combine_mnemonics([groups[g][i] for g, i in chosen], b"TREZOR")


def test_scheme_matches_its_documented_definition(protected):
    _, groups = protected
    for (g, i), password in PASSWORDS.items():
        assert Share.from_mnemonic(unlock_share(groups[g][i], password)).value == _spec_unlock(groups[g][i], password)
    # the same password on two members gives two different keys
    alice_1 = bytes(a ^ b for a, b in zip(Share.from_mnemonic(groups[1][0]).value,
                                          Share.from_mnemonic(unlock_share(groups[1][0], b"alice")).value))
    alice_2 = bytes(a ^ b for a, b in zip(Share.from_mnemonic(groups[2][3]).value,
                                          Share.from_mnemonic(unlock_share(groups[2][3], b"alice")).value))
    assert alice_1 != alice_2


def test_password_is_its_own_inverse_and_empty_is_identity(protected):
    _, groups = protected
    share = Share.from_mnemonic(groups[2][0])
    assert apply_password(apply_password(share, b"pw"), b"pw") == share
    assert apply_password(share, b"") == share
    assert unlock_share(groups[2][0], b"") == groups[2][0]


def test_iteration_exponent_strengthens_the_member_key():
    _, groups = _generate({(2, 0): b"pw"}, exponent=1)
    share = groups[2][0]
    assert Share.from_mnemonic(unlock_share(share, b"pw")).value == _spec_unlock(share, b"pw")


def test_wrong_member_password_fails_when_the_set_decodes(protected):
    _, groups = protected
    restore = Slip39Restore(b"TREZOR")
    assert inline(restore.add(groups[0][0])) is None
    assert inline(restore.add(groups[1][0], b"mallory")) is None
    with pytest.raises(MnemonicError):
        inline(restore.add(groups[1][1]))
    assert restore.finished


def test_member_password_must_be_printable_ascii():
    session = inline(Slip39Generation.start(1, 1, 0))
    session.set_group(0, 1, 1)
    with pytest.raises(InvalidArgumentError):
        inline(session.next_share("pässword".encode()))
    with pytest.raises(InvalidArgumentError):
        unlock_share(inline(session.next_share(b"ok"))[0], b"tab\t")


def test_unlock_share_rejects_a_corrupt_mnemonic(protected):
    _, groups = protected
    words = groups[1][0].split()
    words[5] = "academic" if words[5] != "academic" else "acid"
    with pytest.raises(MnemonicError):
        unlock_share(" ".join(words), b"alice")
