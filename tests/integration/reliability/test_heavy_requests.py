"""No request holds the daemon: maximal legal batches and PBKDF2 derivations run off the event
loop while other clients are served, and work over the documented limits is refused with a
typed error (issue 17, defect 1)."""

from __future__ import annotations

import os
import select
import time

import pytest

from softscm.wire.defs import Command, ErrorCode, KdfType, KeyType, ModuleState
from softscm.module.crypto.stream import MAX_RECORDS_PER_UPDATE
from softscm.wire.errors import InvalidArgumentError, LimitExceededError

from ...campaign.rawclient import RawClient, request

MAX_BATCH = 4096


def test_a_second_client_is_served_within_a_second_while_maximal_requests_run(daemon):
    with daemon.connect() as scm:
        p256 = scm.gen_key_pair(KeyType.NISTP256)
        x25519 = scm.gen_key_pair(KeyType.X25519)
        peer = scm.get_public_key(scm.gen_key_pair(KeyType.X25519))
    heavy = RawClient(str(daemon.socket), timeout=120)
    heavy.hello()
    digests = [os.urandom(32) for _ in range(MAX_BATCH)]
    burst = [
        request(Command.SIGN_BATCH, {"slot": p256, "data": digests, "recid": True}, 10),
        request(Command.ECDH, {"slot": x25519, "peer_public_key": peer, "kdf": int(KdfType.PBKDF2_SHA512),
                               "iterations": 1_000_000, "length": 64}, 11),
        request(Command.SIGN_BATCH, {"slot": p256, "data": digests, "recid": True, "deterministic": True}, 12),
        request(Command.ECDH, {"slot": x25519, "peer_public_key": peer, "kdf": int(KdfType.PBKDF2_SHA256),
                               "iterations": 1_000_000, "length": 64}, 13),
    ]
    started = time.monotonic()
    for payload in burst:
        heavy.send(payload)
    latencies = []
    with daemon.connect() as other:
        while time.monotonic() - started < 1.5:
            t0 = time.monotonic()
            other.sign(p256, os.urandom(32))
            assert other.status().state is ModuleState.READY
            latencies.append(time.monotonic() - t0)
    replies = {heavy.reply(timeout=120).id: None for _ in burst}
    elapsed = time.monotonic() - started
    assert sorted(replies) == [10, 11, 12, 13]
    assert elapsed > 1.5  # the heavy work was still running while the other client was served
    assert len(latencies) >= 5 and max(latencies) < 1.0, (len(latencies), max(latencies))
    heavy.close()


@pytest.mark.parametrize("kdf,iterations,length", [
    (KdfType.PBKDF2_SHA512, 10_000_000, 1024),  # the request that froze the daemon for 86 s
    (KdfType.PBKDF2_SHA256, 1_000_001, 32),
    (KdfType.PBKDF2_SHA512, 1_000_000, 1024),  # iterations x blocks over the work limit
    (KdfType.PBKDF2_SHA256, 200_000, 1024),
], ids=["10M-1024B", "iterations", "work-sha512", "work-sha256"])
def test_pbkdf2_over_the_limits_is_refused_with_a_typed_error(scm, kdf, iterations, length):
    slot = scm.gen_key_pair(KeyType.X25519)
    peer = scm.get_public_key(scm.gen_key_pair(KeyType.X25519))
    started = time.monotonic()
    with pytest.raises(LimitExceededError) as caught:
        scm.ecdh(slot, peer, kdf=kdf, iterations=iterations, length=length)
    assert time.monotonic() - started < 0.5
    assert caught.value.code is ErrorCode.LIMIT_EXCEEDED and "PBKDF2" in str(caught.value)
    assert len(scm.ecdh(slot, peer, kdf=kdf, iterations=1000, length=64)) == 64  # within the limits


