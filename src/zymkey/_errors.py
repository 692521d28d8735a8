"""softscm's typed errors translated into what code written for `zymkey` expects.

A failed call raises :class:`AssertionError` whose message carries a negative return code (an
errno value, as the shipped library's C layer returns); a timeout raises
:class:`~zymkey.exceptions.ZymkeyTimeoutError`. Messages repeat the module's message, which never
holds key material.
"""

from __future__ import annotations

import errno
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from softscm.wire.defs import ErrorCode
from softscm.wire.errors import ScmError, ScmTimeoutError

from .exceptions import ZymkeyTimeoutError

P = ParamSpec("P")
T = TypeVar("T")

RETURN_CODES: dict[ErrorCode, int] = {
    ErrorCode.INVALID_ARGUMENT: -errno.EINVAL,
    ErrorCode.INVALID_SLOT: -errno.EINVAL,
    ErrorCode.INVALID_KEY: -errno.EINVAL,
    ErrorCode.SLOT_EMPTY: -errno.ENOENT,
    ErrorCode.NO_FREE_SLOT: -errno.ENOSPC,
    ErrorCode.STORAGE_FULL: -errno.ENOSPC,
    ErrorCode.KEY_TYPE_MISMATCH: -errno.EOPNOTSUPP,
    ErrorCode.UNKNOWN_COMMAND: -errno.EOPNOTSUPP,
    ErrorCode.EXPORT_DISABLED: -errno.EPERM,
    ErrorCode.NOT_PERMITTED: -errno.EPERM,
    ErrorCode.POLICY_FROZEN: -errno.EPERM,
    ErrorCode.INVALID_SIGNATURE: -errno.EBADMSG,
    ErrorCode.AUTHENTICATION_FAILED: -errno.EBADMSG,
    ErrorCode.TIMEOUT: -errno.ETIMEDOUT,
    ErrorCode.BUSY: -errno.EBUSY,
    ErrorCode.TRANSPORT: -errno.ENOTCONN,
    ErrorCode.WALLET: -errno.EINVAL,
    ErrorCode.MNEMONIC: -errno.EINVAL,
    ErrorCode.SESSION: -errno.EBUSY,
    ErrorCode.MODULE_STATE: -errno.EACCES,
    ErrorCode.DESTROYED: -errno.EACCES,
    ErrorCode.SELF_TEST_FAILED: -errno.EACCES,
    ErrorCode.BINDING: -errno.EACCES,
    ErrorCode.ACCESS_DENIED: -errno.EACCES,
    ErrorCode.PIN_LOCKED: -errno.EACCES,
}


def return_code(error: ScmError) -> int:
    """The negative return code for a module error (``-EIO`` where no closer errno exists)."""
    return RETURN_CODES.get(error.code, -errno.EIO)


def failure(message: str, code: int = -errno.EINVAL) -> AssertionError:
    """The :class:`AssertionError` for a call that failed with ``code``."""
    return AssertionError(f"bad return code {code}: {message}")


def translated(method: Callable[P, T]) -> Callable[P, T]:
    """Run ``method``, turning a module error into :class:`AssertionError` (a timeout into
    :class:`ZymkeyTimeoutError`). The wrapper keeps the method's signature."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except ScmTimeoutError as exc:
            raise ZymkeyTimeoutError(f"bad return code {-errno.ETIMEDOUT}: {exc.message}") from None
        except ScmError as exc:
            raise failure(exc.message, return_code(exc)) from None

    return wrapper
