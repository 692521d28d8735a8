"""Production mode binds the module to its host for good."""

from __future__ import annotations

import pytest

import softscm
from softscm.wire.errors import NotPermittedError

from ..conftest import run_scmd


def test_lock_binding_ties_the_module_to_this_host(tmp_path, monkeypatch):
    monkeypatch.setenv("SOFTSCM_HOST_ID", "pi-one")
    state = tmp_path / "state"
    with softscm.connect(f"embedded:{state}") as scm:
        slot = scm.gen_key_pair("ed25519")
        assert scm.get_binding_info() == (False, True)
        scm.lock_binding()
        assert scm.get_binding_info() == (True, True)
        assert scm.status().mode.name == "PRODUCTION"
        with pytest.raises(NotPermittedError):
            scm.import_key("ed25519", bytes(32))
    with softscm.connect(f"embedded:{state}") as scm:  # same host: still works, still production
        assert scm.get_binding_info() == (True, True)
        scm.verify(slot, b"m", scm.sign(slot, b"m").raw)
    moved = run_scmd(state, env={"SOFTSCM_HOST_ID": "pi-two", "PATH": "/usr/bin:/bin"})
    assert moved.returncode != 0
    assert "bound to a different host" in moved.stderr


def test_development_module_moves_freely(tmp_path, monkeypatch):
    monkeypatch.setenv("SOFTSCM_HOST_ID", "pi-one")
    state = tmp_path / "state"
    with softscm.connect(f"embedded:{state}") as scm:
        slot = scm.gen_key_pair("nistp256")
        public = scm.get_public_key(slot)
    monkeypatch.setenv("SOFTSCM_HOST_ID", "pi-two")
    with softscm.connect(f"embedded:{state}") as scm:
        assert scm.get_public_key(slot) == public
