"""The module's self tests: power-on, background and commanded runs, their reports, and fault
injection for tests. A failed run is fatal: the module is told to enter ERROR."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ...wire.defs import Event, Mode
from ...wire.messages.selftest import SelfTestKind, SelfTestReport, TestCategory
from ..audit.recorder import Recorder
from ..crypto.rng import Rng
from ..sensors.led import FatalCode, LedCode
from ..store.keystore import KeyStore
from .faults import FaultPlan
from .integrity import DigestMismatchError, compute_code_digest, integrity_checks
from .runner import Check, run_background, run_commanded, run_power_on

CODE_DIGEST = "code_digest"
KEY_MATERIAL_DIGEST = "key_material_digest"
SELF_TEST_CODE = LedCode(7)  # a self test failed (the key-area digest has its own code, 6)

Fail = Callable[[str, LedCode], None]


class SelfTests:
    """Runs the self tests against the keystore, the key material and the peripherals.

    ``key_material_digest`` computes the digest of the critical key material now; ``fail`` puts
    the module in ERROR with a reason and an LED code.
    """

    def __init__(self, store: KeyStore, rng: Rng, peripherals: Callable[[], Mapping[str, Check]],
                 key_material_digest: Callable[[], bytes], events: Recorder, fail: Fail,
                 mode: Callable[[], Mode], fault_injection: bool) -> None:
        self._store = store
        self._rng = rng
        self._peripherals = peripherals
        self._key_material_digest = key_material_digest
        self._events = events
        self._fail = fail
        self._mode = mode
        self._fault_injection = fault_injection
        self.faults = FaultPlan()
        self.reports: dict[SelfTestKind, SelfTestReport] = {}

    def _integrity_checks(self) -> dict[str, Check]:
        def keystore() -> None:
            self._store.verify_integrity()
            if "keystore" in self.faults.integrity:
                raise DigestMismatchError("keystore")

        store = self._store
        digests = integrity_checks(
            {"code": lambda: store.get_meta(CODE_DIGEST), "key_material": lambda: store.get_meta(KEY_MATERIAL_DIGEST)},
            {"code": compute_code_digest, "key_material": self._key_material_digest}, self.faults)
        return {"code_digest": digests["code_digest"], "keystore_digest": keystore,
                "key_material_digest": digests["key_material_digest"]}

    def run(self, kind: SelfTestKind, *, full: bool = True) -> SelfTestReport:
        """Run the self tests of ``kind``; a failure is fatal. ``full=False`` (background, quick
        commanded) runs the integrity checks only."""
        checks = self._integrity_checks()
        if kind is SelfTestKind.POWER_ON:
            report = run_power_on(peripherals=self._peripherals(), integrity_checks=checks, rng=self._rng,
                                  faults=self.faults)
        elif kind is SelfTestKind.BACKGROUND:
            report = run_background(integrity_checks=checks)
        else:
            report = run_commanded(full, peripherals=self._peripherals(), integrity_checks=checks, rng=self._rng,
                                   faults=self.faults)
        self.reports[kind] = report
        if report.passed:
            self._events.record(Event.SELF_TEST, kind=kind.value, tests=len(report.results),
                                seconds=round(report.duration_s, 6))
        else:
            failed = report.failures[0]
            code = FatalCode.KEY_AREA_DIGEST.value if failed.category is TestCategory.INTEGRITY else SELF_TEST_CODE
            self._fail(f"{kind.value} self test failed: {failed.name} ({failed.detail})", code)
        return report

    def accept_code_digest(self) -> None:
        """Development: record the running code's digest as the good one."""
        self._store.set_meta(CODE_DIGEST, compute_code_digest())

    def inject(self, *, kat: str | None, where: str, integrity: str | None, entropy: str | None) -> None:
        """Arm a fault for the next run. :raises NotPermittedError: in production mode or on a
        module built without fault injection."""
        self.faults.add(self._mode(), self._fault_injection, kat=kat, where=where, integrity=integrity,
                        entropy=entropy)

    def disarm(self) -> None:
        """Production never runs with a fault armed in development."""
        self.faults = FaultPlan()
