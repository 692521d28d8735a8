"""The provisioning station: takes fresh modules and their disk images to finished units.

``Station.check`` connects to every unit and the station's own module and checks every input
before anything is changed; ``Station.run`` then takes each unit through the phases (see
:mod:`.phases`) in its own thread, saving each phase's result in the station state so that a
rerun after an interruption resumes where it stopped. The station CA is a P-256 key in the
station's own module with a certificate that module self-signed.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

import softscm

from ...certchain import parse_der, raw_public_key, verify_chain
from ...wire.defs import FACTORY_SLOTS, KeyType, ModuleState
from ...wire.errors import ProvisioningError, ScmError
from ...wire.messages.files import MAX_FILE_SIZE
from ..client import Client
from ..x509 import DEFAULT_DAYS, device_subject, issue, make_csr, self_sign, to_der
from .phases import BootPhase, BootResult, DiskPhase, DiskResult, Phase, Status, StepReport
from .record import ManufacturingRecord, RecordBook, SignedRecord
from .state import StationState

log = logging.getLogger(__name__)

BOOT_PREFIX = "boot/"
STATION_ROOT = "station"  # the name of the station CA among the unit's trust roots
CA_DAYS = 30 * 365


@dataclass(frozen=True)
class UnitSpec:
    """One unit on the station: its module and its disk image."""

    url: str
    image: Path


@dataclass(frozen=True)
class Progress:
    """A step of a unit's provisioning, as reported to the ``on_progress`` callback."""

    unit: str  # the serial once known, else the URL
    phase: Phase | None
    step: str
    status: Status
    detail: str = ""


@dataclass(frozen=True)
class StationConfig:
    """Everything a station run needs besides the units."""

    directory: Path  # the station's state and the manufacturing records (owner-only)
    ca_url: str  # the station's own module, which holds the CA key
    boot_files: Mapping[str, bytes] = field(default_factory=dict)  # pushed into the unit's module as boot/<name>
    production: bool = False  # lock binding at the end (one way)
    identity_slot: int = 0  # the factory slot that is certified and signs the record
    organization: str | None = None
    days: int = DEFAULT_DAYS
    max_clock_offset: float = 5.0  # seconds between the unit's clock and the reference clock
    disk: DiskPhase | None = None
    boot: BootPhase | None = None
    reference_clock: Callable[[], float] = time.time


@dataclass
class UnitPlan:
    """A checked unit, ready to run: its serial, inputs and open connection."""

    spec: UnitSpec
    serial: str
    model: str
    firmware_version: str
    client: Client


@dataclass(frozen=True)
class UnitOutcome:
    serial: str
    url: str
    completed: bool
    error: str | None
    statuses: dict[Phase, Status]


