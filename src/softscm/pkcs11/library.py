"""The library's process-wide state: C_Initialize/C_Finalize, the sessions, login, the token.

After ``fork()`` the child sees the library as not initialised (CKR_CRYPTOKI_NOT_INITIALIZED) until
it calls C_Initialize itself, as PKCS#11 v2.40 section 6.7.7 asks. The state remembers the fork
generation it was made in: in the built library a counter that a ``pthread_atfork`` child handler
bumps (whoever forks, however Python was started), else one that ``os.register_at_fork`` bumps. A
fork handler also replaces the lock; the parent's connections are never used in the child.
"""

from __future__ import annotations

import datetime
import itertools
import os
import threading
from operator import methodcaller
from collections.abc import Callable
from dataclasses import dataclass

from . import access
from .config import Config
from .constants import CKR, CKS, CKU, InitFlag, SessionFlag, SlotFlag, TokenFlag
from .errors import Pkcs11Error
from .labels import LabelStore
from .objects import SESSION_HANDLE_BASE, KeyRef, SecretObject
from .session import Session
from .token import Token

SLOT_ID = 0
MANUFACTURER = "softscm"
LIBRARY_DESCRIPTION = "softscm PKCS#11 module"
LIBRARY_VERSION = (0, 1)


@dataclass(frozen=True)
class InitArgs:
    """What C_Initialize was given (CK_C_INITIALIZE_ARGS, or nothing)."""

    flags: int = 0
    mutex_functions: int = 0  # how many of the four mutex callbacks are set
    reserved: bool = False


@dataclass(frozen=True)
class SlotInfo:
    description: str
    manufacturer: str
    flags: SlotFlag


@dataclass(frozen=True)
class TokenInfo:
    label: str
    manufacturer: str
    model: str
    serial: str
    flags: TokenFlag
    sessions: int
    rw_sessions: int
    firmware: tuple[int, int]
    utc_time: str


