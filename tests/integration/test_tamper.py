"""Tamper, environment policies and modes through a real module."""

from __future__ import annotations

import hashlib
import threading
import time

import pytest

import softscm
from softscm.module.sensors.simulated import apply_offline
from softscm.wire.errors import (
    DestroyedError,
    InvalidArgumentError,
    ModuleStateError,
    PolicyFrozenError,
    ScmTimeoutError,
)

KNOWN_KEY = bytes.fromhex("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721")
DIGEST = bytes(range(32))


def _events(scm, seen: list, stop: threading.Event) -> None:
    try:
        for event in scm.events(timeout=10):
            seen.append(event)
            if stop.is_set():
                return
    except softscm.ScmError:
        pass


def test_development_breach_with_self_destruct_only_reports(daemon):
    listener = daemon.connect()
    seen: list = []
    stop = threading.Event()
    thread = threading.Thread(target=_events, args=(listener, seen, stop), daemon=True)
    thread.start()
    with daemon.connect() as scm:
        slot = scm.import_key("nistp256", KNOWN_KEY)
        scm.set_perimeter_event_actions(1, notify=True, self_destruct=True)
        time.sleep(0.2)
        scm.simulate("perimeter_open", channel=1)
        first = scm.get_perimeter_detect_info()
        assert first[0] == 0 and first[1] > 0
        scm.verify(slot, DIGEST, scm.sign(slot, DIGEST).raw)  # keys intact
        led = scm.get_led()
        assert led.code == "6/2" and led.history[-1][1] == "6/2"
        assert scm.status().state.name == "READY"
    deadline = time.monotonic() + 5
    while not any(e["name"] == "TAMPER" for e in seen) and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    tamper = next(e for e in seen if e["name"] == "TAMPER")
    assert tamper["details"]["channel"] == 1
    assert any(e["name"] == "LED_CODE" and e["details"]["code"] == "6/2" for e in seen)
    listener.close()


def test_production_breach_destroys_every_key(daemon):
    with daemon.connect() as scm:
        slot = scm.import_key("nistp256", KNOWN_KEY)
        seed_slot = scm.restore_wallet_seed("secp256k1", "w", bytes(range(32)))
        scm.set_perimeter_event_actions(0, notify=True, self_destruct=True)
        scm.lock_binding()
        scm.simulate("perimeter_open", channel=0)
        status = scm.status()
        assert status.state.name == "DESTROYED"
        assert status.self_destruct_seconds < 5
        with pytest.raises(DestroyedError):
            scm.sign(slot, DIGEST)
        with pytest.raises(DestroyedError):
            scm.get_public_key(seed_slot)
    found = b"".join(p.read_bytes() for p in daemon.state_dir.rglob("*") if p.is_file())
    assert KNOWN_KEY not in found
    assert not (daemon.state_dir / "root.key").exists()
    daemon.stop()
    daemon.start()  # stays destroyed across a restart
    with daemon.connect() as scm:
        assert scm.status().state.name == "DESTROYED"
        with pytest.raises(DestroyedError):
            scm.gen_key_pair("ed25519")


def test_breach_while_the_module_was_stopped_is_reported_after_restart(daemon):
    with daemon.connect() as scm:
        assert scm.get_perimeter_detect_info() == [0.0, 0.0]
    daemon.stop()
    apply_offline(daemon.state_dir, "perimeter_open", {"channel": 0}, clock=lambda: 1_750_000_000.0)
    daemon.start()
    with daemon.connect() as scm:
        assert scm.get_perimeter_detect_info() == [1_750_000_000.0, 0.0]
        scm.clear_perimeter_detect_info()
        assert scm.get_perimeter_detect_info() == [0.0, 0.0]


def test_policies_freeze_after_production_lock(scm):
    with pytest.raises(InvalidArgumentError):
        scm.set_battery_policy(sleep=True, self_destruct=True)
    scm.set_battery_policy(threshold=2.2, sleep=True)
    scm.set_temperature_policy(low=-20, high=70)
    scm.lock_binding()
    with pytest.raises(PolicyFrozenError):
        scm.set_battery_policy(threshold=2.0)
    with pytest.raises(PolicyFrozenError):
        scm.set_temperature_policy(high=90)
    scm.set_perimeter_event_actions(0, notify=True, self_destruct=False)
    with pytest.raises(PolicyFrozenError):
        scm.set_perimeter_event_actions(0, notify=False)
    for policy_id in (1, 2, 0):
        scm.set_supervised_boot_policy(policy_id)
    policy = scm.get_policy()
    assert policy["battery_threshold"] == 2.2 and policy["temp_high"] == 70 and policy["boot_policy"] == 0


