"""The encrypted channel on a real scmd over TCP: plain and unenrolled clients are refused before
any command runs, a man in the middle is refused, and a proxy that replays, reorders, changes
or drops frames gets the connection closed with a typed error (and nothing executed twice)."""

from __future__ import annotations

import socket

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

import softscm
from softscm.wire.channel import ServerHandshake
from softscm.wire.codec import Request, parse_incoming
from softscm.wire.defs import Command, KeyType
from softscm.wire.errors import ChannelError, ChannelRequiredError, ClientKeyError, TransportError
from softscm.wire.framing import frame
from softscm.wire.messages.keys import GenKeyRequest

from .channel_setup import FrameProxy, _read_frame, enrolled_state

DIGEST = bytes(range(32))
# frames on a channel connection: 0 open, 1 message 3 (up) / 0 message 2, 1 verdict (down); then records
FIRST_RECORD = 2


@pytest.fixture(scope="module")
def module_daemon(tmp_path_factory):
    from tests.conftest import Daemon

    root = tmp_path_factory.mktemp("tcp")
    enrolled = enrolled_state(root / "scm", root)
    daemon = Daemon(root / "scm", root / "scm.sock", ["--tcp", "127.0.0.1:0"]).start()
    tcp = next(u for u in (root / "scm.ready").read_text().split() if u.startswith("tcp:"))
    yield daemon, enrolled, tcp
    daemon.stop()


def _connect(url, enrolled, **kwargs):
    return softscm.connect(url, client_key=enrolled.client_key, module_key=enrolled.module_key, timeout=10, **kwargs)


def _events(daemon, name):
    with daemon.connect() as admin:
        entries, _ = admin.read_log(events=[name])
    return [e.details for e in entries]


def test_an_enrolled_client_works_over_tcp(module_daemon):
    daemon, enrolled, tcp = module_daemon
    with _connect(tcp, enrolled) as scm:
        slot = scm.gen_key_pair("nistp256")
        signature = scm.sign(slot, DIGEST)
        scm.verify(slot, DIGEST, signature.raw)
        assert scm.unlock(scm.lock(b"secret")) == b"secret"
        assert len(scm.get_random(64)) == 64


