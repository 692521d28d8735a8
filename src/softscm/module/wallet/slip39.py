"""SLIP-39 backup sessions through the reference `shamir-mnemonic` package.

A generation session draws a master secret and a set identifier from the injected ``rng``,
encrypts the secret with the set's passphrase, and hands the shares out one at a time, group by
group, member by member. Each group's layout may be set up front or just before its shares are
drawn (the zymkey flow: ``set_gen_SLIP39_group_info`` for group 0, its members, then group 1, ...):
the group-level split is made at the start, each group's member split when its first share is
drawn, both by ``shamir_mnemonic.split_ems``. The Shamir polynomials use the library's own CSPRNG.

A restore session takes shares in any order, refuses a corrupt share, one from another set or one
that contradicts a share already given without ending, ignores a repeated share, and yields the
master secret once the thresholds are met.

Passphrases: SLIP-39 encrypts the master secret with one passphrase for the whole set, so the
session takes it when it opens. The zymkey API also passes a password with each member: an empty
one gives a standard share; a non-empty one protects that member's share value as
:mod:`softscm.module.wallet.slip39_members` describes (the share stays a valid SLIP-39 mnemonic).
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Generator
from typing import Any

import shamir_mnemonic
from shamir_mnemonic import EncryptedMasterSecret, Share
from shamir_mnemonic.recovery import RecoveryState

from ...wire.errors import InvalidArgumentError, MnemonicError, SessionError
from ..crypto.rng import Rng, system_rng
from ..offload import Step
from .slip39_members import apply_password, check_password

MAX_GROUPS = 16
MAX_MEMBERS = 16
MAX_ITERATION_EXPONENT = 5
STRENGTHS_BITS = (128, 256)
IDENTIFIER_BITS = 15


def _check_passphrase(passphrase: bytes) -> bytes:
    if not all(32 <= c <= 126 for c in passphrase):
        raise InvalidArgumentError("a SLIP-39 passphrase is printable ASCII")
    return bytes(passphrase)


def _normalise(mnemonic: str) -> str:
    return " ".join(mnemonic.lower().split())


def _split_groups(secret: bytes, passphrase: bytes, identifier: int, extendable: bool, iteration_exponent: int,
                  group_threshold: int, group_count: int) -> list[EncryptedMasterSecret]:
    """Encrypt ``secret`` (PBKDF2) and split it into one secret per group (pure: off the loop)."""
    ems = EncryptedMasterSecret.from_master_secret(secret, passphrase, identifier, extendable, iteration_exponent)
    # Each group gets a 1-of-1 member share here, whose value is the group's secret.
    split = shamir_mnemonic.split_ems(group_threshold, [(1, 1)] * group_count, ems)
    return [dataclasses.replace(ems, ciphertext=group[0].value) for group in split]


def _recover(state: RecoveryState, passphrase: bytes) -> bytes | None:
    """The master secret of a complete ``state``, or ``None`` if it does not decode (pure: off the loop)."""
    try:
        return state.recover(passphrase)
    except (shamir_mnemonic.MnemonicError, ValueError):
        return None


class Slip39Generation:
    """Hands out the shares of a new master secret one by one (open one with :meth:`start`)."""

    def __init__(self, group_threshold: int, group_count: int, iteration_exponent: int, extendable: bool,
                 secret: bytes, group_secrets: list[EncryptedMasterSecret]) -> None:
        self.group_threshold = group_threshold
        self.group_count = group_count
        self.iteration_exponent = iteration_exponent
        self.extendable = extendable
        self._secret = secret
        self._group_secrets = group_secrets
        self._groups: list[tuple[int, int] | None] = [None] * group_count
        self._current = 0  # the group whose shares are handed out next
        self._pending: deque[Share] | None = None  # what is left of the current group, once started

    @classmethod
    def start(cls, group_threshold: int, group_count: int, iteration_exponent: int = 1,
              passphrase: bytes = b"", extendable: bool = True, strength_bits: int = 256,
              rng: Rng = system_rng) -> Generator[Step, Any, Slip39Generation]:
        """Draw the master secret (here, from ``rng``), then encrypt it and make the group-level
        split in one offloaded step; returns the session.

        :raises InvalidArgumentError: for a group count outside 1..16, a group threshold outside
            1..group count, an iteration exponent outside 0..5, a strength other than 128 or 256
            bits, or a passphrase that is not printable ASCII.
        """
        if not 1 <= group_count <= MAX_GROUPS or not 1 <= group_threshold <= group_count:
            raise InvalidArgumentError(f"groups are 1..{MAX_GROUPS} with a threshold of 1..the group count")
        if not 0 <= iteration_exponent <= MAX_ITERATION_EXPONENT:
            raise InvalidArgumentError(f"the iteration exponent is 0..{MAX_ITERATION_EXPONENT}")
        if strength_bits not in STRENGTHS_BITS:
            raise InvalidArgumentError("the master secret is 128 or 256 bits")
        passphrase = _check_passphrase(passphrase)
        secret = rng(strength_bits // 8)
        identifier = int.from_bytes(rng(2), "big") & ((1 << IDENTIFIER_BITS) - 1)
        group_secrets = yield lambda: _split_groups(secret, passphrase, identifier, extendable, iteration_exponent,
                                                    group_threshold, group_count)
        return cls(group_threshold, group_count, iteration_exponent, extendable, secret, group_secrets)

    @property
    def master_secret(self) -> bytes:
        """The secret the shares encode (for creating the wallet; it never leaves the module)."""
        return self._secret

    @property
    def done(self) -> bool:
        """Whether every share has been handed out."""
        return self._current == self.group_count

    def set_group(self, index: int, member_count: int, member_threshold: int) -> None:
        """Set group ``index``'s layout: ``member_threshold`` of ``member_count`` members.

        :raises InvalidArgumentError: for an index outside 0..group count-1, a member count
            outside 1..16, a threshold outside 1..member count, or a threshold of 1 with more
            than one member (SLIP-39 forbids it: use 1 of 1).
        :raises SessionError: if that group's shares have already started to come out.
        """
        if not 0 <= index < self.group_count:
            raise InvalidArgumentError(f"the group index is 0..{self.group_count - 1}")
        if not 1 <= member_count <= MAX_MEMBERS or not 1 <= member_threshold <= member_count:
            raise InvalidArgumentError(f"members are 1..{MAX_MEMBERS} with a threshold of 1..the member count")
        if member_threshold == 1 and member_count > 1:
            raise InvalidArgumentError("a member threshold of 1 needs exactly one member (1 of 1)")
        if index < self._current or (index == self._current and self._pending is not None):
            raise SessionError(f"the shares of group {index} are already being handed out")
        self._groups[index] = (member_threshold, member_count)

    def next_share(self, passphrase: bytes = b"") -> Generator[Step, Any, tuple[str, bool]]:
        """The next share (group by group, member by member) and whether it is the last one.
        ``passphrase`` is the member's password (empty: a standard share; see
        :mod:`~softscm.module.wallet.slip39_members`), applied in an offloaded step; the share
        counts as handed out only once that step is back.

        :raises InvalidArgumentError: for a member password that is not printable ASCII.
        :raises SessionError: if every share is already out, or the next share's group has no layout yet.
        """
        check_password(passphrase)
        if self.done:
            raise SessionError("every share has been handed out")
        if self._pending is None:
            layout = self._groups[self._current]
            if layout is None:
                raise SessionError(f"set group {self._current}'s layout before drawing its shares")
            members = shamir_mnemonic.split_ems(1, [layout], self._group_secrets[self._current])[0]
            self._pending = deque(dataclasses.replace(share, group_index=self._current,
                                                      group_threshold=self.group_threshold,
                                                      group_count=self.group_count) for share in members)
        share = self._pending[0]
        if passphrase:
            share = yield lambda: apply_password(share, passphrase)
        self._pending.popleft()
        if not self._pending:
            self._current += 1
            self._pending = None
        return share.mnemonic(), self.done


@dataclasses.dataclass(frozen=True)
class GroupProgress:
    """One group of a restore: its shares given so far, out of its member threshold."""

    index: int
    given: int
    threshold: int


@dataclasses.dataclass(frozen=True)
class Slip39Progress:
    """What a restore session has so far and what it still needs (nothing about the shares' values)."""

    group_threshold: int  # 0 until the first share tells it
    group_count: int
    groups: tuple[GroupProgress, ...]  # the groups with at least one share, by index

    @property
    def complete_groups(self) -> int:
        return sum(group.given >= group.threshold for group in self.groups)

    @property
    def groups_needed(self) -> int:
        """How many more groups must be completed; 0 once the set is complete."""
        return max(0, self.group_threshold - self.complete_groups)

    def missing(self) -> str:
        """What is still missing, for a person: groups, then the shares of each group begun."""
        if not self.groups:
            return "no share has been given yet"
        if not self.groups_needed:
            return "nothing: the shares meet the thresholds"
        plural = "s" if self.groups_needed > 1 else ""
        parts = [f"{self.groups_needed} more complete group{plural} (the set needs {self.group_threshold} of "
                 f"{self.group_count})"]
        parts += [f"group {g.index + 1}: {g.threshold - g.given} more of its {g.threshold} shares"
                  for g in self.groups if g.given < g.threshold]
        return "; ".join(parts)


class Slip39Restore:
    """Collects shares until they recover the master secret."""

    def __init__(self, passphrase: bytes = b"") -> None:
        """:raises InvalidArgumentError: for a passphrase that is not printable ASCII."""
        self._passphrase = _check_passphrase(passphrase)
        self._state = RecoveryState()
        self._finished = False

    @property
    def finished(self) -> bool:
        """The session has returned its secret or failed to decode; it takes no more shares."""
        return self._finished

    def progress(self) -> Slip39Progress:
        """The groups begun and completed so far, and the thresholds (once a share told them)."""
        parameters = self._state.parameters
        if parameters is None:
            return Slip39Progress(0, 0, ())
        groups = tuple(GroupProgress(index, len(group), group.member_threshold())
                       for index, group in sorted(self._state.groups.items()) if len(group))
        return Slip39Progress(parameters.group_threshold, parameters.group_count, groups)

    def add(self, mnemonic: str, passphrase: bytes = b"") -> Generator[Step, Any, bytes | None]:
        """Add one share with its member's password (empty for a standard share); returns the
        master secret once the thresholds are met, else ``None``. A share given before is ignored
        (``None``). The member password and the recovery (PBKDF2) run in offloaded steps; if a
        step is dropped, a complete set is recovered at the next share given.

        :raises InvalidArgumentError: for a member password that is not printable ASCII.
        :raises MnemonicError: for a corrupt share (unknown word, length, checksum), one from
            another set, or one that contradicts the shares given so far (same member with another
            value, other group parameters); the session stays usable. Also when the shares meet the
            thresholds but do not decode (digest mismatch); that ends the session.
        :raises SessionError: once the session has returned the secret or failed to decode.
        """
        check_password(passphrase)
        if self._finished:
            raise SessionError("this SLIP-39 restore session has ended")
        try:
            share = Share.from_mnemonic(_normalise(mnemonic))
        except shamir_mnemonic.MnemonicError:
            raise MnemonicError("the share is not a valid SLIP-39 mnemonic") from None
        if passphrase:
            share = yield lambda: apply_password(share, passphrase)
        state = self._state
        if not state.matches(share):
            raise MnemonicError("the share belongs to another set")
        if share not in state:
            if any(given.index == share.index for given in state.groups.get(share.group_index, ())):
                raise MnemonicError("the share contradicts a share already given")
            try:
                state.add_share(share)
            except shamir_mnemonic.MnemonicError:
                raise MnemonicError("the share does not fit the shares given so far") from None
        if not state.is_complete():
            return None
        secret = yield lambda: _recover(state, self._passphrase)
        self._finished = True
        if secret is None:
            raise MnemonicError("the shares do not combine to a valid secret")
        return secret
