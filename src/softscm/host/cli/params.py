"""scmctl's argument types: key types through the one parser the API uses, and slot numbers
with a name for the ephemeral slot."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import click
from click.shell_completion import CompletionItem

from ...wire.defs import EPHEMERAL_SLOT, KeyType

EPHEMERAL = "ephemeral"


class KeyTypeParam(click.ParamType):
    """A key type by any name :meth:`KeyType.parse` accepts (``nistp256``, ``P-256``, ``secp256r1``...),
    limited to ``allowed``."""

    name = "key_type"

    def __init__(self, allowed: Collection[KeyType] = tuple(KeyType)) -> None:
        self.allowed = tuple(allowed)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> KeyType:
        try:
            key_type = KeyType.parse(value)
        except ValueError:
            self.fail(f"unknown key type {value!r}: use {self.choices()}", param, ctx)
        if key_type not in self.allowed:
            self.fail(f"{key_type.label} is not possible here: use {self.choices()}", param, ctx)
        return key_type

    def choices(self) -> str:
        names = [f"{k.label} (P-256)" if k is KeyType.NISTP256 else k.label for k in self.allowed]
        return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
        return [CompletionItem(k.label) for k in self.allowed if k.label.startswith(incomplete.lower())]


class SlotParam(click.ParamType):
    """A slot number, or ``ephemeral`` for the volatile ephemeral key (slot -1)."""

    name = "slot"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip().lower()
        if text == EPHEMERAL:
            return EPHEMERAL_SLOT
        try:
            return int(text)
        except ValueError:
            self.fail(f"{value!r} is not a slot number or '{EPHEMERAL}'", param, ctx)


KEY_TYPE = KeyTypeParam()
WALLET_KEY_TYPE = KeyTypeParam([KeyType.SECP256K1, KeyType.NISTP256, KeyType.ED25519])
SLOT = SlotParam()
KEY_TYPE_HELP = f"KEY_TYPE is {KEY_TYPE.choices()}."
