"""AsyncClient against a real scmd: many requests in flight on one connection, typed results and
errors, and the event stream."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from softscm.host.aio import AsyncClient
from softscm.wire.messages.operations import Signature
from softscm.wire.errors import InvalidSignatureError, SlotEmptyError, TransportError

DIGEST = hashlib.sha256(b"async").digest()


def test_requests_in_flight_and_typed_errors(daemon):
    async def main() -> None:
        async with await AsyncClient.connect(daemon.url) as scm:
            slot = await scm.gen_key_pair("nistp256")
            signatures = await asyncio.gather(*(scm.sign(slot, DIGEST) for _ in range(200)))
            assert all(isinstance(s, Signature) and len(s.raw) == 64 for s in signatures)
            await asyncio.gather(*(scm.verify(slot, DIGEST, s.raw) for s in signatures[:20]))
            with pytest.raises(InvalidSignatureError):
                await scm.verify(slot, bytes(32), signatures[0].raw)
            results = await asyncio.gather(scm.sign(400, DIGEST), scm.get_random(8), return_exceptions=True)
            assert isinstance(results[0], SlotEmptyError) and len(results[1]) == 8
            info, status = await asyncio.gather(scm.info(), scm.status())
            assert len(info.serial) == 16 and status.ops["SIGN"] == 200

    asyncio.run(main())


def test_event_stream(daemon):
    async def main() -> list[dict]:
        async with await AsyncClient.connect(daemon.url) as listener, await AsyncClient.connect(daemon.url) as scm:
            seen: list[dict] = []

            async def listen() -> None:
                async for event in listener.events():
                    seen.append(event)
                    if event["name"] == "TAMPER":
                        return

            task = asyncio.create_task(listen())
            await asyncio.sleep(0.1)
            await scm.gen_key_pair("ed25519")
            await scm.simulate("perimeter_open", channel=0)
            await asyncio.wait_for(task, 5)
            return seen

    names = [e["name"] for e in asyncio.run(main())]
    assert "KEY_GENERATED" in names and names[-1] == "TAMPER"


def test_unreachable_module(tmp_path):
    with pytest.raises(TransportError):
        asyncio.run(AsyncClient.connect(f"unix:{tmp_path}/none.sock"))


def test_wallet_path_derivation_is_one_request(daemon):
    async def main() -> tuple[int, int]:
        async with await AsyncClient.connect(daemon.url) as scm:
            master, _ = await scm.create_wallet("secp256k1", "async")
            leaf = await scm.derive_wallet_path(master, "m/44'/60'/0'/0/2")
            again = await scm.derive_wallet_path(master, "m/44'/60'/0'/0/2")
            return leaf, again

    leaf, again = asyncio.run(main())
    assert leaf == again > 16
