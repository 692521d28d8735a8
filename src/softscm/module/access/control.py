"""The access table: roles, per-key grants and the administrator PIN, kept in the keystore (its
rows are MACed like every module value) and enforced by the dispatcher.

Rules:

- The module owner (the uid ``scmd`` runs as; the in-process embedded client) is an
  administrator. A client that proved an enrolled key on the encrypted channel (``client:NAME``)
  is a user (an administrator enrolled it; revoking the key shuts it out). Everyone else has no
  role until an administrator gives one to its ``uid:N``, ``gid:N`` or ``client:NAME``.
- A user may use a key it created (a new key is granted to its creator, replacing any grant a
  removed key in that slot had) or one it was granted; an administrator may use every key.
- Once an administrator PIN is set, administrator commands also need a PIN login on the
  connection. After :data:`MAX_PIN_FAILURES` wrong PINs in a row the PIN is locked; only the
  module owner can reset it (``ACCESS_RESET_PIN``), which sets a new PIN.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from ...wire.defs import FACTORY_SLOTS, Event, Role
from ...wire.errors import AccessDeniedError, InvalidArgumentError, PinLockedError
from ...wire.messages.access import MIN_PIN
from ..audit.recorder import Recorder
from ..crypto.rng import Rng
from ..store.keystore import KeyStore
from .caller import CLIENT_PREFIX, Caller, Session, check_principal

ACCESS = "access"
GRANT_PREFIX = "access.grant."  # one row per granted slot: a new key rewrites its own grant, not the table
MAX_PIN_FAILURES = 5
_SCRYPT = {"length": 32, "n": 2**14, "r": 8, "p": 1}


def _pin_hash(pin: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, **_SCRYPT).derive(pin.encode())


@dataclass
class Grant:
    """Who may use one key: the key is named by its public key, so that a grant never carries over
    to another key stored later in the same slot."""

    public: str
    principals: list[str]

    def to_json(self) -> bytes:
        return json.dumps([self.public, self.principals]).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Grant:
        public, principals = json.loads(data)
        return cls(public, list(principals))


@dataclass
class AccessTable:
    """What is persisted: roles by principal, grants by slot, the PIN's salted hash and failures.
    :meth:`to_json` holds all but the grants, which are kept one row per slot."""

    roles: dict[str, int] = field(default_factory=dict)
    grants: dict[int, Grant] = field(default_factory=dict)
    pin_salt: str = ""
    pin_hash: str = ""
    pin_failures: int = 0

    def to_json(self) -> bytes:
        return json.dumps({"roles": self.roles, "pin_salt": self.pin_salt, "pin_hash": self.pin_hash,
                           "pin_failures": self.pin_failures}, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> AccessTable:
        """The table; grants that an older module kept inside it (``"grants"``) come along."""
        raw = json.loads(data)
        return cls({k: int(v) for k, v in raw["roles"].items()},
                   {int(k): Grant(v[0], list(v[1])) for k, v in raw.get("grants", {}).items()},
                   raw["pin_salt"], raw["pin_hash"], int(raw["pin_failures"]))


class AccessControl:
    """Decides, for a session, whether a command and a key may be used; every refusal is a typed
    error and an audit entry."""

    def __init__(self, store: KeyStore, events: Recorder, rng: Rng) -> None:
        self._store = store
        self._events = events
        self._rng = rng
        stored = store.get_meta(ACCESS)
        self.table = AccessTable.from_json(stored) if stored else AccessTable()
        self._inline_grants = bool(self.table.grants)  # an older module's table: its grants move out at the next save
        for name in store.meta_names(GRANT_PREFIX):
            row = store.get_meta(name)
            if row is not None:
                self.table.grants[int(name[len(GRANT_PREFIX):])] = Grant.from_json(row)

    def _save(self) -> None:
        self._persist((), table=True)

    def _save_grants(self, slots: Iterable[int]) -> None:
        self._persist(slots, table=False)

    def _persist(self, slots: Iterable[int], *, table: bool) -> None:
        """Write the grant rows of ``slots``, and the table itself if ``table``, in one transaction
        (an older module's inline grants move out to their rows with the first write)."""
        if self._inline_grants:
            slots, table = [*self.table.grants, *slots], True
        rows: dict[str, bytes | None] = {}
        for slot in slots:
            grant = self.table.grants.get(slot)
            rows[f"{GRANT_PREFIX}{slot}"] = grant.to_json() if grant is not None and grant.principals else None
        if table:
            rows[ACCESS] = self.table.to_json()
        self._store.update_meta(rows)
        self._inline_grants = False

    # -- roles ----------------------------------------------------------------------------------

    def role(self, caller: Caller) -> Role:
        """The highest role any of the caller's names holds (the owner: administrator)."""
        if caller.is_owner:
            return Role.ADMIN
        enrolled = Role.USER if caller.principal.startswith(CLIENT_PREFIX) else Role.NONE
        return Role(max(enrolled, *(self.table.roles.get(name, 0) for name in caller.names)))

    @property
    def pin_set(self) -> bool:
        return bool(self.table.pin_hash)

    def _refuse(self, session: Session, what: str) -> AccessDeniedError:
        self._events.record(Event.ACCESS_DENIED, principal=session.caller.principal, what=what)
        return AccessDeniedError(f"{session.caller.principal} may not {what}")

    def authorize(self, session: Session, needed: Role, what: str, *, pin: bool = True) -> None:
        """:raises AccessDeniedError: if the session's role (and PIN login, for administrator
        commands once a PIN is set, unless ``pin`` is false) does not allow ``what``."""
        self.admit(session, needed, what, pin=pin)

    def admit(self, session: Session, needed: Role, what: str, slots: Iterable[int] = (), *, pin: bool = True) -> None:
        """:meth:`authorize`, then :meth:`check_keys` on ``slots``, with the caller's role worked out once.

        :raises AccessDeniedError: if either refuses.
        """
        role = self.role(session.caller)
        if role < needed:
            raise self._refuse(session, what)
        if pin and needed is Role.ADMIN and self.pin_set and not session.logged_in:
            raise self._refuse(session, f"{what} without the administrator PIN")
        if role is Role.ADMIN:
            return
        names = set(session.caller.names)
        for slot in slots:
            grant = self.table.grants.get(slot)
            if slot >= 0 and (grant is None or not names.intersection(grant.principals)):
                raise self._refuse(session, f"{what} with the key in slot {slot}")

    def set_role(self, principal: str, role: Role) -> None:
        check_principal(principal)
        if role is Role.NONE:
            self.table.roles.pop(principal, None)
        else:
            self.table.roles[principal] = int(role)
        self._save()
        self._events.record(Event.ACCESS_CHANGE, principal=principal, role=role.name)

    # -- keys -----------------------------------------------------------------------------------

    def check_keys(self, session: Session, slots: Iterable[int], what: str) -> None:
        """:raises AccessDeniedError: unless the session may use every slot in ``slots`` (the
        ephemeral slot, -1, belongs to the module's one ephemeral key: any user may)."""
        self.admit(session, Role.NONE, what, slots, pin=False)

    def _add(self, slot: int, principal: str) -> bool:
        """Grant the key now in ``slot`` to ``principal``; a grant left by a removed key in that
        slot is dropped. Returns whether anything changed."""
        public = self._store.get(slot).public.hex()
        grant = self.table.grants.get(slot)
        if grant is None or grant.public != public:
            self.table.grants[slot] = Grant(public, [principal])
            return True
        if principal in grant.principals:
            return False
        grant.principals.append(principal)
        return True

    def created(self, session: Session, slots: Iterable[int]) -> None:
        """The session made (or derived again) the keys in ``slots``: it may use them. The module
        owner, an administrator whatever the table says, gets no grant; a grant a removed key left
        in the slot is dropped all the same."""
        principal = session.caller.principal
        add = self._drop_stale if session.caller.is_owner else lambda slot: self._add(slot, principal)
        changed = [slot for slot in slots if slot >= FACTORY_SLOTS and add(slot)]
        if changed:
            self._save_grants(changed)

    def _drop_stale(self, slot: int) -> bool:
        """Drop the grant of a key no longer in ``slot``; returns whether there was one."""
        grant = self.table.grants.get(slot)
        if grant is None or grant.public == self._store.get(slot).public.hex():
            return False
        del self.table.grants[slot]
        return True

    def grant(self, slot: int, principal: str) -> None:
        """:raises SlotEmptyError: for an empty slot."""
        if self._add(slot, check_principal(principal)):
            self._save_grants([slot])
        self._events.record(Event.ACCESS_CHANGE, slot=slot, principal=principal, granted=True)

    def revoke(self, slot: int, principal: str) -> None:
        grant = self.table.grants.get(slot)
        if grant is not None and principal in grant.principals:
            grant.principals.remove(principal)
            self._save_grants([slot])
        self._events.record(Event.ACCESS_CHANGE, slot=slot, principal=principal, granted=False)

    # -- the administrator PIN --------------------------------------------------------------------

    @property
    def pin_locked(self) -> bool:
        return self.table.pin_failures >= MAX_PIN_FAILURES

    def login(self, session: Session, pin: str) -> None:
        """:raises PinLockedError: once the PIN is locked. :raises AccessDeniedError: for a wrong
        PIN (counted), or when no PIN is set."""
        if not self.pin_set:
            raise AccessDeniedError("no administrator PIN is set")
        if self.pin_locked:
            self._events.record(Event.LOGIN, principal=session.caller.principal, result="locked")
            raise PinLockedError("the administrator PIN is locked; the module owner must reset it")
        expected = bytes.fromhex(self.table.pin_hash)
        if not hmac.compare_digest(_pin_hash(pin, bytes.fromhex(self.table.pin_salt)), expected):
            self.table.pin_failures += 1
            self._save()
            self._events.record(Event.LOGIN, principal=session.caller.principal, result="wrong PIN",
                                failures=self.table.pin_failures)
            if self.pin_locked:
                raise PinLockedError("the administrator PIN is locked; the module owner must reset it")
            raise AccessDeniedError("wrong PIN")
        if self.table.pin_failures:
            self.table.pin_failures = 0
            self._save()
        session.logged_in = True
        self._events.record(Event.LOGIN, principal=session.caller.principal, result="ok")

    def set_pin(self, pin: str) -> None:
        """:raises InvalidArgumentError: for a PIN shorter than :data:`MIN_PIN` characters."""
        if len(pin) < MIN_PIN:
            raise InvalidArgumentError(f"the PIN has at least {MIN_PIN} characters")
        salt = self._rng(16)
        self.table.pin_salt, self.table.pin_hash = salt.hex(), _pin_hash(pin, salt).hex()
        self.table.pin_failures = 0
        self._save()
        self._events.record(Event.ACCESS_CHANGE, pin="set")

    def reset_pin(self, session: Session, pin: str) -> None:
        """:raises AccessDeniedError: unless the caller is the module owner itself."""
        if not session.caller.is_owner:
            raise self._refuse(session, "reset the administrator PIN")
        self.set_pin(pin)
        session.logged_in = True


class OwnerOnly:
    """The access of a module with no keystore (destroyed): its owner may read what is left;
    nobody else may do anything."""

    def authorize(self, session: Session, needed: Role, what: str, *, pin: bool = True) -> None:
        """:raises AccessDeniedError: for anyone but the owner."""
        if not session.caller.is_owner and needed is not Role.NONE:
            raise AccessDeniedError(f"{session.caller.principal} may not {what}")

    def admit(self, session: Session, needed: Role, what: str, slots: Iterable[int] = (), *, pin: bool = True) -> None:
        """:raises AccessDeniedError: for anyone but the owner (who may use no keys here either: there are none)."""
        self.authorize(session, Role.USER if slots else needed, what)

    def created(self, session: Session, slots: Iterable[int]) -> None:
        """A module with no keystore creates no keys."""
