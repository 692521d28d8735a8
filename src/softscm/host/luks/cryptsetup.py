"""A driver for the real ``cryptsetup`` (LUKS2 only).

Every call runs ``cryptsetup --batch-mode``. Metadata is read as JSON (``luksDump
--dump-json-metadata``, ``token export``), never scraped from the human dump. Keys and passphrases
go to ``cryptsetup`` on its stdin (``--key-file -``); when a command needs a second secret (a new
key for a slot, a volume key) it is handed over through a pipe (``/dev/fd/N``). No secret is ever
written to a file or put in argv, and no secret appears in an error message.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from ...wire.errors import LuksError, LuksKeyError

#: cryptsetup's exit status for "no key available with this passphrase" / permission denied.
_EXIT_NO_PERMISSION = 2
#: What cryptsetup says (with status 1) when a key opens no key slot of a volume being re-encrypted.
_NO_USABLE_KEYSLOT = b"No usable keyslot is available"
_MAX_KEYSLOTS = 32  # LUKS2
_HEX_PAIRS = re.compile(r"(?:[0-9a-f]{2}\s*)+")


@dataclass(frozen=True)
class Pbkdf:
    """How a new key slot's passphrase is stretched (cryptsetup's defaults when ``None`` is passed).

    A 64-byte random key needs no stretching, so the module's key slots use PBKDF2 with few
    iterations (:data:`RANDOM_KEY_PBKDF`): unlocking at boot then costs milliseconds, not a second of
    Argon2 per try.
    """

    kind: str = "pbkdf2"
    iterations: int | None = None  # --pbkdf-force-iterations
    memory_kib: int | None = None  # argon2 only

    def args(self) -> list[str]:
        out = ["--pbkdf", self.kind]
        if self.iterations is not None:
            out += ["--pbkdf-force-iterations", str(self.iterations)]
        if self.memory_kib is not None:
            out += ["--pbkdf-memory", str(self.memory_kib)]
        return out


#: For key slots opened by a 512-bit random key: brute force is impossible whatever the KDF.
RANDOM_KEY_PBKDF = Pbkdf("pbkdf2", iterations=1000)


@dataclass(frozen=True)
class Keyslot:
    """One LUKS2 key slot: its number, type (``luks2``, or ``reencrypt`` during a re-encryption)
    and the digest (volume key) it opens."""

    id: int
    type: str
    key_size: int
    digest: int | None


@dataclass(frozen=True)
class Token:
    """One LUKS2 token: its number, type, the key slots it is assigned to and its whole JSON."""

    id: int
    type: str
    keyslots: tuple[int, ...]
    fields: Mapping[str, Any] = field(repr=False)


@dataclass(frozen=True)
class Digest:
    """A volume key digest: which key slots and segments it covers, and its (public) value."""

    id: int
    keyslots: tuple[int, ...]
    segments: tuple[int, ...]
    value: str


@dataclass(frozen=True)
class LuksMetadata:
    """The parsed LUKS2 JSON metadata of a volume."""

    keyslots: Mapping[int, Keyslot]
    tokens: Mapping[int, Token]
    digests: Mapping[int, Digest]
    requirements: tuple[str, ...]

    @classmethod
    def parse(cls, document: bytes | str) -> LuksMetadata:
        """Parse ``luksDump --dump-json-metadata`` output. :raises LuksError: if it is not LUKS2 JSON."""
        try:
            data = json.loads(document)
            digests = {
                int(i): Digest(int(i), tuple(int(k) for k in d["keyslots"]), tuple(int(s) for s in d["segments"]),
                               str(d.get("digest", "")))
                for i, d in data["digests"].items()
            }
            owner = {slot: d.id for d in digests.values() for slot in d.keyslots}
            keyslots = {int(i): Keyslot(int(i), str(k["type"]), int(k.get("key_size", 0)), owner.get(int(i)))
                        for i, k in data["keyslots"].items()}
            tokens = {int(i): Token(int(i), str(t["type"]), tuple(int(k) for k in t["keyslots"]), t)
                      for i, t in data["tokens"].items()}
            requirements = tuple(str(r) for r in data.get("config", {}).get("requirements", {}).get("mandatory", []))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise LuksError(f"unreadable LUKS2 metadata ({exc.__class__.__name__})") from None
        return cls(keyslots, tokens, digests, requirements)

    @property
    def reencrypting(self) -> bool:
        """A re-encryption was started and has not finished (it must be resumed before anything else)."""
        return any(r.startswith("online-reencrypt") for r in self.requirements) or any(
            k.type == "reencrypt" for k in self.keyslots.values())

    def free_keyslot(self) -> int:
        """The lowest unused key slot number. :raises LuksError: if all 32 are used."""
        for slot in range(_MAX_KEYSLOTS):
            if slot not in self.keyslots:
                return slot
        raise LuksError("no free LUKS2 key slot")

    def tokens_of_type(self, kind: str) -> list[Token]:
        return [t for t in self.tokens.values() if t.type == kind]

    def segment_digest(self) -> Digest:
        """The digest of the volume key that encrypts the data (segment 0).

        :raises LuksError: if the metadata has none.
        """
        for digest in self.digests.values():
            if 0 in digest.segments:
                return digest
        raise LuksError("the volume has no digest for its data segment")


@dataclass(frozen=True)
class ReencryptProgress:
    """One progress report of ``cryptsetup reencrypt --progress-json``."""

    done_bytes: int
    total_bytes: int
    speed: int  # bytes per second
    eta_ms: int

    @classmethod
    def parse(cls, line: str) -> ReencryptProgress:
        """:raises ValueError: if the line is not a progress report."""
        data = json.loads(line)
        return cls(int(data["device_bytes"]), int(data["device_size"]), int(data["speed"]), int(data["eta_ms"]))


ProgressCallback = Callable[[ReencryptProgress], None]


class Cryptsetup:
    """Runs ``cryptsetup`` (found on ``$PATH`` unless ``binary`` is given)."""

    def __init__(self, binary: str | None = None) -> None:
        """:raises LuksError: if cryptsetup is not installed."""
        found = binary or shutil.which("cryptsetup") or next(
            (p for p in ("/usr/sbin/cryptsetup", "/sbin/cryptsetup") if os.access(p, os.X_OK)), None)
        if found is None:
            raise LuksError("cryptsetup is not installed")
        self.binary = found

    # -- reading ------------------------------------------------------------------------------------

    def metadata(self, device: str | Path) -> LuksMetadata:
        """The volume's LUKS2 metadata. :raises LuksError: if it is not a LUKS2 volume (cryptsetup
        refuses to dump JSON metadata of anything else)."""
        return LuksMetadata.parse(self._run(["luksDump", "--dump-json-metadata", str(device)]).stdout)

    def uuid(self, device: str | Path) -> str:
        """The volume's UUID. :raises LuksError: if it is not a LUKS volume."""
        return self._run(["luksUUID", str(device)]).stdout.decode().strip()

    def set_uuid(self, device: str | Path, new_uuid: str) -> None:
        """Give the volume a new UUID (a unit copied from a baseline gets its own: cryptsetup's
        re-encryption lock is named by it). :raises LuksError: if cryptsetup refuses."""
        self._run(["luksUUID", "--uuid", new_uuid, str(device)])

    def export_token(self, device: str | Path, token_id: int) -> dict[str, Any]:
        """One token's JSON. :raises LuksError: if there is no such token."""
        out = self._run(["token", "export", "--token-id", str(token_id), str(device)]).stdout
        try:
            document = json.loads(out)
        except ValueError:
            raise LuksError(f"token {token_id} is not JSON") from None
        if not isinstance(document, dict):
            raise LuksError(f"token {token_id} is not a JSON object")
        return document

    def test_key(self, device: str | Path, key: bytes, *, keyslot: int | None = None) -> None:
        """Check that ``key`` opens the volume (or that key slot) without activating anything.

        :raises LuksKeyError: if it does not. :raises LuksError: if cryptsetup fails otherwise.
        """
        args = ["open", "--test-passphrase", "--key-file", "-", str(device)]
        if keyslot is not None:
            args[1:1] = ["--key-slot", str(keyslot)]
        self._run(args, stdin=key)

    def opens(self, device: str | Path, key: bytes, *, keyslot: int | None = None) -> bool:
        """Whether ``key`` opens the volume (or that key slot). :raises LuksError: if cryptsetup fails otherwise."""
        try:
            self.test_key(device, key, keyslot=keyslot)
        except LuksKeyError:
            return False
        return True

    def volume_key(self, device: str | Path, key: bytes) -> bytes:
        """The volume key, read with ``key``.

        cryptsetup only writes a volume key to a new file or to its dump, so this reads the dump
        (``luksDump --dump-volume-key``) from a pipe, checked against the key size in the metadata.

        :raises LuksKeyError: if ``key`` does not open the volume.
        """
        out = self._run(["luksDump", "--dump-volume-key", "--key-file", "-", str(device)], stdin=key).stdout.decode()
        volume_key = _parse_volume_key_dump(out)
        sizes = {k.key_size for k in self.metadata(device).keyslots.values() if k.type == "luks2"}
        if len(volume_key) not in sizes:
            raise LuksError("the volume key printed has an unexpected size")
        return volume_key

    # -- changing -----------------------------------------------------------------------------------

    def format(self, device: str | Path, passphrase: bytes, *, pbkdf: Pbkdf | None = None,
               extra: Sequence[str] = ()) -> None:
        """``luksFormat`` a new LUKS2 volume (destroys what the device holds).

        :raises LuksError: if cryptsetup fails.
        """
        self._run(["luksFormat", "--type", "luks2", *(pbkdf.args() if pbkdf else []), *extra, "--key-file", "-",
                   str(device)], stdin=passphrase)

    def add_key(self, device: str | Path, *, auth: bytes, new: bytes, slot: int, pbkdf: Pbkdf | None = None,
                auth_is_volume_key: bool = False) -> None:
        """Add key slot ``slot`` opened by ``new``, authorised by an existing passphrase ``auth`` (or by
        the volume key itself when ``auth_is_volume_key``).

        :raises LuksKeyError: if ``auth`` opens nothing. :raises LuksError: if the slot is in use.
        """
        with _secret_paths([new] if not auth_is_volume_key else [new, auth]) as paths:
            args = ["luksAddKey", *(pbkdf.args() if pbkdf else []), "--new-key-slot", str(slot),
                    "--new-keyfile", paths[0]]
            if auth_is_volume_key:
                args += ["--volume-key-file", paths[1], str(device)]
                self._run(args, pass_fds=paths.fds)
            else:
                args += ["--key-file", "-", str(device)]
                self._run(args, stdin=auth, pass_fds=paths.fds)

    def kill_slot(self, device: str | Path, slot: int, *, auth: bytes) -> None:
        """Remove key slot ``slot``, authorised by the passphrase of a slot that stays.

        :raises LuksKeyError: if ``auth`` opens no remaining slot.
        """
        self._run(["luksKillSlot", "--key-file", "-", str(device), str(slot)], stdin=auth)

    def import_token(self, device: str | Path, token: Mapping[str, Any], token_id: int, *,
                     replace: bool = False) -> None:
        """Write ``token`` (JSON) as token ``token_id``; ``replace`` overwrites one already there.

        :raises LuksError: if cryptsetup refuses the token.
        """
        args = ["token", "import", "--json-file", "-", "--token-id", str(token_id), str(device)]
        if replace:
            args.insert(2, "--token-replace")
        self._run(args, stdin=json.dumps(dict(token), separators=(",", ":")).encode())

    def remove_token(self, device: str | Path, token_id: int) -> None:
        """:raises LuksError: if there is no such token."""
        self._run(["token", "remove", "--token-id", str(token_id), str(device)])

    def reencrypt(self, device: str | Path, key: bytes, *, keyslot: int | None = None, resume_only: bool = False,
                  pbkdf: Pbkdf | None = None, progress: ProgressCallback | None = None) -> None:
        """Re-encrypt the volume to a new, random volume key; ``key`` opens ``keyslot``, which is
        carried over to the new key (and every token assigned to it with it). Other key slots are
        dropped. Runs online when the volume is active, offline otherwise; a regular image file is
        re-encrypted offline after checking that no loop device is attached to it.

        ``resume_only`` continues a re-encryption that was cut off (cryptsetup keeps the volume
        openable throughout and resumes where it stopped); it needs no ``keyslot``.

        :raises LuksKeyError: if ``key`` does not open ``keyslot``. :raises LuksError: otherwise.
        """
        args = ["reencrypt", "--key-file", "-", "--progress-json", "--progress-frequency", "1"]
        if resume_only:  # the key opens the old or the new slot: cryptsetup tries each
            args.append("--resume-only")
        elif keyslot is None:
            raise ValueError("a re-encryption starts from a key slot")
        else:
            args += ["--key-slot", str(keyslot), *(pbkdf.args() if pbkdf else [])]
        if _is_regular_file(device):
            _refuse_attached_image(Path(device))
            args.append("--force-offline-reencrypt")
        args.append(str(device))
        self._run(args, stdin=key, on_stdout=_progress_reader(progress))

    def open(self, device: str | Path, name: str, key: bytes, *, volume_key: bool = False) -> None:
        """Activate the volume as ``/dev/mapper/NAME`` with a passphrase (or the volume key itself).

        :raises LuksKeyError: if the key does not open it. :raises LuksError: if device-mapper fails.
        """
        if volume_key:
            with _secret_paths([key]) as paths:
                self._run(["open", "--type", "luks2", "--volume-key-file", paths[0], str(device), name],
                          pass_fds=paths.fds)
        else:
            self._run(["open", "--type", "luks2", "--key-file", "-", str(device), name], stdin=key)

    def close(self, name: str) -> None:
        """Deactivate ``/dev/mapper/NAME``. :raises LuksError: if cryptsetup fails."""
        self._run(["close", name])

    # -- plumbing -----------------------------------------------------------------------------------

    def _run(self, args: list[str], *, stdin: bytes | None = None, pass_fds: Sequence[int] = (),
             on_stdout: Callable[[bytes], None] | None = None) -> subprocess.CompletedProcess[bytes]:
        command = [self.binary, "--batch-mode", *args]
        if on_stdout is None:
            result = subprocess.run(command, input=stdin if stdin is not None else b"", capture_output=True,
                                    pass_fds=tuple(pass_fds), check=False)
            returncode, out, err = result.returncode, result.stdout, result.stderr
        else:
            returncode, out, err = _stream(command, stdin, pass_fds, on_stdout)
        if returncode != 0:
            detail = _first_line(err) or f"exit status {returncode}"
            if returncode == _EXIT_NO_PERMISSION or _NO_USABLE_KEYSLOT in err:
                raise LuksKeyError(f"cryptsetup {args[0]}: {detail}")
            raise LuksError(f"cryptsetup {args[0]}: {detail}")
        return subprocess.CompletedProcess(command, returncode, out, err)


