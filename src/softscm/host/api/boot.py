"""Supervised (verified) boot: the manifest, verification, remediation and authorisation.

The zymkey names (``add_or_update_supervised_boot_file``, ``remove_supervised_boot_file``,
``get_supervised_boot_file_manifest``) are kept; the rest are ``boot_*``. A partition is given as
``directory=`` or ``image=`` (neither: the module's configured boot partition).
"""

from __future__ import annotations

from collections.abc import Sequence

from ...wire.defs import BOOT_SIGNER_SLOT, BootAuthAction, BootAuthMethod, BootUnlistedPolicy
from ...wire.messages.boot import (
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
    Manifest,
    Partition,
    Remediation,
    Verification,
)
from .base import ApiBase, nothing, same


def _partition(directory: str | None, image: str | None, offset: int = 0) -> Partition:
    return Partition(None if directory is None else str(directory), None if image is None else str(image), offset)


class BootApi(ApiBase):
    def get_supervised_boot_file_manifest(self) -> str:
        """The guarded files as one whitespace-separated string (the zymkey form)."""
        return self._call(BootManifestRequest(), lambda r: r.listing)

    def boot_manifest(self) -> Manifest:
        """The stored manifest with the accepted minimum security version and the hold state."""
        return self._call(BootManifestRequest(), same)

    def add_or_update_supervised_boot_file(self, filepath: str = "", slot: int = BOOT_SIGNER_SLOT, *,
                                           directory: str | None = None, image: str | None = None) -> BootFileEntry:
        """Guard ``filepath`` (relative to the boot partition) with its current contents, re-signing
        the manifest with factory ``slot``.

        :raises BootHeldError: while the boot is held. :raises InvalidArgumentError: for a missing file.
        """
        return self._call(BootAddFileRequest(filepath, slot, _partition(directory, image)), same)

    def remove_supervised_boot_file(self, filepath: str = "") -> None:
        """:raises InvalidArgumentError: if the manifest does not list ``filepath``."""
        return self._call(BootRemoveFileRequest(filepath), nothing)

    def boot_sign_all(self, *, directory: str | None = None, image: str | None = None,
                      paths: Sequence[str] | None = None, unlisted: BootUnlistedPolicy | int | None = None,
                      security_version: int | None = None, slot: int | None = None) -> Manifest:
        """Sign every file on the partition (or ``paths``) now as the new manifest."""
        return self._call(BootSignAllRequest(_partition(directory, image), None if paths is None else tuple(paths),
                                             None if unlisted is None else BootUnlistedPolicy(unlisted),
                                             security_version, slot), same)

    def boot_verify(self, *, directory: str | None = None, image: str | None = None) -> Verification:
        """Verify the partition; the module acts on a failure by its policy and mode and says what
        it did (``outcome``) and why (``faults``)."""
        return self._call(BootVerifyRequest(_partition(directory, image)), same)

    def boot_remediate(self, *, directory: str | None = None, image: str | None = None,
                       recovery_partition: int | None = None, normal_partition: int = 1,
                       remove_unlisted: bool = False) -> Remediation:
        """Restore faulted files from the module's golden copies; fall back to a recovery partition."""
        return self._call(BootRemediateRequest(_partition(directory, image), recovery_partition, normal_partition,
                                               remove_unlisted), same)

    def boot_challenge(self, action: BootAuthAction | int = BootAuthAction.RELEASE_HOLD) -> Challenge:
        """A fresh one-time challenge for a remote authorisation token."""
        return self._call(BootChallengeRequest(BootAuthAction(action)), same)

    def boot_authorize_token(self, token: bytes,
                             action: BootAuthAction | int = BootAuthAction.RELEASE_HOLD) -> Authorized:
        """:raises BootAuthorizationError: if refused."""
        return self._call(BootAuthorizeRequest(BootAuthMethod.TOKEN, BootAuthAction(action), token=bytes(token)), same)

    def boot_authorize_slip39(self, shares: Sequence[str], passphrase: bytes = b"",
                              action: BootAuthAction | int = BootAuthAction.RELEASE_HOLD) -> Authorized:
        """:raises BootAuthorizationError: if refused."""
        return self._call(BootAuthorizeRequest(BootAuthMethod.SLIP39, BootAuthAction(action), shares=tuple(shares),
                                               passphrase=passphrase), same)

    def boot_authorize_tap(self, timeout_ms: int = 60_000,
                           action: BootAuthAction | int = BootAuthAction.RELEASE_HOLD) -> Authorized:
        """Wait for the tap code on the module's accelerometer. :raises BootAuthorizationError: if refused."""
        return self._call(BootAuthorizeRequest(BootAuthMethod.TAP, BootAuthAction(action), timeout_ms=timeout_ms),
                          same)

    def boot_confirm(self) -> int:
        """Confirm the verified boot good; returns the new minimum accepted security version."""
        return self._call(BootConfirmRequest(), lambda r: r.minimum_version)

    def boot_setup(self, *, tap_code: Sequence[int] | None = None, admin_group_threshold: int | None = None,
                   admin_groups: Sequence[tuple[int, int]] | None = None, admin_passphrase: bytes = b"",
                   wipe_files: bool | None = None) -> list[list[str]]:
        """Set the tap code, create SLIP-39 admin shares (returned by group, once), set whether
        self-destruct overwrites the guarded files."""
        return self._call(BootSetupRequest(None if tap_code is None else tuple(tap_code), admin_group_threshold,
                                           None if admin_groups is None else tuple((t, n) for t, n in admin_groups),
                                           admin_passphrase, wipe_files),
                          lambda r: [list(g) for g in r.groups])

