"""Per-member SLIP-39 passwords (the zymkey API's ``add_gen_SLIP39_member_pwd(passphrase)``).

SLIP-39 itself has one passphrase per set. A member password protects one member's share on top
of that, and keeps the share a syntactically valid SLIP-39 mnemonic:

- an empty password leaves the share untouched: a standard share, which any SLIP-39
  implementation (python-shamir-mnemonic, Trezor) combines;
- a non-empty password (printable ASCII, like the SLIP-39 passphrase) replaces the share's value
  ``v`` by ``v XOR K``, with ``K = PBKDF2-HMAC-SHA256(password, salt, 10000 << e, len(v))`` and
  ``salt = "softscm slip39 member" || identifier (2 bytes, big-endian) || group index (1 byte)
  || member index (1 byte)``, ``e`` being the set's iteration exponent; the mnemonic is encoded
  again with its checksum. Every share of every set gets its own key; the same password
  reverses it. :func:`unlock_share` turns such a share back into the standard one, so a set can be
  combined offline with any SLIP-39 tool.

A wrong password gives a wrong share value, which SLIP-39 detects only where it can: when a
threshold above 1 makes the shares combine (the digest check fails); a 1-of-1 share with a wrong
password, like a wrong set passphrase, gives another secret.
"""

from __future__ import annotations

import dataclasses
import hashlib

import shamir_mnemonic
from shamir_mnemonic import Share

from ...wire.errors import InvalidArgumentError, MnemonicError

SALT_PREFIX = b"softscm slip39 member"
BASE_ITERATIONS = 10_000


def check_password(password: bytes) -> bytes:
    """:raises InvalidArgumentError: for a password that is not printable ASCII."""
    if not all(32 <= c <= 126 for c in password):
        raise InvalidArgumentError("a SLIP-39 member password is printable ASCII")
    return bytes(password)


def _key(share: Share, password: bytes) -> bytes:
    salt = SALT_PREFIX + share.identifier.to_bytes(2, "big") + bytes([share.group_index, share.index])
    return hashlib.pbkdf2_hmac("sha256", password, salt, BASE_ITERATIONS << share.iteration_exponent,
                               dklen=len(share.value))


def apply_password(share: Share, password: bytes) -> Share:
    """The share with its value protected by ``password`` (or unprotected: the operation is its
    own inverse); an empty password returns the share as it is.

    :raises InvalidArgumentError: for a password that is not printable ASCII.
    """
    check_password(password)
    if not password:
        return share
    value = bytes(a ^ b for a, b in zip(share.value, _key(share, password), strict=True))
    return dataclasses.replace(share, value=value)


def unlock_share(mnemonic: str, password: bytes) -> str:
    """The standard SLIP-39 mnemonic of a share generated with member password ``password``.

    :raises MnemonicError: if ``mnemonic`` is not a valid SLIP-39 share.
    :raises InvalidArgumentError: for a password that is not printable ASCII.
    """
    try:
        share = Share.from_mnemonic(" ".join(mnemonic.lower().split()))
    except shamir_mnemonic.MnemonicError:
        raise MnemonicError("the share is not a valid SLIP-39 mnemonic") from None
    return apply_password(share, password).mnemonic()
