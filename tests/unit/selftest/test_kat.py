"""Known-answer tests: the table runs through the module's crypto layer, every corruption fails."""

from __future__ import annotations

import json

import pytest

from softscm.module.selftest import kat as kat_module
from softscm.module.selftest.faults import FaultPlan
from softscm.module.selftest.kat import KAT_NAMES, TABLE, run_kat, run_kats
from softscm.module.selftest.kat_table import ALGORITHMS, VECTORS_FILE, KnownAnswerTest, load_table
from softscm.wire.defs import Mode
from softscm.wire.errors import InvalidArgumentError


def test_every_kat_passes_in_table_order():
    results = run_kats()
    assert [r.name for r in results] == list(KAT_NAMES)
    assert all(r.passed and r.category == "kat" and r.duration_s >= 0 and r.detail == "" for r in results)


def test_the_table_covers_every_algorithm_and_cites_a_source():
    assert {k.algorithm for k in TABLE} == set(ALGORITHMS) == set(kat_module.RUNNERS)
    assert all(len(k.source) > 20 and k.expected for k in TABLE)


@pytest.mark.parametrize("where", ["input", "expected"])
@pytest.mark.parametrize("name", KAT_NAMES)
def test_each_kat_fails_with_one_byte_flipped(name, where):
    plan = FaultPlan()
    plan.add(Mode.DEVELOPMENT, True, kat=name, where=where)
    results = {r.name: r for r in run_kats(plan)}
    assert not results[name].passed and results[name].detail
    assert all(r.passed for n, r in results.items() if n != name)


def test_an_error_inside_an_algorithm_is_a_failed_result_not_an_exception(monkeypatch):
    def broken(kat, data, expected):
        raise RuntimeError("secret-looking detail")

    monkeypatch.setitem(kat_module.RUNNERS, "sha256", broken)
    result = run_kat(next(k for k in TABLE if k.name == "sha256"))
    assert not result.passed and result.detail == "raised RuntimeError"  # the message is not repeated


def test_a_flipped_signature_input_fails_verification_with_a_typed_error():
    plan = FaultPlan()
    plan.add(Mode.DEVELOPMENT, True, kat="ecdsa-secp256k1-verify", where="input")
    result = run_kat(next(k for k in TABLE if k.name == "ecdsa-secp256k1-verify"), plan)
    assert not result.passed and result.detail == "raised InvalidSignatureError"


def test_table_entries_round_trip_to_the_packaged_json():
    entries = json.loads(VECTORS_FILE.read_text())["kats"]
    assert [k.to_dict() for k in TABLE] == entries
    assert tuple(KnownAnswerTest.parse(e) for e in entries) == TABLE


@pytest.mark.parametrize("change", [
    {"algorithm": "md5"},
    {"source": ""},
    {"input": "zz"},
    {"expected": 5},
    {"params": {"key": "0g"}},
    {"numbers": {"length": "42"}},
    {"numbers": {"length": True}},
    {"name": ""},
])
def test_a_malformed_entry_is_refused(change):
    entry = {**TABLE[0].to_dict(), **change}
    with pytest.raises(InvalidArgumentError):
        KnownAnswerTest.parse(entry)


def test_a_malformed_table_is_refused(tmp_path):
    path = tmp_path / "kats.json"
    for text in ("{", "[]", json.dumps({"kats": [TABLE[0].to_dict(), TABLE[0].to_dict()]})):
        path.write_text(text)
        with pytest.raises(InvalidArgumentError):
            load_table(path)
