"""Integrity checks: the digest of the module's own code, compared with the one recorded when the
module was installed; the keystore and key-material digests are the store's."""

from __future__ import annotations

import hashlib
from pathlib import Path

import softscm

PACKAGE_ROOT = Path(softscm.__file__).parent


def compute_code_digest(root: Path = PACKAGE_ROOT) -> bytes:
    """SHA-256 over every source and data file of the package (sorted relative paths and contents)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".py", ".json", ".typed")
                       and "__pycache__" not in p.parts):
        relative = path.relative_to(root).as_posix().encode()
        content = path.read_bytes()
        digest.update(len(relative).to_bytes(4, "big") + relative + len(content).to_bytes(8, "big") + content)
    return digest.digest()
