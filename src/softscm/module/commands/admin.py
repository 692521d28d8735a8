"""Session, information, status, randomness, binding and metrics."""

from __future__ import annotations

from typing import Protocol

from ...wire.defs import PROTOCOL_VERSION, Mode, ModuleState, Role
from ...wire.errors import UnsupportedVersionError
from ...wire.messages import Done
from ...wire.messages.admin import (
    BindingInfo,
    BindingInfoRequest,
    Hello,
    HelloRequest,
    InfoRequest,
    LedGetRequest,
    LedStatus,
    LockBindingRequest,
    Metrics,
    MetricsRequest,
    ModuleInfo,
    RandomBytes,
    RandomRequest,
    Status,
    StatusRequest,
)
from ..crypto.rng import Rng
from ..dispatch import ANY_STATE, READY_OR_HOLD, Route, route


class Administered(Protocol):
    """What the admin commands read of the module and ask of it."""

    @property
    def state(self) -> ModuleState: ...

    @property
    def mode(self) -> Mode: ...

    @property
    def serial(self) -> str: ...

    def info(self) -> ModuleInfo: ...

    def status(self) -> Status: ...

    def metrics(self) -> Metrics: ...

    def lock_binding(self) -> None: ...

    def led_status(self) -> LedStatus: ...


class AdminCommands:
    def __init__(self, module: Administered, rng: Rng) -> None:
        self._module = module
        self._rng = rng

    def routes(self) -> list[Route]:
        return [
            route(HelloRequest, self.hello, states=ANY_STATE, role=Role.NONE),
            route(InfoRequest, self.info, states=ANY_STATE),
            route(StatusRequest, self.status, states=ANY_STATE),
            route(RandomRequest, self.random, states=READY_OR_HOLD),
            route(LockBindingRequest, self.lock_binding, states=READY_OR_HOLD, role=Role.ADMIN),
            route(BindingInfoRequest, self.binding_info, states=ANY_STATE),
            route(MetricsRequest, self.metrics, states=ANY_STATE),
            route(LedGetRequest, self.led_get, states=ANY_STATE),
        ]

    def hello(self, request: HelloRequest) -> Hello:
        """Version handshake. :raises UnsupportedVersionError: for a version this module lacks."""
        if request.version != PROTOCOL_VERSION:
            raise UnsupportedVersionError(
                f"protocol version {request.version} is not supported (this module speaks {PROTOCOL_VERSION})")
        return Hello(PROTOCOL_VERSION, self._module.serial, self._module.state)

    def info(self, request: InfoRequest) -> ModuleInfo:
        return self._module.info()

    def status(self, request: StatusRequest) -> Status:
        return self._module.status()

    def random(self, request: RandomRequest) -> RandomBytes:
        return RandomBytes(self._rng(request.size))

    def lock_binding(self, request: LockBindingRequest) -> Done:
        """Permanent production mode: the module is bound to this host and actions are carried out."""
        self._module.lock_binding()
        return Done()

    def binding_info(self, request: BindingInfoRequest) -> BindingInfo:
        return BindingInfo(self._module.mode is Mode.PRODUCTION, True)

    def led_get(self, request: LedGetRequest) -> LedStatus:
        """The LED pattern, the fatal code shown (if any) and the recent codes."""
        return self._module.led_status()

    def metrics(self, request: MetricsRequest) -> Metrics:
        """Counters and gauges for the host's metrics exporter."""
        return self._module.metrics()
