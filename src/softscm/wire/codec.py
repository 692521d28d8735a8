"""CBOR messages: requests, replies and pushed events.

A request is the map ``{0: id, 1: command, 2: args}``; a reply ``{0: id, 1: status, 2: body}``
where status 0 means success (body is the result) and any other status is an
:class:`~softscm.wire.defs.ErrorCode` (body is the message). An event pushed to a subscriber is
``{0: 0, 3: event}``. Args and results are maps with text keys holding CBOR basics.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import cbor2

from .defs import MAX_FRAME_SIZE, Command, ErrorCode
from .errors import ProtocolError, RequestTooLargeError, ScmError, UnknownCommandError, error_for_code

MAX_ID = 2**32 - 1
MAX_REQUEST_ITEMS = 32_768
"""CBOR data items one request may hold (a 4,096-pair VERIFY_BATCH needs about 12,300). Checked
before decoding in frames over :data:`SCAN_FROM` bytes, since an item can cost a hundred times
its encoded size once decoded (a 4 MiB frame of empty maps became 358 MB)."""
SCAN_FROM = 64 * 1024
_ARG_SIZE = {24: 1, 25: 2, 26: 4, 27: 8}
_ID, _STATUS_OR_CMD, _BODY, _EVENT = 0, 1, 2, 3
_COMMANDS = {int(c): c for c in Command}  # a dict lookup is several times cheaper than Command(n)
_is_text = str.__instancecheck__  # isinstance(x, str) as a C function: no Python frame per argument name


class Request(NamedTuple):  # a NamedTuple: a third of a frozen dataclass's cost to make, twice per request
    id: int
    command: Command
    args: dict[str, Any]

    def to_bytes(self) -> bytes:
        """The frame payload.

        :raises RequestTooLargeError: if it would not fit in one frame (checked before anything
            is sent, so the connection stays usable).
        """
        payload = cbor2.dumps({_ID: self.id, _STATUS_OR_CMD: int(self.command), _BODY: self.args})
        if len(payload) > MAX_FRAME_SIZE:
            raise RequestTooLargeError(
                f"{self.command.name} request of {len(payload):,} bytes exceeds the {MAX_FRAME_SIZE:,}-byte frame "
                "limit (4 MiB): sign a digest of large data, or lock it in parts"
            )
        return payload

    @classmethod
    def parse(cls, data: bytes) -> Request:
        """Decode a request frame payload.

        :raises ProtocolError: if it is not CBOR or not a well-formed request; ``.request_id``
            on the exception carries the id when it could be read.
        :raises UnknownCommandError: if the command number is unknown.
        """
        if len(data) >= SCAN_FROM:
            check_item_count(data, MAX_REQUEST_ITEMS)
        message = _decode(data)
        request_id = message.get(_ID)
        if type(request_id) is not int or not 0 < request_id <= MAX_ID:  # not a bool either
            raise ProtocolError("request id must be an integer 1..2^32-1")
        command, args = message.get(_STATUS_OR_CMD), message.get(_BODY, {})
        if type(command) is not int:
            raise _with_id(ProtocolError("command must be an integer"), request_id)
        if type(args) is not dict or not all(map(_is_text, args)):
            raise _with_id(ProtocolError("args must be a map with text keys"), request_id)
        if not 0 <= command <= MAX_ID:
            raise _with_id(UnknownCommandError("unknown command (the number is out of range)"), request_id)
        known = _COMMANDS.get(command)
        if known is None:
            raise _with_id(UnknownCommandError(f"unknown command {command}"), request_id)
        return cls(request_id, known, args)


class Reply(NamedTuple):
    id: int
    status: int
    body: Any

    @classmethod
    def success(cls, request_id: int, result: Any) -> Reply:
        return cls(request_id, 0, result)

    @classmethod
    def failure(cls, request_id: int, error: ScmError) -> Reply:
        return cls(request_id, int(error.code), error.message)

    def to_bytes(self) -> bytes:
        return cbor2.dumps({_ID: self.id, _STATUS_OR_CMD: self.status, _BODY: self.body})

    def result(self) -> Any:
        """The result, or the module's error raised as its exception class."""
        if self.status:
            raise error_for_code(self.status, str(self.body))
        return self.body


class EventMessage(NamedTuple):
    event: dict[str, Any]

    def to_bytes(self) -> bytes:
        return cbor2.dumps({_ID: 0, _EVENT: self.event})


def parse_incoming(data: bytes) -> Reply | EventMessage:
    """Decode a frame received by a client.

    :raises ProtocolError: if it is not a well-formed reply or event.
    """
    message = _decode(data)
    request_id = message.get(_ID)
    if request_id == 0 and _EVENT in message and isinstance(message[_EVENT], dict):
        return EventMessage(message[_EVENT])
    status = message.get(_STATUS_OR_CMD)
    if not isinstance(request_id, int) or not isinstance(status, int):
        raise ProtocolError("malformed reply")
    if status and not isinstance(message.get(_BODY), str):
        raise ProtocolError("malformed error reply")
    return Reply(request_id, status, message.get(_BODY))


def _decode(data: bytes) -> dict[Any, Any]:
    try:
        message = cbor2.loads(data)
    except RecursionError:
        raise ProtocolError("message nests too deeply") from None
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, MemoryError):
        raise ProtocolError("frame is not valid CBOR") from None
    if not isinstance(message, dict):
        raise ProtocolError("message must be a CBOR map")
    return message


def check_item_count(data: bytes, limit: int) -> None:
    """Count the CBOR data items in ``data`` without decoding them (a linear walk over the item
    heads, skipping string contents), stopping at ``limit``. Malformed input ends the walk and is
    left for the decoder to report.

    :raises ProtocolError: if ``data`` holds more than ``limit`` items.
    """
    position, end, count = 0, len(data), 0
    while position < end:
        head = data[position]
        info = head & 31
        if info < 24:
            argument, size = info, 0
        elif info in _ARG_SIZE:
            size = _ARG_SIZE[info]
            argument = int.from_bytes(data[position + 1:position + 1 + size], "big")
        elif info == 31:
            argument, size = 0, 0  # indefinite length, or a break
        else:
            return
        position += 1 + size
        if head >> 5 in (2, 3) and info != 31:
            position += argument  # a byte or text string's contents
        count += 1
        if count > limit:
            raise ProtocolError(f"a request holds at most {limit} CBOR data items")


def _with_id(error: ScmError, request_id: int) -> ScmError:
    error.request_id = request_id
    return error


__all__ = ["ErrorCode", "EventMessage", "Reply", "Request", "parse_incoming"]
