"""SLIP-39 sessions: 16x16 generation and restore, thresholds, foreign/corrupt/contradicting
shares, the zymkey group-by-group flow, passphrases, and the official vectors' failure modes."""

from __future__ import annotations

import dataclasses
import hashlib
import random

import pytest
import shamir_mnemonic
from shamir_mnemonic import Share

from softscm.module.wallet.slip39 import Slip39Generation, Slip39Restore
from softscm.wire.errors import InvalidArgumentError, MnemonicError, SessionError
from tests.stepping import inline
from tests.vectors.wallet_loaders import slip39_vectors


def _counter_rng(label: bytes):
    counter = iter(range(1_000_000))
    return lambda n: hashlib.shake_256(label + next(counter).to_bytes(4, "big")).digest(n)


def _generate(group_threshold: int, layout: list[tuple[int, int]], *, passphrase: bytes = b"", exponent: int = 0,
              extendable: bool = True, strength: int = 256, label: bytes = b"set") -> tuple[bytes, list[list[str]]]:
    """Run a session the zymkey way (set group i, draw its members, next group); the shares by group."""
    session = inline(Slip39Generation.start(group_threshold, len(layout), exponent, passphrase, extendable, strength,
                               rng=_counter_rng(label)))
    groups: list[list[str]] = []
    for index, (member_threshold, member_count) in enumerate(layout):
        session.set_group(index, member_count, member_threshold)
        groups.append([])
        for member in range(member_count):
            share, last = inline(session.next_share())
            groups[-1].append(share)
            assert last == (index == len(layout) - 1 and member == member_count - 1)
    assert session.done
    return session.master_secret, groups


@pytest.fixture(scope="module")
def big_set() -> tuple[bytes, list[list[str]]]:
    return _generate(9, [(9, 16)] * 16, passphrase=b"TREZOR")


def test_16x16_restores_from_a_shuffled_threshold_subset(big_set):
    secret, groups = big_set
    assert len(groups) == 16 and all(len(g) == 16 for g in groups) and len(secret) == 32
    assert all(len(share.split()) == 33 for g in groups for share in g)
    rng = random.Random(7)
    chosen = [share for g in rng.sample(groups, 9) for share in rng.sample(g, 9)]
    rng.shuffle(chosen)
    restore = Slip39Restore(b"TREZOR")
    results = [inline(restore.add(share)) for share in chosen]
    assert results[:-1] == [None] * 80 and results[-1] == secret
    assert shamir_mnemonic.combine_mnemonics(chosen, b"TREZOR") == secret  # the reference agrees


def test_16x16_below_threshold_gives_nothing(big_set):
    secret, groups = big_set
    restore = Slip39Restore(b"TREZOR")
    # 8 complete groups, and 8 members of each of the other 8 groups: one short everywhere
    below = [share for g in groups[:8] for share in g[:9]] + [share for g in groups[8:] for share in g[:8]]
    assert all(inline(restore.add(share)) is None for share in below)


def test_foreign_and_corrupt_shares_leave_the_session_usable(big_set):
    secret, groups = big_set
    _, other = _generate(1, [(2, 3)], label=b"another set")
    restore = Slip39Restore(b"TREZOR")
    assert inline(restore.add(groups[0][0])) is None
    words = groups[0][1].split()
    corrupt_checksum = " ".join([*words[:-1], "academic" if words[-1] != "academic" else "acid"])
    corrupt_word = " ".join([*words[:5], "bitcoin", *words[6:]])
    for bad in (other[0][0], corrupt_checksum, corrupt_word, " ".join(words[:-1]), "", other[0][1]):
        with pytest.raises(MnemonicError):
            inline(restore.add(bad))
    result = None
    for share in [s for g in groups[:9] for s in g[:9]]:
        result = inline(restore.add(share))
    assert result == secret


def test_messages_do_not_echo_share_words(big_set):
    _, groups = big_set
    words = groups[0][0].split()
    with pytest.raises(MnemonicError) as info:
        inline(Slip39Restore().add(" ".join([*words[:5], "bitcoin", *words[6:]])))
    assert not any(f"{a} {b}" in str(info.value) for a, b in zip(words, words[1:]))


