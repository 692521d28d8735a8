"""Streamed, chunked AEAD: data of any size locked in authenticated chunks, the key never leaving
the module. Pure: bytes in, bytes out; randomness injectable.

A stream is a header followed by one or more chunk records::

    header    "SCS1" | version (1) | key id (1) | chunk size (4, BE) | salt (16) | nonce prefix (8)
              | owner length (1) | owner (the principal that locked it, UTF-8; empty for the cloud key)
    record i  AES-256-GCM(stream key, nonce = nonce prefix || i (4, BE),
                          AAD = header || i (4, BE) || final (1)): ciphertext || tag (16)
    stream key = HKDF-SHA256(the lock or cloud key, salt, info = "softscm lock stream v1")

Every record but the last holds exactly ``chunk size`` bytes of plaintext; the last holds 0 to
``chunk size`` bytes and is sealed with final = 1, so the record sizes tell a reader where records
end and the end of the data tells it which record must be the final one. A reader therefore finds
reordered records (``i`` is in the nonce and the AAD), a truncated stream (its last record was not
sealed final, or is cut short), an extended one (a record after the final one makes the final one
be read as not final), records spliced in from another stream (another salt, so another key) and
a changed header or owner (the header is in every record's AAD). Each stream has its own key,
derived from a fresh salt, so nonces never repeat across streams.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ...wire.defs import STREAM_CHUNK_SIZE, LockKey
from ...wire.errors import AuthenticationError, InvalidArgumentError, LimitExceededError
from .aead import TAG_SIZE
from .rng import Rng, system_rng

MAGIC = b"SCS1"
VERSION = 1
SALT_SIZE = 16
NONCE_PREFIX_SIZE = 8
DEFAULT_CHUNK_SIZE = STREAM_CHUNK_SIZE
MAX_CHUNK_SIZE = STREAM_CHUNK_SIZE  # a record and its request fit one wire frame with room to spare
MAX_RECORDS = 2**32  # the 4-byte record index
MAX_RECORDS_PER_UPDATE = 4096
"""Records one piece of a stream may complete (about 20 ms of work): with small chunks, a large
piece would otherwise hold the module for seconds and its output outgrow a frame."""
KEY_INFO = b"softscm lock stream v1"

Buffer = bytes | bytearray | memoryview

_HEADER = struct.Struct(">4sBBI16s8sB")
MAX_OWNER = 255
_INDEX = struct.Struct(">I")


def _failed() -> AuthenticationError:
    return AuthenticationError("authentication failed")  # which check failed is not said


@dataclass(frozen=True)
class StreamHeader:
    """The stream's header: which key, how big the chunks are, the stream's salt and nonce prefix,
    and who locked it."""

    key_id: LockKey
    chunk_size: int
    salt: bytes
    nonce_prefix: bytes
    owner: str = ""

    FIXED_SIZE: ClassVar[int] = _HEADER.size  # up to and with the owner's length

    def __post_init__(self) -> None:
        if not 1 <= self.chunk_size <= MAX_CHUNK_SIZE:
            raise InvalidArgumentError(f"the chunk size must be 1..{MAX_CHUNK_SIZE} bytes")
        if len(self.salt) != SALT_SIZE or len(self.nonce_prefix) != NONCE_PREFIX_SIZE:
            raise InvalidArgumentError(f"a stream needs a {SALT_SIZE}-byte salt and an {NONCE_PREFIX_SIZE}-byte "
                                       "nonce prefix")
        if len(self.owner.encode()) > MAX_OWNER:
            raise InvalidArgumentError(f"a stream's owner is at most {MAX_OWNER} bytes")

    @classmethod
    def new(cls, key_id: LockKey, chunk_size: int = DEFAULT_CHUNK_SIZE, rng: Rng = system_rng, *,
            owner: str = "") -> StreamHeader:
        """A header with a fresh salt and nonce prefix from ``rng``, for ``owner`` (a principal).

        :raises InvalidArgumentError: for a chunk size outside 1..:data:`MAX_CHUNK_SIZE`.
        """
        return cls(LockKey(key_id), chunk_size, rng(SALT_SIZE), rng(NONCE_PREFIX_SIZE), owner)

    @classmethod
    def size_from(cls, prefix: bytes) -> int:
        """The whole header's size, from its first :attr:`FIXED_SIZE` bytes."""
        return cls.FIXED_SIZE + prefix[cls.FIXED_SIZE - 1]

    @classmethod
    def parse(cls, data: bytes) -> StreamHeader:
        """Read a whole header (exactly :meth:`size_from` bytes).

        :raises AuthenticationError: for anything but a version-1 stream header (an unlock says no
            more than that it failed).
        """
        if len(data) < cls.FIXED_SIZE or len(data) != cls.size_from(data):
            raise _failed()
        magic, version, key_id, chunk_size, salt, prefix, _ = _HEADER.unpack(data[:cls.FIXED_SIZE])
        if magic != MAGIC or version != VERSION:
            raise _failed()
        try:
            return cls(LockKey(key_id), chunk_size, salt, prefix, data[cls.FIXED_SIZE:].decode())
        except (ValueError, InvalidArgumentError):
            raise _failed() from None

    @property
    def size(self) -> int:
        return self.FIXED_SIZE + len(self.owner.encode())

    def to_bytes(self) -> bytes:
        owner = self.owner.encode()
        return _HEADER.pack(MAGIC, VERSION, int(self.key_id), self.chunk_size, self.salt, self.nonce_prefix,
                            len(owner)) + owner

    @property
    def record_size(self) -> int:
        """The size of every record but the last (which may be shorter)."""
        return self.chunk_size + TAG_SIZE

    def locked_size(self, plaintext_size: int) -> int:
        """The whole stream's size, header included, for ``plaintext_size`` bytes of data."""
        full, rest = divmod(plaintext_size, self.chunk_size)
        if rest == 0 and full:
            full, rest = full - 1, self.chunk_size
        return self.size + full * self.record_size + rest + TAG_SIZE

    def nonce(self, index: int) -> bytes:
        return self.nonce_prefix + _INDEX.pack(index)

    def aad(self, index: int, final: bool) -> bytes:
        return self.to_bytes() + _INDEX.pack(index) + (b"\x01" if final else b"\x00")


