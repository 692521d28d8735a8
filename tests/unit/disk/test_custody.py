"""The module's disk custody: keys from its generator, sealed to this module and volume, released
only while READY and with the boot gate open, every release and refusal recorded."""

from __future__ import annotations

import os

import pytest

from softscm.module.disk import DiskBlob, DiskCustody
from softscm.wire.defs import Event, ModuleState
from softscm.wire.errors import AuthenticationError, InvalidArgumentError, ModuleStateError

VOLUME = bytes.fromhex("0e4e2ccb8b22408f9c1d7a3e5b6f7081")


class Module:
    """What the custody reads from the module: its state, the boot gate and the audit log."""

    def __init__(self) -> None:
        self.state = ModuleState.READY
        self.boot_verified = True
        self.events: list[tuple[Event, dict]] = []

    def custody(self, key: bytes = bytes(range(32))) -> DiskCustody:
        return DiskCustody(key, os.urandom, state=lambda: self.state, boot_gate=lambda: self.boot_verified,
                           events=self)

    def record(self, event: Event, **details: object) -> None:
        self.events.append((event, details))


@pytest.mark.parametrize("size", [32, 64])
def test_a_new_key_comes_back_only_from_its_blob_for_its_volume(size):
    module = Module()
    custody = module.custody()
    key, blob = custody.new_volume_key(size, VOLUME)
    assert len(key) == size and key not in blob
    assert DiskBlob.parse(blob).volume_id == VOLUME and DiskBlob.parse(blob).to_bytes() == blob
    assert custody.unlock_volume_key(blob, VOLUME) == key
    assert custody.new_volume_key(size, VOLUME)[0] != key
    with pytest.raises(AuthenticationError):
        custody.unlock_volume_key(blob, b"another volume")
    with pytest.raises(AuthenticationError):
        module.custody(key=bytes(32)).unlock_volume_key(blob, VOLUME)  # another module's disk key
    tampered = bytearray(blob)
    tampered[-1] ^= 1
    with pytest.raises(AuthenticationError):
        custody.unlock_volume_key(bytes(tampered), VOLUME)
    assert [e for e, _ in module.events] == [Event.DISK_KEY_CREATED, Event.DISK_KEY_RELEASED,
                                             Event.DISK_KEY_CREATED, Event.DISK_KEY_REFUSED,
                                             Event.DISK_KEY_REFUSED, Event.DISK_KEY_REFUSED]
    assert all(key.hex() not in str(details) for _, details in module.events)


@pytest.mark.parametrize("state", [s for s in ModuleState if s is not ModuleState.READY], ids=lambda s: s.name)
def test_no_key_leaves_unless_ready(state):
    module = Module()
    custody = module.custody()
    _, blob = custody.new_volume_key(64, VOLUME)
    module.state = state
    with pytest.raises(ModuleStateError, match=state.name):
        custody.unlock_volume_key(blob, VOLUME)
    with pytest.raises(ModuleStateError):
        custody.new_volume_key(64, VOLUME)
    assert module.events[-1] == (Event.DISK_KEY_REFUSED, {"volume": VOLUME.hex(), "reason": f"state {state.name}"})


def test_the_boot_gate_keeps_keys_locked_until_the_boot_verified():
    module = Module()
    custody = module.custody()
    key, blob = custody.new_volume_key(64, VOLUME)
    module.boot_verified = False
    with pytest.raises(ModuleStateError, match="boot"):
        custody.unlock_volume_key(blob, VOLUME)
    module.boot_verified = True
    assert custody.unlock_volume_key(blob, VOLUME) == key


@pytest.mark.parametrize("blob", [b"", b"SCD1", b"SCD1\x00" + bytes(12 + 48 + 16), b"SCL1\x00" + bytes(12 + 64 + 16)])
def test_malformed_blobs_fail_authentication(blob):
    with pytest.raises(AuthenticationError):
        Module().custody().unlock_volume_key(blob)


def test_bad_arguments():
    custody = Module().custody()
    with pytest.raises(InvalidArgumentError):
        custody.new_volume_key(48)
    with pytest.raises(InvalidArgumentError):
        custody.new_volume_key(64, bytes(65))
