"""A real scmd in a temp dir: capacity, persistence across restarts, lock blobs, crash safety."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

import softscm
from softscm.wire.defs import FIRST_USER_SLOT, KeyType
from softscm.wire.errors import (
    AuthenticationError,
    InvalidArgumentError,
    InvalidSignatureError,
    KeyTypeMismatchError,
    NoFreeSlotError,
    SlotEmptyError,
)

from .channel_setup import enrolled_state

DIGEST = hashlib.sha256(b"softscm").digest()


def _raw_public(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)[1:]


def _sign_and_check(scm, slot: int, key_type: KeyType) -> None:
    data = b"a message" if key_type is KeyType.ED25519 else DIGEST
    sig = scm.sign(slot, data)
    scm.verify(slot, data, sig.raw)


def test_fill_every_slot_then_restart_keeps_everything(daemon_factory):
    daemon = daemon_factory("scm", "--user-capacity", "512", "--foreign-capacity", "128")
    types = list(KeyType)
    with daemon.connect() as scm:
        publics = {}
        for i in range(512):
            slot = scm.gen_key_pair(types[i % 4])
            publics[slot] = scm.get_public_key(slot)
        assert sorted(publics) == list(range(FIRST_USER_SLOT, FIRST_USER_SLOT + 512))
        with pytest.raises(NoFreeSlotError):
            scm.gen_key_pair("nistp256")
        foreign = {}
        for _ in range(128):
            peer = ec.generate_private_key(ec.SECP256R1())
            foreign[scm.store_foreign_public_key("nistp256", _raw_public(peer))] = peer
        with pytest.raises(NoFreeSlotError):
            scm.store_foreign_public_key("nistp256", _raw_public(peer))
        blobs = {os.urandom(40): None for _ in range(5)}
        blobs = {data: scm.lock(data) for data in blobs}
        cloud_blob = scm.lock(b"for the backend", key="cloud")
        listed = scm.list_slots()
        assert listed.capacity == FIRST_USER_SLOT + 512
        assert len(listed.slots) == FIRST_USER_SLOT + 512

    assert daemon.stop() == 0
    daemon.start()
    with daemon.connect() as scm:
        for slot, public in publics.items():
            assert scm.get_public_key(slot) == public
        for slot in list(publics)[:40]:
            key_type = types[(slot - FIRST_USER_SLOT) % 4]
            if key_type.can_sign:
                _sign_and_check(scm, slot, key_type)
        for slot, peer in list(foreign.items())[:20]:
            assert scm.get_public_key(slot, foreign=True) == _raw_public(peer)
            r, s = decode_dss_signature(peer.sign(DIGEST, ec.ECDSA(Prehashed(hashes.SHA256()))))
            scm.verify(slot, DIGEST, r.to_bytes(32, "big") + s.to_bytes(32, "big"), foreign=True)
        for data, blob in blobs.items():
            assert scm.unlock(blob) == data
        assert scm.unlock(cloud_blob) == b"for the backend"
        with pytest.raises(NoFreeSlotError):
            scm.gen_key_pair("ed25519")


def test_blob_from_another_module_or_altered_does_not_unlock(daemon_factory):
    first, second = daemon_factory("one"), daemon_factory("two")
    with first.connect() as a, second.connect() as b:
        blob = a.lock(b"only for module one")
        assert a.unlock(blob) == b"only for module one"
        with pytest.raises(AuthenticationError):
            b.unlock(blob)
        for index in (0, 5, 20, len(blob) - 70, len(blob) - 1):
            altered = bytearray(blob)
            altered[index] ^= 0x01
            with pytest.raises(AuthenticationError):
                a.unlock(bytes(altered))
        with pytest.raises(AuthenticationError):
            a.unlock(blob[:-1])


def test_operations_on_every_curve(scm):
    peers = {}
    for key_type in KeyType:
        slot = scm.gen_key_pair(key_type)
        public = scm.get_public_key(slot)
        assert len(public) == key_type.public_key_size
        assert scm.get_public_key_pem(slot).startswith("-----BEGIN PUBLIC KEY-----")
        if key_type.can_sign:
            _sign_and_check(scm, slot, key_type)
        else:
            with pytest.raises(KeyTypeMismatchError):
                scm.sign(slot, DIGEST)
        peers[key_type] = slot
    for key_type in (KeyType.NISTP256, KeyType.SECP256K1, KeyType.X25519):
        other = scm.gen_key_pair(key_type)
        ab = scm.ecdh(peers[key_type], scm.get_public_key(other), kdf="hkdf-sha256", info=b"ctx", length=48)
        ba = scm.ecdh(other, scm.get_public_key(peers[key_type]), kdf="hkdf-sha256", info=b"ctx", length=48)
        assert ab == ba and len(ab) == 48
    with pytest.raises(KeyTypeMismatchError):
        scm.ecdh(peers[KeyType.ED25519], scm.get_public_key(peers[KeyType.X25519]))


def test_recovery_id_recovers_the_signer(scm):
    import coincurve

    for key_type in (KeyType.NISTP256, KeyType.SECP256K1):
        slot = scm.gen_key_pair(key_type)
        sig = scm.sign(slot, DIGEST, recid=True, deterministic=True)
        assert sig.recovery_id in (0, 1, 2, 3)
        assert sig == scm.sign(slot, DIGEST, recid=True, deterministic=True)
        if key_type is KeyType.SECP256K1:
            recovered = coincurve.PublicKey.from_signature_and_message(
                sig.raw + bytes([sig.recovery_id]), DIGEST, hasher=None
            )
            assert recovered.format(compressed=False)[1:] == scm.get_public_key(slot)


def test_ephemeral_key_is_volatile(tmp_path):
    state = tmp_path / "state"
    with softscm.connect(f"embedded:{state}") as scm:
        public = scm.gen_ephemeral_key_pair("x25519")
        peer = scm.gen_key_pair("x25519")
        assert scm.ecdh(-1, scm.get_public_key(peer)) == scm.ecdh(peer, public)
        scm.invalidate_ephemeral_key()
        with pytest.raises(SlotEmptyError):
            scm.ecdh(-1, public)
        scm.gen_ephemeral_key_pair("nistp256")
    with softscm.connect(f"embedded:{state}") as scm:
        with pytest.raises(SlotEmptyError):
            scm.sign(-1, DIGEST)


def test_disable_export_is_permanent(daemon):
    with daemon.connect() as scm:
        slot = scm.gen_key_pair("secp256k1")
        scm.disable_public_key_export(slot)
        with pytest.raises(softscm.wire.errors.ExportDisabledError):
            scm.get_public_key(slot)
        _sign_and_check(scm, slot, KeyType.SECP256K1)  # the key itself still works
    daemon.stop()
    daemon.start()
    with daemon.connect() as scm:
        with pytest.raises(softscm.wire.errors.ExportDisabledError):
            scm.get_public_key(slot)


def test_removed_key_is_gone_and_slot_reused(scm):
    first = scm.gen_key_pair("ed25519")
    second = scm.gen_key_pair("ed25519")
    scm.remove_key(first)
    with pytest.raises(SlotEmptyError):
        scm.sign(first, b"x")
    assert scm.gen_key_pair("nistp256") == first
    assert second == first + 1
    with pytest.raises(softscm.wire.errors.InvalidSlotError):
        scm.remove_key(3)  # factory slots stay


BURST = textwrap.dedent(
    """
    import sys, softscm
    with softscm.connect(sys.argv[1]) as scm:
        while True:
            slot = scm.gen_key_pair("nistp256")
            print(slot, scm.get_public_key(slot).hex(), flush=True)
    """
)


@pytest.mark.parametrize("writers", [1, 3])
def test_kill_9_during_key_generation_loses_no_acknowledged_key(daemon, writers):
    procs = [subprocess.Popen([sys.executable, "-c", BURST, daemon.url], stdout=subprocess.PIPE, text=True)
             for _ in range(writers)]
    acknowledged: dict[int, str] = {}
    deadline = time.monotonic() + 20
    while len(acknowledged) < 200 and time.monotonic() < deadline:
        for proc in procs:
            slot, public = proc.stdout.readline().split()
            acknowledged[int(slot)] = public
    os.kill(daemon.process.pid, signal.SIGKILL)
    daemon.process.wait()
    for proc in procs:
        proc.wait(timeout=10)
        rest = proc.stdout.read()  # through the same buffer readline used (communicate would skip it)
        for line in rest.splitlines():  # lines printed after the last one we read were acknowledged too
            if line.strip():
                slot, public = line.split()
                acknowledged[int(slot)] = public
    assert len(acknowledged) >= 200
    daemon.start()
    with daemon.connect() as scm:
        for slot, public in acknowledged.items():
            assert scm.get_public_key(slot).hex() == public
        scm.verify(max(acknowledged), DIGEST, scm.sign(max(acknowledged), DIGEST).raw)
        assert scm.status().state.name == "READY"


def test_wrong_signature_is_rejected_over_the_socket(daemon):
    with daemon.connect() as scm:
        slot = scm.gen_key_pair("nistp256")
        sig = scm.sign(slot, DIGEST).raw
        with pytest.raises(InvalidSignatureError):
            scm.verify(slot, hashlib.sha256(b"other").digest(), sig)


def test_state_directory_and_socket_are_owner_only(daemon):
    assert (daemon.state_dir.stat().st_mode & 0o777) == 0o700
    assert (daemon.socket.stat().st_mode & 0o777) == 0o600
    for path in daemon.state_dir.iterdir():
        assert (path.stat().st_mode & 0o077) == 0, path


def test_tcp_loopback_transport(tmp_path, daemon_factory):
    enrolled = enrolled_state(tmp_path / "tcp", tmp_path)  # TCP carries only the channel
    daemon = daemon_factory("tcp", "--tcp", "127.0.0.1:0")
    ready = (tmp_path / "tcp.ready").read_text().split()
    tcp_url = next(u for u in ready if u.startswith("tcp:"))
    with softscm.connect(tcp_url, client_key=enrolled.client_key, module_key=enrolled.module_key) as scm:
        slot = scm.gen_key_pair("ed25519")
        _sign_and_check(scm, slot, KeyType.ED25519)
    assert Path(daemon.socket).exists()


def test_batch_generation_is_all_or_nothing(daemon_factory):
    daemon = daemon_factory("batch", "--user-capacity", "40")
    with daemon.connect() as scm:
        slots = scm.gen_key_pairs("ed25519", 30)
        assert slots == list(range(16, 46))
        with pytest.raises(NoFreeSlotError):
            scm.gen_key_pairs("ed25519", 11)
        assert len(scm.list_slots().slots) == 16 + 30  # nothing of the failed batch was stored
        entries, _ = scm.read_log(events=["KEY_GENERATED"])
        assert [e.details["slot"] for e in entries] == slots
    daemon.stop()
    daemon.start()
    with daemon.connect() as scm:
        _sign_and_check(scm, slots[-1], KeyType.ED25519)


def test_a_failed_batch_leaves_its_slots_free_for_the_next_key(scm):
    first = scm.gen_key_pair("ed25519")
    with pytest.raises(NoFreeSlotError):
        scm.gen_key_pairs("ed25519", 1000)  # more than the 511 free user slots
    assert scm.gen_key_pair("ed25519") == first + 1
    scm.remove_key(first)
    assert scm.gen_key_pair("x25519") == first


@pytest.mark.parametrize("key_type", ["nistp256", "secp256k1", "ed25519"])
def test_batch_sign_and_verify_through_a_real_daemon(daemon, key_type):
    digests = [hashlib.sha256(bytes([i])).digest() for i in range(64)]
    with daemon.connect() as scm:
        slot = scm.gen_key_pair(key_type)
        signatures = scm.sign_batch(slot, digests)
        assert len(signatures) == 64
        for digest, signature in zip(digests[::9], signatures[::9]):
            scm.verify(slot, digest, signature.raw)  # each one verifies on its own too
        items = [(d, s.raw) for d, s in zip(digests, signatures)]
        items[5] = (digests[6], signatures[5].raw)  # a signature over another digest
        assert scm.verify_batch(slot, items) == [i != 5 for i in range(64)]
        if key_type != "ed25519":
            batch = scm.sign_batch(slot, digests[:10], deterministic=True)
            assert batch == [scm.sign(slot, d, deterministic=True) for d in digests[:10]]
            with pytest.raises(InvalidArgumentError):
                scm.sign_batch(slot, digests[:20] + [b"not a digest"])
        with pytest.raises(SlotEmptyError):
            scm.sign_batch(slot + 1, digests)
        assert scm.status().state.name == "READY"
