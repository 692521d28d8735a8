"""The exceptions of the `zymkey` API (each derives from :class:`Exception`).

A failed module call raises :class:`AssertionError` (as the shipped library does); these are for
the cases the reference names: a signature or blob that does not verify, a wait that times out.
"""

from __future__ import annotations

ETIMEDOUT = 110


class VerificationError(Exception):
    """A signature did not verify, or a locked blob failed authentication."""


class ZymkeyLibraryError(Exception):
    """The library itself failed (not the module)."""


class ZymkeyTimeoutError(Exception):
    """A wait ended before the event arrived (return code -110, ETIMEDOUT)."""

    code = -ETIMEDOUT


class CommandError(Exception):
    """A command could not be carried out."""


class VaultError(Exception):
    """A vault operation failed."""


__all__ = ["CommandError", "VaultError", "VerificationError", "ZymkeyLibraryError", "ZymkeyTimeoutError"]
