"""A Prometheus exporter for a running module.

Each scrape asks the module for its counters (one METRICS request) and renders them in the
Prometheus text format through ``prometheus-client``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from ..wire.defs import Mode, ModuleState
from ..wire.messages.admin import Metrics
from ..wire.errors import ScmError
from .client import Client


class ModuleCollector(Collector):
    """Collects a module's metrics on every scrape through ``connect()``."""

    def __init__(self, connect: Callable[[], Client]) -> None:
        self._connect = connect
        self._client: Client | None = None
        self._lock = threading.Lock()

    def _fetch(self) -> Metrics | None:
        with self._lock:
            for _ in range(2):
                try:
                    if self._client is None:
                        self._client = self._connect()
                    return self._client.metrics()
                except ScmError:
                    if self._client is not None:
                        self._client.close()
                    self._client = None
            return None

    def collect(self) -> Iterator[Any]:
        data = self._fetch()
        up = GaugeMetricFamily("softscm_up", "Whether the module answered the scrape")
        up.add_metric([], 0.0 if data is None else 1.0)
        yield up
        if data is None:
            return
        ops = CounterMetricFamily("softscm_operations", "Operations served, by command", labels=["command"])
        errors = CounterMetricFamily("softscm_errors", "Operations that failed, by command", labels=["command"])
        seconds = CounterMetricFamily("softscm_operation_seconds", "Time spent serving, by command",
                                      labels=["command"])
        for family, values in ((ops, data.ops), (errors, data.errors), (seconds, data.seconds)):
            for command, value in sorted(values.items()):
                family.add_metric([command], float(value))
            yield family
        state = GaugeMetricFamily("softscm_module_state", "1 for the module's current state", labels=["state"])
        for member in ModuleState:
            state.add_metric([member.name], 1.0 if member is data.state else 0.0)
        yield state
        production = GaugeMetricFamily("softscm_production_mode", "1 once the module is in production mode")
        production.add_metric([], 1.0 if data.mode is Mode.PRODUCTION else 0.0)
        yield production
        uptime = GaugeMetricFamily("softscm_uptime_seconds", "Seconds since the module started")
        uptime.add_metric([], float(data.uptime))
        yield uptime
        boots = CounterMetricFamily("softscm_boots", "Times the module has started")
        boots.add_metric([], float(data.boot_count))
        yield boots
        for name, value in sorted(data.gauges.items()):
            gauge = GaugeMetricFamily(f"softscm_{name}", f"Module sensor reading {name}")
            gauge.add_metric([], float(value))
            yield gauge


def serve_metrics(connect: Callable[[], Client], port: int, addr: str = "127.0.0.1") -> CollectorRegistry:
    """Serve ``/metrics`` on ``addr:port`` in a background thread; returns the registry."""
    registry = CollectorRegistry()
    registry.register(ModuleCollector(connect))
    start_http_server(port, addr=addr, registry=registry)
    return registry
