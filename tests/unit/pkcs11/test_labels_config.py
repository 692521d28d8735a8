"""Host-side labels (owner-only JSON, bound to the key) and the module's configuration."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from softscm.pkcs11.config import Config
from softscm.pkcs11.labels import LabelStore, fingerprint
from softscm.wire.defs import KeyType


def test_labels_are_owner_only_and_bound_to_the_key(tmp_path):
    store = LabelStore(tmp_path / "state" / "softscm" / "labels.json")
    store.set("SERIAL", "k16", "signing key", b"public-1")
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(store.path.parent).st_mode) == 0o700
    assert store.label("SERIAL", "k16", lambda: b"public-1") == "signing key"
    # another key now in slot 16 (the first was removed elsewhere): the label does not follow
    assert store.label("SERIAL", "k16", lambda: b"public-2") is None
    assert store.label("OTHER", "k16", lambda: b"public-1") is None
    store.forget("SERIAL", "k16")
    assert store.label("SERIAL", "k16", lambda: b"public-1") is None


def test_a_second_store_sees_labels_written_by_another_process(tmp_path):
    path = tmp_path / "labels.json"
    first, second = LabelStore(path), LabelStore(path)
    assert second.label("S", "f1", lambda: b"k") is None
    first.set("S", "f1", "peer", b"k")
    assert second.label("S", "f1", lambda: b"k") == "peer"
    assert json.loads(path.read_text())["modules"]["S"]["f1"] == {"label": "peer", "key": fingerprint(b"k")}


def test_an_unreadable_label_file_means_no_labels_and_is_not_rewritten(tmp_path):
    path = tmp_path / "labels.json"
    path.write_text("not json")
    assert LabelStore(path).label("S", "k16", lambda: b"k") is None
    assert path.read_text() == "not json"


def test_config_url_labels_and_key_types(tmp_path, monkeypatch):
    conf = tmp_path / "pkcs11.conf"
    conf.write_text("# softscm\nurl = unix:/tmp/x.sock\nlabels = ~/labels.json\nkey-types = nistp256, secp256k1\n")
    monkeypatch.setenv("SOFTSCM_PKCS11_CONF", str(conf))
    monkeypatch.delenv("SOFTSCM_URL", raising=False)
    monkeypatch.delenv("SOFTSCM_PKCS11_KEY_TYPES", raising=False)
    config = Config.load()
    assert config.url == "unix:/tmp/x.sock"
    assert config.labels == Path("~/labels.json").expanduser()
    assert config.key_types == {KeyType.NISTP256, KeyType.SECP256K1}
    monkeypatch.setenv("SOFTSCM_URL", "tcp:127.0.0.1:7070")
    monkeypatch.setenv("SOFTSCM_PKCS11_KEY_TYPES", "ed25519")
    config = Config.load()
    assert config.url == "tcp:127.0.0.1:7070" and config.key_types == {KeyType.ED25519}
    monkeypatch.setenv("SOFTSCM_PKCS11_KEY_TYPES", "p384")
    with pytest.raises(ValueError):
        Config.load()