def test_offloaded_results_match_the_inline_ones(scm):
    """A batch over the offload threshold gives what the same items give one by one."""
    slot = scm.gen_key_pair(KeyType.NISTP256)
    digests = [os.urandom(32) for _ in range(40)]
    batch = scm.sign_batch(slot, digests, deterministic=True)
    assert batch == [scm.sign(slot, d, deterministic=True) for d in digests]
    assert scm.verify_batch(slot, [(d, s.raw) for d, s in zip(digests, batch)]) == [True] * 40
    x = scm.gen_key_pair(KeyType.X25519)
    peer = scm.get_public_key(scm.gen_key_pair(KeyType.X25519))
    import hashlib
    raw = scm.ecdh(x, peer)
    assert scm.ecdh(x, peer, kdf="pbkdf2-sha256", salt=b"s", iterations=50_000, length=48) == \
        hashlib.pbkdf2_hmac("sha256", raw, b"s", 50_000, 48)


def test_gen_keys_that_cannot_fit_are_refused_before_any_is_generated(scm):
    """Found by the full campaign (a fuzzed GEN_KEYS of ~1,000 keys took over a second on a loaded
    machine): the keys were all generated, then refused for want of slots."""
    from softscm.wire.errors import NoFreeSlotError

    started = time.monotonic()
    with pytest.raises(NoFreeSlotError, match="free user slots"):
        scm.gen_key_pairs(KeyType.NISTP256, 1000)
    assert time.monotonic() - started < 0.05
    assert len(scm.gen_key_pairs(KeyType.NISTP256, 3)) == 3


def _pings_answered_while_pending(daemon, *payloads: bytes, timeout: float = 120) -> tuple[int, list]:
    """Send ``payloads`` on one connection, then HELLO after HELLO on another until the first reply
    comes: how many pings were answered before it, and every reply. Each ping goes out after the
    last one's answer, so more than two answered means the loop served them while the heavy
    request ran (a request that holds the loop lets at most two through: one read before it, one
    read in the same turn)."""
    heavy = RawClient(str(daemon.socket), timeout=timeout)
    heavy.hello()
    ping = RawClient(str(daemon.socket), timeout=timeout)
    ping.hello()
    for payload in payloads:
        heavy.send(payload)
    answered = 0
    while not select.select([heavy.sock], [], [], 0)[0]:
        ping.hello()
        answered += 1
    replies = sorted((heavy.reply(timeout=timeout) for _ in payloads), key=lambda reply: reply.id)
    heavy.close()
    ping.close()
    return answered, replies


def test_a_maximal_gen_keys_lets_other_clients_in_between_its_steps(daemon_factory):
    """Found by bench/loop_budget.py: GEN_KEYS of 1,024 keys held the loop for 0.3 to 0.5 s. It now
    generates GEN_KEYS_STEP keys at a time, the loop serving others in between."""
    daemon = daemon_factory("scm", "--user-capacity", "1100")
    answered, (reply,) = _pings_answered_while_pending(
        daemon, request(Command.GEN_KEYS, {"key_type": int(KeyType.X25519), "count": 1024}, 20))
    assert reply.status == 0 and reply.id == 20 and len(reply.body["slots"]) == 1024
    assert answered > 2, answered  # served between its 1024 / GEN_KEYS_STEP steps
    with daemon.connect() as scm:
        slots = dict(scm.list_slots().slots)
        assert all(slots[slot] is KeyType.X25519 for slot in reply.body["slots"])
        assert len(scm.get_public_key(reply.body["slots"][-1])) == 32


def test_a_stream_piece_of_too_many_small_chunks_is_refused_before_any_work(scm):
    """Found by bench/loop_budget.py: a 2 MiB piece in 1-byte chunks held the loop for 10 s and its
    35 MB reply outgrew the frame limit (the connection was closed, untyped)."""
    started = time.monotonic()
    with pytest.raises(LimitExceededError, match="at most 4096 chunks"):
        scm.lock_stream(os.urandom(2 * 1024 * 1024), chunk_size=1, final=True)
    assert time.monotonic() - started < 0.5
    locked = scm.lock_stream(os.urandom(MAX_RECORDS_PER_UPDATE), chunk_size=1, final=True).data
    assert len(scm.unlock_stream(locked, final=True).data) == MAX_RECORDS_PER_UPDATE
    with pytest.raises(LimitExceededError):
        scm.unlock_stream(locked + locked, final=True)
    opened = scm.lock_stream(b"", chunk_size=1)
    with pytest.raises(LimitExceededError):
        scm.stream_update(opened.handle, os.urandom(MAX_RECORDS_PER_UPDATE + 1))
    with pytest.raises(InvalidArgumentError, match="no such lock stream"):  # a refused piece ends the stream
        scm.stream_update(opened.handle, b"a", final=True)



