"""Fault injection: only in development mode with the switch on, only known targets."""

from __future__ import annotations

import pytest

from softscm.module.selftest.faults import FaultPlan, faulty_source, flip
from softscm.wire.defs import Mode
from softscm.wire.errors import InvalidArgumentError, NotPermittedError


@pytest.mark.parametrize("mode, enabled", [(Mode.PRODUCTION, True), (Mode.PRODUCTION, False),
                                           (Mode.DEVELOPMENT, False)])
@pytest.mark.parametrize("fault", [{"kat": "sha256"}, {"integrity": "code"}, {"entropy": "stuck"}])
def test_refused_in_production_mode_and_when_switched_off(mode, enabled, fault):
    plan = FaultPlan()
    with pytest.raises(NotPermittedError):
        plan.add(mode, enabled, **fault)
    assert plan == FaultPlan()


def test_armed_in_development_mode_with_the_switch_on():
    plan = FaultPlan()
    plan.add(Mode.DEVELOPMENT, True, kat="sha256", where="expected", integrity="code", entropy="biased")
    assert plan.kat == {"sha256": "expected"} and plan.integrity == {"code"} and plan.entropy == "biased"
    assert plan.kat_value("sha256", "expected", b"\x10\x20") == b"\x11\x20"
    assert plan.kat_value("sha256", "input", b"\x10") == b"\x10"
    assert plan.digest("code", b"\x00" * 4) == b"\x01" + b"\x00" * 3 and plan.digest("keystore", b"\x00") == b"\x00"
    source = plan.entropy_source()
    assert source is not None and source(6) == bytes([0, 2, 0, 4, 0, 6])


@pytest.mark.parametrize("fault", [{"kat": "md5"}, {"kat": "sha256", "where": "key"}, {"integrity": "bios"},
                                   {"entropy": "loud"}, {"kat": "sha256", "entropy": "loud"}])
def test_unknown_targets_are_refused_and_nothing_is_armed(fault):
    plan = FaultPlan()
    with pytest.raises(InvalidArgumentError):
        plan.add(Mode.DEVELOPMENT, True, **fault)
    assert plan == FaultPlan() and plan.entropy_source() is None


def test_flip_changes_exactly_one_byte():
    assert flip(b"\x00\xff") == b"\x01\xff" and flip(b"") == b"\x01"
    assert faulty_source("stuck")(3) == b"\x00\x00\x00"
    with pytest.raises(InvalidArgumentError):
        faulty_source("other")
