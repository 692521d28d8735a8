"""The known-answer test table: official vectors, as data, loaded from the packaged
``kat_vectors.json``. Running them is :mod:`.kat`'s job."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...wire.errors import InvalidArgumentError

VECTORS_FILE = Path(__file__).with_name("kat_vectors.json")

ALGORITHMS = (
    "sha256",
    "sha512",
    "hmac-sha256",
    "ecdsa-p256-sha256-sign",
    "ecdsa-p256-sha256-verify",
    "ecdsa-secp256k1-sha256-sign",
    "ecdsa-secp256k1-sha256-verify",
    "ed25519-sign",
    "ed25519-verify",
    "x25519",
    "ecdh-p256",
    "aes-256-gcm-encrypt",
    "aes-256-gcm-decrypt",
    "hkdf-sha256",
    "pbkdf2-hmac-sha256",
)


def _hex(entry: Mapping[str, Any], name: str, where: str) -> bytes:
    value = entry.get(name)
    if not isinstance(value, str):
        raise InvalidArgumentError(f"KAT {where}: '{name}' must be a hex string")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise InvalidArgumentError(f"KAT {where}: '{name}' is not hex") from None


@dataclass(frozen=True)
class KnownAnswerTest:
    """One official vector: what it tests, where it comes from, and its values.

    ``input`` is the value a fault corrupts as "input" (message, peer key, ciphertext, secret);
    ``params`` holds the other byte inputs (key, public, iv, aad, salt, info) and ``numbers`` the
    integer ones (length, iterations). For verify tests ``expected`` is the signature to check.
    """

    name: str
    algorithm: str
    source: str
    input: bytes
    expected: bytes
    params: Mapping[str, bytes] = field(default_factory=dict)
    numbers: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def parse(cls, entry: Mapping[str, Any]) -> KnownAnswerTest:
        """Build one from a table entry.

        :raises InvalidArgumentError: for a missing or mistyped field or an unknown algorithm.
        """
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            raise InvalidArgumentError("KAT entry without a name")
        algorithm, source = entry.get("algorithm"), entry.get("source")
        if algorithm not in ALGORITHMS:
            raise InvalidArgumentError(f"KAT {name}: unknown algorithm")
        if not isinstance(source, str) or not source:
            raise InvalidArgumentError(f"KAT {name}: no source")
        params = entry.get("params", {})
        numbers = entry.get("numbers", {})
        if not isinstance(params, Mapping) or not isinstance(numbers, Mapping):
            raise InvalidArgumentError(f"KAT {name}: 'params' and 'numbers' must be objects")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in numbers.values()):
            raise InvalidArgumentError(f"KAT {name}: 'numbers' must be integers")
        return cls(name, algorithm, source, _hex(entry, "input", name), _hex(entry, "expected", name),
                   {k: _hex(params, k, name) for k in params}, dict(numbers))

    def to_dict(self) -> dict[str, Any]:
        """The table entry this test was parsed from (empty ``params``/``numbers`` left out)."""
        entry: dict[str, Any] = {"name": self.name, "algorithm": self.algorithm}
        if self.params:
            entry["params"] = {k: v.hex() for k, v in self.params.items()}
        if self.numbers:
            entry["numbers"] = dict(self.numbers)
        entry.update(input=self.input.hex(), expected=self.expected.hex(), source=self.source)
        return entry


def load_table(path: Path = VECTORS_FILE) -> tuple[KnownAnswerTest, ...]:
    """Parse the KAT table.

    :raises InvalidArgumentError: if the file is not a valid table or two tests share a name.
    :raises OSError: if it cannot be read.
    """
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError:
        raise InvalidArgumentError("the KAT table is not valid JSON") from None
    entries = data.get("kats") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
        raise InvalidArgumentError("the KAT table has no list of 'kats'")
    table = tuple(KnownAnswerTest.parse(e) for e in entries)
    if len({k.name for k in table}) != len(table):
        raise InvalidArgumentError("two KATs share a name")
    return table


TABLE: tuple[KnownAnswerTest, ...] = load_table()
KAT_NAMES: tuple[str, ...] = tuple(k.name for k in TABLE)
