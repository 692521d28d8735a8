"""The station's saved state: phases move through their statuses and keep partial results."""

from __future__ import annotations

import stat

import pytest

from softscm.host.provision import Phase, Status
from softscm.host.provision.state import STATE_FILE, StationState
from softscm.wire.errors import ProvisioningError


def test_phases_partials_and_reopen(tmp_path):
    state = StationState(tmp_path / "station")
    state.add_unit("A1", "unix:/a", "/img/a")
    assert {row.status for row in state.phases("A1").values()} == {Status.PENDING}
    assert state.start("A1", Phase.CERTIFICATE) is None
    state.save_partial("A1", Phase.CERTIFICATE, {"chain": [b"leaf", b"ca"]})
    state.close()
    state = StationState(tmp_path / "station")  # the station was interrupted here
    assert state.start("A1", Phase.CERTIFICATE) == {"chain": [b"leaf", b"ca"]}
    state.finish("A1", Phase.CERTIFICATE, {"stored": True})
    state.fail("A1", Phase.RECORD, "no module")
    state.add_unit("A1", "unix:/a2", "/img/a")  # registering again keeps the phases
    rows = state.phases("A1")
    assert rows[Phase.CERTIFICATE].status is Status.DONE and rows[Phase.CERTIFICATE].result == {"stored": True}
    assert rows[Phase.RECORD].status is Status.FAILED and rows[Phase.RECORD].error == "no module"
    assert state.unit_image("A1") == "/img/a" and state.unit_image("B2") is None
    assert stat.S_IMODE((tmp_path / "station" / STATE_FILE).stat().st_mode) == 0o600
    state.set_setting("schema_version", 99)
    state.close()
    with pytest.raises(ProvisioningError, match="schema version 99"):
        StationState(tmp_path / "station")
