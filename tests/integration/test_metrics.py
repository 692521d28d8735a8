"""The metrics endpoint, scraped over HTTP on loopback, moves with real operations."""

from __future__ import annotations

import hashlib
import socket
import urllib.request

import softscm
from softscm.host.metrics import serve_metrics


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _scrape(port: int) -> dict[str, float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def test_counters_move_with_operations(daemon):
    port = _free_port()
    serve_metrics(lambda: softscm.connect(daemon.url), port)
    before = _scrape(port)
    assert before["softscm_up"] == 1.0
    assert before['softscm_module_state{state="READY"}'] == 1.0
    assert before["softscm_boots_total"] == 1.0
    with daemon.connect() as scm:
        slot = scm.gen_key_pair("nistp256")
        digest = hashlib.sha256(b"x").digest()
        for _ in range(5):
            scm.sign(slot, digest)
        try:
            scm.sign(400, digest)
        except softscm.ScmError:
            pass
    after = _scrape(port)
    assert after['softscm_operations_total{command="SIGN"}'] - before.get(
        'softscm_operations_total{command="SIGN"}', 0) == 5
    assert after['softscm_errors_total{command="SIGN"}'] >= 1
    assert after['softscm_operation_seconds_total{command="GEN_KEY"}'] > 0
    assert after["softscm_uptime_seconds"] >= before["softscm_uptime_seconds"]


def test_unreachable_module_reports_down(tmp_path):
    port = _free_port()
    serve_metrics(lambda: softscm.connect(f"unix:{tmp_path}/nothing.sock"), port)
    assert _scrape(port)["softscm_up"] == 0.0
