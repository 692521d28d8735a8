"""Commanded self tests, the last reports, and fault injection (tests only)."""

from __future__ import annotations

from typing import Protocol

from ...wire.defs import ModuleState, Role
from ...wire.messages import Done
from ...wire.messages.selftest import (
    FaultInjectRequest,
    SelfTestKind,
    SelfTestReport,
    SelfTestReportRequest,
    SelfTestReports,
    SelfTestRunRequest,
)
from ..dispatch import ANY_STATE, Route, route
from ..selftest.service import SelfTests

RUN_STATES = frozenset({ModuleState.READY, ModuleState.HOLD, ModuleState.ERROR})


class ErrorView(Protocol):
    @property
    def error(self) -> str | None: ...


class SelfTestCommands:
    def __init__(self, selftests: SelfTests, module: ErrorView) -> None:
        self._selftests = selftests
        self._module = module

    def routes(self) -> list[Route]:
        return [
            route(SelfTestRunRequest, self.run, states=RUN_STATES),
            route(SelfTestReportRequest, self.report, states=ANY_STATE),
            route(FaultInjectRequest, self.inject, states=RUN_STATES, role=Role.ADMIN),
        ]

    def run(self, request: SelfTestRunRequest) -> SelfTestReport:
        """Run the self tests now (``full``: KATs, RNG and peripherals too); a failure is fatal."""
        return self._selftests.run(SelfTestKind.COMMANDED, full=request.full)

    def report(self, request: SelfTestReportRequest) -> SelfTestReports:
        """The latest report of each kind, and the error that stopped the module (if any)."""
        return SelfTestReports({kind.value: r for kind, r in self._selftests.reports.items()}, self._module.error)

    def inject(self, request: FaultInjectRequest) -> Done:
        """Corrupt a KAT, an integrity digest or the entropy source at the next self test.

        :raises NotPermittedError: in production mode or on a module built without it.
        """
        self._selftests.inject(kat=request.kat, where=request.where, integrity=request.integrity,
                               entropy=request.entropy)
        return Done()
