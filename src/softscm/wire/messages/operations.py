"""Sign, verify, ECDH, lock and unlock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from ..defs import MAX_STREAM_PIECE, STREAM_CHUNK_SIZE, Command, KdfType, KeyType, LockKey
from .base import Done, MaxLen, Message, Range, Request, command
from .keys import MAX_PUBLIC_KEY, Slot

MAX_MESSAGE = 1024 * 1024
MAX_BATCH = 4096
MAX_LOCK = 2 * 1024 * 1024
MAX_SIGNATURE = 512
MAX_SALT_INFO = 128
MAX_DERIVED = 1024
Data = Annotated[bytes, MaxLen(MAX_MESSAGE)]


@dataclass(frozen=True)
class Signature(Message):
    """A raw signature (ECDSA r||s, 64 bytes, not normalised to low-S; or Ed25519 R||S) and, when
    asked for, the ECDSA recovery id."""

    raw: bytes
    recovery_id: int | None = None


@dataclass(frozen=True)
class Signatures(Message):
    signatures: tuple[Signature, ...]


@command(Command.SIGN, Signature)
@dataclass(frozen=True)
class SignRequest(Request[Signature]):
    """Sign a 32-byte digest (ECDSA) or a message (Ed25519)."""

    slot: Slot
    data: Data
    deterministic: bool = False
    recid: bool = False


@command(Command.SIGN_BATCH, Signatures)
@dataclass(frozen=True)
class SignBatchRequest(Request[Signatures]):
    slot: Slot
    data: Annotated[tuple[Data, ...], MaxLen(MAX_BATCH)]
    deterministic: bool = False
    recid: bool = False


@dataclass(frozen=True)
class Verifier(Message):
    """The key to verify with: a slot (a foreign slot with ``foreign``) or a public key given inline."""

    slot: Slot | None = None
    foreign: bool = False
    key_type: KeyType | None = None
    public_key: Annotated[bytes, MaxLen(MAX_PUBLIC_KEY)] | None = None


@command(Command.VERIFY, Done)
@dataclass(frozen=True)
class VerifyRequest(Request[Done]):
    key: Verifier
    data: Data
    signature: Annotated[bytes, MaxLen(MAX_SIGNATURE)]


@dataclass(frozen=True)
class Verdicts(Message):
    valid: tuple[bool, ...]


@command(Command.VERIFY_BATCH, Verdicts)
@dataclass(frozen=True)
class VerifyBatchRequest(Request[Verdicts]):
    key: Verifier
    items: Annotated[tuple[tuple[Data, Annotated[bytes, MaxLen(MAX_SIGNATURE)]], ...], MaxLen(MAX_BATCH)]


@dataclass(frozen=True)
class Secret(Message):
    secret: bytes


@command(Command.ECDH, Secret)
@dataclass(frozen=True)
class EcdhRequest(Request[Secret]):
    """ECDH between a local slot and a peer key (raw bytes, or a slot number with ``peer_slot``),
    followed by ``kdf``."""

    slot: Slot
    peer_public_key: Annotated[bytes, MaxLen(MAX_PUBLIC_KEY)] | None = None
    peer_slot: Slot | None = None
    peer_foreign: bool = True
    kdf: KdfType = KdfType.NONE
    salt: Annotated[bytes, MaxLen(MAX_SALT_INFO)] = b""
    info: Annotated[bytes, MaxLen(MAX_SALT_INFO)] = b""
    iterations: Annotated[int, Range(1, 2**31 - 1)] = 1
    length: Annotated[int, Range(1, MAX_DERIVED)] = 32


@dataclass(frozen=True)
class Blob(Message):
    blob: bytes


@dataclass(frozen=True)
class Plaintext(Message):
    data: bytes


@command(Command.LOCK, Blob)
@dataclass(frozen=True)
class LockRequest(Request[Blob]):
    data: Annotated[bytes, MaxLen(MAX_LOCK)]
    key: LockKey = LockKey.MODULE


@command(Command.UNLOCK, Plaintext)
@dataclass(frozen=True)
class UnlockRequest(Request[Plaintext]):
    blob: Annotated[bytes, MaxLen(MAX_LOCK + 256)]


Piece = Annotated[bytes, MaxLen(MAX_STREAM_PIECE)]
Handle = Annotated[int, Range(1, 2**63 - 1)]


@dataclass(frozen=True)
class StreamOutput(Message):
    """A streamed lock or unlock step: the bytes ready (locked records, the header first; or
    authenticated plaintext) and the stream's handle while it stays open (none once finished)."""

    data: bytes
    handle: int | None = None


@command(Command.LOCK_STREAM, StreamOutput)
@dataclass(frozen=True)
class LockStreamRequest(Request[StreamOutput]):
    """Lock data of any size as a stream of authenticated chunks (AES-256-GCM under a per-stream key
    derived from the module or cloud key), starting with ``data``; ``final`` locks it all at once,
    else send the rest with STREAM_UPDATE."""

    key: LockKey = LockKey.MODULE
    chunk_size: Annotated[int, Range(1, STREAM_CHUNK_SIZE)] = STREAM_CHUNK_SIZE
    data: Piece = b""
    final: bool = False


@command(Command.UNLOCK_STREAM, StreamOutput)
@dataclass(frozen=True)
class UnlockStreamRequest(Request[StreamOutput]):
    """Unlock a streamed lock, starting with ``data``; each chunk's plaintext comes back once it is
    authenticated, and ``final`` checks that the stream ended where it was sealed to end."""

    data: Piece = b""
    final: bool = False


@command(Command.STREAM_UPDATE, StreamOutput)
@dataclass(frozen=True)
class StreamUpdateRequest(Request[StreamOutput]):
    """The next piece of an open lock or unlock stream; ``final`` ends and closes it."""

    handle: Handle
    data: Piece = b""
    final: bool = False


@command(Command.STREAM_CANCEL, Done)
@dataclass(frozen=True)
class StreamCancelRequest(Request[Done]):
    """Drop an open stream (an unknown handle is no error)."""

    handle: Handle
