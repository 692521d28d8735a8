"""What every API mixin builds on: one call that sends a typed request and maps its reply."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ...wire.defs import KeyType
from ...wire.messages import Message, Request

R = TypeVar("R", bound=Message)
T = TypeVar("T")
KeyTypeLike = KeyType | str | int


def as_key_type(value: KeyTypeLike) -> KeyType:
    """A key type from its enum, number or name (``"P-256"``, ``"secp256k1"``...).

    :raises ValueError: for an unknown one.
    """
    return KeyType.parse(value)


def same(reply: R) -> R:
    return reply


def nothing(reply: Message) -> None:
    return None


class ApiBase:
    """The sync client returns ``then(reply)``; the async client an awaitable of it."""

    def _call(self, request: Request[R], then: Callable[[R], T]) -> T:
        raise NotImplementedError
