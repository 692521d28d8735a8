"""Who may use the token: the login, and how a module refusal reads as a ``CKR_*``.

The module decides what a caller may do (its uid on the Unix socket, its role, key grants; see
docs/access-control.md). The library adds the module's administrator PIN as the PKCS#11 login:

- ``C_Login(CKU_SO, pin)`` and ``C_Login(CKU_USER, pin)`` both log in with the module's one PIN
  (``ACCESS_LOGIN``) when one is set: a wrong PIN is ``CKR_PIN_INCORRECT`` and counts toward the
  module's lockout, a locked PIN ``CKR_PIN_LOCKED``. With no PIN set both are accepted without a
  check (the kernel already identified the caller; its role decides). Object management (key
  removal, certificates) is a USER function in PKCS#11 and an administrator one in the module,
  so the USER login carries the module login too; SO differs by PKCS#11's session rules only.
- The login belongs to the application: every connection its sessions use, the token-level one,
  those opened later and those opened again after a break are logged in before their next call,
  on the thread that makes it. C_Logout, closing the last session and C_Finalize end it. The PIN
  is kept in memory for that while logged in (never written, logged or shown).
- A login the module no longer accepts on a new connection (another application changed the PIN,
  or locked it) ends the application's login: one counted failure, not one per connection.
- A refusal is ``CKR_USER_NOT_LOGGED_IN`` when a PIN login would lift it (the module says the
  caller is an administrator, a PIN is set and this connection is not logged in), else
  ``CKR_FUNCTION_REJECTED`` (the caller's role or key grants do not allow it: no login helps).
- The token never sets CKF_LOGIN_REQUIRED (key use needs no PIN, so ``ssh -I`` asks none), and
  no object is private (CKA_PRIVATE false).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..wire.defs import Role
from ..wire.messages.access import MIN_PIN, Identity
from .constants import CKR, CKU
from .errors import Pkcs11Error

LOGIN_REQUIRED = False
MAX_PIN = 128  # the wire's limit for a PIN (characters)


@dataclass(frozen=True, eq=False)
class LoginState:
    """One login (or logout) of the application: who, and the PIN that logs a connection in
    (``None``: connections are not logged in to the module). Compared by identity: a connection
    holds the state it last applied."""

    user: CKU | None = None
    pin: str | None = None

    def __repr__(self) -> str:  # the PIN stays out of every log and traceback
        return f"LoginState(user={self.user!r})"


class Login:
    """The application's login, shared by every connection it opens. ``state`` is replaced as a
    whole (one atomic assignment), so a connection reads a consistent user and PIN."""

    def __init__(self) -> None:
        self.state = LoginState()

    @property
    def user(self) -> CKU | None:
        return self.state.user

    def start(self, user: CKU, pin: str | None) -> LoginState:
        self.state = LoginState(user, pin)
        return self.state

    def end(self) -> None:
        self.state = LoginState()

    def drop(self, state: LoginState) -> None:
        """End the login if ``state`` is still the current one (a connection could not apply it)."""
        if self.state is state:
            self.end()


def _text(pin: bytes) -> str | None:
    try:
        return pin.decode()
    except UnicodeDecodeError:
        return None


def login_pin(pin: bytes) -> str:
    """The PIN of C_Login as the module takes it (UTF-8 text).

    :raises Pkcs11Error: ``CKR_PIN_INCORRECT`` for one no PIN can be (not UTF-8, or longer than
        the module takes); the module is not asked, so it does not count.
    """
    text = _text(pin)
    if text is None or len(text) > MAX_PIN:
        raise Pkcs11Error(CKR.PIN_INCORRECT)
    return text


def new_pin(pin: bytes) -> str:
    """A PIN to set (C_SetPIN, C_InitPIN).

    :raises Pkcs11Error: ``CKR_PIN_LEN_RANGE`` outside 6-128 characters, ``CKR_PIN_INVALID`` if
        it is not UTF-8.
    """
    text = _text(pin)
    if text is None:
        raise Pkcs11Error(CKR.PIN_INVALID)
    if not MIN_PIN <= len(text) <= MAX_PIN:
        raise Pkcs11Error(CKR.PIN_LEN_RANGE)
    return text


def refusal(identity: Identity | None) -> CKR:
    """What a module refusal (``ACCESS_DENIED``) means to the application, from what the module
    says about the connection that was refused (``None``: it could not say)."""
    if identity is not None and identity.role is Role.ADMIN and identity.pin_set and not identity.logged_in:
        return CKR.USER_NOT_LOGGED_IN
    return CKR.FUNCTION_REJECTED