def test_low_battery_sleep_and_power_loss_suspend_key_operations(scm):
    slot = scm.gen_key_pair("ed25519")
    scm.set_battery_policy(threshold=2.4, sleep=True)
    scm.simulate("battery", volts=2.0)
    with pytest.raises(ModuleStateError, match="battery"):
        scm.sign(slot, b"m")
    assert (scm.get_battery().volts, scm.get_battery().present) == (2.0, True)  # status keeps answering
    scm.simulate("battery", volts=3.0)
    scm.sign(slot, b"m")
    scm.simulate("power_lost")
    with pytest.raises(ModuleStateError, match="power"):
        scm.sign(slot, b"m")
    scm.simulate("power_restored")
    scm.sign(slot, b"m")


def test_temperature_out_of_range_in_development_shows_the_code(scm):
    scm.set_temperature_policy(high=60, self_destruct=True)
    scm.simulate("temperature", celsius=80.0)
    assert scm.get_led().code == "20/2"
    assert scm.get_cpu_temp() == 80.0
    assert scm.status().state.name == "READY"


def test_taps_and_waits(scm):
    scm.set_tap_sensitivity("all", 60)
    with pytest.raises(ScmTimeoutError):
        scm.wait_for_tap(timeout_ms=100)
    result: list = []
    waiter = threading.Thread(target=lambda: result.append(_wait_tap(scm)))
    waiter.start()
    time.sleep(0.2)
    # the sync client serialises calls while the wait is in flight: drive the simulator on the module's thread
    scm.host.call(lambda: scm.host.module.sensors.apply("tap", axis="y", direction=-1, g=2.5))
    waiter.join(timeout=5)
    assert result == ["tapped"]
    accel = scm.get_accelerometer()
    assert list(accel.tap_direction) == [0, -1, 0]
    assert accel.g_force[2] == pytest.approx(1.0)


def _wait_tap(scm) -> str:
    scm.wait_for_tap(timeout_ms=5000)
    return "tapped"


def test_perimeter_wait_needs_a_notifying_channel(scm):
    with pytest.raises(ScmTimeoutError):
        scm.wait_for_perimeter_event(timeout_ms=50)
    for channel in (0, 1):
        scm.set_perimeter_event_actions(channel, notify=False)
    with pytest.raises(InvalidArgumentError):
        scm.wait_for_perimeter_event(timeout_ms=50)


def test_rtc_drift_and_time(scm):
    assert abs(scm.get_module_time() - time.time()) < 5
    scm.simulate("rtc_drift", ppm=15.0)
    assert isinstance(scm.get_rtc_drift(), float)
    precise = scm.get_module_time(precise=True)
    assert precise == int(precise)


def test_over_temperature_with_the_suspend_policy_refuses_key_operations_until_back_in_range(tmp_path):
    """Issue 13: signing went on at 95 °C; with the suspend policy it is refused while hot and served
    again once the temperature is back in range (each change in the audit log)."""
    digest = hashlib.sha256(b"hot").digest()
    with softscm.connect(f"embedded:{tmp_path / 'state'}") as scm:
        slot = scm.gen_key_pair("nistp256")
        scm.set_temperature_policy(high=70.0, suspend=True)
        scm.simulate("temperature", celsius=95)
        with pytest.raises(ModuleStateError, match="suspended"):
            scm.sign(slot, digest)
        assert "temperature" in scm.status().suspended and scm.get_cpu_temp() == 95  # reads still served
        scm.simulate("temperature", celsius=40)
        scm.verify(slot, digest, scm.sign(slot, digest).raw)
        assert scm.status().suspended == {}
        entries, _ = scm.read_log(events=["TEMPERATURE"])
    assert [e.details.get("suspended") for e in entries if "suspended" in e.details] == [True, False]