class State:
    """Everything between C_Initialize and C_Finalize."""

    def __init__(self, config: Config, generation: int) -> None:
        self.generation = generation
        self.token = Token(config.url, LabelStore(config.labels), config.key_types)
        self.sessions: dict[int, Session] = {}
        self.secrets: dict[int, SecretObject] = {}
        self.session_keys: dict[tuple[bool, int], int] = {}  # CKA_TOKEN false keys -> owning session
        self.lock = threading.Lock()
        self._session_ids = itertools.count(1)
        self._object_ids = itertools.count(SESSION_HANDLE_BASE)

    @property
    def user(self) -> CKU | None:
        """Who the application is logged in as (``None``: nobody)."""
        return self.token.login.user

    def is_token_object(self, ref: KeyRef) -> bool:
        return (ref.foreign, ref.slot) not in self.session_keys

    def add_secret(self, make: Callable[[int], SecretObject]) -> int:
        handle = next(self._object_ids)
        self.secrets[handle] = make(handle)
        return handle

    def session(self, handle: int) -> Session:
        """:raises Pkcs11Error: ``CKR_SESSION_HANDLE_INVALID`` for a handle no open session has."""
        session = self.sessions.get(handle)
        if session is None:
            raise Pkcs11Error(CKR.SESSION_HANDLE_INVALID)
        return session

    def check_slot(self, slot_id: int) -> None:
        if slot_id != SLOT_ID:
            raise Pkcs11Error(CKR.SLOT_ID_INVALID)

    # -- slot and token ---------------------------------------------------------------------------

    def slot_info(self, slot_id: int) -> SlotInfo:
        self.check_slot(slot_id)
        flags = SlotFlag.REMOVABLE_DEVICE | (SlotFlag.TOKEN_PRESENT if self.token.present() else 0)
        return SlotInfo(f"softscm module at {self.token.url}", MANUFACTURER, SlotFlag(flags))

    def token_info(self, slot_id: int) -> TokenInfo:
        """:raises Pkcs11Error: ``CKR_TOKEN_NOT_PRESENT`` if the module does not answer."""
        self.check_slot(slot_id)
        info = self.token.info()
        now = self.token.query(lambda client: client.get_module_time())
        utc = datetime.datetime.fromtimestamp(now, datetime.timezone.utc).strftime("%Y%m%d%H%M%S00")
        major, minor = (int(part) for part in (info.firmware_version.split(".") + ["0", "0"])[:2])
        identity = self.token.query(methodcaller("whoami"))
        flags = TokenFlag.RNG | TokenFlag.USER_PIN_INITIALIZED | TokenFlag.TOKEN_INITIALIZED | TokenFlag.CLOCK_ON_TOKEN
        if access.LOGIN_REQUIRED:
            flags |= TokenFlag.LOGIN_REQUIRED
        if identity.pin_locked:
            flags |= TokenFlag.USER_PIN_LOCKED | TokenFlag.SO_PIN_LOCKED
        sessions = list(self.sessions.values())
        return TokenInfo(info.model, MANUFACTURER, info.model, info.serial, flags, len(sessions),
                         sum(1 for s in sessions if s.rw), (major, minor), utc)

    # -- sessions ---------------------------------------------------------------------------------

    def open_session(self, slot_id: int, flags: int) -> int:
        """:raises Pkcs11Error: ``CKR_SESSION_PARALLEL_NOT_SUPPORTED`` without CKF_SERIAL_SESSION,
        ``CKR_TOKEN_NOT_PRESENT`` if the module cannot be reached."""
        self.check_slot(slot_id)
        if not flags & SessionFlag.SERIAL_SESSION:
            raise Pkcs11Error(CKR.SESSION_PARALLEL_NOT_SUPPORTED)
        rw = bool(flags & SessionFlag.RW_SESSION)
        if not rw and self.user is CKU.SO:
            raise Pkcs11Error(CKR.SESSION_READ_WRITE_SO_EXISTS)
        self.token.info()
        with self.lock:
            handle = next(self._session_ids)
            session = Session(handle, self, rw=rw)
            self.sessions[handle] = session
        try:
            session.connection.client()
        except Pkcs11Error:
            self.sessions.pop(handle, None)
            raise
        return handle

    def close_session(self, handle: int) -> None:
        with self.lock:
            session = self.sessions.pop(handle, None)
            if session is None:
                raise Pkcs11Error(CKR.SESSION_HANDLE_INVALID)
            owned = [key for key, owner in self.session_keys.items() if owner == handle]
            for key in owned:
                del self.session_keys[key]
            for object_handle in [h for h, secret in self.secrets.items() if secret.owner == handle]:
                del self.secrets[object_handle]
            if not self.sessions:
                self.token.login.end()
        for foreign, slot in owned:  # session key pairs leave the module with their session
            try:
                session.connection.run(methodcaller("remove_key", slot, foreign=foreign))
            except Pkcs11Error:
                pass
        session.close()

    def close_all(self, slot_id: int) -> None:
        self.check_slot(slot_id)
        for handle in list(self.sessions):
            try:
                self.close_session(handle)
            except Pkcs11Error:
                pass  # closed by another thread meanwhile

    def session_state(self, session: Session) -> CKS:
        if self.user is CKU.SO:
            return CKS.RW_SO_FUNCTIONS
        if self.user is CKU.USER:
            return CKS.RW_USER_FUNCTIONS if session.rw else CKS.RO_USER_FUNCTIONS
        return CKS.RW_PUBLIC_SESSION if session.rw else CKS.RO_PUBLIC_SESSION

    # -- login --------------------------------------------------------------------------------------

    def login(self, session: Session, user_type: int, pin: bytes) -> None:
        """Log the application in (every session shares the login; see :mod:`.access`), checking
        the PIN with the module on ``session``'s connection when the module has one set.

        :raises Pkcs11Error: ``CKR_USER_TYPE_INVALID``, ``CKR_USER_ALREADY_LOGGED_IN``,
            ``CKR_USER_ANOTHER_ALREADY_LOGGED_IN``, ``CKR_SESSION_READ_ONLY_EXISTS`` (SO while a
            read-only session is open), ``CKR_PIN_INCORRECT``, ``CKR_PIN_LOCKED``.
        """
        try:
            user = CKU(user_type)
        except ValueError:
            raise Pkcs11Error(CKR.USER_TYPE_INVALID) from None
        if user is CKU.CONTEXT_SPECIFIC:
            raise Pkcs11Error(CKR.OPERATION_NOT_INITIALIZED)  # no key here needs CKA_ALWAYS_AUTHENTICATE
        with self.lock:
            if self.user is not None:
                raise Pkcs11Error(CKR.USER_ALREADY_LOGGED_IN if self.user is user
                                  else CKR.USER_ANOTHER_ALREADY_LOGGED_IN)
            if user is CKU.SO and any(not s.rw for s in self.sessions.values()):
                raise Pkcs11Error(CKR.SESSION_READ_ONLY_EXISTS)
            module_pin = None
            if session.connection.run(methodcaller("whoami")).pin_set:
                module_pin = access.login_pin(pin)
                session.connection.log_in(module_pin)
            session.connection.follow(self.token.login.start(user, module_pin))

    def logout(self) -> None:
        """:raises Pkcs11Error: ``CKR_USER_NOT_LOGGED_IN``."""
        with self.lock:
            if self.user is None:
                raise Pkcs11Error(CKR.USER_NOT_LOGGED_IN)
            self.token.login.end()

    def set_pin(self, session: Session, old: bytes | None, new: bytes) -> None:
        """Set the module's PIN (``ACCESS_SET_PIN``): C_SetPIN (``old`` checked with the module
        first when a PIN is set) as USER or SO, C_InitPIN (``old`` ``None``) as SO. The USER and
        SO PINs are the module's one PIN. The application stays logged in, with the new PIN.

        :raises Pkcs11Error: ``CKR_SESSION_READ_ONLY``, ``CKR_USER_NOT_LOGGED_IN``,
            ``CKR_PIN_LEN_RANGE``, ``CKR_PIN_INCORRECT``, ``CKR_PIN_LOCKED``, or the module's refusal.
        """
        with self.lock:
            if not session.rw:
                raise Pkcs11Error(CKR.SESSION_READ_ONLY)
            user = self.user
            if user is None or (old is None and user is not CKU.SO):
                raise Pkcs11Error(CKR.USER_NOT_LOGGED_IN)
            pin = access.new_pin(new)
            if old is not None and self.token.login.state.pin is not None:
                session.connection.log_in(access.login_pin(old))
            session.connection.run(methodcaller("set_pin", pin))
            session.connection.log_in(pin)  # setting the PIN does not log the connection in
            session.connection.follow(self.token.login.start(user, pin))

    def close(self) -> None:
        self.close_all(SLOT_ID)
        self.token.close()