def stream_key(key: bytes, header: StreamHeader) -> bytes:
    """The stream's own AES-256 key: HKDF-SHA256 of the module's ``key`` with the header's salt."""
    return HKDF(hashes.SHA256(), 32, header.salt, KEY_INFO).derive(key)


class _RecordCipher:
    """One stream's AES-GCM and how far along the stream it is (records go in order). Not thread-safe."""

    def __init__(self, key: bytes, header: StreamHeader) -> None:
        self.header = header
        self._aead = AESGCM(stream_key(key, header))
        self._index = 0
        self.finished = False

    def _advance(self, final: bool) -> None:
        self._index += 1
        self.finished = final


class RecordSealer(_RecordCipher):
    """Seals one stream's records in order."""

    def seal_into(self, chunk: Buffer, out: memoryview, *, final: bool) -> None:
        """Seal the next record into ``out`` (exactly ``len(chunk)`` + 16 bytes).

        :raises InvalidArgumentError: after the final record, for a non-final chunk that is not
            exactly ``chunk_size`` bytes or a final one larger than that, or past 2^32 records.
        """
        if self.finished:
            raise InvalidArgumentError("the stream has already been finished")
        size = len(chunk)
        if size > self.header.chunk_size or (not final and size != self.header.chunk_size):
            raise InvalidArgumentError(f"every chunk but the last holds exactly {self.header.chunk_size} bytes")
        if self._index >= MAX_RECORDS:
            raise InvalidArgumentError("a stream holds at most 2^32 chunks")
        self._aead.encrypt_into(self.header.nonce(self._index), chunk, self.header.aad(self._index, final), out)
        self._advance(final)


class RecordOpener(_RecordCipher):
    """Opens one stream's records in order; :meth:`finish` checks that the final one came."""

    def open_into(self, record: Buffer, out: memoryview, *, final: bool) -> None:
        """Open the next record into ``out`` (exactly ``len(record)`` - 16 bytes).

        :raises AuthenticationError: if it is out of order, of the wrong size, after the final
            record, or fails authentication (which of these is not said).
        """
        size = len(record)
        if self.finished or self._index >= MAX_RECORDS or size > self.header.record_size or size < TAG_SIZE or (
                not final and size != self.header.record_size):
            raise _failed()
        try:
            self._aead.decrypt_into(self.header.nonce(self._index), record, self.header.aad(self._index, final), out)
        except InvalidTag:
            raise _failed() from None
        self._advance(final)

    def finish(self) -> None:
        """:raises AuthenticationError: if the final record has not been opened (a truncated stream)."""
        if not self.finished:
            raise _failed()


