"""Leaving HOLD: remote tokens bound to one-time challenges, tap codes, SLIP-39 admin shares."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from softscm.module.boot.authorise import (
    AdminCommitment,
    ChallengeBook,
    check_admin_shares,
    check_tap_code,
    encode_tap_code,
    new_admin_shares,
    redeem_token,
)
from softscm.module.crypto.keys import PublicKey
from softscm.module.sensors.simulated import synthetic_tap
from softscm.module.sensors.tap import TapDetector
from softscm.wire.boottoken import AuthorizationToken
from softscm.wire.defs import BootAuthAction, KeyType
from softscm.wire.errors import BootAuthorizationError, InvalidArgumentError

from tests.stepping import inline

from .helpers import P256Signer

SERIAL = "SCM-0001"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Ed25519Signer:
    def __init__(self) -> None:
        self.key = ed25519.Ed25519PrivateKey.generate()
        self.public = self.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def __call__(self, digest: bytes) -> bytes:
        return self.key.sign(digest)


@pytest.fixture
def setup():
    clock = Clock()
    book = ChallengeBook(clock=clock, ttl_s=60)
    p256, ed = P256Signer(), Ed25519Signer()
    keys = {130: PublicKey(KeyType.NISTP256, p256.public), 131: PublicKey(KeyType.ED25519, ed.public)}
    return clock, book, p256, ed, keys


def token_for(challenge, signer, *, serial=SERIAL, action=BootAuthAction.RELEASE_HOLD, expires) -> bytes:
    return AuthorizationToken(challenge.nonce, serial, action, int(expires)).signed(signer).to_bytes()


def redeem(data, book, keys, clock, action=BootAuthAction.RELEASE_HOLD):
    return redeem_token(data, book, serial=SERIAL, action=action, known_keys=keys, now=clock())


@pytest.mark.parametrize("which,slot", [(2, 130), (3, 131)], ids=["p256", "ed25519"])
def test_a_good_token_is_accepted_once(setup, which, slot):
    clock, book, *_ = setup
    signer, keys = setup[which], setup[4]
    challenge = book.issue(BootAuthAction.RELEASE_HOLD)
    data = token_for(challenge, signer, expires=clock() + 30)
    assert AuthorizationToken.parse(data).serial == SERIAL
    assert redeem(data, book, keys, clock) == slot
    with pytest.raises(BootAuthorizationError):
        redeem(data, book, keys, clock)  # replayed


REFUSED_TOKENS = {
    "wrong key": lambda c, signer, now: token_for(c, P256Signer(), expires=now + 30),
    "wrong serial": lambda c, signer, now: token_for(c, signer, serial="SCM-9999", expires=now + 30),
    "wrong action": lambda c, signer, now: token_for(c, signer, action=BootAuthAction.RELEASE_SUSPENSION,
                                                     expires=now + 30),
    "token expired": lambda c, signer, now: token_for(c, signer, expires=now - 1),
    "bad signature bytes": lambda c, signer, now: AuthorizationToken(c.nonce, SERIAL, BootAuthAction.RELEASE_HOLD,
                                                                     int(now + 30), b"\x01" * 64).to_bytes(),
}


@pytest.mark.parametrize("case", list(REFUSED_TOKENS))
def test_refused_tokens_burn_their_challenge(setup, case):
    clock, book, p256, _ed, keys = setup
    challenge = book.issue(BootAuthAction.RELEASE_HOLD)
    with pytest.raises(BootAuthorizationError):
        redeem(REFUSED_TOKENS[case](challenge, p256, clock()), book, keys, clock)
    good = token_for(challenge, p256, expires=clock() + 30)
    with pytest.raises(BootAuthorizationError):
        redeem(good, book, keys, clock)  # the challenge was spent by the refused attempt


def test_an_expired_challenge_and_an_unknown_one_are_refused(setup):
    clock, book, p256, _ed, keys = setup
    challenge = book.issue(BootAuthAction.RELEASE_HOLD)
    clock.now += 61
    with pytest.raises(BootAuthorizationError):
        redeem(token_for(challenge, p256, expires=clock() + 30), book, keys, clock)
    foreign = ChallengeBook(clock=clock).issue(BootAuthAction.RELEASE_HOLD)
    with pytest.raises(BootAuthorizationError):
        redeem(token_for(foreign, p256, expires=clock() + 30), book, keys, clock)
    for junk in (b"", b"\xa0", AuthorizationToken(b"x", SERIAL, BootAuthAction.RELEASE_HOLD, 1).to_bytes()[:-2]):
        with pytest.raises(BootAuthorizationError):
            redeem(junk, book, keys, clock)


def test_the_challenge_book_keeps_at_most_sixteen(setup):
    clock, book, p256, _ed, keys = setup
    first = book.issue(BootAuthAction.RELEASE_HOLD)
    for _ in range(16):
        last = book.issue(BootAuthAction.RELEASE_HOLD)
    with pytest.raises(BootAuthorizationError):
        redeem(token_for(first, p256, expires=clock() + 30), book, keys, clock)
    assert redeem(token_for(last, p256, expires=clock() + 30), book, keys, clock) == 130


def _tap_times(groups, start=0.0):
    """Run synthetic accelerometer taps through the real detector; return the tap times."""
    detector, samples, t = TapDetector({"all": 80}), [], start
    for count in groups:
        for _ in range(count):
            samples += synthetic_tap(t, "z", 2.0)
            t += 0.3
        t += 1.0
    return [tap.t for tap in detector.feed(samples)], t


def test_a_tap_code_authorises_and_a_wrong_one_does_not():
    expected = encode_tap_code((3, 2))
    times, end = _tap_times((3, 2))
    assert len(times) == 5
    check_tap_code(times, expected, now=end + 2)
    wrong, end = _tap_times((2, 3))
    with pytest.raises(BootAuthorizationError):
        check_tap_code(wrong, expected, now=end + 2)
    with pytest.raises(BootAuthorizationError):
        check_tap_code(times, expected, now=times[-1] + 0.1)  # code not finished yet
    with pytest.raises(BootAuthorizationError):
        check_tap_code([], expected, now=10)
    for bad in ((), (0,), (10,), (1,) * 9):
        with pytest.raises(InvalidArgumentError):
            encode_tap_code(bad)


def test_slip39_admin_shares_meeting_the_threshold_authorise():
    commitment, groups = inline(new_admin_shares(2, [(2, 3), (1, 1)], passphrase=b"pw", iteration_exponent=0))
    assert AdminCommitment.parse(commitment.to_bytes()) == commitment
    check_admin_shares(groups[0][:2] + groups[1], commitment, b"pw")
    check_admin_shares([groups[0][2], groups[0][0], groups[1][0]], commitment, b"pw")
    for shares, passphrase in ((groups[0][:2], b"pw"), (groups[0][:1] + groups[1], b"pw"),
                               (groups[0][:2] + groups[1], b"wrong"), (["not a share"], b"pw")):
        with pytest.raises(BootAuthorizationError):
            check_admin_shares(shares, commitment, passphrase)
    other, other_groups = inline(new_admin_shares(1, [(1, 1)], iteration_exponent=0))
    with pytest.raises(BootAuthorizationError):
        check_admin_shares(other_groups[0], commitment)
    with pytest.raises(InvalidArgumentError):
        inline(new_admin_shares(3, [(1, 1)]))
