"""Disk encryption: make a volume key, release one."""

from __future__ import annotations

from ...wire.defs import Role
from ...wire.messages.disk import DiskKey, DiskNewKeyRequest, DiskUnlockRequest, VolumeKey
from ..disk import DiskCustody
from ..dispatch import Route, route


class DiskCommands:
    def __init__(self, disk: DiskCustody) -> None:
        self._disk = disk

    def routes(self) -> list[Route]:
        # a volume key is made at enrolment (administration) and released at boot, unattended: an
        # administrator's role, without the PIN login a boot cannot give
        return [route(DiskNewKeyRequest, self.new_key, role=Role.ADMIN),
                route(DiskUnlockRequest, self.unlock, role=Role.ADMIN, pin=False)]

    def new_key(self, request: DiskNewKeyRequest) -> VolumeKey:
        key, blob = self._disk.new_volume_key(request.size, request.volume_id)
        return VolumeKey(key, blob)

    def unlock(self, request: DiskUnlockRequest) -> DiskKey:
        return DiskKey(self._disk.unlock_volume_key(request.blob, request.volume_id))