def _seal_records(sealer: RecordSealer, out: bytearray, at: int, data: memoryview, final: bool) -> None:
    """Seal ``data`` (whole chunks, the last one final if ``final``) into ``out`` from ``at``."""
    size, view = sealer.header.chunk_size, memoryview(out)
    for start in range(0, len(data), size):
        chunk = data[start:start + size]
        sealer.seal_into(chunk, view[at:at + len(chunk) + TAG_SIZE], final=final and start + size >= len(data))
        at += len(chunk) + TAG_SIZE


def _open_records(opener: RecordOpener, out: bytearray, records: memoryview, final: bool) -> None:
    """Open ``records`` (whole records, the last one final if ``final``) into ``out``."""
    size, view, at = opener.header.record_size, memoryview(out), 0
    for start in range(0, len(records), size):
        record = records[start:start + size]
        opener.open_into(record, view[at:at + len(record) - TAG_SIZE], final=final and start + size >= len(records))
        at += len(record) - TAG_SIZE


class StreamLocker:
    """Locks data given in pieces of any size: :meth:`update` returns the records completed so far
    (the header first), :meth:`finish` the final record. Holds at most one chunk."""

    def __init__(self, key: bytes, header: StreamHeader) -> None:
        self._sealer = RecordSealer(key, header)
        self._pending = b""
        self._started = False

    def update(self, data: Buffer) -> bytes:
        """The records completed by ``data``.

        :raises InvalidArgumentError: after :meth:`finish`, or past 2^32 chunks.
        :raises LimitExceededError: if ``data`` would complete over :data:`MAX_RECORDS_PER_UPDATE`
            records (nothing is done: send smaller pieces, or use larger chunks).
        """
        if self._sealer.finished:
            raise InvalidArgumentError("the stream has already been finished")
        size = self._sealer.header.chunk_size
        _check_records(-(-(len(self._pending) + len(data)) // size), size)
        pending = memoryview(self._pending + bytes(data) if self._pending else data).cast("B")
        whole = (len(pending) - 1) // size * size if pending else 0  # the last chunk may be the final one: keep it
        head = self._start()
        out = bytearray(len(head) + whole + whole // size * TAG_SIZE)
        out[:len(head)] = head
        _seal_records(self._sealer, out, len(head), pending[:whole], final=False)
        self._pending = bytes(pending[whole:])
        return bytes(out)

    def finish(self) -> bytes:
        """The final record (the header too, if nothing was returned yet).

        :raises InvalidArgumentError: if the stream was already finished.
        """
        if self._sealer.finished:
            raise InvalidArgumentError("the stream has already been finished")
        head = self._start()
        out = bytearray(len(head) + len(self._pending) + TAG_SIZE)
        out[:len(head)] = head
        self._sealer.seal_into(self._pending, memoryview(out)[len(head):], final=True)
        self._pending = b""
        return bytes(out)

    def _start(self) -> bytes:
        if self._started:
            return b""
        self._started = True
        return self._sealer.header.to_bytes()


class StreamUnlocker:
    """Unlocks a stream given in pieces of any size: :meth:`update` returns the plaintext of each
    record authenticated so far, :meth:`finish` that of the final one. Holds at most one record.

    Plaintext comes out before the whole stream has been read, each chunk authenticated on its own:
    a caller writing it to a file keeps the file aside until :meth:`finish` succeeds.
    """

    def __init__(self, key_for: Callable[[LockKey], bytes],
                 check: Callable[[StreamHeader], None] = lambda header: None) -> None:
        """``key_for`` gives the module's key for the header's key id; ``check`` sees the header
        before any plaintext comes out (and may raise, e.g. for a caller who is not its owner)."""
        self._key_for = key_for
        self._check = check
        self._pending = b""
        self._opener: RecordOpener | None = None

    def update(self, data: Buffer) -> bytes:
        """The plaintext of the records ``data`` completes (all but the last, which may be final).

        :raises AuthenticationError: for a bad header or a record that fails (which check is not said).
        :raises LimitExceededError: if the pending data holds over :data:`MAX_RECORDS_PER_UPDATE`
            records (nothing is opened).
        """
        pending = memoryview(self._pending + bytes(data) if self._pending else data).cast("B")
        if self._opener is None:
            if len(pending) < StreamHeader.FIXED_SIZE or len(pending) < StreamHeader.size_from(pending):
                self._pending = bytes(pending)
                return b""
            size = StreamHeader.size_from(pending)
            header = StreamHeader.parse(bytes(pending[:size]))
            self._check(header)
            pending = pending[size:]
            self._opener = RecordOpener(self._key_for(header.key_id), header)
        size = self._opener.header.record_size
        _check_records(-(-len(pending) // size), self._opener.header.chunk_size)
        whole = (len(pending) - 1) // size * size if pending else 0  # more follows: these records are not final
        out = bytearray(whole - whole // size * TAG_SIZE)
        _open_records(self._opener, out, pending[:whole], final=False)
        self._pending = bytes(pending[whole:])
        return bytes(out)

    def finish(self) -> bytes:
        """The final record's plaintext.

        :raises AuthenticationError: if the stream is truncated, extended or fails authentication.
        """
        if self._opener is None or len(self._pending) < TAG_SIZE:
            raise _failed()
        out = bytearray(len(self._pending) - TAG_SIZE)
        self._opener.open_into(self._pending, memoryview(out), final=True)
        self._pending = b""
        self._opener.finish()
        return bytes(out)


def _check_records(records: int, chunk_size: int) -> None:
    """:raises LimitExceededError: for over :data:`MAX_RECORDS_PER_UPDATE` records in one piece."""
    if records > MAX_RECORDS_PER_UPDATE:
        raise LimitExceededError(f"one stream piece may hold at most {MAX_RECORDS_PER_UPDATE} chunks "
                                 f"({MAX_RECORDS_PER_UPDATE * chunk_size} bytes of {chunk_size}-byte chunks); "
                                 f"this one holds {records}: send smaller pieces or use larger chunks")


def lock_stream(key: bytes, header: StreamHeader, data: Buffer) -> bytes:
    """The whole stream for ``data`` at once (header and records), sealed straight into its place.

    :raises InvalidArgumentError: for data past 2^32 chunks.
    :raises LimitExceededError: for data over :data:`MAX_RECORDS_PER_UPDATE` chunks.
    """
    view = memoryview(data).cast("B")
    _check_records(-(-len(view) // header.chunk_size), header.chunk_size)
    head = header.to_bytes()
    out = bytearray(header.locked_size(len(view)))
    out[:len(head)] = head
    if view:
        _seal_records(RecordSealer(key, header), out, len(head), view, final=True)
    else:  # no data: one empty final record
        RecordSealer(key, header).seal_into(b"", memoryview(out)[len(head):], final=True)
    return bytes(out)


def unlock_stream(key_for: Callable[[LockKey], bytes], stream: Buffer,
                  check: Callable[[StreamHeader], None] = lambda header: None) -> bytes:
    """The data of a whole stream (``check``: as for :class:`StreamUnlocker`), opened straight into
    its place.

    :raises AuthenticationError: if anything in it fails (which check is not said).
    :raises LimitExceededError: for a stream of over :data:`MAX_RECORDS_PER_UPDATE` chunks.
    """
    view = memoryview(stream).cast("B")
    if len(view) < StreamHeader.FIXED_SIZE or len(view) < StreamHeader.size_from(view):
        raise _failed()
    size = StreamHeader.size_from(view)
    header = StreamHeader.parse(bytes(view[:size]))
    check(header)
    records = view[size:]
    if len(records) < TAG_SIZE:
        raise _failed()
    _check_records(-(-len(records) // header.record_size), header.chunk_size)
    full = (len(records) - 1) // header.record_size  # records before the final one
    if len(records) - full * header.record_size < TAG_SIZE:
        raise _failed()
    out = bytearray(len(records) - (full + 1) * TAG_SIZE)
    opener = RecordOpener(key_for(header.key_id), header)
    _open_records(opener, out, records, final=True)
    opener.finish()
    return bytes(out)
