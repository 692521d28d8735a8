"""Supervised (verified) boot: thin handlers over :class:`~softscm.module.boot.service.BootService`."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Generator, Sequence
from pathlib import Path
from typing import Any

from ...wire.defs import BOOT_SIGNER_SLOT, BootAuthMethod, BootUnlistedPolicy, Event, Mode, Role
from ...wire.errors import InvalidArgumentError, NotPermittedError, ScmTimeoutError
from ...wire.messages import Done
from ...wire.messages.boot import (
    AdminShares,
    Authorized,
    BootAddFileRequest,
    BootAuthorizeRequest,
    BootChallengeRequest,
    BootConfirmRequest,
    BootFileEntry,
    BootManifestRequest,
    BootRemediateRequest,
    BootRemoveFileRequest,
    BootSetupRequest,
    BootSignAllRequest,
    BootVerifyRequest,
    Challenge,
    Fault,
    Manifest,
    MinimumVersion,
    Partition,
    Remediation,
    Verification,
)
from ..audit.recorder import Recorder
from ..boot.manifest import BootManifest, ManifestEntry
from ..boot.partition import BootPartition, open_partition
from ..boot.service import BootService
from ..boot.verify import ThrottledProgress, VerificationReport
from ..dispatch import READY_OR_HOLD, Route, route
from ..offload import Step, Stepped, stepped
from ..policy.monitor import Monitor


def _entry(entry: ManifestEntry) -> BootFileEntry:
    return BootFileEntry(entry.path, entry.size, entry.sha256)


def _faults(report: VerificationReport | None) -> tuple[Fault, ...]:
    return tuple(Fault(f.path, f.reason) for f in report.faults) if report else ()


class BootPartitions:
    """The boot partitions this module was configured to serve (``scmd --boot-partition``): a
    request may name only these, so the socket cannot be used to read or write other files."""

    def __init__(self, configured: Sequence[str]) -> None:
        self._configured = [os.path.realpath(p) for p in configured]

    def open(self, request: Partition) -> BootPartition:
        """:raises NotPermittedError: for a partition not configured, or none configured.
        :raises InvalidArgumentError: for a path that is no partition."""
        if not self._configured:
            raise NotPermittedError("no boot partition is configured (scmd --boot-partition)")
        named = request.directory or request.image
        path = self._configured[0] if named is None else os.path.realpath(named)
        if path not in self._configured:
            raise NotPermittedError("that boot partition is not one this module serves")
        if Path(path).is_dir():
            if request.image is not None:
                raise InvalidArgumentError("the partition is a directory, not an image")
            return open_partition(directory=path)
        if request.directory is not None:
            raise InvalidArgumentError("the partition is an image, not a directory")
        return open_partition(image=path, offset=request.offset)


class BootCommands:
    def __init__(self, boot: BootService, partitions: BootPartitions, monitor: Monitor, mode: Callable[[], Mode],
                 events: Recorder) -> None:
        self._boot, self._partitions, self._monitor, self._mode = boot, partitions, monitor, mode
        self._events = events

    def routes(self) -> list[Route]:
        return [
            # reading the manifest and asking for or giving an authorisation (itself the proof) are a
            # user's; the boot steps (verify, confirm) an administrator's without the PIN login a
            # boot cannot give; changing the manifest, remediation and set-up an administrator's
            route(BootManifestRequest, self.manifest, states=READY_OR_HOLD),
            route(BootAddFileRequest, self.add_file, role=Role.ADMIN),
            route(BootRemoveFileRequest, self.remove_file, role=Role.ADMIN),
            route(BootSignAllRequest, self.sign_all, role=Role.ADMIN),
            route(BootVerifyRequest, self.verify, states=READY_OR_HOLD, blocking=True, role=Role.ADMIN, pin=False),
            route(BootRemediateRequest, self.remediate, states=READY_OR_HOLD, role=Role.ADMIN),
            route(BootChallengeRequest, self.challenge, states=READY_OR_HOLD),
            route(BootAuthorizeRequest, self.authorize, states=READY_OR_HOLD, blocking=True),
            route(BootConfirmRequest, self.confirm, role=Role.ADMIN, pin=False),
            route(BootSetupRequest, self.setup, role=Role.ADMIN),
        ]

    def _manifest(self, manifest: BootManifest | None) -> Manifest:
        boot = self._boot
        if manifest is None:
            return Manifest((), 0, BootUnlistedPolicy.IGNORE, BOOT_SIGNER_SLOT, boot.minimum_version, boot.held,
                            False)
        return Manifest(tuple(_entry(e) for e in manifest.entries), manifest.security_version, manifest.unlisted,
                        manifest.signer_slot, boot.minimum_version, boot.held, True)

    def manifest(self, request: BootManifestRequest) -> Manifest:
        return self._manifest(self._boot.manifest())

    def add_file(self, request: BootAddFileRequest) -> BootFileEntry | Stepped:
        """The file is hashed off the loop. :raises InvalidArgumentError: if the partition has no such file."""
        return stepped(self._add_file(request))

    def _add_file(self, request: BootAddFileRequest) -> Generator[Step, Any, BootFileEntry]:
        partition = self._partitions.open(request.partition)
        try:
            return _entry((yield from self._boot.add_or_update(partition, request.path, request.slot)))
        except FileNotFoundError:
            raise InvalidArgumentError(f"the boot partition has no file {request.path}") from None

    def remove_file(self, request: BootRemoveFileRequest) -> Done:
        self._boot.remove(request.path)
        return Done()

    def sign_all(self, request: BootSignAllRequest) -> Manifest | Stepped:
        """The files are listed and hashed off the loop. :raises InvalidArgumentError: for a missing file."""
        return stepped(self._sign_all(request))

    def _sign_all(self, request: BootSignAllRequest) -> Generator[Step, Any, Manifest]:
        partition = self._partitions.open(request.partition)
        try:
            manifest = yield from self._boot.sign_all(partition, paths=request.paths, unlisted=request.unlisted,
                                                      security_version=request.security_version, slot=request.slot)
        except FileNotFoundError as exc:
            raise InvalidArgumentError(f"the boot partition has no file {exc}") from None
        return self._manifest(manifest)

    async def verify(self, request: BootVerifyRequest) -> Verification:
        """Hashing runs on a worker thread, so the module (and its tamper monitor) keeps serving;
        subscribers see ``BOOT_VERIFY_PROGRESS`` events (bytes done and total) meanwhile."""
        partition = self._partitions.open(request.partition)
        plan = self._boot.plan()
        loop = asyncio.get_running_loop()

        def publish(done: int, total: int) -> None:
            loop.call_soon_threadsafe(lambda: self._events.publish(Event.BOOT_VERIFY_PROGRESS, done=done, total=total))

        report = None if plan is None else await loop.run_in_executor(
            None, plan.run, partition, ThrottledProgress(publish))
        decision = self._boot.conclude(partition, plan, report, self._mode())
        report = decision.report
        return Verification(decision.outcome, _faults(report), report.files_checked if report else 0,
                            report.bytes_hashed if report else 0, report.security_version if report else 0)

    def remediate(self, request: BootRemediateRequest) -> Remediation | Stepped:
        """The partition is verified, restored and verified again off the loop."""
        return stepped(self._remediate(request))

    def _remediate(self, request: BootRemediateRequest) -> Generator[Step, Any, Remediation]:
        result = yield from self._boot.remediate(self._partitions.open(request.partition),
                                                 recovery_partition=request.recovery_partition,
                                                 normal_partition=request.normal_partition,
                                                 remove_unlisted=request.remove_unlisted)
        restored = result.restore
        return Remediation(restored.restored, restored.removed, restored.unrestorable, result.report.ok,
                           _faults(result.report),
                           result.recovery.recovery_partition if result.recovery else None)

    def challenge(self, request: BootChallengeRequest) -> Challenge:
        issued = self._boot.challenge(request.action)
        return Challenge(issued.nonce, issued.expires, self._boot.serial, issued.action)

    async def authorize(self, request: BootAuthorizeRequest) -> Authorized:
        """:raises BootAuthorizationError: if refused (a tap code that does not come in time too)."""
        boot = self._boot
        if request.method is BootAuthMethod.TOKEN:
            boot.authorize_token(request.token or b"", request.action)
        elif request.method is BootAuthMethod.SLIP39:
            boot.authorize_slip39(request.shares or (), request.passphrase, request.action)
        else:
            times = await self._tap_code(request.timeout_ms)
            boot.authorize_tap(times, (times[-1] if times else 0.0) + boot.tap_end_s, request.action)
        return Authorized(request.action, boot.held)

    async def _tap_code(self, timeout_ms: int) -> list[float]:
        """The times of the taps that form one code: the first within ``timeout_ms``, then taps
        until the recogniser's end pause passes with none (no tap: an empty code, refused)."""
        monitor = self._monitor
        first = monitor.tap_count
        try:
            await monitor.wait_tap(timeout_ms)
            while True:
                await monitor.wait_tap(int(self._boot.tap_end_s * 1000))
        except ScmTimeoutError:
            pass
        new = min(monitor.tap_count - first, len(monitor.recent_taps))
        return [tap.t for tap in list(monitor.recent_taps)[len(monitor.recent_taps) - new:]]

    def confirm(self, request: BootConfirmRequest) -> MinimumVersion:
        return MinimumVersion(self._boot.confirm())

    def setup(self, request: BootSetupRequest) -> AdminShares | Stepped:
        """Set the tap code, the wipe list and new admin shares; the shares' split runs off the loop."""
        return stepped(self._setup(request))

    def _setup(self, request: BootSetupRequest) -> Generator[Step, Any, AdminShares]:
        boot = self._boot
        if request.tap_code is not None:
            boot.set_tap_code(request.tap_code)
        if request.wipe_files is not None:
            boot.set_wipe_on_destroy(request.wipe_files)
        if (request.admin_group_threshold is None) != (request.admin_groups is None):
            raise InvalidArgumentError("admin shares need both the group threshold and the groups")
        if request.admin_group_threshold is not None and request.admin_groups is not None:
            groups = yield from boot.create_admin_shares(request.admin_group_threshold, request.admin_groups,
                                                         request.admin_passphrase)
            return AdminShares(tuple(tuple(g) for g in groups))
        return AdminShares()

