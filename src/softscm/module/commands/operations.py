"""Sign, verify, ECDH, lock and unlock."""

from __future__ import annotations

from ...wire.defs import LockKey, Role
from ...wire.errors import InvalidArgumentError
from ...wire.messages import Done
from ...wire.messages.operations import (
    Blob,
    EcdhRequest,
    LockRequest,
    LockStreamRequest,
    Plaintext,
    Secret,
    Signature,
    Signatures,
    SignBatchRequest,
    SignRequest,
    StreamCancelRequest,
    StreamOutput,
    StreamUpdateRequest,
    UnlockRequest,
    UnlockStreamRequest,
    Verdicts,
    Verifier,
    VerifyBatchRequest,
    VerifyRequest,
)
from ..access.caller import Session
from ..access.control import AccessControl
from ..crypto import PublicKey, derive_key
from ..crypto.ecdh import pbkdf2_work
from ..crypto.lockbox import LockBox
from ..crypto.parallel import predrawn_rng, sign_many, verify_many
from ..crypto.stream import StreamHeader
from ..dispatch import Route, route, slot_of
from ..keyslots import KeySlots
from ..lockstreams import LockStreams
from ..offload import OFFLOAD_ITEMS, OFFLOAD_PBKDF2_WORK, Offloaded, maybe_offload


def _ecdh_slots(request: EcdhRequest) -> tuple[int, ...]:
    """The local key, and a peer given as one of the module's own key slots (not a foreign one)."""
    own_peer = request.peer_slot is not None and not request.peer_foreign
    return (request.slot, request.peer_slot) if own_peer and request.peer_slot is not None else (request.slot,)


