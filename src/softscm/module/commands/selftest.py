"""Commanded self tests, the last reports, and fault injection (tests only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...wire.defs import Command, ModuleState
from ..args import Args
from ..dispatch import ANY_STATE, command

if TYPE_CHECKING:
    from ..module import Module

RUN_STATES = frozenset({ModuleState.READY, ModuleState.HOLD, ModuleState.ERROR})


@command(Command.SELFTEST_RUN, states=RUN_STATES)
def run(module: Module, args: Args) -> dict[str, Any]:
    """Run the self tests now (``full``: KATs, RNG and peripherals too); a failure is fatal."""
    return module.run_self_test("commanded", full=args.bool("full", True)).to_dict()


@command(Command.SELFTEST_REPORT, states=ANY_STATE)
def report(module: Module, args: Args) -> dict[str, Any]:
    """The latest report of each kind, and the error that stopped the module (if any)."""
    return {"reports": {kind: r.to_dict() for kind, r in module.reports.items()}, "error": module.error}


@command(Command.FAULT_INJECT, states=RUN_STATES)
def inject(module: Module, args: Args) -> None:
    """Corrupt a KAT's ``input``/``expected``, an ``integrity`` digest or the ``entropy`` source at
    the next self test. :raises NotPermittedError: in production mode or on a module built without it."""
    module.faults.add(module.mode, module.config.fault_injection,
                      kat=args.optional(args.str, "kat"), where=args.str("where", "input"),
                      integrity=args.optional(args.str, "integrity"),
                      entropy=args.optional(args.str, "entropy"))
