"""The root key record, and the host binding that seals it."""

from __future__ import annotations

import os

import pytest

from softscm.module.store.rootkey import (
    RootKeyRecord,
    bind_root_key,
    create_root_key,
    load_root_key,
)
from softscm.wire.errors import BindingError, StoreCorruptError


def test_record_round_trip():
    record = RootKeyRecord(True, os.urandom(16), os.urandom(32), os.urandom(60))
    assert RootKeyRecord.parse(record.to_bytes()) == record


def test_unbound_module_moves_between_hosts(tmp_path, monkeypatch):
    monkeypatch.setenv("SOFTSCM_HOST_ID", "host-a")
    root = create_root_key(tmp_path)
    monkeypatch.setenv("SOFTSCM_HOST_ID", "host-b")
    assert load_root_key(tmp_path) == (root, False)


def test_bound_module_refuses_another_host(tmp_path, monkeypatch):
    monkeypatch.setenv("SOFTSCM_HOST_ID", "host-a")
    root = create_root_key(tmp_path)
    bind_root_key(tmp_path, root)
    assert load_root_key(tmp_path) == (root, True)
    monkeypatch.setenv("SOFTSCM_HOST_ID", "host-b")
    with pytest.raises(BindingError):
        load_root_key(tmp_path)


def test_forged_unbound_flag_fails_authentication(tmp_path, monkeypatch):
    monkeypatch.setenv("SOFTSCM_HOST_ID", "host-a")
    root = create_root_key(tmp_path)
    bind_root_key(tmp_path, root)
    record = RootKeyRecord.parse((tmp_path / "root.key").read_bytes())
    forged = RootKeyRecord(False, record.salt, record.host_tag, record.sealed)
    (tmp_path / "root.key").write_bytes(forged.to_bytes())
    with pytest.raises(StoreCorruptError):
        load_root_key(tmp_path)
