"""This host's channel keys: the client's static key and the module's pinned public key.

Both live in ``$XDG_CONFIG_HOME/softscm`` (``~/.config/softscm``), a 0700 directory:
``client.key`` (the raw 32-byte X25519 private key, 0600) and ``module.pub`` (the module's static
public key in hex, written when the client is enrolled). Files are written atomically and never
overwritten.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from ..wire.errors import ChannelError, ClientKeyError

KEY_SIZE = 32

ClientKeySource = X25519PrivateKey | str | os.PathLike[str] | None
ModuleKeySource = bytes | str | os.PathLike[str] | None


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "softscm"


def default_client_key_path() -> Path:
    return config_dir() / "client.key"


def default_module_key_path() -> Path:
    return config_dir() / "module.pub"


def _write_new(path: Path, data: bytes) -> None:
    """Create ``path`` owner-only, atomically (temp file, fsync, link, fsync the directory).

    :raises ClientKeyError: if it already exists.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temp, path)  # fails if path exists: a key is never overwritten
    except FileExistsError:
        raise ClientKeyError(f"{path} already exists; it was left as it is") from None
    finally:
        temp.unlink()
    directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def create_client_key(path: str | os.PathLike[str] | None = None) -> X25519PrivateKey:
    """Generate this host's client key and store it (0600).

    :raises ClientKeyError: if a key file is already there.
    """
    key = X25519PrivateKey.generate()
    _write_new(Path(path) if path is not None else default_client_key_path(), key.private_bytes_raw())
    return key


def load_client_key(source: ClientKeySource = None) -> X25519PrivateKey:
    """A key as given, or read from a file (default :func:`default_client_key_path`).

    :raises ChannelError: if the file is missing, malformed, or readable by group or others.
    """
    if isinstance(source, X25519PrivateKey):
        return source
    path = Path(source) if source is not None else default_client_key_path()
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise ChannelError(f"no client key at {path} ({exc.strerror}); create and enrol one") from None
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) & 0o077:
            raise ChannelError(f"the client key {path} is readable by others; it must be mode 0600")
        raw = os.read(fd, KEY_SIZE + 1)
    finally:
        os.close(fd)
    if len(raw) != KEY_SIZE:
        raise ChannelError(f"the client key {path} is not a 32-byte X25519 key")
    return X25519PrivateKey.from_private_bytes(raw)


def pin_module_key(public_key: bytes, path: str | os.PathLike[str] | None = None) -> Path:
    """Record the module's static public key (learnt at enrolment).

    :raises ClientKeyError: if a pinned key is already there. :raises ChannelError: for a key
        that is not 32 bytes.
    """
    if len(public_key) != KEY_SIZE:
        raise ChannelError("a module key is a 32-byte X25519 public key")
    target = Path(path) if path is not None else default_module_key_path()
    _write_new(target, public_key.hex().encode() + b"\n")
    return target


def load_module_key(source: ModuleKeySource = None) -> bytes:
    """The module's pinned public key, as given or read from a file (default
    :func:`default_module_key_path`).

    :raises ChannelError: if it is missing or malformed.
    """
    if isinstance(source, bytes):
        if len(source) != KEY_SIZE:
            raise ChannelError("a module key is a 32-byte X25519 public key")
        return source
    path = Path(source) if source is not None else default_module_key_path()
    try:
        text = path.read_text().strip()
    except OSError as exc:
        raise ChannelError(f"no pinned module key at {path} ({exc.strerror}); enrol this client first") from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != KEY_SIZE:
        raise ChannelError(f"the pinned module key {path} is not 32 bytes in hex")
    return key