@dataclass(frozen=True)
class _SecretPaths:
    paths: tuple[str, ...]
    fds: tuple[int, ...]

    def __getitem__(self, index: int) -> str:
        return self.paths[index]


@contextmanager
def _secret_paths(secrets: Sequence[bytes]) -> Iterator[_SecretPaths]:
    """Each secret in its own pipe, readable by a child as ``/dev/fd/N`` (never a file on disk)."""
    with ExitStack() as stack:
        paths, fds = [], []
        for secret in secrets:
            read_fd, write_fd = os.pipe()
            stack.callback(os.close, read_fd)
            try:
                if len(secret) > 65536:  # a pipe buffer; keys are far smaller
                    raise LuksError("a key handed to cryptsetup is too long")
                os.write(write_fd, secret)
            finally:
                os.close(write_fd)
            paths.append(f"/dev/fd/{read_fd}")
            fds.append(read_fd)
        yield _SecretPaths(tuple(paths), tuple(fds))


def _stream(command: list[str], stdin: bytes | None, pass_fds: Sequence[int],
            on_stdout: Callable[[bytes], None]) -> tuple[int, bytes, bytes]:
    """Run ``command`` feeding each stdout line to ``on_stdout`` as it comes (stderr kept)."""
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          pass_fds=tuple(pass_fds)) as process:
        feed, out, err = cast(IO[bytes], process.stdin), cast(IO[bytes], process.stdout), cast(IO[bytes], process.stderr)
        feed.write(stdin or b"")
        feed.close()
        lines = []
        for line in out:
            lines.append(line)
            on_stdout(line)
        return process.wait(), b"".join(lines), err.read()


