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


class RecordSealer:
    """Seals one stream's records in order. Not thread-safe."""

    def __init__(self, key: bytes, header: StreamHeader) -> None:
        self.header = header
        self._aead = AESGCM(stream_key(key, header))
        self._index = 0
        self.finished = False

    def seal(self, chunk: bytes, *, final: bool) -> bytes:
        """The next record.

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
        record = self._aead.encrypt(self.header.nonce(self._index), bytes(chunk), self.header.aad(self._index, final))
        self._index += 1
        self.finished = final
        return record


class RecordOpener:
    """Opens one stream's records in order; :meth:`finish` checks that the final one came."""

    def __init__(self, key: bytes, header: StreamHeader) -> None:
        self.header = header
        self._aead = AESGCM(stream_key(key, header))
        self._index = 0
        self.finished = False

    def open(self, record: bytes, *, final: bool) -> bytes:
        """The next record's plaintext.

        :raises AuthenticationError: if it is out of order, of the wrong size, after the final
            record, or fails authentication (which of these is not said).
        """
        size = len(record)
        if self.finished or self._index >= MAX_RECORDS or size > self.header.record_size or size < TAG_SIZE or (
                not final and size != self.header.record_size):
            raise _failed()
        try:
            chunk = self._aead.decrypt(self.header.nonce(self._index), bytes(record), self.header.aad(self._index, final))
        except InvalidTag:
            raise _failed() from None
        self._index += 1
        self.finished = final
        return chunk

    def finish(self) -> None:
        """:raises AuthenticationError: if the final record has not been opened (a truncated stream)."""
        if not self.finished:
            raise _failed()


class StreamLocker:
    """Locks data given in pieces of any size: :meth:`update` returns the records completed so far
    (the header first), :meth:`finish` the final record. Holds at most one chunk."""

    def __init__(self, key: bytes, header: StreamHeader) -> None:
        self._sealer = RecordSealer(key, header)
        self._pending = bytearray()
        self._started = False

    def update(self, data: bytes, *, final: bool = False) -> bytes:
        """The records completed by ``data`` (with ``final``, every record: the stream ends).

        :raises InvalidArgumentError: after :meth:`finish`, or past 2^32 chunks.
        :raises LimitExceededError: if ``data`` would complete over :data:`MAX_RECORDS_PER_UPDATE`
            records (nothing is done: send smaller pieces, or use larger chunks).
        """
        if self._sealer.finished:
            raise InvalidArgumentError("the stream has already been finished")
        size = self._sealer.header.chunk_size
        _check_records(-(-(len(self._pending) + len(data)) // size), size)
        self._pending += data
        out = self._start()
        done = 0
        while len(self._pending) - done > size:  # the last full chunk may be the final one: keep it
            out += self._sealer.seal(self._pending[done:done + size], final=False)
            done += size
        del self._pending[:done]
        if final:
            out += self._sealer.seal(self._pending, final=True)
            self._pending.clear()
        return bytes(out)

    def finish(self) -> bytes:
        """The final record (the header too, if nothing was returned yet).

        :raises InvalidArgumentError: if the stream was already finished.
        """
        if self._sealer.finished:
            raise InvalidArgumentError("the stream has already been finished")
        out = self._start() + self._sealer.seal(self._pending, final=True)
        self._pending.clear()
        return bytes(out)

    def _start(self) -> bytearray:
        if self._started:
            return bytearray()
        self._started = True
        return bytearray(self._sealer.header.to_bytes())


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
        self._pending = bytearray()
        self._opener: RecordOpener | None = None

    def update(self, data: bytes) -> bytes:
        """The plaintext of the records ``data`` completes (all but the last, which may be final).

        :raises AuthenticationError: for a bad header or a record that fails (which check is not said).
        :raises LimitExceededError: if the pending data holds over :data:`MAX_RECORDS_PER_UPDATE`
            records (nothing is opened).
        """
        self._pending += data
        if self._opener is None:
            if len(self._pending) < StreamHeader.FIXED_SIZE:
                return b""
            size = StreamHeader.size_from(self._pending)
            if len(self._pending) < size:
                return b""
            header = StreamHeader.parse(bytes(self._pending[:size]))
            self._check(header)
            del self._pending[:size]
            self._opener = RecordOpener(self._key_for(header.key_id), header)
        out = bytearray()
        size = self._opener.header.record_size
        _check_records(-(-len(self._pending) // size), self._opener.header.chunk_size)
        done = 0
        while len(self._pending) - done > size:  # more follows, so this record is not the final one
            out += self._opener.open(self._pending[done:done + size], final=False)
            done += size
        del self._pending[:done]
        return bytes(out)

    def finish(self) -> bytes:
        """The final record's plaintext.

        :raises AuthenticationError: if the stream is truncated, extended or fails authentication.
        """
        if self._opener is None:
            raise _failed()
        chunk = self._opener.open(self._pending, final=True)
        self._pending.clear()
        self._opener.finish()
        return chunk


def _check_records(records: int, chunk_size: int) -> None:
    """:raises LimitExceededError: for over :data:`MAX_RECORDS_PER_UPDATE` records in one piece."""
    if records > MAX_RECORDS_PER_UPDATE:
        raise LimitExceededError(f"one stream piece may hold at most {MAX_RECORDS_PER_UPDATE} chunks "
                                 f"({MAX_RECORDS_PER_UPDATE * chunk_size} bytes of {chunk_size}-byte chunks); "
                                 f"this one holds {records}: send smaller pieces or use larger chunks")


def lock_stream(key: bytes, header: StreamHeader, data: bytes) -> bytes:
    """The whole stream for ``data`` at once (header and records).

    :raises InvalidArgumentError: for data past 2^32 chunks.
    :raises LimitExceededError: for data over :data:`MAX_RECORDS_PER_UPDATE` chunks.
    """
    return StreamLocker(key, header).update(data, final=True)


def unlock_stream(key_for: Callable[[LockKey], bytes], stream: bytes,
                  check: Callable[[StreamHeader], None] = lambda header: None) -> bytes:
    """The data of a whole stream (``check``: as for :class:`StreamUnlocker`).

    :raises AuthenticationError: if anything in it fails (which check is not said).
    :raises LimitExceededError: for a stream of over :data:`MAX_RECORDS_PER_UPDATE` chunks.
    """
    unlocker = StreamUnlocker(key_for, check)
    return unlocker.update(stream) + unlocker.finish()
