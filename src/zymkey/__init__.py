"""A drop-in `zymkey` package: code written against Zymbit's ``zymkey`` Python API runs on softscm.

``zymkey.client`` is a :class:`Zymkey` connected at import to the module named by
``$ZYMKEY_SOFTSCM_URL``, else ``$SOFTSCM_URL``, else the default socket; ``None`` (with a warning)
when no module can be reached. See docs/zymkey.md for the surface and how it maps onto softscm.
"""

from __future__ import annotations

import warnings

from . import exceptions
from ._crypto import CryptoMixin
from ._device import DeviceMixin
from ._wallet import WalletMixin
from .types import (
    CLOUD_ENCRYPTION_KEY,
    ENCRYPTION_KEYS,
    ZYMKEY_ENCRYPTION_KEY,
    DigestObject,
    RecoveryId,
    RecoveryStrategy,
    RecoveryStrategyBIP39,
    RecoveryStrategySLIP39,
    ZymkeyAccelAxisData,
    kdfFuncTypes,
    keyTypes,
)


class Zymkey(CryptoMixin, WalletMixin, DeviceMixin):
    """One connection to the module, with every method of the `zymkey` API.

    A failed call raises :class:`AssertionError` whose message carries a negative return code.
    """


def create_new_client() -> Zymkey | None:
    """A new :class:`Zymkey`, or ``None`` (with a warning) if the module cannot be reached."""
    try:
        return Zymkey()
    except AssertionError as exc:
        warnings.warn(f"zymkey: no module reached ({exc})", RuntimeWarning, stacklevel=2)
        return None


client = create_new_client()

__all__ = [
    "CLOUD_ENCRYPTION_KEY",
    "ENCRYPTION_KEYS",
    "ZYMKEY_ENCRYPTION_KEY",
    "DigestObject",
    "RecoveryId",
    "RecoveryStrategy",
    "RecoveryStrategyBIP39",
    "RecoveryStrategySLIP39",
    "Zymkey",
    "ZymkeyAccelAxisData",
    "client",
    "create_new_client",
    "exceptions",
    "kdfFuncTypes",
    "keyTypes",
]