def _progress_reader(progress: ProgressCallback | None) -> Callable[[bytes], None] | None:
    if progress is None:
        return None

    def read(line: bytes) -> None:
        try:
            report = ReencryptProgress.parse(line.decode())
        except (ValueError, KeyError, TypeError):
            return  # not a progress line
        progress(report)

    return read


def _parse_volume_key_dump(text: str) -> bytes:
    """The key in a ``--dump-volume-key`` listing: hex after ``MK dump:`` (or ``Volume key dump:``)
    and on the indented lines that follow it. :raises LuksError: if there is none."""
    hex_parts: list[str] = []
    for line in text.splitlines():
        if hex_parts and line[:1] in (" ", "\t") and _HEX_PAIRS.fullmatch(line.strip()):
            hex_parts.append(line.strip())
        elif hex_parts:
            break
        elif line.startswith(("MK dump:", "Volume key dump:")):
            first = line.partition(":")[2].strip()
            if not _HEX_PAIRS.fullmatch(first):
                break
            hex_parts.append(first)
    if not hex_parts:
        raise LuksError("cryptsetup printed no volume key")
    return bytes.fromhex("".join("".join(hex_parts).split()))


def _first_line(stderr: bytes) -> str:
    for line in stderr.decode(errors="replace").splitlines():
        if line.strip():
            return line.strip()
    return ""


def _is_regular_file(device: str | Path) -> bool:
    try:
        return stat.S_ISREG(os.stat(device).st_mode)
    except OSError:
        return False


def _refuse_attached_image(image: Path) -> None:
    """:raises LuksError: if a loop device is attached to ``image`` (it might be open and in use)."""
    target = image.resolve()
    for backing in Path("/sys/block").glob("loop*/loop/backing_file"):
        try:
            if Path(backing.read_text().strip()) == target:
                raise LuksError(f"{image} is attached to /dev/{backing.parent.parent.name}; re-encrypt that device")
        except OSError:
            continue
