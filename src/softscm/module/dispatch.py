"""Request execution: the route of each command, the state gate, counters.

A :class:`Route` ties a request type (and so a :class:`~softscm.wire.defs.Command`) to a handler
and the module states in which it may run. The :class:`Dispatcher` holds the routes the command
areas registered, checks the state, decodes the request into its typed message, runs the handler
and counts the result. The server asks it which commands wait (``blocking_commands``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Generator, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from ..wire.codec import Reply, Request
from ..wire.defs import Command, ModuleState, Role
from ..wire.errors import BootHeldError, DestroyedError, InternalError, ModuleStateError, ProtocolError, ScmError
from ..wire.messages import Message
from ..wire.messages import Request as RequestMessage
from .access.caller import Session
from .offload import Deferred, Step, Stepped

log = logging.getLogger(__name__)

READY = frozenset({ModuleState.READY})
READY_OR_HOLD = frozenset({ModuleState.READY, ModuleState.HOLD})
ANY_STATE = frozenset(ModuleState)

Q = TypeVar("Q", bound=RequestMessage[Any])
_NAMES = {c: c.name for c in Command}  # Enum.name is a descriptor call; this is a dict lookup


Slots = Callable[[Any], Iterable[int]]


@dataclass(frozen=True)
class Route:
    request: type[RequestMessage[Any]]
    handler: Callable[..., Any]
    states: frozenset[ModuleState]
    blocking: bool = False  # the handler returns an awaitable (a wait for an event)
    role: Role = Role.USER  # the least role a caller needs
    uses: Slots | None = None  # the key slots a request uses (the caller needs rights on each)
    creates: Slots | None = None  # the key slots a reply made (granted to the caller)
    session: bool = False  # the handler also takes the caller's Session
    pin: bool = True  # an administrator command needs the PIN login once a PIN is set

    @property
    def command(self) -> Command:
        return self.request.COMMAND


def route(request: type[Q], handler: Callable[..., Message | Deferred] | Callable[..., Awaitable[Message]], *,
          states: frozenset[ModuleState] = READY, blocking: bool = False, role: Role = Role.USER,
          uses: Slots | None = None, creates: Slots | None = None, session: bool = False,
          pin: bool = True) -> Route:
    """The route of ``request``'s command to ``handler``, allowed only in ``states`` and to callers
    of at least ``role``; ``uses`` names the key slots the caller needs rights on, ``creates`` the
    new slots it gets rights on; with ``session`` the handler is called with the caller's session;
    ``pin=False`` lets an administrator run it without the PIN login (an unattended boot step)."""
    return Route(request, handler, states, blocking, role, uses, creates, session, pin)


def slot_of(request: Any) -> tuple[int]:
    """``uses``/``creates`` for a request or reply with a ``slot``."""
    return (request.slot,)


@dataclass
class Counters:
    """Operation counts and cumulative latency per command, for status and metrics."""

    ops: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


class Access(Protocol):
    """What the dispatcher asks of the access control."""

    def admit(self, session: Session, needed: Role, what: str, slots: Iterable[int] = (), *, pin: bool = True) -> None:
        ...

    def created(self, session: Session, slots: Iterable[int]) -> None: ...


class Gate(Protocol):
    """What the dispatcher reads of the module's state."""

    @property
    def state(self) -> ModuleState: ...

    @property
    def suspended(self) -> dict[str, str]: ...


class Dispatcher:
    """Runs requests against the registered routes. Not thread-safe (the module's one thread)."""

    def __init__(self, gate: Gate, routes: Iterable[Route], counters: Counters, access: Access) -> None:
        """:raises RuntimeError: if two routes serve one command."""
        self._gate = gate
        self._access = access
        self._routes: dict[Command, Route] = {}
        self.counters = counters
        for r in routes:
            if r.command in self._routes:
                raise RuntimeError(f"{r.command.name} is routed twice")
            self._routes[r.command] = r
        self.blocking_commands = frozenset(c for c, r in self._routes.items() if r.blocking)
        """The commands that wait for an event (the server runs them as tasks)."""

    def handle(self, request: Request, session: Session) -> Reply:
        """Run one request for ``session``'s caller. Never raises: every failure becomes an error reply."""
        started = time.perf_counter()
        try:
            result = self.execute(request, session)
        except ScmError as exc:
            self._count_error(request.command)
            return Reply.failure(request.id, exc)
        except Exception:
            log.exception("internal error in %s", _NAMES[request.command])
            self._count_error(request.command)
            return Reply.failure(request.id, InternalError("internal error; the request had no effect"))
        name, counters = _NAMES[request.command], self.counters
        counters.ops[name] = counters.ops.get(name, 0) + 1
        counters.seconds[name] = counters.seconds.get(name, 0.0) + time.perf_counter() - started
        # a Deferred goes back as it is: the server awaits it and replies then
        return Reply(request.id, 0, result if isinstance(result, Deferred) else result.to_wire())

    def _count_error(self, command: Command) -> None:
        errors = self.counters.errors
        errors[_NAMES[command]] = errors.get(_NAMES[command], 0) + 1

    def execute(self, request: Request, session: Session) -> Any:
        """Check the state, decode the arguments, check the caller's rights and run the handler;
        returns its reply message (or, for a blocking command, an awaitable of it).

        :raises ScmError: the typed error for anything that goes wrong.
        :raises AccessDeniedError: if the caller may not run it (recorded in the audit log).
        """
        command = request.command
        r = self._routes.get(command)
        gate = self._gate
        if r is None or gate.state not in r.states or gate.suspended and r.states == READY:
            r = self._allowed(command)  # raises the reason
        name = _NAMES[command]
        message = r.request.from_wire(request.args)
        access = self._access
        access.admit(session, r.role, name, () if r.uses is None else r.uses(message), pin=r.pin)
        reply = r.handler(message, session) if r.session else r.handler(message)
        if isinstance(reply, Stepped):  # the module may change state between its steps
            creates = r.creates
            reply = Stepped(_granting(reply.steps, lambda done: access.created(session, creates(done)))
                            if creates is not None else reply.steps,
                            check=lambda: self._allowed(request.command))
        elif r.creates is not None:
            access.created(session, r.creates(reply))
        return reply

    def _allowed(self, command: Command) -> Route:
        """``command``'s route. :raises ScmError: if it is not served in the present state."""
        r = self._routes.get(command)
        state = self._gate.state
        if r is None or state not in r.states:  # execute() repeats this test inline (the request path)
            name = _NAMES[command]
            if state is ModuleState.DESTROYED:
                raise DestroyedError("the module has been destroyed; its keys are gone")
            if r is None:
                raise ProtocolError(f"{name} is not served by this module")
            if state is ModuleState.HOLD:
                raise BootHeldError(f"{name} is refused while the boot is held: remediate and authorise first")
            raise ModuleStateError(f"{name} is not allowed while the module is {state.name}")
        if r.states == READY and self._gate.suspended:
            raise ModuleStateError("security services are suspended: " + "; ".join(self._gate.suspended.values()))
        return r


def _granting(steps: Generator[Step, Any, Any], grant: Callable[[Any], None]) -> Generator[Step, Any, Any]:
    """``steps``, then ``grant(reply)`` before the reply goes out."""
    reply = yield from steps
    grant(reply)
    return reply
