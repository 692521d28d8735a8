"""Authorisation to leave HOLD (or a suspension): a tap code, SLIP-39 admin shares, or a token.

Every refusal raises the same :class:`BootAuthorizationError` without saying which check failed.

- **Tap code**: taps on the accelerometer grouped by :class:`TapCodeRecognizer` (e.g. 3 taps, a
  pause, 2 taps is ``(3, 2)``), compared in constant time with the code the module keeps.
- **SLIP-39 admin shares**: the module keeps only a commitment to the admin master secret (a
  random salt and HMAC-SHA256 under it); shares meeting the set's thresholds are combined by the
  reference ``shamir-mnemonic`` and the result is checked against the commitment in constant time.
- **Remote token**: the module issues a fresh one-time challenge (a random nonce with an expiry
  from the injected clock); a known party signs a token ``{challenge, serial, action, expires}``
  with its key (the module's foreign keys: P-256 or Ed25519, over the token's SHA-256). A
  challenge is spent by the first token that names it, good or bad, so no token can be replayed
  and no challenge can be guessed at more than once.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import shamir_mnemonic

from ...wire.boottoken import AuthorizationToken
from ...wire.defs import BootAuthAction
from ...wire.errors import BootAuthorizationError, InvalidArgumentError, ScmError
from ..crypto.keys import PublicKey
from ..crypto.rng import Rng, system_rng
from ..offload import Step
from ..sensors.tap import TapCodeRecognizer

Clock = Callable[[], float]

NONCE_SIZE = 32
CHALLENGE_TTL_S = 300.0
MAX_OPEN_CHALLENGES = 16
MAX_TAP_GROUP = 9
MAX_TAP_GROUPS = 8
SALT_SIZE = 16
_COMMIT_LABEL = b"softscm boot admin secret"


def _refused() -> BootAuthorizationError:
    return BootAuthorizationError("the authorisation was refused")


# -- tap code ----------------------------------------------------------------------------------

def encode_tap_code(code: Sequence[int]) -> bytes:
    """The stored form of a tap code: one byte per group.

    :raises InvalidArgumentError: for no group, more than 8 groups or a group outside 1..9.
    """
    if not 1 <= len(code) <= MAX_TAP_GROUPS or any(not isinstance(g, int) or not 1 <= g <= MAX_TAP_GROUP for g in code):
        raise InvalidArgumentError(f"a tap code is 1..{MAX_TAP_GROUPS} groups of 1..{MAX_TAP_GROUP} taps")
    return bytes(code)


def check_tap_code(tap_times: Sequence[float], expected: bytes, now: float,
                   recognizer: TapCodeRecognizer | None = None) -> None:
    """Accept the taps at ``tap_times`` if they group into the code ``expected`` (stored form).

    :raises BootAuthorizationError: if the code differs or is not complete at ``now``.
    """
    code = (recognizer or TapCodeRecognizer()).code(tap_times, now)
    given = bytes(min(g, 255) for g in code) if code else b""
    if not hmac.compare_digest(given, expected):
        raise _refused()


# -- SLIP-39 admin shares ----------------------------------------------------------------------

@dataclass(frozen=True)
class AdminCommitment:
    """A salted commitment to the SLIP-39 admin master secret."""

    salt: bytes
    digest: bytes

    @classmethod
    def of(cls, secret: bytes, rng: Rng = system_rng) -> AdminCommitment:
        salt = rng(SALT_SIZE)
        return cls(salt, _commit(salt, secret))

    def to_bytes(self) -> bytes:
        return self.salt + self.digest

    @classmethod
    def parse(cls, data: bytes) -> AdminCommitment:
        """:raises InvalidArgumentError: if ``data`` is not 48 bytes."""
        if len(data) != SALT_SIZE + 32:
            raise InvalidArgumentError("an admin commitment is 48 bytes")
        return cls(bytes(data[:SALT_SIZE]), bytes(data[SALT_SIZE:]))

    def check(self, secret: bytes) -> None:
        """:raises BootAuthorizationError: if ``secret`` is not the committed one."""
        if not hmac.compare_digest(_commit(self.salt, secret), self.digest):
            raise _refused()


def _commit(salt: bytes, secret: bytes) -> bytes:
    return hmac.new(salt, _COMMIT_LABEL + secret, hashlib.sha256).digest()


def new_admin_shares(group_threshold: int, groups: Sequence[tuple[int, int]], *, rng: Rng = system_rng,
                     passphrase: bytes = b"", strength_bits: int = 128,
                     iteration_exponent: int = 1) -> Generator[Step, Any, tuple[AdminCommitment, list[list[str]]]]:
    """Draw an admin master secret (from ``rng``, on the caller's thread), split it into SLIP-39
    shares (``groups`` as ``(member_threshold, member_count)``) in one offloaded step and return
    its commitment with the shares. The secret itself is not returned: the shares are the only way
    back to it.

    :raises InvalidArgumentError: for a layout SLIP-39 does not allow (from the offloaded step).
    """
    if strength_bits not in (128, 256):
        raise InvalidArgumentError("the admin secret is 128 or 256 bits")
    secret = rng(strength_bits // 8)
    commitment = AdminCommitment.of(secret, rng)
    shares = yield lambda: _split_admin_secret(group_threshold, groups, secret, passphrase, iteration_exponent)
    return commitment, shares


def _split_admin_secret(group_threshold: int, groups: Sequence[tuple[int, int]], secret: bytes, passphrase: bytes,
                        iteration_exponent: int) -> list[list[str]]:
    """The SLIP-39 shares of ``secret`` (pure: off the loop). :raises InvalidArgumentError: for a bad layout."""
    try:
        return shamir_mnemonic.generate_mnemonics(group_threshold, list(groups), secret, passphrase,
                                                  iteration_exponent=iteration_exponent)
    except (ValueError, shamir_mnemonic.MnemonicError) as exc:
        raise InvalidArgumentError(f"invalid SLIP-39 layout: {exc}") from None


def check_admin_shares(shares: Sequence[str], commitment: AdminCommitment, passphrase: bytes = b"") -> None:
    """Combine ``shares`` and check the secret against ``commitment``.

    :raises BootAuthorizationError: for malformed shares, too few, shares of different sets or
        a secret that is not the admin secret.
    """
    try:
        secret = shamir_mnemonic.combine_mnemonics([" ".join(s.split()) for s in shares], passphrase)
    except (ValueError, shamir_mnemonic.MnemonicError):
        raise _refused() from None
    commitment.check(secret)


# -- remote token -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Challenge:
    """A one-time challenge the module issued."""

    nonce: bytes
    action: BootAuthAction
    expires: float


class ChallengeBook:
    """The module's open challenges (at most 16; the oldest is dropped for a new one)."""

    def __init__(self, rng: Rng = system_rng, clock: Clock = time.time, ttl_s: float = CHALLENGE_TTL_S) -> None:
        self._rng, self._clock, self.ttl_s = rng, clock, ttl_s
        self._open: list[Challenge] = []

    def issue(self, action: BootAuthAction) -> Challenge:
        now = self._clock()
        self._open = [c for c in self._open if c.expires > now][-(MAX_OPEN_CHALLENGES - 1):]
        challenge = Challenge(self._rng(NONCE_SIZE), BootAuthAction(action), now + self.ttl_s)
        self._open.append(challenge)
        return challenge

    def spend(self, nonce: bytes) -> Challenge:
        """Remove and return the open challenge ``nonce``.

        :raises BootAuthorizationError: if it was never issued, is spent or has expired.
        """
        found = None
        for challenge in self._open:
            if hmac.compare_digest(challenge.nonce, nonce):
                found = challenge
        if found is None:
            raise _refused()
        self._open.remove(found)
        if found.expires <= self._clock():
            raise _refused()
        return found


def redeem_token(data: bytes, book: ChallengeBook, *, serial: str, action: BootAuthAction,
                 known_keys: Mapping[int, PublicKey], now: float) -> int:
    """Accept a token once: its challenge must be open (it is spent now, whatever follows), for
    ``action``, for this module's ``serial``, not expired at ``now``, and signed by one of
    ``known_keys``. Returns the id (foreign slot) of the key that signed it.

    :raises BootAuthorizationError: if any of that does not hold.
    """
    try:
        token = AuthorizationToken.parse(data)
    except InvalidArgumentError:
        raise _refused() from None
    challenge = book.spend(token.challenge)
    if (challenge.action is not action or token.action is not action or token.expires <= now
            or not hmac.compare_digest(token.serial.encode(), serial.encode())):
        raise _refused()
    for key_id, key in known_keys.items():
        try:
            key.verify(token.digest(), token.signature)
        except ScmError:
            continue
        return key_id
    raise _refused()