class Station:
    """A provisioning station. Use as a context manager, or call :meth:`close`."""

    def __init__(self, config: StationConfig, *, on_progress: Callable[[Progress], None] | None = None) -> None:
        self.config = config
        directory = Path(config.directory)
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.state = StationState(directory)
        self.book = RecordBook(directory)
        self._on_progress = on_progress or (lambda progress: None)
        self._ca: Client | None = None
        self._ca_slot = -1
        self._ca_certificate: x509.Certificate | None = None

    def __enter__(self) -> Station:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._ca is not None:
            self._ca.close()
        self.state.close()
        self.book.close()

    # -- the station CA -------------------------------------------------------------------------

    def _ca_client(self) -> Client:
        """The connection to the station's own module (opened on first use).

        :raises TransportError: if it cannot be reached.
        """
        if self._ca is None:
            self._ca = softscm.connect(self.config.ca_url)
        return self._ca

    @property
    def ca_certificate(self) -> x509.Certificate:
        """:raises ProvisioningError: before :meth:`ensure_ca`."""
        if self._ca_certificate is None:
            raise ProvisioningError("the station CA is not set up yet")
        return self._ca_certificate

    def ensure_ca(self) -> x509.Certificate:
        """Connect to the station's module and set up the CA on first use: a P-256 key there and
        a certificate it self-signs. Later runs check the saved certificate still matches that key.

        :raises ProvisioningError: if the saved CA does not match the station's module.
        """
        if self._ca_certificate is not None:
            return self._ca_certificate
        ca = self._ca_client()
        slot = self.state.setting("ca_slot")
        if slot is None:
            slot = ca.gen_key_pair(KeyType.NISTP256)
            self.state.set_setting("ca_slot", slot)
        der = self.state.setting("ca_certificate")
        if der is None:
            attributes = [x509.NameAttribute(NameOID.COMMON_NAME, f"softscm provisioning station {ca.info().serial}")]
            if self.config.organization:
                attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.config.organization))
            extensions = [(x509.BasicConstraints(ca=True, path_length=0), True)]
            der = to_der(self_sign(ca, slot, x509.Name(attributes), ca=True, days=CA_DAYS, extensions=extensions))
            self.state.set_setting("ca_certificate", der)
        certificate = parse_der(der)
        if raw_public_key(certificate.public_key()) != ca.get_public_key(slot):
            raise ProvisioningError(f"the station CA certificate is not for slot {slot} of the module at "
                                    f"{self.config.ca_url}")
        verify_chain([certificate], [certificate], at=datetime.datetime.now(datetime.timezone.utc))
        self._ca_slot, self._ca_certificate = slot, certificate
        return certificate

    # -- checking inputs -------------------------------------------------------------------------

    def check(self, specs: list[UnitSpec]) -> list[UnitPlan]:
        """Check every input before anything is changed: one module and one existing image per
        unit, each image as the disk and boot plug-ins need it (their ``check``), modules READY
        with their factory keys, distinct serials, not the station's own module, no unit in
        production mode that this station did not lock, boot files within the module's file size
        limit; then set up (or check) the station CA.

        :raises ProvisioningError: naming the first input that is wrong (nothing was changed).
        :raises TransportError: if a module cannot be reached.
        :raises ScmError: what a plug-in's check raises (e.g. ``LuksKeyError`` for a wrong default
            passphrase).
        """
        if not specs:
            raise ProvisioningError("no units to provision")
        for name, data in self.config.boot_files.items():
            if not data or len(data) > MAX_FILE_SIZE or "/" in name:
                raise ProvisioningError(f"boot file {name!r}: a plain name and 1..{MAX_FILE_SIZE} bytes")
        if len({s.url for s in specs}) != len(specs):
            raise ProvisioningError("two units name the same module")
        images = [Path(s.image).resolve() for s in specs]
        if len(set(images)) != len(images):
            raise ProvisioningError("two units name the same disk image (one image each)")
        for image in images:
            if not image.exists():
                raise ProvisioningError(f"disk image {image} does not exist")
            for plugin in (self.config.disk, self.config.boot):
                if plugin is not None:
                    plugin.check(image)
        plans: list[UnitPlan] = []
        try:
            for spec in specs:
                plans.append(self._check_unit(spec))
            if len({p.serial for p in plans}) != len(plans):
                raise ProvisioningError("two modules report the same serial number")
            if self._ca_client().info().serial in {p.serial for p in plans}:
                raise ProvisioningError("the station's own module cannot be provisioned as a unit")
            self.ensure_ca()
        except BaseException:
            for plan in plans:
                plan.client.close()
            raise
        return plans

    def _check_unit(self, spec: UnitSpec) -> UnitPlan:
        client = softscm.connect(spec.url)
        try:
            info = client.info()
            state = client.status().state
            if state is not ModuleState.READY:
                raise ProvisioningError(f"unit {info.serial} is {state.name}, not READY")
            slots = dict(client.list_slots().slots)
            missing = [s for s in range(FACTORY_SLOTS) if s not in slots]
            if missing:
                raise ProvisioningError(f"unit {info.serial} lacks factory slots {missing}")
            if slots[self.config.identity_slot] is not KeyType.NISTP256:
                raise ProvisioningError(f"unit {info.serial}: factory slot {self.config.identity_slot} is not P-256")
            locked, _ = client.get_binding_info()
            lock_row = self.state.phases(info.serial).get(Phase.LOCK)
            if locked and (lock_row is None or lock_row.status is Status.PENDING):
                raise ProvisioningError(f"unit {info.serial} is in production mode already, not by this station")
            recorded_image = self.state.unit_image(info.serial)
            if recorded_image is not None and Path(recorded_image) != Path(spec.image).resolve():
                raise ProvisioningError(f"unit {info.serial} was started with image {recorded_image}")
        except BaseException:
            client.close()
            raise
        return UnitPlan(spec, info.serial, info.model, info.firmware_version, client)

    # -- running ------------------------------------------------------------------------------------

    def run(self, specs: list[UnitSpec]) -> list[UnitOutcome]:
        """Check the inputs, then provision every unit in parallel (one thread each).

        :raises ProvisioningError: from :meth:`check` (nothing was changed then). A unit whose
            phase fails is reported in its outcome; the other units carry on.
        """
        plans = self.check(specs)
        try:
            with ThreadPoolExecutor(max_workers=len(plans), thread_name_prefix="provision") as pool:
                return list(pool.map(self.provision, plans))
        finally:
            for plan in plans:
                plan.client.close()

    def provision(self, plan: UnitPlan) -> UnitOutcome:
        """Take one checked unit through every phase not done yet."""
        serial = plan.serial
        self.state.add_unit(serial, plan.spec.url, str(Path(plan.spec.image).resolve()))
        runners: dict[Phase, Callable[[UnitPlan, Any], tuple[Any, Status]]] = {
            Phase.CONFIGURE: self._configure, Phase.DISK: self._disk, Phase.BOOT: self._boot,
            Phase.CERTIFICATE: self._certificate, Phase.LOCK: self._lock, Phase.RECORD: self._record,
        }
        for phase, runner in runners.items():
            row = self.state.phases(serial)[phase]
            if row.status in (Status.DONE, Status.SKIPPED):
                self._report(serial, phase, "earlier", row.status)
                continue
            partial = self.state.start(serial, phase)
            self._report(serial, phase, "start", Status.RUNNING)
            try:
                result, status = runner(plan, partial)
            except (ScmError, OSError) as exc:
                message = exc.message if isinstance(exc, ScmError) else f"{exc.__class__.__name__}: {exc}"
                self.state.fail(serial, phase, message)
                self._report(serial, phase, "failed", Status.FAILED, message)
                return self._outcome(plan, message)
            self.state.finish(serial, phase, result, status=status)
            self._report(serial, phase, "done", status)
        return self._outcome(plan, None)

    def _outcome(self, plan: UnitPlan, error: str | None) -> UnitOutcome:
        statuses = {phase: row.status for phase, row in self.state.phases(plan.serial).items()}
        completed = error is None and all(s in (Status.DONE, Status.SKIPPED) for s in statuses.values())
        return UnitOutcome(plan.serial, plan.spec.url, completed, error, statuses)

    def _report(self, serial: str, phase: Phase, step: str, status: Status, detail: str = "") -> None:
        self._on_progress(Progress(serial, phase, step, status, detail))

    def _step_reporter(self, serial: str, phase: Phase) -> StepReport:
        return lambda step, detail: self._report(serial, phase, step, Status.RUNNING, detail)

    # -- phases ----------------------------------------------------------------------------------------

    def _configure(self, plan: UnitPlan, partial: Any) -> tuple[Any, Status]:
        unit, clock = plan.client, self.config.reference_clock
        factory_keys = [unit.get_public_key(slot) for slot in range(FACTORY_SLOTS)]
        self._report(plan.serial, Phase.CONFIGURE, "keys", Status.RUNNING)
        drift = unit.get_rtc_drift()  # calibrates the RTC against the module host's clock
        before = clock()
        module_time = unit.get_module_time()
        offset = module_time - (before + clock()) / 2
        if abs(offset) > self.config.max_clock_offset:
            raise ProvisioningError(f"unit {plan.serial}'s clock is {offset:+.1f} s off the station's reference "
                                    f"(limit {self.config.max_clock_offset} s)")
        self._report(plan.serial, Phase.CONFIGURE, "rtc", Status.RUNNING, f"{offset:+.3f} s, {drift:+.1f} ppm")
        present = {f.name: f.sha256 for f in unit.list_files(BOOT_PREFIX)}
        pushed: dict[str, bytes] = {}
        for name, data in sorted(self.config.boot_files.items()):
            digest = hashlib.sha256(data).digest()
            if present.get(BOOT_PREFIX + name) != digest:  # a rerun pushes only what is not there yet
                unit.put_file(BOOT_PREFIX + name, data)
            pushed[BOOT_PREFIX + name] = digest
        self._report(plan.serial, Phase.CONFIGURE, "files", Status.RUNNING, f"{len(pushed)} boot files")
        return {"model": plan.model, "firmware_version": plan.firmware_version, "factory_public_keys": factory_keys,
                "rtc_offset_s": offset, "rtc_drift_ppm": drift, "boot_files": pushed}, Status.DONE

    def _disk(self, plan: UnitPlan, partial: Any) -> tuple[Any, Status]:
        if self.config.disk is None:
            return None, Status.SKIPPED
        report = self._step_reporter(plan.serial, Phase.DISK)
        return self.config.disk(plan.client, Path(plan.spec.image), report).to_wire(), Status.DONE

    def _boot(self, plan: UnitPlan, partial: Any) -> tuple[Any, Status]:
        if self.config.boot is None:
            return None, Status.SKIPPED
        report = self._step_reporter(plan.serial, Phase.BOOT)
        return self.config.boot(plan.client, Path(plan.spec.image), report).to_wire(), Status.DONE

    def _certificate(self, plan: UnitPlan, partial: Any) -> tuple[Any, Status]:
        unit, slot, ca = plan.client, self.config.identity_slot, self.ca_certificate
        if partial is not None:
            chain = [bytes(der) for der in partial["chain"]]  # issued before the interruption: not again
        else:
            csr = make_csr(unit, slot, device_subject(plan.serial, model=plan.model,
                                                      organization=self.config.organization))
            self._report(plan.serial, Phase.CERTIFICATE, "csr", Status.RUNNING)
            chain = [to_der(issue(self._ca_client(), self._ca_slot, ca, csr, days=self.config.days)), to_der(ca)]
            self.state.save_partial(plan.serial, Phase.CERTIFICATE, {"chain": chain})
        self._report(plan.serial, Phase.CERTIFICATE, "issued", Status.RUNNING)
        verify_chain([parse_der(der) for der in chain], [ca], at=datetime.datetime.now(datetime.timezone.utc),
                     public_key=unit.get_public_key(slot))
        unit.store_trust_root(STATION_ROOT, to_der(ca))
        unit.store_certificate_chain(slot, chain)
        self._report(plan.serial, Phase.CERTIFICATE, "stored", Status.RUNNING)
        unit.verify_certificate_chain(slot, root=STATION_ROOT)  # the unit itself agrees
        return {"chain": chain}, Status.DONE

    def _lock(self, plan: UnitPlan, partial: Any) -> tuple[Any, Status]:
        if not self.config.production:
            return None, Status.SKIPPED
        locked, _ = plan.client.get_binding_info()
        if not locked:
            self._report(plan.serial, Phase.LOCK, "locking", Status.RUNNING)
            plan.client.lock_binding()
        self._report(plan.serial, Phase.LOCK, "locked", Status.RUNNING)
        return {"production": True}, Status.DONE

    def _record(self, plan: UnitPlan, partial: Any) -> tuple[Any, Status]:
        existing = self.book.get(plan.serial)
        if existing is not None:  # inserted before an interruption: check it, never add a second
            existing.verify([self.ca_certificate])
            return {"signature": existing.signature}, Status.DONE
        rows = self.state.phases(plan.serial)
        configured, certificate = rows[Phase.CONFIGURE].result, rows[Phase.CERTIFICATE].result
        disk = DiskResult.from_wire(rows[Phase.DISK].result) if rows[Phase.DISK].result else None
        boot = BootResult.from_wire(rows[Phase.BOOT].result) if rows[Phase.BOOT].result else None
        unit = plan.client
        self_test = unit.run_self_test(full=True)
        if not self_test.passed:
            raise ProvisioningError(f"unit {plan.serial} failed its self test; no record is made")
        record = ManufacturingRecord(
            serial=plan.serial, model=configured["model"], firmware_version=configured["firmware_version"],
            signing_slot=self.config.identity_slot,
            factory_public_keys=tuple(bytes(k) for k in configured["factory_public_keys"]),
            certificate_chain=tuple(bytes(d) for d in certificate["chain"]),
            keyslot_layout=tuple((slot, key_type.label) for slot, key_type in unit.list_slots().slots),
            token_digest=disk.token_digest if disk else None, luks_keyslots=disk.keyslots if disk else None,
            manifest_version=boot.manifest_version if boot else None,
            manifest_digest=boot.manifest_digest if boot else None,
            boot_files={str(k): bytes(v) for k, v in configured["boot_files"].items()},
            rtc_offset_s=float(configured["rtc_offset_s"]), rtc_drift_ppm=float(configured["rtc_drift_ppm"]),
            production=unit.get_binding_info()[0], self_test=self_test.to_wire(),
            started=min(r.started for r in rows.values() if r.started is not None), finished=time.time(),
        )
        signature = unit.sign(self.config.identity_slot, hashlib.sha256(record.body()).digest()).raw
        signed = SignedRecord(record, signature)
        signed.verify([self.ca_certificate])
        self._report(plan.serial, Phase.RECORD, "signed", Status.RUNNING)
        self.book.add(signed)
        self._report(plan.serial, Phase.RECORD, "inserted", Status.RUNNING)
        return {"signature": signature}, Status.DONE