def test_gen_keys_under_way_count_against_the_free_slots(daemon_factory):
    """Pipelined GEN_KEYS that together need more than the free slots: the ones that cannot fit
    beside those under way are refused at once (they would otherwise all generate their keys)."""
    daemon = daemon_factory("scm", "--user-capacity", "1100")
    raw = RawClient(str(daemon.socket), timeout=120)
    raw.hello()
    for request_id in range(30, 34):
        raw.send(request(Command.GEN_KEYS, {"key_type": int(KeyType.X25519), "count": 500}, request_id))
    replies = {reply.id: reply for reply in (raw.reply(timeout=120) for _ in range(4))}
    raw.close()
    assert [replies[i].status for i in range(30, 34)] == [0, 0, ErrorCode.NO_FREE_SLOT, ErrorCode.NO_FREE_SLOT]
    assert replies[32].id == 32 and "free user slots" in replies[32].body


def _wire(message) -> dict:
    return message.to_wire()


def test_slip39_generation_at_the_highest_iteration_exponent_lets_pings_in(daemon):
    """Found by bench/loop_budget.py: SLIP39_GEN_START (its PBKDF2) and SLIP39_GEN_NEXT_SHARE with a
    member password held the loop for 0.2 to 0.3 s at iteration exponent 5; both run off it now."""
    from softscm.module.wallet.slip39 import MAX_ITERATION_EXPONENT
    from softscm.wire.messages.wallet import NewWallet, Slip39GenerateRequest, Slip39NextShareRequest

    start = Slip39GenerateRequest(NewWallet(KeyType.SECP256K1, "offloaded"), 16, 16,
                                  iteration_exponent=MAX_ITERATION_EXPONENT, passphrase="p" * 1024)
    answered, (reply,) = _pings_answered_while_pending(daemon, request(Command.SLIP39_GEN_START, _wire(start), 20))
    assert reply.status == 0 and answered > 2, (reply, answered)
    with daemon.connect() as scm:
        for group in range(16):
            scm.slip39_set_group(group, 1, 1)
    answered, (reply,) = _pings_answered_while_pending(
        daemon, request(Command.SLIP39_GEN_NEXT_SHARE, _wire(Slip39NextShareRequest("m" * 1024)), 21))
    assert reply.status == 0 and reply.body["slot"] == -1 and answered > 2, (reply, answered)
    with daemon.connect() as scm:
        scm.slip39_cancel()


def test_slip39_restore_of_the_last_share_lets_pings_in(daemon):
    """Found by bench/loop_budget.py: the share that completes a set at exponent 5 (member password,
    then the set's decryption) held the loop for a third of a second; it now runs off it."""
    from softscm.wire.messages.wallet import Slip39AddShareRequest

    with daemon.connect() as scm:
        scm.slip39_generate(KeyType.SECP256K1, "source", group_threshold=1, group_count=1, iteration_exponent=5,
                            passphrase="set")
        scm.slip39_set_group(0, 1, 1)
        master, share = scm.slip39_next_share("member")
        source = scm.get_public_key(scm.derive_wallet_key(master, 0).slot)
        scm.slip39_restore(KeyType.SECP256K1, "restored", passphrase="set")
    answered, (reply,) = _pings_answered_while_pending(
        daemon, request(Command.SLIP39_RESTORE_ADD, _wire(Slip39AddShareRequest(share, "member")), 22))
    assert reply.status == 0 and reply.body["slot"] > 0 and answered > 2, (reply, answered)
    with daemon.connect() as scm:
        assert scm.get_public_key(scm.derive_wallet_key(reply.body["slot"], 0).slot) == source


