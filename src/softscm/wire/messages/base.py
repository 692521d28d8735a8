"""The typed message layer: every request and reply is a frozen dataclass, checked on the way in.

A message crosses the wire as a CBOR map of its field names. :meth:`Message.from_wire` checks
every field against its annotation (type, range, length) and raises
:class:`~softscm.wire.errors.InvalidArgumentError` naming the field; :meth:`Message.to_wire`
is its inverse. Both sides use the same classes, so an argument name is written once.

Annotations understood: ``int``, ``float``, ``bool``, ``bytes``, ``str``, ``IntEnum`` classes,
``X | None``, ``list[X]``, ``tuple[X, ...]``, ``dict[str, X]``, nested messages and ``Any``
(checked by the handler). Constraints ride in ``Annotated``: :class:`Range`, :class:`MaxLen`,
:class:`Size`. An int without a :class:`Range` must fit in a signed 64-bit integer.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Generic, TypeVar, get_args, get_origin

from ..defs import Command
from ..errors import InvalidArgumentError

INT64 = (-(2**63), 2**63 - 1)
DEFAULT_MAX_TEXT = 256
MAX_TEXT = 1 << 22  # text in replies: log lines, mnemonics, messages
DEFAULT_MAX_BYTES = 1 << 22
DEFAULT_MAX_ITEMS = 4096


@dataclasses.dataclass(frozen=True)
class Range:
    """Inclusive bounds of a number; a value outside them raises ``error``."""

    min: float | None = None
    max: float | None = None
    error: type[InvalidArgumentError] = InvalidArgumentError


@dataclasses.dataclass(frozen=True)
class MaxLen:
    """Largest length of text, bytes or a list."""

    value: int


@dataclasses.dataclass(frozen=True)
class Size:
    """Exact length of bytes."""

    value: int


Decoder = Callable[[str, Any], Any]
Text = Annotated[str, MaxLen(MAX_TEXT)]
"""Text of any length a frame can hold (reply fields)."""
Encoder = Callable[[Any], Any]


def _bad(name: str, what: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"argument {name!r} {what}")


def _int(bounds: Range | None) -> Decoder:
    low, high = (bounds.min, bounds.max) if bounds else INT64
    error = bounds.error if bounds else InvalidArgumentError

    def decode(name: str, value: Any) -> int:
        if type(value) is not int:
            raise _bad(name, "must be an integer")
        if (low is not None and value < low) or (high is not None and value > high):
            raise error(f"argument {name!r} is out of range")
        return value

    return decode


def _float(bounds: Range | None) -> Decoder:
    def decode(name: str, value: Any) -> float:
        if type(value) not in (int, float):
            raise _bad(name, "must be a number")
        number = float(value)
        if number != number or (bounds and ((bounds.min is not None and number < bounds.min)
                                            or (bounds.max is not None and number > bounds.max))):
            raise _bad(name, "is out of range")
        return number

    return decode


def _bool(name: str, value: Any) -> bool:
    if type(value) is not bool:
        raise _bad(name, "must be a boolean")
    return value


def _bytes(max_len: int, size: int | None) -> Decoder:
    def decode(name: str, value: Any) -> bytes:
        if not isinstance(value, (bytes, bytearray)):
            raise _bad(name, "must be bytes")
        data = value if type(value) is bytes else bytes(value)
        if len(data) > max_len or (size is not None and len(data) != size):
            raise _bad(name, "has the wrong length")
        return data

    return decode


def _str(max_len: int) -> Decoder:
    def decode(name: str, value: Any) -> str:
        if type(value) is not str or len(value) > max_len:
            raise _bad(name, f"must be text of at most {max_len} characters")
        return value

    return decode


def _enum(cls: type[enum.IntEnum]) -> Decoder:
    parse = getattr(cls, "parse", None)

    def decode(name: str, value: Any) -> enum.IntEnum:
        try:
            if type(value) is int:
                return cls(value)
            if parse is not None and type(value) is str:
                return typing.cast(enum.IntEnum, parse(value))
        except ValueError:
            pass
        raise _bad(name, f"is not a valid {cls.__name__}")

    return decode


def _str_enum(cls: type[enum.StrEnum]) -> Decoder:
    def decode(name: str, value: Any) -> enum.StrEnum:
        try:
            return cls(value)
        except ValueError:
            raise _bad(name, f"is one of {', '.join(m.value for m in cls)}") from None

    return decode


def _first_of(decoders: list[Decoder]) -> Decoder:
    def decode(name: str, value: Any) -> Any:
        reasons = []
        for decoder in decoders:
            try:
                return decoder(name, value)
            except InvalidArgumentError as exc:
                reasons.append(exc.message.removeprefix(f"argument {name!r} "))
        raise _bad(name, "fits none of its forms: it " + "; or it ".join(reasons))  # text too long says so

    return decode


def _optional(inner: Decoder) -> Decoder:
    return lambda name, value: None if value is None else inner(name, value)


def _sequence(inner: Decoder, max_len: int, factory: Callable[[Any], Any]) -> Decoder:
    def decode(name: str, value: Any) -> Any:
        if not isinstance(value, (list, tuple)) or len(value) > max_len:
            raise _bad(name, f"must be a list of at most {max_len} items")
        return factory(inner(name, item) for item in value)

    return decode


def _fixed_tuple(inners: list[Decoder]) -> Decoder:
    def decode(name: str, value: Any) -> tuple[Any, ...]:
        if not isinstance(value, (list, tuple)) or len(value) != len(inners):
            raise _bad(name, f"must be a list of {len(inners)} items")
        return tuple(inner(name, item) for inner, item in zip(inners, value))

    return decode


def _mapping(inner: Decoder, max_len: int) -> Decoder:
    def decode(name: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict) or len(value) > max_len or not all(type(k) is str for k in value):
            raise _bad(name, f"must be a map of at most {max_len} text keys")
        return {k: inner(name, v) for k, v in value.items()}

    return decode


def _nested(cls: type[Message]) -> Decoder:
    return lambda name, value: cls.from_wire(value)


def _any(name: str, value: Any) -> Any:
    return value


def _decoder(annotation: Any) -> Decoder:
    """Compile the check for one annotation."""
    constraints: list[Any] = []
    if get_origin(annotation) is Annotated:
        annotation, *constraints = get_args(annotation)
    bounds = next((c for c in constraints if isinstance(c, Range)), None)
    max_len = next((c.value for c in constraints if isinstance(c, MaxLen)), None)
    size = next((c.value for c in constraints if isinstance(c, Size)), None)
    origin = get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return _optional(_decoder(Annotated[(members[0], *constraints)] if constraints else members[0]))
        decoder = _first_of([_decoder(m) for m in members])
        return _optional(decoder) if type(None) in get_args(annotation) else decoder
    if origin is list:
        return _sequence(_decoder(get_args(annotation)[0]), max_len or DEFAULT_MAX_ITEMS, list)
    if origin is tuple:
        items = get_args(annotation)
        if len(items) == 2 and items[1] is Ellipsis:
            return _sequence(_decoder(items[0]), max_len or DEFAULT_MAX_ITEMS, tuple)
        return _fixed_tuple([_decoder(item) for item in items])
    if origin is dict:
        return _mapping(_decoder(get_args(annotation)[1]), max_len or 64)
    if annotation is Any:
        return _any
    if isinstance(annotation, type):
        if issubclass(annotation, bool):
            return _bool
        if issubclass(annotation, enum.IntEnum):
            return _enum(annotation)
        if issubclass(annotation, enum.StrEnum):
            return _str_enum(annotation)
        if issubclass(annotation, int):
            return _int(bounds)
        if issubclass(annotation, float):
            return _float(bounds)
        if issubclass(annotation, bytes):
            return _bytes(max_len or DEFAULT_MAX_BYTES, size)
        if issubclass(annotation, str):
            return _str(max_len or DEFAULT_MAX_TEXT)
        if issubclass(annotation, Message):
            return _nested(annotation)
    raise TypeError(f"unsupported message field type {annotation!r}")


def _encode(value: Any) -> Any:
    if isinstance(value, Message):
        return value.to_wire()
    if isinstance(value, enum.IntEnum):
        return int(value)
    if isinstance(value, enum.StrEnum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


_PLAIN = (int, float, bool, bytes, str, type(None))


@dataclasses.dataclass(frozen=True)
class _Field:
    name: str
    decode: Decoder
    default: Any  # _REQUIRED when the field has no default
    factory: Callable[[], Any] | None
    plain: bool  # encodes as itself (no enum, message or container inside)
    fast: str  # a Python condition under which a wire value is taken as it is ("" if none)


_REQUIRED = object()


def _fast_check(annotation: Any) -> str:
    """A cheap test (on ``v``) that a wire value of this annotation needs no further check; the
    full decoder runs (and raises the right error) when it fails."""
    constraints: list[Any] = []
    if get_origin(annotation) is Annotated:
        annotation, *constraints = get_args(annotation)
    bounds = next((c for c in constraints if isinstance(c, Range)), None)
    max_len = next((c.value for c in constraints if isinstance(c, MaxLen)), None)
    size = next((c.value for c in constraints if isinstance(c, Size)), None)
    if annotation is bool:
        return "type(v) is bool"
    if annotation is int:
        low, high = (bounds.min, bounds.max) if bounds else INT64
        return f"type(v) is int and {low!r} <= v <= {high!r}" if low is not None and high is not None else ""
    if annotation is bytes:
        if size is not None:
            return f"type(v) is bytes and len(v) == {size}"
        return f"type(v) is bytes and len(v) <= {max_len or DEFAULT_MAX_BYTES}"
    if annotation is str:
        return f"type(v) is str and len(v) <= {max_len or DEFAULT_MAX_TEXT}"
    return ""


def _compile(cls: type[Message], fields: tuple[_Field, ...]) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """Generate the decoder and encoder of ``cls``: straight-line code per field, so that the
    request path pays for a dict lookup and a type check per field and no more."""
    env: dict[str, Any] = {"cls": cls, "new": object.__new__, "set": object.__setattr__, "encode": _encode,
                           "InvalidArgumentError": InvalidArgumentError, "post_init": hasattr(cls, "__post_init__")}
    decode = ["def from_wire(value):",
              "    if value is None:", "        value = {}",
              "    elif type(value) is not dict:",
              f"        raise InvalidArgumentError({cls.__name__ + ' must be a map'!r})",
              "    get = value.get"]
    encode = ["def to_wire(self):", "    d = self.__dict__", "    w = {}"]
    for i, f in enumerate(fields):
        env[f"decode{i}"], env[f"default{i}"], env[f"factory{i}"] = f.decode, f.default, f.factory
        decode.append(f"    v = get({f.name!r})")
        if f.fast:  # the common case first (a fast test never passes None)
            decode += [f"    if {f.fast}:", f"        f{i} = v", "    elif v is None:"]
        else:
            decode.append("    if v is None:")
        if f.factory is not None:
            decode.append(f"        f{i} = factory{i}()")
        elif f.default is _REQUIRED:
            decode.append(f"        raise InvalidArgumentError({'argument ' + repr(f.name) + ' is required'!r})")
        else:
            decode.append(f"        f{i} = default{i}")
        decode += ["    else:", f"        f{i} = decode{i}({f.name!r}, v)"]
        encode += [f"    v = d[{f.name!r}]", "    if v is not None:",
                   f"        w[{f.name!r}] = {'v' if f.plain else 'encode(v)'}"]
    values = ", ".join(f"{f.name!r}: f{i}" for i, f in enumerate(fields))
    decode += ["    if post_init:", f"        return cls(**{{{values}}})",
               "    obj = new(cls)", f"    set(obj, '__dict__', {{{values}}})", "    return obj"]
    encode.append("    return w")
    exec("\n".join(decode) + "\n\n" + "\n".join(encode), env)  # noqa: S102 - generated from the field list
    return env["from_wire"], env["to_wire"]


class Message:
    """Base of every request and reply record."""

    __slots__ = ()
    _codec: ClassVar[tuple[Callable[[Any], Any], Callable[[Any], Any]] | None] = None

    @classmethod
    def _fields(cls) -> tuple[_Field, ...]:
        hints = typing.get_type_hints(cls, include_extras=True)
        compiled = []
        for f in dataclasses.fields(typing.cast(Any, cls)):  # every message class is a dataclass
            default = _REQUIRED if f.default is dataclasses.MISSING else f.default
            factory = None if f.default_factory is dataclasses.MISSING else f.default_factory
            annotation = hints[f.name]
            base = get_args(annotation)[0] if get_origin(annotation) is Annotated else annotation
            compiled.append(_Field(f.name, _decoder(annotation), None if factory else default, factory,
                                   base in _PLAIN, _fast_check(annotation)))
        return tuple(compiled)

    @classmethod
    def _get_codec(cls) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
        """The class's generated codec; the first call also puts it in place of :meth:`from_wire`
        and :meth:`to_wire` on a class that does not override them, so later calls go straight to it."""
        codec = cls.__dict__.get("_codec")
        if codec is None:
            codec = _compile(cls, cls._fields())
            cls._codec = codec
            if "from_wire" not in cls.__dict__:
                setattr(cls, "from_wire", staticmethod(codec[0]))  # noqa: B010 - mypy cannot see a method replaced
            if "to_wire" not in cls.__dict__:
                setattr(cls, "to_wire", codec[1])  # noqa: B010 - as above
        return codec

    @classmethod
    def from_wire(cls: type[M], value: Any) -> M:
        """Check and build the message from its wire map.

        :raises InvalidArgumentError: naming the first field that is missing or wrong.
        """
        message: M = cls._get_codec()[0](value)
        return message

    def to_wire(self) -> dict[str, Any]:
        """The wire map (fields that are None are left out)."""
        wire: dict[str, Any] = self._get_codec()[1](self)
        return wire


M = TypeVar("M", bound=Message)
R = TypeVar("R", bound=Message)


class Request(Message, Generic[R]):
    """A request; ``COMMAND`` and ``REPLY`` are set by :func:`command`."""

    __slots__ = ()
    COMMAND: ClassVar[Command]
    REPLY: ClassVar[type[Message]]

    def parse_reply(self, value: Any) -> R:
        """The typed reply to this request from its wire value.

        :raises InvalidArgumentError: if the value is not a well-formed reply.
        """
        return typing.cast(R, self.REPLY.from_wire(value))


@dataclasses.dataclass(frozen=True)
class Done(Message):
    """The reply of a command that returns nothing."""


RQ = TypeVar("RQ", bound=type[Request[Any]])

CONTRACT: dict[Command, tuple[type[Request[Any]], type[Message]]] = {}
"""Every command with its request and reply type (filled as the area modules are imported)."""


def command(cmd: Command, reply: type[Message]) -> Callable[[RQ], RQ]:
    """Declare ``cls`` the request of ``cmd``, answered by ``reply``."""

    def register(cls: RQ) -> RQ:
        if cmd in CONTRACT:
            raise RuntimeError(f"{cmd.name} has two request types")
        cls.COMMAND = cmd
        cls.REPLY = reply
        CONTRACT[cmd] = (cls, reply)
        return cls

    return register
