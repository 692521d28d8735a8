"""Policy limits and the production-mode freeze rules, as the zymkey reference states them."""

from __future__ import annotations

import pytest

from softscm.module.policy.settings import Policy
from softscm.wire.defs import BatteryAction, Mode
from softscm.wire.errors import InvalidArgumentError, PolicyFrozenError

DEV, PROD = Mode.DEVELOPMENT, Mode.PRODUCTION


def test_defaults_and_round_trip():
    policy = Policy()
    assert (policy.battery_threshold, policy.temp_low, policy.temp_high) == (2.3, -10.0, 65.0)
    policy.set_perimeter_actions(1, True, True, DEV)
    policy.perimeter[0].first_breach = 123.5
    assert Policy.from_json(policy.to_json()) == policy


def test_development_mode_changes_anything_any_number_of_times():
    policy = Policy()
    for _ in range(3):
        policy.set_perimeter_actions(0, False, True, DEV)
        policy.set_battery(DEV, threshold=2.2, sleep=True)
        policy.set_temperature(DEV, low=-5, high=70, self_destruct=True)
        policy.set_perimeter_params(DEV, lp_period_us=2000, min_delay_ns=10, max_delay_ns=20)
    assert policy.battery_action == BatteryAction.SLEEP


def test_production_freezes_temperature_and_battery():
    policy = Policy()
    with pytest.raises(PolicyFrozenError):
        policy.set_battery(PROD, threshold=2.0)
    with pytest.raises(PolicyFrozenError):
        policy.set_temperature(PROD, high=80)
    with pytest.raises(PolicyFrozenError):
        policy.set_perimeter_params(PROD, lp_max_bits=4)
    assert policy == Policy()


def test_production_allows_one_perimeter_change_and_any_boot_policy():
    policy = Policy()
    policy.set_perimeter_actions(0, True, True, PROD)
    with pytest.raises(PolicyFrozenError):
        policy.set_perimeter_actions(1, True, True, PROD)
    assert policy.perimeter[1].self_destruct is False
    for value in (2, 0, 1, 2):
        policy.set_boot_policy(value)
    assert policy.boot_policy == 2


@pytest.mark.parametrize("change", [
    lambda p: p.set_battery(DEV, threshold=2.5),
    lambda p: p.set_battery(DEV, sleep=True, self_destruct=True),
    lambda p: p.set_temperature(DEV, low=70, high=60),
    lambda p: p.set_perimeter_params(DEV, lp_period_us=1),
    lambda p: p.set_perimeter_params(DEV, min_delay_ns=500, max_delay_ns=100),
    lambda p: p.set_perimeter_actions(2, True, False, DEV),
    lambda p: p.set_boot_policy(3),
], ids=["battery-2.5V", "sleep-and-destruct", "low-above-high", "lp-period", "delay-order", "channel-2",
        "boot-policy-3"])
def test_bad_values_are_typed_errors(change):
    with pytest.raises(InvalidArgumentError):
        change(Policy())