class OperationCommands:
    def __init__(self, keys: KeySlots, lockbox: LockBox, streams: LockStreams, access: AccessControl) -> None:
        self._keys = keys
        self._lockbox = lockbox
        self._streams = streams
        self._access = access

    def routes(self) -> list[Route]:
        return [
            route(SignRequest, self.sign, uses=slot_of),
            route(SignBatchRequest, self.sign_batch, uses=slot_of),
            route(VerifyRequest, self.verify),
            route(VerifyBatchRequest, self.verify_batch),
            route(EcdhRequest, self.ecdh, uses=_ecdh_slots),
            route(LockRequest, self.lock, session=True),
            route(UnlockRequest, self.unlock, session=True),
            route(LockStreamRequest, self.lock_stream, session=True),
            route(UnlockStreamRequest, self.unlock_stream, session=True),
            route(StreamUpdateRequest, self.stream_update, session=True),
            route(StreamCancelRequest, self.stream_cancel, session=True),
        ]

    def sign(self, request: SignRequest) -> Signature:
        """Sign a 32-byte digest (ECDSA) or a message (Ed25519).

        :raises KeyTypeMismatchError: for an X25519 slot.
        """
        keys = self._keys
        return keys.private_key(request.slot).sign(request.data, deterministic=request.deterministic,
                                                   recid=request.recid, rng=keys.rng)

    def sign_batch(self, request: SignBatchRequest) -> Signatures | Offloaded:
        """Sign many digests with one slot in one request (a large batch runs off the event loop)."""
        key = self._keys.private_key(request.slot)
        items = list(request.data)
        rng = predrawn_rng(key, len(items), deterministic=request.deterministic, rng=self._keys.rng)
        return maybe_offload(lambda: Signatures(tuple(sign_many(key, items, deterministic=request.deterministic,
                                                                recid=request.recid, rng=rng))),
                             len(items) >= OFFLOAD_ITEMS)

    def _verifier(self, key: Verifier) -> PublicKey:
        if key.public_key is not None:
            if key.key_type is None:
                raise InvalidArgumentError("argument 'key_type' is required with a public key")
            return PublicKey(key.key_type, key.public_key)
        if key.slot is None:
            raise InvalidArgumentError("give a slot or a public key")
        return self._keys.public_key(key.slot, foreign=key.foreign)

    def verify(self, request: VerifyRequest) -> Done:
        """Verify with a slot's key, a foreign key, or a public key given inline.

        :raises InvalidSignatureError: if the signature does not verify.
        """
        self._verifier(request.key).verify(request.data, request.signature)
        return Done()

    def verify_batch(self, request: VerifyBatchRequest) -> Verdicts | Offloaded:
        """Verify many (data, signature) pairs against one key; one verdict each (a large batch runs
        off the event loop)."""
        verifier, items = self._verifier(request.key), list(request.items)
        return maybe_offload(lambda: Verdicts(tuple(verify_many(verifier, items))), len(items) >= OFFLOAD_ITEMS)

    def ecdh(self, request: EcdhRequest) -> Secret | Offloaded:
        """ECDH between a local slot and a peer key (raw bytes, or a slot), then the KDF (a costly
        PBKDF2 derivation runs off the event loop).

        :raises KeyTypeMismatchError: for an Ed25519 slot or mismatched types.
        :raises InvalidKeyError: for an invalid peer key.
        :raises LimitExceededError: for PBKDF2 work over the per-request limits.
        """
        work = pbkdf2_work(request.kdf, request.iterations, request.length)
        key = self._keys.private_key(request.slot)
        if request.peer_slot is not None:
            store = self._keys.store
            peer = (store.get_foreign(request.peer_slot) if request.peer_foreign else store.get(request.peer_slot)).public
        elif request.peer_public_key is not None:
            peer = request.peer_public_key
        else:
            raise InvalidArgumentError("give a peer public key or a peer slot")
        secret = key.exchange(peer)
        return maybe_offload(lambda: Secret(derive_key(request.kdf, secret, salt=request.salt, info=request.info,
                                                       iterations=request.iterations, length=request.length)),
                             work >= OFFLOAD_PBKDF2_WORK)

    def lock(self, request: LockRequest, session: Session) -> Blob:
        """Encrypt and authenticate data under the module's lock key (for the caller alone) or the
        cloud key (for any user)."""
        owner = session.caller.principal if request.key is LockKey.MODULE else ""
        return Blob(self._lockbox.lock(request.data, request.key, owner))

    def unlock(self, request: UnlockRequest, session: Session) -> Plaintext:
        """:raises AuthenticationError: if the blob fails any check (which one is not said).
        :raises AccessDeniedError: for a module-key blob another principal locked (an
            administrator may open every blob)."""
        blob, data = self._lockbox.unlock(request.blob)
        if blob.owner != session.caller.principal and (blob.owner or blob.key is LockKey.MODULE):
            self._access.authorize(session, Role.ADMIN, "unlock a blob another caller locked")
        return Plaintext(data)

    def lock_stream(self, request: LockStreamRequest, session: Session) -> StreamOutput:
        """Lock as a stream under the module's lock key (for the caller alone) or the cloud key (for
        any user). :raises BusyError: while too many streams are open."""
        caller = session.caller.principal
        owner = caller if request.key is LockKey.MODULE else ""
        handle, data = self._streams.start_lock(request.key, request.chunk_size, request.data, final=request.final,
                                                caller=caller, owner=owner)
        return StreamOutput(data, handle)

    def unlock_stream(self, request: UnlockStreamRequest, session: Session) -> StreamOutput:
        """:raises AuthenticationError: if the stream fails (which check is not said).
        :raises AccessDeniedError: for a module-key stream another principal locked (an
            administrator may open every stream)."""
        def check(header: StreamHeader) -> None:
            if header.owner != session.caller.principal and (header.owner or header.key_id is LockKey.MODULE):
                self._access.authorize(session, Role.ADMIN, "unlock a stream another caller locked")

        handle, data = self._streams.start_unlock(request.data, final=request.final,
                                                  caller=session.caller.principal, check=check)
        return StreamOutput(data, handle)

    def stream_update(self, request: StreamUpdateRequest, session: Session) -> StreamOutput:
        """:raises InvalidArgumentError: for an unknown handle (or another caller's).
        :raises AuthenticationError, AccessDeniedError: as for the stream's first piece."""
        data = self._streams.update(request.handle, request.data, final=request.final,
                                    caller=session.caller.principal)
        return StreamOutput(data, None if request.final else request.handle)

    def stream_cancel(self, request: StreamCancelRequest, session: Session) -> Done:
        self._streams.cancel(request.handle, caller=session.caller.principal)
        return Done()
