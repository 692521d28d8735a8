"""Request execution: the route of each command, the state gate, counters.

A :class:`Route` ties a request type (and so a :class:`~softscm.wire.defs.Command`) to a handler
and the module states in which it may run. The :class:`Dispatcher` holds the routes the command
areas registered, checks the state, decodes the request into its typed message, runs the handler
and counts the result. The server asks it whether a command waits (``blocking``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from ..wire.codec import Reply, Request
from ..wire.defs import Command, ModuleState
from ..wire.errors import DestroyedError, InternalError, ModuleStateError, ProtocolError, ScmError
from ..wire.messages import Message
from ..wire.messages import Request as RequestMessage

log = logging.getLogger(__name__)

READY = frozenset({ModuleState.READY})
READY_OR_HOLD = frozenset({ModuleState.READY, ModuleState.HOLD})
ANY_STATE = frozenset(ModuleState)

Q = TypeVar("Q", bound=RequestMessage[Any])


@dataclass(frozen=True)
class Route:
    request: type[RequestMessage[Any]]
    handler: Callable[[Any], Any]
    states: frozenset[ModuleState]
    blocking: bool = False  # the handler returns an awaitable (a wait for an event)

    @property
    def command(self) -> Command:
        return self.request.COMMAND


def route(request: type[Q], handler: Callable[[Q], Message] | Callable[[Q], Awaitable[Message]], *,
          states: frozenset[ModuleState] = READY, blocking: bool = False) -> Route:
    """The route of ``request``'s command to ``handler``, allowed only in ``states``."""
    return Route(request, handler, states, blocking)


@dataclass
class Counters:
    """Operation counts and cumulative latency per command, for status and metrics."""

    ops: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


class Gate(Protocol):
    """What the dispatcher reads of the module's state."""

    @property
    def state(self) -> ModuleState: ...

    @property
    def suspended(self) -> dict[str, str]: ...


class Dispatcher:
    """Runs requests against the registered routes. Not thread-safe (the module's one thread)."""

    def __init__(self, gate: Gate, routes: Iterable[Route], counters: Counters) -> None:
        """:raises RuntimeError: if two routes serve one command."""
        self._gate = gate
        self._routes: dict[Command, Route] = {}
        self.counters = counters
        for r in routes:
            if r.command in self._routes:
                raise RuntimeError(f"{r.command.name} is routed twice")
            self._routes[r.command] = r

    @property
    def commands(self) -> frozenset[Command]:
        return frozenset(self._routes)

    def blocking(self, command: Command) -> bool:
        """Whether ``command`` waits for an event (the server runs it as a task)."""
        r = self._routes.get(command)
        return r is not None and r.blocking

    def handle(self, request: Request) -> Reply:
        """Run one request. Never raises: every failure becomes an error reply."""
        name = request.command.name
        started = time.perf_counter()
        counters = self.counters
        try:
            result = self.execute(request)
        except ScmError as exc:
            counters.errors[name] = counters.errors.get(name, 0) + 1
            return Reply.failure(request.id, exc)
        except Exception:
            log.exception("internal error in %s", name)
            counters.errors[name] = counters.errors.get(name, 0) + 1
            return Reply.failure(request.id, InternalError("internal error; the request had no effect"))
        counters.ops[name] = counters.ops.get(name, 0) + 1
        counters.seconds[name] = counters.seconds.get(name, 0.0) + time.perf_counter() - started
        return Reply.success(request.id, result.to_wire())

    def execute(self, request: Request) -> Any:
        """Check the state, decode the arguments and run the handler; returns its reply message (or,
        for a blocking command, an awaitable of it).

        :raises ScmError: the typed error for anything that goes wrong.
        """
        r = self._routes.get(request.command)
        state = self._gate.state
        if r is None or state not in r.states:
            if state is ModuleState.DESTROYED:
                raise DestroyedError("the module has been destroyed; its keys are gone")
            if r is None:
                raise ProtocolError(f"{request.command.name} is not served by this module")
            raise ModuleStateError(f"{request.command.name} is not allowed while the module is {state.name}")
        if r.states == READY and self._gate.suspended:
            raise ModuleStateError("security services are suspended: " + "; ".join(self._gate.suspended.values()))
        return r.handler(r.request.from_wire(request.args))

    async def execute_wait(self, request: Request) -> Message:
        """Run a blocking command to its end. :raises ScmError: as :meth:`execute`."""
        result: Message = await self.execute(request)
        return result
