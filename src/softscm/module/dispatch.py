"""The command table: each :class:`~softscm.wire.defs.Command` maps to a handler and the module
states in which it may run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..wire.defs import Command, ModuleState

if TYPE_CHECKING:
    from .args import Args
    from .module import Module

Handler = Callable[["Module", "Args"], Any]

READY = frozenset({ModuleState.READY})
READY_OR_HOLD = frozenset({ModuleState.READY, ModuleState.HOLD})
ANY_STATE = frozenset(ModuleState)


@dataclass(frozen=True)
class CommandSpec:
    handler: Handler
    states: frozenset[ModuleState]
    blocking: bool = False  # the handler returns an awaitable (a wait for an event)


TABLE: dict[Command, CommandSpec] = {}


def command(cmd: Command, *, states: frozenset[ModuleState] = READY, blocking: bool = False) -> Callable[[Handler], Handler]:
    """Register a handler for ``cmd``, allowed only in ``states``."""

    def register(handler: Handler) -> Handler:
        if cmd in TABLE:
            raise RuntimeError(f"{cmd.name} registered twice")
        TABLE[cmd] = CommandSpec(handler, states, blocking)
        return handler

    return register
