"""Where the PKCS#11 module finds scmd and keeps its labels.

The module URL is ``$SOFTSCM_URL`` if set; else ``url = ...`` from the first config file that
exists of ``$SOFTSCM_PKCS11_CONF``, ``~/.config/softscm/pkcs11.conf`` and
``/etc/softscm/pkcs11.conf``; else the default socket. The same file may set ``labels = PATH``
and ``key-types = nistp256, secp256k1`` (or ``$SOFTSCM_PKCS11_KEY_TYPES``): only keys of those
types appear as objects, for applications that stop at a key type they do not know (libp11
0.4.12, Debian 12's OpenSSL engine, fails on Ed25519 and X25519 keys). Config lines are
``key = value``; ``#`` starts a comment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..host.client import default_url
from ..wire.defs import KeyType
from .labels import default_path

SYSTEM_CONFIG = Path("/etc/softscm/pkcs11.conf")


def config_paths() -> list[Path]:
    """The config files looked at, in order."""
    paths = []
    if os.environ.get("SOFTSCM_PKCS11_CONF"):
        paths.append(Path(os.environ["SOFTSCM_PKCS11_CONF"]))
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    paths += [Path(base) / "softscm" / "pkcs11.conf", SYSTEM_CONFIG]
    return paths


def _read(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip().lower()] = value.strip()
    return values


@dataclass(frozen=True)
class Config:
    url: str
    labels: Path
    key_types: frozenset[KeyType] = frozenset(KeyType)

    @classmethod
    def load(cls) -> Config:
        """Resolve the settings as the module docstring says (an unreadable file is skipped).

        :raises ValueError: for an unknown key type name.
        """
        values: dict[str, str] = {}
        for path in config_paths():
            try:
                values = _read(path)
            except OSError:
                continue
            break
        url = os.environ.get("SOFTSCM_URL") or values.get("url") or default_url()
        labels = Path(values["labels"]).expanduser() if values.get("labels") else default_path()
        types = os.environ.get("SOFTSCM_PKCS11_KEY_TYPES") or values.get("key-types")
        key_types = frozenset(KeyType.parse(name) for name in types.replace(",", " ").split()) if types \
            else frozenset(KeyType)
        return cls(url, labels, key_types)