def test_a_slip39_session_refuses_other_requests_while_a_step_is_off_the_loop(daemon):
    """While a SLIP-39 request computes off the loop, the session cannot be used or cancelled by
    another request (BUSY), nor another session opened; once it is back, it serves again."""
    from softscm.wire.messages.wallet import NewWallet, Slip39CancelRequest, Slip39GenerateRequest

    start = Slip39GenerateRequest(NewWallet(KeyType.SECP256K1, "guarded"), 2, 2, iteration_exponent=5,
                                  passphrase="p" * 64)
    other = Slip39GenerateRequest(NewWallet(KeyType.SECP256K1, "other"), 1, 1, iteration_exponent=0)
    heavy = RawClient(str(daemon.socket), timeout=120)
    heavy.hello()
    heavy.send(request(Command.SLIP39_GEN_START, _wire(start), 30))  # its PBKDF2 outlasts the two sends below
    heavy.send(request(Command.SLIP39_CANCEL, _wire(Slip39CancelRequest()), 31))
    heavy.send(request(Command.SLIP39_GEN_START, _wire(other), 32))
    replies = {reply.id: reply for reply in (heavy.reply(timeout=120) for _ in range(3))}
    heavy.close()
    assert replies[30].status == 0
    assert replies[31].status == replies[32].status == int(ErrorCode.BUSY), replies
    with daemon.connect() as scm:
        scm.slip39_set_group(0, 1, 1)  # the first session is open and serves
        scm.slip39_cancel()


def test_boot_setup_of_the_largest_admin_share_set_lets_pings_in(daemon):
    """BOOT_SETUP's 16 x 16 admin shares (PBKDF2 and 256 mnemonics) are made off the loop."""
    from softscm.wire.messages.boot import BootSetupRequest

    setup = BootSetupRequest(admin_group_threshold=16, admin_groups=((16, 16),) * 16, admin_passphrase=b"p" * 1024)
    answered, (reply,) = _pings_answered_while_pending(daemon, request(Command.BOOT_SETUP, _wire(setup), 23))
    assert reply.status == 0 and answered > 2, (reply.status, answered)


def test_boot_add_file_and_sign_all_hash_off_the_loop(daemon_factory, tmp_path):
    """Found by bench/loop_budget.py: BOOT_ADD_FILE and BOOT_SIGN_ALL hashed a 64 MiB tree on the
    loop (0.5 to 0.6 s); the listing and hashing now run off it, the signing and storing on it."""
    from softscm.wire.messages.boot import BootAddFileRequest, BootSignAllRequest

    boot = tmp_path / "partition"
    boot.mkdir()
    (boot / "initrd.img").write_bytes(os.urandom(48 * 1024 * 1024))
    (boot / "config.txt").write_bytes(b"arm_64bit=1\n")
    daemon = daemon_factory("boot", "--boot-partition", str(boot))
    answered, (reply,) = _pings_answered_while_pending(
        daemon, request(Command.BOOT_ADD_FILE, _wire(BootAddFileRequest("initrd.img")), 24))
    assert reply.status == 0 and reply.body["size"] == 48 * 1024 * 1024 and answered > 2, (reply.status, answered)
    answered, (reply,) = _pings_answered_while_pending(
        daemon, request(Command.BOOT_SIGN_ALL, _wire(BootSignAllRequest()), 25))
    assert reply.status == 0 and answered > 2, (reply.status, answered)
    assert sorted(entry["path"] for entry in reply.body["files"]) == ["config.txt", "initrd.img"]
    _, (missing,) = _pings_answered_while_pending(
        daemon, request(Command.BOOT_ADD_FILE, _wire(BootAddFileRequest("absent.bin")), 26))
    assert missing.status == int(ErrorCode.INVALID_ARGUMENT) and "no file absent.bin" in missing.body