def test_a_plain_tcp_client_is_refused_before_any_command(module_daemon):
    daemon, _, tcp = module_daemon
    host, _, port = tcp[4:].rpartition(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(frame(Request(1, Command.GEN_KEY, {"key_type": 0}).to_bytes()))
        with pytest.raises(ChannelRequiredError):
            parse_incoming(_read_frame(sock)).result()
        assert _read_frame(sock) is None  # closed
    assert _events(daemon, "CHANNEL_REFUSED")[-1]["reason"] == "plain connection"
    with pytest.raises(ValueError):
        softscm.connect(tcp, channel=False)


def test_an_unenrolled_key_is_refused_before_any_command(module_daemon, tmp_path):
    daemon, enrolled, tcp = module_daemon
    with daemon.connect() as admin:
        before = admin.list_slots()
    stranger = X25519PrivateKey.generate()
    with pytest.raises(ClientKeyError):
        softscm.connect(tcp, client_key=stranger, module_key=enrolled.module_key)
    with daemon.connect() as admin:
        assert admin.list_slots() == before
    refused = _events(daemon, "CHANNEL_REFUSED")[-1]
    assert refused["reason"] == "client key not enrolled"
    assert refused["key"] == stranger.public_key().public_bytes_raw().hex()


def test_no_client_key_file_means_no_connection(module_daemon, tmp_path):
    _, enrolled, tcp = module_daemon
    with pytest.raises(ChannelError, match="no client key"):
        softscm.connect(tcp, client_key=tmp_path / "missing.key", module_key=enrolled.module_key)
    loose = tmp_path / "loose.key"
    loose.write_bytes(bytes(range(32)))
    loose.chmod(0o644)
    with pytest.raises(ChannelError, match="readable by others"):
        softscm.connect(tcp, client_key=loose, module_key=enrolled.module_key)


class ManInTheMiddle:
    """Terminates the client's handshake with its own static key (it cannot have the module's)."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"tcp:127.0.0.1:{self._listener.getsockname()[1]}"
        self.key = X25519PrivateKey.generate()

    def answer_once(self) -> None:
        conn, _ = self._listener.accept()
        with conn:
            handshake = ServerHandshake(self.key)
            conn.sendall(frame(handshake.answer(_read_frame(conn))))
            _read_frame(conn)  # the client does not send message 3 to a module it does not know

    def close(self) -> None:
        self._listener.close()


def test_a_man_in_the_middle_with_another_key_is_refused(module_daemon):
    import threading

    _, enrolled, _ = module_daemon
    mitm = ManInTheMiddle()
    thread = threading.Thread(target=mitm.answer_once, daemon=True)
    thread.start()
    try:
        with pytest.raises(ChannelError, match="pinned"):
            _connect(mitm.url, enrolled)
    finally:
        thread.join(5)
        mitm.close()


def _target(tcp: str) -> tuple[str, int]:
    host, _, port = tcp[4:].rpartition(":")
    return host, int(port)


def _slots(daemon) -> list:
    with daemon.connect() as admin:
        return list(admin.list_slots().slots)


def test_a_proxy_that_passes_frames_unchanged_is_invisible(module_daemon):
    daemon, enrolled, tcp = module_daemon
    proxy = FrameProxy(_target(tcp))
    try:
        with _connect(proxy.url, enrolled) as scm:
            assert scm.get_random(8) and scm.get_random(8)
    finally:
        proxy.close()


@pytest.mark.parametrize("attack", ["replay", "reorder", "modify", "drop", "inject"])
def test_rewritten_request_frames_are_refused_and_nothing_runs_twice(module_daemon, attack):
    daemon, enrolled, tcp = module_daemon
    held: list[bytes] = []
    hello = FIRST_RECORD  # record 0 is HELLO; the pipelined GEN_KEY_PAIRs are records 1 and 2

    def upstream(index: int, payload: bytes) -> list[bytes]:
        if index == hello + 1:
            if attack == "replay":
                return [payload, payload]
            if attack == "reorder":
                held.append(payload)
                return []
            if attack == "modify":
                changed = bytearray(payload)
                changed[len(changed) // 2] ^= 0x01
                return [bytes(changed)]
            if attack == "drop":
                return []
            if attack == "inject":
                return [payload[:8] + bytes(len(payload) - 8)]
        if index == hello + 2 and held:
            return [payload, held.pop()]
        return [payload]

    before = _slots(daemon)
    proxy = FrameProxy(_target(tcp), upstream=upstream)
    try:
        scm = _connect(proxy.url, enrolled)
        with pytest.raises(TransportError):  # ChannelError (the sealed refusal) or the closed connection
            scm.pipeline([GenKeyRequest(KeyType.NISTP256)] * 2)
        with pytest.raises(TransportError):
            scm.get_random(8)
        scm.close()
    finally:
        proxy.close()
    created = len(_slots(daemon)) - len(before)
    assert created == (1 if attack == "replay" else 0)  # a replayed request never runs twice
    assert _events(daemon, "CHANNEL_REFUSED")[-1]["reason"] == "frame refused"


@pytest.mark.parametrize("attack", ["modify", "replay"])
def test_rewritten_reply_frames_are_refused_by_the_client(module_daemon, attack):
    _, enrolled, tcp = module_daemon

    def downstream(index: int, payload: bytes) -> list[bytes]:
        if index == FIRST_RECORD + 1:  # the reply to the first request after HELLO
            if attack == "modify":
                changed = bytearray(payload)
                changed[-1] ^= 0x80
                return [bytes(changed)]
            return [payload, payload]
        return [payload]

    proxy = FrameProxy(_target(tcp), downstream=downstream)
    try:
        scm = _connect(proxy.url, enrolled)
        if attack == "modify":
            with pytest.raises(ChannelError):
                scm.get_random(16)
        else:
            assert len(scm.get_random(16)) == 16
            with pytest.raises(ChannelError):
                scm.get_random(16)  # the replayed reply is refused, never taken as this answer
        scm.close()
    finally:
        proxy.close()


def test_the_channel_is_optional_on_the_unix_socket(module_daemon):
    daemon, enrolled, _ = module_daemon
    with softscm.connect(daemon.url) as plain, _connect(daemon.url, enrolled) as secure:
        assert plain.hello.serial == secure.hello.serial
        assert secure._transport.handshake_hash and not hasattr(plain._transport, "handshake_hash")


def test_the_async_client_uses_the_channel_on_tcp(module_daemon):
    import asyncio

    from softscm.host.aio import AsyncClient

    _, enrolled, tcp = module_daemon

    async def run() -> list[int]:
        async with await AsyncClient.connect(tcp, client_key=enrolled.client_key,
                                             module_key=enrolled.module_key) as scm:
            return [len(r) for r in await asyncio.gather(*(scm.get_random(n) for n in (5, 6, 7)))]

    assert asyncio.run(run()) == [5, 6, 7]

    async def stranger() -> None:
        await AsyncClient.connect(tcp, client_key=X25519PrivateKey.generate(), module_key=enrolled.module_key)

    with pytest.raises(ClientKeyError):
        asyncio.run(stranger())
