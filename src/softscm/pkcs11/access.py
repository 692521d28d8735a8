"""Who may use the token: the one place that decides.

The module checks who calls by itself (the caller's uid on the Unix socket, roles, key grants); a
refusal reaches the application as CKR_FUNCTION_REJECTED. Its administrator PIN is not wired to
C_Login yet (that is its own issue): C_Login accepts any PIN for the user and the security officer,
the token does not set CKF_LOGIN_REQUIRED, and no object is private (CKA_PRIVATE false), so tools
such as ``ssh -I`` never ask for a PIN. Wiring the PIN is a change to this module (and a login on
each session's connection) only.
"""

from __future__ import annotations

from .constants import CKU

LOGIN_REQUIRED = False


def check_pin(user_type: CKU, pin: bytes) -> None:
    """Accept the PIN of ``user_type`` (every PIN, for now).

    :raises Pkcs11Error: ``CKR_PIN_INCORRECT`` once the module checks PINs.
    """
    del user_type, pin
