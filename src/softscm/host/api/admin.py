"""Session, information, status, randomness, binding, metrics and the LED."""

from __future__ import annotations

from ...wire.messages.admin import (
    BindingInfoRequest,
    InfoRequest,
    LedGetRequest,
    LedStatus,
    LockBindingRequest,
    Metrics,
    MetricsRequest,
    ModuleInfo,
    RandomRequest,
    Status,
    StatusRequest,
)
from .base import ApiBase, nothing, same


class AdminApi(ApiBase):
    def info(self) -> ModuleInfo:
        """Model, firmware version, serial number, identity key and capacities."""
        return self._call(InfoRequest(), same)

    def status(self) -> Status:
        """State, mode, binding, uptime, counters, LED and self-test figures."""
        return self._call(StatusRequest(), same)

    def get_random(self, size: int) -> bytes:
        """``size`` random bytes from the module's health-tested generator."""
        return self._call(RandomRequest(size), lambda r: r.data)

    def lock_binding(self) -> None:
        """Enter production mode for good and bind the module to this host (cannot be undone)."""
        return self._call(LockBindingRequest(), nothing)

    def get_binding_info(self) -> tuple[bool, bool]:
        """``(binding_is_locked, is_bound)``."""
        return self._call(BindingInfoRequest(), lambda r: (r.binding_is_locked, r.is_bound))

    def metrics(self) -> Metrics:
        """Operation counts, errors, cumulative latency per command, state and sensor gauges."""
        return self._call(MetricsRequest(), same)

    def get_led(self) -> LedStatus:
        """The LED pattern, the fatal code shown (if any) and the code history."""
        return self._call(LedGetRequest(), same)
