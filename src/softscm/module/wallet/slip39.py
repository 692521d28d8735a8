"""SLIP-39 backup sessions through the reference `shamir-mnemonic` package.

A generation session draws a master secret, takes the group layout (up to 16 groups of up to 16
members), then hands the shares out one at a time. A restore session takes shares in any order,
refuses a corrupt share or one from another set without ending, and yields the master secret
once the thresholds are met. The passphrase encrypts the master secret for the whole set, as the
standard defines.
"""

from __future__ import annotations

from collections import deque

import shamir_mnemonic
from shamir_mnemonic.recovery import RecoveryState

from ...wire.errors import InvalidArgumentError, MnemonicError, SessionError
from ..crypto.rng import Rng, system_rng

MAX_GROUPS = 16
MAX_MEMBERS = 16
MAX_ITERATION_EXPONENT = 5


def _check_passphrase(passphrase: bytes) -> bytes:
    if not all(32 <= c <= 126 for c in passphrase):
        raise InvalidArgumentError("a SLIP-39 passphrase is printable ASCII")
    return passphrase


class Slip39Generation:
    """Hands out the shares of a new master secret one by one."""

    def __init__(self, group_threshold: int, group_count: int, iteration_exponent: int = 1,
                 passphrase: bytes = b"", extendable: bool = True, strength_bits: int = 256,
                 rng: Rng = system_rng) -> None:
        """:raises InvalidArgumentError: for counts outside 1..16, a threshold above the count,
        an exponent outside 0..5 or a strength other than 128 or 256 bits."""
        if not 1 <= group_count <= MAX_GROUPS or not 1 <= group_threshold <= group_count:
            raise InvalidArgumentError(f"groups are 1..{MAX_GROUPS} with a threshold of at most the group count")
        if not 0 <= iteration_exponent <= MAX_ITERATION_EXPONENT:
            raise InvalidArgumentError(f"the iteration exponent is 0..{MAX_ITERATION_EXPONENT}")
        if strength_bits not in (128, 256):
            raise InvalidArgumentError("the master secret is 128 or 256 bits")
        self.group_threshold = group_threshold
        self.iteration_exponent = iteration_exponent
        self.extendable = extendable
        self._passphrase = _check_passphrase(passphrase)
        self._groups: list[tuple[int, int] | None] = [None] * group_count
        self._secret = rng(strength_bits // 8)
        self._pending: deque[str] | None = None

    @property
    def master_secret(self) -> bytes:
        """The secret the shares encode (for creating the wallet; never leaves the module)."""
        return self._secret

    def set_group(self, index: int, member_count: int, member_threshold: int) -> None:
        """Set group ``index``'s layout.

        :raises SessionError: once shares have been handed out.
        :raises InvalidArgumentError: for an index or counts out of range, or a threshold of 1
            with more than one member (the standard forbids it).
        """
        if self._pending is not None:
            raise SessionError("shares are already being handed out")
        if not 0 <= index < len(self._groups):
            raise InvalidArgumentError(f"group index is 0..{len(self._groups) - 1}")
        if not 1 <= member_count <= MAX_MEMBERS or not 1 <= member_threshold <= member_count:
            raise InvalidArgumentError(f"members are 1..{MAX_MEMBERS} with a threshold of at most the count")
        if member_threshold == 1 and member_count > 1:
            raise InvalidArgumentError("a threshold of 1 needs exactly one member")
        self._groups[index] = (member_threshold, member_count)

    def next_share(self) -> tuple[str, bool]:
        """The next share (group by group, member by member) and whether it was the last one.

        :raises SessionError: if a group has not been set, or every share is already out.
        """
        if self._pending is None:
            if any(g is None for g in self._groups):
                raise SessionError("set every group before drawing shares")
            groups = [g for g in self._groups if g is not None]
            mnemonics = shamir_mnemonic.generate_mnemonics(
                self.group_threshold, groups, self._secret, self._passphrase, self.extendable,
                self.iteration_exponent,
            )
            self._pending = deque(m for group in mnemonics for m in group)
        if not self._pending:
            raise SessionError("every share has been handed out")
        share = self._pending.popleft()
        return share, not self._pending


class Slip39Restore:
    """Collects shares until they recover the master secret."""

    def __init__(self, passphrase: bytes = b"") -> None:
        self._passphrase = _check_passphrase(passphrase)
        self._state = RecoveryState()

    def add(self, mnemonic: str) -> bytes | None:
        """Add one share; returns the master secret once the thresholds are met, else ``None``.
        A share already given is ignored.

        :raises MnemonicError: for a corrupt share, one from another set, or a complete set whose
            digest does not check; the session stays usable.
        """
        try:
            share = shamir_mnemonic.Share.from_mnemonic(" ".join(mnemonic.lower().split()))
        except shamir_mnemonic.MnemonicError:
            raise MnemonicError("the share is not a valid SLIP-39 mnemonic") from None
        if not self._state.matches(share):
            raise MnemonicError("the share belongs to another set")
        if share in self._state:
            return None
        try:
            self._state.add_share(share)
        except shamir_mnemonic.MnemonicError:
            raise MnemonicError("the share does not fit the shares given so far") from None
        if not self._state.is_complete():
            return None
        try:
            return self._state.recover(self._passphrase)
        except (shamir_mnemonic.MnemonicError, ValueError):
            raise MnemonicError("the shares do not combine to a valid secret") from None
