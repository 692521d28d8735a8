"""The connection every `Zymkey` method goes through."""

from __future__ import annotations

import errno
import os
from typing import Any

from softscm.host.client import Client, connect, default_url
from softscm.wire.errors import ScmError

from ._errors import failure

URL_VARIABLES = ("ZYMKEY_SOFTSCM_URL", "SOFTSCM_URL")


def module_url() -> str:
    """``$ZYMKEY_SOFTSCM_URL``, else ``$SOFTSCM_URL``, else the default socket (``unix:`` or
    ``tcp:`` URLs)."""
    for name in URL_VARIABLES:
        if os.environ.get(name):
            return os.environ[name]
    return default_url()


def as_bytes(value: Any) -> bytes:
    """Bytes from bytes, a bytearray, a list of ints or text (UTF-8)."""
    if isinstance(value, str):
        return value.encode()
    return bytes(value)


class ZymkeyBase:
    """Holds the softscm client; a :class:`Zymkey` is one connection to the module."""

    EPHEMERAL_KEY_SLOT = -1

    def __init__(self) -> None:
        """Connect to the module named by :func:`module_url`.

        :raises AssertionError: if the module cannot be reached.
        """
        url = module_url()
        try:
            self._scm: Client = connect(url)
        except (ScmError, OSError, ValueError) as exc:
            raise failure(str(exc) or f"cannot reach the module at {url}", -errno.ENODEV) from None

    def close(self) -> None:
        """Close the connection (also done when the object is collected)."""
        scm = self.__dict__.pop("_scm", None)
        if scm is not None:
            scm.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 (nothing may escape a finaliser)
            pass