def test_duplicates_are_ignored_and_contradictions_refused():
    secret, groups = _generate(1, [(3, 5)])
    restore = Slip39Restore()
    assert inline(restore.add(groups[0][0])) is None
    assert inline(restore.add(groups[0][0].upper())) is None  # the same share again, differently typed
    share = Share.from_mnemonic(groups[0][1])
    forged = dataclasses.replace(share, value=bytes(len(share.value))).mnemonic()  # valid checksum, same member
    assert inline(restore.add(groups[0][1])) is None
    with pytest.raises(MnemonicError):
        inline(restore.add(forged))
    assert inline(restore.add(groups[0][4])) == secret


def test_session_ends_after_the_secret():
    secret, groups = _generate(1, [(1, 1)])
    restore = Slip39Restore()
    assert inline(restore.add(groups[0][0])) == secret
    with pytest.raises(SessionError):
        inline(restore.add(groups[0][0]))


def test_layout_may_be_set_up_front():
    session = inline(Slip39Generation.start(2, 3, 0, rng=_counter_rng(b"up front")))
    for index, (count, threshold) in enumerate([(1, 1), (3, 2), (5, 3)]):
        session.set_group(index, count, threshold)
    shares = [inline(session.next_share()) for _ in range(9)]
    assert [last for _, last in shares] == [False] * 8 + [True]
    assert [Share.from_mnemonic(s).group_index for s, _ in shares] == [0, 1, 1, 1, 2, 2, 2, 2, 2]
    assert shamir_mnemonic.combine_mnemonics([shares[0][0], shares[1][0], shares[3][0]]) == session.master_secret
    with pytest.raises(SessionError):
        inline(session.next_share())


def test_out_of_order_calls_raise_session_errors():
    session = inline(Slip39Generation.start(2, 2, 0))
    with pytest.raises(SessionError):
        inline(session.next_share())  # group 0 has no layout yet
    session.set_group(1, 2, 2)
    with pytest.raises(SessionError):
        inline(session.next_share())  # still group 0 first
    session.set_group(0, 3, 2)
    inline(session.next_share())
    with pytest.raises(SessionError):
        session.set_group(0, 3, 2)  # its shares are coming out
    session.set_group(1, 3, 3)  # not started yet: may change
    assert [inline(session.next_share())[1] for _ in range(5)] == [False, False, False, False, True]


@pytest.mark.parametrize("args", [(0, 1), (2, 1), (1, 0), (1, 17), (17, 17)],
                         ids=["threshold-0", "threshold-above-count", "no-groups", "17-groups", "17-of-17"])
def test_bad_group_parameters(args):
    with pytest.raises(InvalidArgumentError):
        inline(Slip39Generation.start(*args))


@pytest.mark.parametrize("kwargs", [{"iteration_exponent": 6}, {"iteration_exponent": -1}, {"strength_bits": 192},
                                    {"passphrase": "é".encode()}, {"passphrase": b"\n"}],
                         ids=["exponent-6", "exponent-negative", "192-bits", "non-ascii-passphrase", "control-char"])
def test_bad_session_parameters(kwargs):
    with pytest.raises(InvalidArgumentError):
        inline(Slip39Generation.start(1, 1, **kwargs))


@pytest.mark.parametrize("args", [(-1, 2, 2), (2, 2, 2), (0, 0, 0), (0, 17, 2), (0, 2, 3), (0, 3, 1)],
                         ids=["negative-index", "index-past-count", "no-members", "17-members",
                              "threshold-above-count", "threshold-1-of-3"])
def test_bad_member_parameters(args):
    with pytest.raises(InvalidArgumentError):
        inline(Slip39Generation.start(1, 2, 0)).set_group(*args)


def test_member_password_is_needed_to_restore_its_share():
    session = inline(Slip39Generation.start(1, 1, 0, b"set pass"))
    session.set_group(0, 2, 2)
    first, _ = inline(session.next_share(b"member"))
    second, last = inline(session.next_share())
    assert last
    restore = Slip39Restore(b"set pass")
    assert inline(restore.add(first, b"member")) is None
    assert inline(restore.add(second)) == session.master_secret
    with pytest.raises(InvalidArgumentError):
        inline(Slip39Restore(b"set pass").add(first, "é".encode()))


