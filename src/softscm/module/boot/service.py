"""The module's supervised-boot service: manifest state, fault policy, remediation, authorisation.

State lives in a small name → bytes storage (the keystore's MACed meta values), so it is inside
the module's encrypted, integrity-checked store and never on the host's disk:

``boot.manifest`` the signed manifest; ``boot.wipe`` whether self-destruct also overwrites the
guarded files; ``boot.min_version`` the lowest security version
accepted; ``boot.held`` whether the boot is held (so a restart keeps holding); ``boot.tap_code``
and ``boot.admin`` the authorisation secrets' stored forms.

What the module does about a decision is injected as :class:`BootHooks` (enter/leave HOLD,
destroy, record an audit event, show an LED code), so the service holds no socket, thread or
module reference. The fault action (:class:`BootPolicy`) is read through a callable, since the
module keeps it with its other policy settings (``set_supervised_boot_policy``). The
development/production mode is an argument of :meth:`BootService.verify`.
"""

from __future__ import annotations

import time
import typing
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from ...wire.defs import (
    BOOT_SIGNER_SLOT,
    DEFAULT_CM4_FILES,
    BootAuthAction,
    BootAuthMethod,
    BootFault,
    BootOutcome,
    BootPolicy,
    BootUnlistedPolicy,
    Event,
    Mode,
)
from ...wire.errors import (
    BootAuthorizationError,
    BootHeldError,
    BootManifestError,
    BusyError,
    InvalidArgumentError,
    ModuleStateError,
    ScmError,
)
from ..crypto.keys import PublicKey
from ..crypto.rng import Rng, predrawn, system_rng
from ..offload import Step
from ..sensors.tap import TapCodeRecognizer
from .authorise import (
    AdminCommitment,
    Challenge,
    ChallengeBook,
    check_admin_shares,
    check_tap_code,
    encode_tap_code,
    new_admin_shares,
    redeem_token,
)
from .manifest import BootManifest, ManifestEntry, Signer, Verifier
from .partition import BootPartition
from .remediation import SEAL_RANDOMNESS, GoldenStore, RecoveryRecord, RestoreResult, Staged, restore, write_recovery
from .verify import Progress, VerificationReport, current_entry, verify_partition

T = TypeVar("T")

LED_BOOT_FILE = (4, 2)
"""A verified-boot file failed its check."""
LED_BOOT_PROCESS = (22, 9)
"""The verified-boot process failed (manifest signature, rollback)."""

_MANIFEST, _MIN_VERSION, _HELD = "boot.manifest", "boot.min_version", "boot.held"
_TAP_CODE, _ADMIN, _WIPE = "boot.tap_code", "boot.admin", "boot.wipe"


class MetaStorage(Protocol):
    """Durable module values by name (``KeyStore.get_meta``/``set_meta``)."""

    def get_meta(self, name: str) -> bytes | None: ...

    def set_meta(self, name: str, value: bytes) -> None: ...


@dataclass(frozen=True)
class BootHooks:
    """What the module does for the service."""

    enter_hold: Callable[[], None]
    leave_hold: Callable[[], None]
    destroy: Callable[[], None]
    record: Callable[..., None]
    """``record(event, **fields)``: an audit log entry (fields are plain CBOR values)."""
    show_led: Callable[[int, int], None]
    """``show_led(code, subcode)``: the fatal sequence (which the LED repeats three times)."""
    release_suspension: Callable[[], None]
    """Resume key operations suspended by a battery fault (until the next fault)."""


@dataclass(frozen=True)
class BootDecision:
    outcome: BootOutcome
    report: VerificationReport | None


@dataclass(frozen=True)
class VerificationPlan:
    """One verification: the manifest and the minimum version as they were when it started."""

    manifest: BootManifest
    verifier: Verifier
    minimum_version: int
    workers: int | None

    def run(self, partition: BootPartition, progress: Progress | None = None) -> VerificationReport:
        """Hash and check ``partition``; touches nothing but the partition and the verifier, so it
        may run off the module's thread. :raises BootVerificationError: if it cannot be read."""
        return verify_partition(partition, self.manifest, self.verifier, minimum_version=self.minimum_version,
                                workers=self.workers, progress=progress)


