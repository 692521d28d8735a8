"""The Noise XX handshake against an independent implementation (``noiseprotocol``), and the
channel's record layer: replayed, reordered, missing and modified records are refused."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from noise.connection import Keypair, NoiseConnection

from softscm.wire.channel import (MAGIC, PROLOGUE, RECORD_OVERHEAD, ClientHandshake, SecureChannel,
                                  ServerHandshake)
from softscm.wire.codec import Reply
from softscm.wire.errors import ChannelError, ClientKeyError
from softscm.wire.noise import PROTOCOL_NAME, XXHandshake, public_bytes


def _reference(initiator: bool, static: X25519PrivateKey) -> NoiseConnection:
    ref = NoiseConnection.from_name(PROTOCOL_NAME)
    ref.set_as_initiator() if initiator else ref.set_as_responder()
    ref.set_keypair_from_private_bytes(Keypair.STATIC, static.private_bytes_raw())
    ref.set_prologue(PROLOGUE)
    ref.start_handshake()
    return ref


def test_our_initiator_talks_to_the_reference_responder():
    ours_static, ref_static = X25519PrivateKey.generate(), X25519PrivateKey.generate()
    ours = XXHandshake(initiator=True, static=ours_static, prologue=PROLOGUE)
    ref = _reference(False, ref_static)
    ref.read_message(ours.write_message_1(b"one"))
    assert ours.read_message_2(ref.write_message(b"two")) == b"two"
    assert ref.read_message(ours.write_message_3(b"three")) == b"three"
    assert ours.remote_static == public_bytes(ref_static)
    assert ours.handshake_hash == ref.get_handshake_hash()
    send, receive = ours.split()
    assert ref.decrypt(send.encrypt_with_ad(b"", b"to responder")) == b"to responder"
    assert receive.decrypt_with_ad(b"", ref.encrypt(b"to initiator")) == b"to initiator"


def test_our_responder_talks_to_the_reference_initiator():
    ours_static, ref_static = X25519PrivateKey.generate(), X25519PrivateKey.generate()
    ours = XXHandshake(initiator=False, static=ours_static, prologue=PROLOGUE)
    ref = _reference(True, ref_static)
    assert ours.read_message_1(ref.write_message()) == b""
    ref.read_message(ours.write_message_2(b"payload"))
    ours.read_message_3(ref.write_message())
    assert ours.remote_static == public_bytes(ref_static)
    assert ours.handshake_hash == ref.get_handshake_hash()
    send, receive = ours.split()
    for n in range(3):  # the explicit-counter records use the same nonces as the implicit ones
        assert ref.decrypt(send.encrypt_at(n, b"", b"r%d" % n)) == b"r%d" % n
        assert receive.decrypt_at(n, b"", ref.encrypt(b"i%d" % n)) == b"i%d" % n


def test_a_different_prologue_fails_the_handshake():
    client = XXHandshake(initiator=True, static=X25519PrivateKey.generate(), prologue=PROLOGUE)
    server = XXHandshake(initiator=False, static=X25519PrivateKey.generate(), prologue=b"other")
    server.read_message_1(client.write_message_1())
    with pytest.raises(ChannelError):
        client.read_message_2(server.write_message_2())


def _pair(allow_gaps: bool = False) -> tuple[SecureChannel, SecureChannel, X25519PrivateKey, X25519PrivateKey]:
    client_key, module_key = X25519PrivateKey.generate(), X25519PrivateKey.generate()
    client = ClientHandshake(client_key, public_bytes(module_key), allow_gaps=allow_gaps)
    server = ServerHandshake(module_key, allow_gaps=allow_gaps)
    message_3 = client.answer(server.answer(client.open_request()))
    established = server.complete(message_3)
    assert established.peer_static == public_bytes(client_key)
    return client.finish(established.channel.seal(b"")), established.channel, client_key, module_key


def test_records_round_trip_and_bind_the_handshake():
    client, server, _, _ = _pair()
    assert client.handshake_hash == server.handshake_hash
    for text in (b"", b"request", b"x" * 5000):
        record = client.seal(text)
        assert len(record) == len(text) + RECORD_OVERHEAD
        assert not text or text not in record
        assert server.open(record) == text
        assert client.open(server.seal(text)) == text


def test_replayed_reordered_missing_and_modified_records_are_refused():
    client, server, _, _ = _pair()
    first, second, third = client.seal(b"1"), client.seal(b"2"), client.seal(b"3")
    assert server.open(first) == b"1"
    with pytest.raises(ChannelError):
        server.open(first)  # replayed
    with pytest.raises(ChannelError):
        server.open(third)  # second is missing: on a stream that is an attack
    assert server.open(second) == b"2"
    tampered = bytearray(third)
    tampered[-1] ^= 1
    with pytest.raises(ChannelError):
        server.open(bytes(tampered))
    with pytest.raises(ChannelError):
        server.open(third[:RECORD_OVERHEAD - 1])
    assert server.open(third) == b"3"


def test_a_serial_channel_allows_gaps_but_never_goes_back():
    client, server, _, _ = _pair(allow_gaps=True)
    first, second, third = client.seal(b"1"), client.seal(b"2"), client.seal(b"3")
    assert server.open(second) == b"2"  # first was lost on the line
    with pytest.raises(ChannelError):
        server.open(first)  # arriving late is the same as reordered
    assert server.open(third) == b"3"


def test_a_record_from_another_session_is_refused():
    client, _, _, _ = _pair()
    _, other_server, _, _ = _pair()
    with pytest.raises(ChannelError):
        other_server.open(client.seal(b"hello"))


def test_a_module_with_another_key_is_refused_by_the_pin():
    client_key, pinned, impostor = (X25519PrivateKey.generate() for _ in range(3))
    client = ClientHandshake(client_key, public_bytes(pinned))
    server = ServerHandshake(impostor)
    with pytest.raises(ChannelError, match="pinned"):
        client.answer(server.answer(client.open_request()))


def test_the_module_s_refusal_reaches_the_client_as_its_typed_error():
    client_key, module_key = X25519PrivateKey.generate(), X25519PrivateKey.generate()
    client = ClientHandshake(client_key, public_bytes(module_key))
    server = ServerHandshake(module_key)
    established = server.complete(client.answer(server.answer(client.open_request())))
    refusal = established.channel.seal(Reply.failure(0, ClientKeyError("not enrolled")).to_bytes())
    with pytest.raises(ClientKeyError):
        client.finish(refusal)


@pytest.mark.parametrize("length", [0, 10, 37, 39])
def test_malformed_open_requests_are_refused(length):
    server = ServerHandshake(X25519PrivateKey.generate())
    with pytest.raises(ChannelError):
        server.answer((MAGIC + bytes(64))[:length])


def test_a_truncated_message_3_is_refused():
    client_key, module_key = X25519PrivateKey.generate(), X25519PrivateKey.generate()
    client = ClientHandshake(client_key, public_bytes(module_key))
    server = ServerHandshake(module_key)
    message_3 = client.answer(server.answer(client.open_request()))
    with pytest.raises(ChannelError):
        server.complete(message_3[:-1])