def test_passphrase_decrypts_to_a_different_secret():
    secret, groups = _generate(1, [(1, 1)], passphrase=b"right")
    assert inline(Slip39Restore(b"right").add(groups[0][0])) == secret
    assert inline(Slip39Restore(b"wrong").add(groups[0][0])) != secret  # SLIP-39: no error, another wallet


@pytest.mark.parametrize("extendable", [True, False], ids=["extendable", "not-extendable"])
@pytest.mark.parametrize("exponent", [0, 2], ids=["exp0", "exp2"])
def test_flags_reach_the_shares(extendable, exponent):
    secret, groups = _generate(1, [(2, 2)], extendable=extendable, exponent=exponent, strength=128)
    share = Share.from_mnemonic(groups[0][0])
    assert share.extendable is extendable and share.iteration_exponent == exponent
    assert len(secret) == 16 and len(groups[0][0].split()) == 20
    assert shamir_mnemonic.combine_mnemonics(groups[0]) == secret


def test_injected_rng_fixes_secret_and_identifier():
    first, a = _generate(1, [(2, 3)], label=b"same")
    second, b = _generate(1, [(2, 3)], label=b"same")
    assert first == second
    assert Share.from_mnemonic(a[0][0]).identifier == Share.from_mnemonic(b[0][0]).identifier


# -- official vectors: how each invalid set fails ----------------------------------------------------------


INVALID = [v for v in slip39_vectors() if not v[2]]
INCOMPLETE = ("Basic sharing", "Insufficient number of groups", "insufficient number of members")


@pytest.mark.parametrize("vector", INVALID, ids=lambda v: "slip39-" + v[0].split(".")[0] + "-invalid")
def test_invalid_vector_sets_fail_the_expected_way(vector):
    """Too few shares: the session just waits (None); every other invalid set has a share that is
    refused with MnemonicError, unless a prefix is a valid set on its own (the reference library
    agrees), after which the session has ended. A set refused at completion (invalid digest) ends
    the session."""
    description, mnemonics, _, _ = vector
    restore = Slip39Restore(b"TREZOR")
    outcomes = []
    for mnemonic in mnemonics:
        try:
            outcomes.append(inline(restore.add(mnemonic)))
        except MnemonicError:
            outcomes.append("refused")
        except SessionError:
            outcomes.append("ended")
    secrets = [i for i, o in enumerate(outcomes) if isinstance(o, bytes)]
    if secrets:
        prefix = mnemonics[:secrets[0] + 1]
        assert shamir_mnemonic.combine_mnemonics(prefix, b"TREZOR") == outcomes[secrets[0]]
        assert outcomes[secrets[0] + 1:] == ["ended"] * (len(mnemonics) - len(prefix)) != []
        return
    if any(kind in description for kind in INCOMPLETE):
        assert outcomes == [None] * len(mnemonics)
    else:
        assert "refused" in outcomes and all(o in (None, "refused") for o in outcomes)
    if "invalid digest" in description:
        assert outcomes[-1] == "refused"
        with pytest.raises(SessionError):
            inline(restore.add(mnemonics[0]))


def test_restore_progress_says_which_groups_and_shares_are_missing():
    secret, groups = _generate(2, [(2, 3), (3, 5), (1, 1)], label=b"progress")
    restore = Slip39Restore()
    assert restore.progress().missing() == "no share has been given yet"
    inline(restore.add(groups[1][0]))
    progress = restore.progress()
    assert (progress.group_threshold, progress.group_count, progress.complete_groups) == (2, 3, 0)
    assert progress.missing() == "2 more complete groups (the set needs 2 of 3); group 2: 2 more of its 3 shares"
    inline(restore.add(groups[2][0]))  # a one-member group: complete at once
    inline(restore.add(groups[0][2]))
    assert restore.progress().missing() == ("1 more complete group (the set needs 2 of 3); "
                                            "group 1: 1 more of its 2 shares; group 2: 2 more of its 3 shares")
    words = groups[0][2].split()  # no piece of a share in the message (single words may be English ones)
    assert not any(" ".join(words[i:i + 2]) in restore.progress().missing() for i in range(len(words) - 1))
    assert inline(restore.add(groups[1][4])) is None and restore.progress().groups_needed == 1
    assert inline(restore.add(groups[0][0])) == secret
    assert restore.progress().groups_needed == 0