@dataclass(frozen=True)
class RemediationResult:
    restore: RestoreResult
    report: VerificationReport
    recovery: RecoveryRecord | None


class BootService:
    """Supervised boot for one module.

    ``signer(slot)`` and ``verifier(slot)`` give the module's slot key as a
    :data:`~softscm.module.boot.manifest.Signer`/:data:`~softscm.module.boot.manifest.Verifier`;
    ``known_keys()`` gives the foreign keys allowed to sign remote authorisations, by slot;
    ``policy()`` the fault action.
    """

    def __init__(self, storage: MetaStorage, hooks: BootHooks, *, policy: Callable[[], BootPolicy],
                 signer: Callable[[int], Signer],
                 verifier: Callable[[int], Verifier], serial: str, golden: GoldenStore | None = None,
                 known_keys: Callable[[], Mapping[int, PublicKey]] = dict, rng: Rng = system_rng,
                 clock: Callable[[], float] = time.time, tap_recognizer: TapCodeRecognizer | None = None,
                 workers: int | None = None) -> None:
        self._storage, self._hooks, self._policy = storage, hooks, policy
        self._signer, self._verifier = signer, verifier
        self.serial, self._golden, self._known_keys = serial, golden, known_keys
        self._rng, self._clock = rng, clock
        self._tap = tap_recognizer or TapCodeRecognizer()
        self._challenges = ChallengeBook(rng, clock)
        self._making_shares = False  # a BOOT_SETUP's admin shares are off the loop
        self._workers = workers
        self._verified_version: int | None = None

    # -- stored state --------------------------------------------------------------------------

    def manifest(self) -> BootManifest | None:
        """The stored manifest, or ``None`` if none was signed yet.

        :raises BootManifestError: if the stored manifest is malformed.
        """
        raw = self._storage.get_meta(_MANIFEST)
        return None if raw is None else BootManifest.parse(raw)

    def _require_manifest(self) -> BootManifest:
        manifest = self.manifest()
        if manifest is None:
            raise BootManifestError("no boot manifest has been signed")
        return manifest

    @property
    def wipe_on_destroy(self) -> bool:
        return self._storage.get_meta(_WIPE) == b"\x01"

    def set_wipe_on_destroy(self, wipe: bool) -> None:
        """Whether self-destruct after a failed verification also overwrites the guarded files
        on the partition with zeros."""
        self._storage.set_meta(_WIPE, b"\x01" if wipe else b"\x00")
        self._hooks.record(Event.POLICY_CHANGE, setting="boot_wipe_files", value=bool(wipe))

    @property
    def tap_end_s(self) -> float:
        """The pause after the last tap that ends a tap code."""
        return self._tap.end_s

    @property
    def minimum_version(self) -> int:
        raw = self._storage.get_meta(_MIN_VERSION)
        return int.from_bytes(raw, "big") if raw else 0

    @property
    def verified(self) -> bool:
        """Whether the boot partition verified in this boot and the boot is not held."""
        return self._verified_version is not None and not self.held

    @property
    def held(self) -> bool:
        return self._storage.get_meta(_HELD) == b"\x01"

    def _set_held(self, held: bool) -> None:
        self._storage.set_meta(_HELD, b"\x01" if held else b"\x00")

    def _refuse_while_held(self) -> None:
        if self.held:
            raise BootHeldError("the boot is held: remediate and authorise first")

    # -- manifest edits --------------------------------------------------------------------------

    def _store(self, manifest: BootManifest, staged: Staged | None, changed: Sequence[ManifestEntry],
               why: str) -> BootManifest:
        """Sign and keep ``manifest``, its ``staged`` golden copies put in place with it."""
        signed = manifest.signed(self._signer(manifest.signer_slot))
        signed.verify(self._verifier(signed.signer_slot))
        if self._golden is not None:
            if staged is not None:
                self._golden.commit(staged)
            self._golden.prune(signed.paths)
        self._storage.set_meta(_MANIFEST, signed.to_bytes())
        self._hooks.record(Event.BOOT_MANIFEST_CHANGE, change=why, files=list(e.path for e in changed),
                           security_version=signed.security_version)
        return signed

    def _staged_copies(self, partition: BootPartition,
                       entries: Sequence[ManifestEntry]) -> Generator[Step, Any, Staged | None]:
        """Golden copies of ``entries`` staged in an offloaded step (``None`` without a golden store).

        :raises BootVerificationError: if a file changed since it was hashed.
        :raises FileNotFoundError: if one is gone from the partition.
        """
        golden = self._golden
        if golden is None:
            return None
        rng = predrawn(self._rng, [SEAL_RANDOMNESS] * len(entries))
        return (yield from _on_worker(lambda: golden.stage(partition, entries, rng)))

    def _unstage(self, staged: Staged | None) -> None:
        """Drop golden copies staged for a request that did not store them (none once committed)."""
        if self._golden is not None and staged is not None:
            self._golden.abandon(staged)

    def files(self) -> tuple[ManifestEntry, ...]:
        """The guarded files (none if no manifest was signed)."""
        manifest = self.manifest()
        return manifest.entries if manifest else ()

    def add_or_update(self, partition: BootPartition, path: str,
                      slot: int = BOOT_SIGNER_SLOT) -> Generator[Step, Any, ManifestEntry]:
        """Guard ``path`` with its current contents (hashed in an offloaded step) and re-sign the
        manifest with ``slot``.

        :raises BootHeldError: while the boot is held (checked again after the hashing).
        :raises FileNotFoundError: if the partition has no such file.
        """
        self._refuse_while_held()
        entry, = yield from _hashed(partition, lambda: [path])
        staged = yield from self._staged_copies(partition, [entry])
        try:
            self._refuse_while_held()
            base = self.manifest() or BootManifest(security_version=max(1, self.minimum_version))
            manifest = BootManifest(base.with_entries([entry]).entries, base.security_version, base.unlisted, slot)
            self._store(manifest, staged, [entry], "add")
        finally:
            self._unstage(staged)
        return entry

    def remove(self, path: str) -> None:
        """Stop guarding ``path`` and re-sign.

        :raises BootHeldError: while the boot is held.
        :raises BootManifestError: if there is no manifest.
        :raises InvalidArgumentError: if the manifest does not list ``path``.
        """
        self._refuse_while_held()
        manifest = self._require_manifest().without(path)
        self._store(manifest, None, [], "remove")

    def sign_all(self, partition: BootPartition, *, paths: Sequence[str] | None = None,
                 unlisted: BootUnlistedPolicy | None = None, security_version: int | None = None,
                 slot: int | None = None) -> Generator[Step, Any, BootManifest]:
        """Replace the manifest with the current contents of ``paths`` (default: every file on the
        partition; listed and hashed in an offloaded step), keeping the unlisted policy, version and
        slot unless given.

        :raises BootHeldError: while the boot is held (checked again after the hashing).
        :raises BootRollbackError: never; a ``security_version`` below the accepted minimum is
            refused with :class:`InvalidArgumentError` instead.
        :raises FileNotFoundError: if a named path is not on the partition.
        """
        self._refuse_while_held()
        self._check_version(security_version)
        entries = yield from _hashed(partition, lambda: [f.path for f in partition.files()] if paths is None
                                     else list(paths))
        staged = yield from self._staged_copies(partition, entries)
        try:
            self._refuse_while_held()
            base = self.manifest() or BootManifest(security_version=max(1, self.minimum_version))
            version = base.security_version if security_version is None else security_version
            self._check_version(version)
            manifest = BootManifest(tuple(entries), version, base.unlisted if unlisted is None else unlisted,
                                    base.signer_slot if slot is None else slot)
            return self._store(manifest, staged, entries, "sign-all")
        finally:
            self._unstage(staged)

    def _check_version(self, version: int | None) -> None:
        if version is not None and version < self.minimum_version:
            raise InvalidArgumentError(f"the security version may not go below {self.minimum_version}")

    def sign_defaults(self, partition: BootPartition, **options: Any) -> Generator[Step, Any, BootManifest]:
        """:meth:`sign_all` over the default Raspberry Pi CM4 boot files."""
        return self.sign_all(partition, paths=DEFAULT_CM4_FILES, **options)

    # -- verification and fault actions ------------------------------------------------------------

    def verify(self, partition: BootPartition, mode: Mode, progress: Progress | None = None) -> BootDecision:
        """Verify ``partition`` and act on a failure by the policy (production) or by showing the
        LED code, allowing the boot and re-signing (development). Every result is logged.

        :raises BootVerificationError: if the partition cannot be read at all.
        """
        plan = self.plan()
        return self.conclude(partition, plan, None if plan is None else plan.run(partition, progress), mode)

    def plan(self) -> VerificationPlan | None:
        """What a verification checks now (``None``: no manifest is signed). Its :meth:`~VerificationPlan.run`
        may go on another thread; :meth:`conclude` then acts on the report."""
        manifest = self.manifest()
        if manifest is None:
            return None
        return VerificationPlan(manifest, self._verifier(manifest.signer_slot), self.minimum_version, self._workers)

    def conclude(self, partition: BootPartition, plan: VerificationPlan | None, report: VerificationReport | None,
                 mode: Mode) -> BootDecision:
        """Act on a finished verification (see :meth:`verify`).

        :raises BusyError: if the manifest changed while the partition was being hashed.
        """
        if plan is None or report is None:
            self._hooks.record(Event.BOOT_VERIFIED, configured=False)
            return BootDecision(BootOutcome.NOT_CONFIGURED, None)
        manifest = plan.manifest
        if self.manifest() != manifest:
            raise BusyError("the boot manifest changed during the verification; verify again")
        if report.ok:
            self._verified_version = manifest.security_version
            self._hooks.record(Event.BOOT_VERIFIED, files=report.files_checked,
                               security_version=report.security_version)
            return BootDecision(BootOutcome.HELD if self.held else BootOutcome.VERIFIED, report)
        self._verified_version = None
        self._hooks.record(Event.BOOT_VERIFY_FAILED, faults=[str(f) for f in report.faults],
                           files=list(report.failed_paths), mode=Mode(mode).name.lower())
        file_fault = all(f.path for f in report.faults)
        self._hooks.show_led(*(LED_BOOT_FILE if file_fault else LED_BOOT_PROCESS))
        if self.held:
            return BootDecision(BootOutcome.HELD, report)
        if mode is Mode.DEVELOPMENT:
            self._resign_for_development(partition, manifest, report)
            return BootDecision(BootOutcome.ALLOWED_DEVELOPMENT, report)
        policy = BootPolicy(self._policy())
        if policy is BootPolicy.HOLD:
            self._set_held(True)
            self._hooks.record(Event.BOOT_HOLD, files=list(report.failed_paths))
            self._hooks.enter_hold()
            return BootDecision(BootOutcome.HELD, report)
        if policy is BootPolicy.SELF_DESTRUCT:
            if self.wipe_on_destroy:
                self._wipe(partition, manifest)
            self._hooks.destroy()
            return BootDecision(BootOutcome.DESTROYED, report)
        return BootDecision(BootOutcome.LOGGED, report)

    def _wipe(self, partition: BootPartition, manifest: BootManifest) -> None:
        present = {f.path: f.size for f in partition.files()}
        wiped = [e.path for e in manifest.entries if e.path in present]
        for path in wiped:
            partition.write_file(path, bytes(present[path]))
        self._hooks.record(Event.SELF_DESTRUCT, cause="boot verification", wiped=wiped)

    def _resign_for_development(self, partition: BootPartition, manifest: BootManifest,
                                report: VerificationReport) -> None:
        present = {f.path for f in partition.files()}
        keep = [p for p in manifest.paths if p in present]
        keep += [f.path for f in report.faults if f.reason is BootFault.UNLISTED]
        version = max(manifest.security_version, self.minimum_version)
        entries = [current_entry(partition, p) for p in keep]
        resigned = BootManifest(tuple(entries), version, manifest.unlisted, manifest.signer_slot)
        staged = None if self._golden is None else self._golden.stage(partition, entries, self._rng)
        try:
            self._store(resigned, staged, entries, "development re-sign")
        finally:
            self._unstage(staged)

    def confirm(self) -> int:
        """The boot verified in this run is confirmed good: raise the accepted minimum security
        version to its manifest's. Returns the new minimum.

        :raises ModuleStateError: if no verification passed since the last failure or start.
        :raises BootHeldError: while the boot is held.
        """
        self._refuse_while_held()
        if self._verified_version is None:
            raise ModuleStateError("no verified boot to confirm")
        minimum = max(self.minimum_version, self._verified_version)
        self._storage.set_meta(_MIN_VERSION, minimum.to_bytes(8, "big"))
        self._hooks.record(Event.BOOT_CONFIRMED, minimum_version=minimum)
        return minimum

    # -- remediation ------------------------------------------------------------------------------

    def remediate(self, partition: BootPartition, *, recovery_partition: int | None = None,
                  normal_partition: int = 1,
                  remove_unlisted: bool = False) -> Generator[Step, Any, RemediationResult]:
        """Restore faulted files from the golden copies and verify again (in an offloaded step); if
        it still fails and a ``recovery_partition`` is given, write the tryboot switch to it.
        Leaving HOLD still needs an authorisation.

        :raises BootManifestError: if there is no manifest.
        :raises BootVerificationError: if the partition cannot be read or written.
        :raises BusyError: if the manifest changed while the partition was being restored (what
            was restored is logged all the same).
        """
        manifest = self._require_manifest()
        verifier, golden = self._verifier(manifest.signer_slot), self._golden
        minimum, workers = self.minimum_version, self._workers

        def work() -> tuple[RestoreResult, VerificationReport]:
            before = verify_partition(partition, manifest, verifier, minimum_version=minimum, workers=workers)
            restored = RestoreResult((), (), ())
            if golden is not None and not before.ok:
                restored = restore(partition, manifest, before, golden, remove_unlisted=remove_unlisted)
            after = before if restored == RestoreResult((), (), ()) else verify_partition(
                partition, manifest, verifier, minimum_version=minimum, workers=workers)
            return restored, after

        restored, after = yield from _on_worker(work)
        self._hooks.record(Event.BOOT_REMEDIATION, restored=list(restored.restored), removed=list(restored.removed),
                           unrestorable=list(restored.unrestorable), ok=after.ok)
        if self.manifest() != manifest:
            raise BusyError("the boot manifest changed during the remediation; verify again")
        recovery = None
        if not after.ok and recovery_partition is not None:
            recovery = write_recovery(partition, recovery_partition, normal_partition)
            self._hooks.record(Event.BOOT_RECOVERY, recovery_partition=recovery.recovery_partition,
                               normal_partition=recovery.normal_partition, autoboot_sha256=recovery.sha256.hex())
        if after.ok:
            self._verified_version = manifest.security_version
        return RemediationResult(restored, after, recovery)

    # -- authorisation ------------------------------------------------------------------------------

    def set_tap_code(self, code: Sequence[int]) -> None:
        """:raises InvalidArgumentError: for a code :func:`encode_tap_code` refuses."""
        self._storage.set_meta(_TAP_CODE, encode_tap_code(code))
        self._hooks.record(Event.POLICY_CHANGE, setting="boot_tap_code")

    def create_admin_shares(self, group_threshold: int, groups: Sequence[tuple[int, int]], passphrase: bytes = b"",
                            iteration_exponent: int = 1) -> Generator[Step, Any, list[list[str]]]:
        """Draw a new admin secret, keep its commitment and return its SLIP-39 shares (once); the
        split runs in an offloaded step.

        :raises InvalidArgumentError: for a layout SLIP-39 does not allow.
        :raises BusyError: while another request's admin shares are being made (the second would
            replace the first's commitment).
        """
        if self._making_shares:
            raise BusyError("admin shares are already being made; try again")
        self._making_shares = True
        try:
            commitment, shares = yield from new_admin_shares(group_threshold, groups, rng=self._rng,
                                                             passphrase=passphrase,
                                                             iteration_exponent=iteration_exponent)
        finally:
            self._making_shares = False
        self._storage.set_meta(_ADMIN, commitment.to_bytes())
        self._hooks.record(Event.POLICY_CHANGE, setting="boot_admin_shares")
        return shares

    def challenge(self, action: BootAuthAction = BootAuthAction.RELEASE_HOLD) -> Challenge:
        """A fresh one-time challenge for a remote authorisation token."""
        return self._challenges.issue(BootAuthAction(action))

    def authorize_tap(self, tap_times: Sequence[float], now: float | None = None,
                      action: BootAuthAction = BootAuthAction.RELEASE_HOLD) -> BootAuthAction:
        """:raises BootAuthorizationError: if no tap code is set or the taps do not match it."""
        def check() -> None:
            expected = self._storage.get_meta(_TAP_CODE)
            if expected is None:
                raise BootAuthorizationError("the authorisation was refused")
            check_tap_code(tap_times, expected, self._clock() if now is None else now, self._tap)
        return self._authorize(BootAuthMethod.TAP, action, check)

    def authorize_slip39(self, shares: Sequence[str], passphrase: bytes = b"",
                         action: BootAuthAction = BootAuthAction.RELEASE_HOLD) -> BootAuthAction:
        """:raises BootAuthorizationError: if no admin secret is set or the shares do not give it."""
        def check() -> None:
            stored = self._storage.get_meta(_ADMIN)
            if stored is None:
                raise BootAuthorizationError("the authorisation was refused")
            check_admin_shares(shares, AdminCommitment.parse(stored), passphrase)
        return self._authorize(BootAuthMethod.SLIP39, action, check)

    def authorize_token(self, token: bytes, action: BootAuthAction = BootAuthAction.RELEASE_HOLD) -> BootAuthAction:
        """:raises BootAuthorizationError: for a token that is malformed, replayed, expired, for
        another module or action, or not signed by a known key."""
        signer: list[int] = []

        def check() -> None:
            signer.append(redeem_token(token, self._challenges, serial=self.serial, action=action,
                                       known_keys=self._known_keys(), now=self._clock()))
        return self._authorize(BootAuthMethod.TOKEN, action, check, signer)

    def _authorize(self, method: BootAuthMethod, action: BootAuthAction, check: Callable[[], None],
                   signer: list[int] | None = None) -> BootAuthAction:
        action = BootAuthAction(action)
        try:
            check()
        except BootAuthorizationError:
            self._hooks.record(Event.BOOT_AUTH_REFUSED, method=method.name.lower(), action=action.name.lower())
            raise
        fields: dict[str, Any] = {"method": method.name.lower(), "action": action.name.lower()}
        if signer:
            fields["foreign_slot"] = signer[0]
        self._hooks.record(Event.BOOT_AUTHORIZED, **fields)
        if action is BootAuthAction.RELEASE_HOLD and self.held:
            self._set_held(False)
            self._hooks.leave_hold()
        elif action is BootAuthAction.RELEASE_SUSPENSION:
            self._hooks.release_suspension()
        return action


def _on_worker(work: Callable[[], T]) -> Generator[Step, Any, T]:
    """``work()`` in an offloaded step. What it raises (a typed error, an OS error) is raised here,
    in the generator, where the request's own handlers catch it."""
    def guarded() -> tuple[T | None, ScmError | OSError | None]:
        try:
            return work(), None
        except (ScmError, OSError) as exc:
            return None, exc
    result, error = yield guarded
    if error is not None:
        raise error
    return typing.cast(T, result)


def _hashed(partition: BootPartition, paths: Callable[[], list[str]]) -> Generator[Step, Any, list[ManifestEntry]]:
    """The current entries of ``paths()`` (listing and hashing in one offloaded step).

    :raises FileNotFoundError: if one is not on the partition (raised back on the loop).
    """
    return (yield from _on_worker(lambda: [current_entry(partition, p) for p in paths()]))
