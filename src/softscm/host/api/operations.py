"""Sign, verify, ECDH, lock and unlock."""

from __future__ import annotations

from collections.abc import Sequence

from ...wire.defs import STREAM_CHUNK_SIZE, KdfType, LockKey
from ...wire.messages.operations import (
    EcdhRequest,
    LockRequest,
    LockStreamRequest,
    Signature,
    SignBatchRequest,
    SignRequest,
    StreamCancelRequest,
    StreamOutput,
    StreamUpdateRequest,
    UnlockRequest,
    UnlockStreamRequest,
    Verifier,
    VerifyBatchRequest,
    VerifyRequest,
)
from .base import ApiBase, KeyTypeLike, as_key_type, nothing, same

LockKeyLike = LockKey | str | int


def as_lock_key(value: LockKeyLike) -> LockKey:
    """``"module"`` (or ``"zymkey"``: bound to this module), ``"cloud"``, or the enum/number.

    :raises ValueError: for another name.
    """
    if isinstance(value, str):
        names = {"zymkey": LockKey.MODULE, "module": LockKey.MODULE, "cloud": LockKey.CLOUD}
        try:
            return names[value.lower()]
        except KeyError:
            raise ValueError(f"unknown lock key {value!r}; use 'module' or 'cloud'") from None
    return LockKey(value)


class OperationsApi(ApiBase):
    def sign(self, slot: int, data: bytes, *, deterministic: bool = False, recid: bool = False) -> Signature:
        """Sign a 32-byte digest (ECDSA) or a message (Ed25519).

        :raises KeyTypeMismatchError: for an X25519 slot.
        """
        return self._call(SignRequest(slot, bytes(data), deterministic, recid), same)

    def sign_batch(self, slot: int, items: Sequence[bytes], *, deterministic: bool = False,
                   recid: bool = False) -> list[Signature]:
        """Sign many digests (or messages) with one slot in one round trip."""
        request = SignBatchRequest(slot, tuple(bytes(d) for d in items), deterministic, recid)
        return self._call(request, lambda r: list(r.signatures))

    def verify(self, slot: int, data: bytes, signature: bytes, *, foreign: bool = False) -> None:
        """Verify with the key in ``slot`` (a foreign slot with ``foreign=True``).

        :raises InvalidSignatureError: if the signature does not verify.
        """
        return self._call(VerifyRequest(Verifier(slot, foreign), bytes(data), bytes(signature)), nothing)

    def verify_public(self, key_type: KeyTypeLike, public_key: bytes, data: bytes, signature: bytes) -> None:
        """Verify with a public key given inline.

        :raises InvalidKeyError: for an invalid key. :raises InvalidSignatureError: if it fails.
        """
        key = Verifier(key_type=as_key_type(key_type), public_key=bytes(public_key))
        return self._call(VerifyRequest(key, bytes(data), bytes(signature)), nothing)

    def verify_batch(self, slot: int, items: Sequence[tuple[bytes, bytes]], *, foreign: bool = False) -> list[bool]:
        """Verify many ``(data, signature)`` pairs against one slot; one boolean each."""
        request = VerifyBatchRequest(Verifier(slot, foreign), tuple((bytes(d), bytes(s)) for d, s in items))
        return self._call(request, lambda r: list(r.valid))

    def ecdh(self, slot: int, peer: bytes | int, *, kdf: KdfType | str = KdfType.NONE, salt: bytes = b"",
             info: bytes = b"", iterations: int = 1, length: int = 32, peer_foreign: bool = True) -> bytes:
        """ECDH between ``slot`` (-1: the ephemeral key) and a peer public key or key slot,
        followed by ``kdf`` (``"none"`` returns the raw shared secret).

        :raises KeyTypeMismatchError: for an Ed25519 slot. :raises InvalidKeyError: for a bad peer key.
        """
        peer_key, peer_slot = (None, peer) if isinstance(peer, int) else (bytes(peer), None)
        request = EcdhRequest(slot, peer_key, peer_slot, peer_foreign, KdfType.parse(kdf), bytes(salt), bytes(info),
                              iterations, length)
        return self._call(request, lambda r: r.secret)

    def lock(self, data: bytes, *, key: LockKeyLike = LockKey.MODULE) -> bytes:
        """Encrypt and sign ``data`` under the module key (bound to this module) or the cloud key."""
        return self._call(LockRequest(bytes(data), as_lock_key(key)), lambda r: r.blob)

    def unlock(self, blob: bytes) -> bytes:
        """Reverse :meth:`lock`. :raises AuthenticationError: if the blob fails authentication."""
        return self._call(UnlockRequest(bytes(blob)), lambda r: r.data)

    def lock_stream(self, data: bytes = b"", *, key: LockKeyLike = LockKey.MODULE, final: bool = False,
                    chunk_size: int = STREAM_CHUNK_SIZE) -> StreamOutput:
        """Start a streamed lock (data of any size, in authenticated chunks) with its first piece
        (2 MiB at most); the reply has the locked bytes so far and, unless ``final``, the handle for
        :meth:`stream_update`.

        :raises BusyError: while the module has too many streams open.
        """
        return self._call(LockStreamRequest(as_lock_key(key), chunk_size, bytes(data), final), same)

    def unlock_stream(self, data: bytes = b"", *, final: bool = False) -> StreamOutput:
        """Start unlocking a streamed lock with its first piece; the reply has the plaintext
        authenticated so far and, unless ``final``, the handle for :meth:`stream_update`.

        :raises AuthenticationError: if what was given fails (which check is not said).
        """
        return self._call(UnlockStreamRequest(bytes(data), final), same)

    def stream_update(self, handle: int, data: bytes, *, final: bool = False) -> StreamOutput:
        """The next piece of an open stream; ``final`` ends it (an unlock then checks that nothing
        was cut off or added).

        :raises InvalidArgumentError: for an unknown, finished or expired handle.
        :raises AuthenticationError: if an unlock stream fails (it is closed then).
        """
        return self._call(StreamUpdateRequest(handle, bytes(data), final), same)

    def stream_cancel(self, handle: int) -> None:
        """Drop an open stream."""
        return self._call(StreamCancelRequest(handle), nothing)
