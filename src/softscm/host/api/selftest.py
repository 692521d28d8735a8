"""Self tests: commanded runs, the latest reports, fault injection (tests only)."""

from __future__ import annotations

from ...wire.messages.selftest import (
    FaultInjectRequest,
    SelfTestReport,
    SelfTestReportRequest,
    SelfTestReports,
    SelfTestRunRequest,
)
from .base import ApiBase, nothing, same


class SelfTestApi(ApiBase):
    def run_self_test(self, *, full: bool = True) -> SelfTestReport:
        """Run the self tests now; returns the report (each test, result, time). A failure is fatal."""
        return self._call(SelfTestRunRequest(full), same)

    def get_self_test_reports(self) -> SelfTestReports:
        """The latest power-on, background and commanded reports, and the module's error if any."""
        return self._call(SelfTestReportRequest(), same)

    def inject_fault(self, *, kat: str | None = None, where: str = "input", integrity: str | None = None,
                     entropy: str | None = None) -> None:
        """Tests only. :raises NotPermittedError: in production mode or without fault injection enabled."""
        return self._call(FaultInjectRequest(kat, where, integrity, entropy), nothing)