class Library:
    """The one library instance of a process. ``fork_generation`` tells how many forks led to the
    calling process (the C shim's counter; by default one kept by ``os.register_at_fork``)."""

    def __init__(self, fork_generation: Callable[[], int] | None = None) -> None:
        self._lock = threading.Lock()
        self._state: State | None = None
        self._forks = 0
        self.fork_generation = fork_generation or (lambda: self._forks)
        os.register_at_fork(after_in_child=self._after_fork)

    def _after_fork(self) -> None:
        self._forks += 1
        self._lock = threading.Lock()

    def state(self) -> State:
        """:raises Pkcs11Error: ``CKR_CRYPTOKI_NOT_INITIALIZED`` before C_Initialize, after
        C_Finalize, and in a forked child that has not called C_Initialize."""
        state = self._state
        if state is None or state.generation != self.fork_generation():
            raise Pkcs11Error(CKR.CRYPTOKI_NOT_INITIALIZED)
        return state

    def initialize(self, args: InitArgs) -> None:
        """:raises Pkcs11Error: ``CKR_ARGUMENTS_BAD`` for a reserved pointer or only some mutex
        callbacks, ``CKR_CANT_LOCK`` for callbacks without CKF_OS_LOCKING_OK (this library locks
        with the operating system's primitives only), ``CKR_CRYPTOKI_ALREADY_INITIALIZED``."""
        if args.reserved or args.mutex_functions not in (0, 4):
            raise Pkcs11Error(CKR.ARGUMENTS_BAD)
        if args.mutex_functions and not args.flags & InitFlag.OS_LOCKING_OK:
            raise Pkcs11Error(CKR.CANT_LOCK)
        with self._lock:
            state = self._state
            generation = self.fork_generation()
            if state is not None and state.generation == generation:
                raise Pkcs11Error(CKR.CRYPTOKI_ALREADY_INITIALIZED)
            try:
                config = Config.load()
            except ValueError:
                raise Pkcs11Error(CKR.GENERAL_ERROR) from None  # a config naming an unknown key type
            self._state = State(config, generation)

    def finalize(self) -> None:
        with self._lock:
            state = self.state()
            self._state = None
        state.close()
