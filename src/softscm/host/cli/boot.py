"""scmctl boot: the supervised boot manifest, verification, remediation and authorisation."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

import softscm

from ...wire.boottoken import AuthorizationToken
from ...wire.defs import DEFAULT_CM4_FILES, BootAuthAction, BootUnlistedPolicy
from ...wire.errors import BootVerificationError, ScmError, ScmTimeoutError
from ...wire.messages.boot import Manifest, Verification
from .context import Cli, parse_hex, pass_cli, read_input, read_secret, write_output

F = TypeVar("F", bound=Callable[..., Any])


def partition_options(func: F) -> F:
    """``--dir DIR`` or ``--image FILE`` (neither: the module's configured boot partition)."""
    func = click.option("--image", type=click.Path(), default=None, help="A FAT image file or block device.")(func)
    return click.option("--dir", "directory", type=click.Path(), default=None,
                        help="A mounted boot partition.")(func)


def _partition(directory: str | None, image: str | None) -> dict[str, str | None]:
    if directory and image:
        raise click.UsageError("give --dir or --image, not both")
    return {"directory": directory, "image": image}


def _manifest_rows(manifest: Manifest) -> list[list[Any]]:
    return [[f.path, f.size, f.sha256.hex()] for f in manifest.files]


def _show_manifest(cli: Cli, manifest: Manifest) -> None:
    data = {"files": [{"path": f.path, "size": f.size, "sha256": f.sha256.hex()} for f in manifest.files],
            "security_version": manifest.security_version, "unlisted": manifest.unlisted.name.lower(),
            "signer_slot": manifest.signer_slot, "minimum_version": manifest.minimum_version,
            "held": manifest.held, "signed": manifest.signed}
    title = (f"boot manifest v{manifest.security_version} (slot {manifest.signer_slot}, unlisted files "
             f"{manifest.unlisted.name.lower()}, minimum v{manifest.minimum_version}"
             f"{', HELD' if manifest.held else ''})")
    cli.emit(data, human=lambda _: cli.table(title, ["path", "size", "sha256"], _manifest_rows(manifest)))


@click.group()
def boot() -> None:
    """Supervised (verified) boot."""


@boot.group()
def manifest() -> None:
    """The guarded files, signed by a module slot key."""


@manifest.command("list")
@pass_cli
def manifest_list(cli: Cli) -> None:
    _show_manifest(cli, cli.client().boot_manifest())


@manifest.command("add")
@click.argument("path")
@click.option("--slot", type=click.IntRange(0, 15), default=15, show_default=True, help="The signing slot.")
@partition_options
@pass_cli
def manifest_add(cli: Cli, path: str, slot: int, directory: str | None, image: str | None) -> None:
    """Guard PATH (relative to the partition) with its current contents and re-sign."""
    entry = cli.client().add_or_update_supervised_boot_file(path, slot, **_partition(directory, image))
    cli.emit({"path": entry.path, "size": entry.size, "sha256": entry.sha256.hex()},
             human=f"{entry.path}: {entry.size} bytes, sha256 {entry.sha256.hex()}")


manifest.add_command(manifest_add, "update")


@manifest.command("rm")
@click.argument("path")
@pass_cli
def manifest_rm(cli: Cli, path: str) -> None:
    """Stop guarding PATH and re-sign."""
    cli.client().remove_supervised_boot_file(path)
    cli.emit({"removed": path}, human=f"{path} removed")


@manifest.command("sign-all")
@partition_options
@click.option("--unlisted", type=click.Choice(["ignore", "fail"]), default=None,
              help="Whether files present but not listed fail verification.")
@click.option("--security-version", type=click.IntRange(0), default=None)
@click.option("--slot", type=click.IntRange(0, 15), default=None)
@click.option("--cm4", is_flag=True, help="Only the Raspberry Pi CM4 boot files, not every file.")
@pass_cli
def manifest_sign_all(cli: Cli, directory: str | None, image: str | None, unlisted: str | None,
                      security_version: int | None, slot: int | None, cm4: bool) -> None:
    """Sign every file on the partition (or the CM4 boot files) now as the new manifest."""
    signed = cli.client().boot_sign_all(**_partition(directory, image), paths=DEFAULT_CM4_FILES if cm4 else None,
                                        unlisted=None if unlisted is None else BootUnlistedPolicy[unlisted.upper()],
                                        security_version=security_version, slot=slot)
    _show_manifest(cli, signed)


def _verify_with_progress(cli: Cli, partition: dict[str, str | None]) -> Verification:
    """Run the verification on the CLI's connection while a second one follows the module's
    BOOT_VERIFY_PROGRESS events into a progress bar on stderr (a spinner if it cannot connect)."""
    client = cli.client()
    try:
        watcher = softscm.connect(cli.url, timeout=cli.timeout)
    except (ScmError, OSError):
        with Console(stderr=True).status("verifying the boot partition"):
            return client.boot_verify(**partition)
    outcome: list[Verification | ScmError] = []

    def run() -> None:
        try:
            outcome.append(client.boot_verify(**partition))
        except ScmError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run, name="boot-verify")
    columns = (TextColumn("verifying"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    with watcher, Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("verify", total=None)
        events = watcher.events(timeout=0.2)
        worker.start()
        while worker.is_alive():
            try:
                for event in events:
                    if event["name"] == "BOOT_VERIFY_PROGRESS":
                        details = event["details"]
                        bar.update(task, completed=details["done"], total=details["total"])
                    if not worker.is_alive():
                        break
            except ScmTimeoutError:
                events = watcher.events(timeout=0.2)
    worker.join()
    if isinstance(outcome[0], ScmError):
        raise outcome[0]
    return outcome[0]


@boot.command()
@partition_options
@pass_cli
def verify(cli: Cli, directory: str | None, image: str | None) -> None:
    """Verify the boot partition, with a progress bar; exits non-zero naming each failing file."""
    started = time.monotonic()
    result = _verify_with_progress(cli, _partition(directory, image))
    faults = [{"path": f.path or "manifest", "reason": f.reason.name.lower()} for f in result.faults]
    data = {"outcome": result.outcome.name.lower(), "faults": faults, "files": result.files_checked,
            "bytes": result.bytes_hashed, "seconds": round(time.monotonic() - started, 3)}
    cli.emit(data, human=f"{result.outcome.name.lower()}: {result.files_checked} files, {result.bytes_hashed} bytes"
             + "".join(f"\n  {f['path']}: {f['reason']}" for f in faults))
    if faults:
        raise BootVerificationError("; ".join(f"{f['path']}: {f['reason']}" for f in faults))


@boot.command()
@click.argument("policy_id", type=click.IntRange(0, 2))
@click.option("--wipe-files/--no-wipe-files", default=None, help="Self-destruct also overwrites the guarded files.")
@pass_cli
def policy(cli: Cli, policy_id: int, wipe_files: bool | None) -> None:
    """Fault action: 0 log only, 1 self-destruct, 2 hold the host."""
    client = cli.client()
    client.set_supervised_boot_policy(policy_id)
    if wipe_files is not None:
        client.boot_setup(wipe_files=wipe_files)
    cli.emit({"boot_policy": policy_id, "wipe_files": wipe_files}, human="set")


@boot.command()
@partition_options
@click.option("--recovery", type=click.IntRange(1, 63), default=None,
              help="If restoring is not enough, boot this partition next (autoboot.txt).")
@click.option("--normal", type=click.IntRange(1, 63), default=1, show_default=True,
              help="The normal boot partition, kept as the tryboot choice.")
@click.option("--remove-unlisted", is_flag=True, help="Delete files the strict policy refused.")
@pass_cli
def remediate(cli: Cli, directory: str | None, image: str | None, recovery: int | None, normal: int,
              remove_unlisted: bool) -> None:
    """Restore faulted files from the module's golden copies and verify again."""
    result = cli.client().boot_remediate(**_partition(directory, image), recovery_partition=recovery,
                                         normal_partition=normal, remove_unlisted=remove_unlisted)
    data = {"restored": list(result.restored), "removed": list(result.removed),
            "unrestorable": list(result.unrestorable), "ok": result.ok,
            "recovery_partition": result.recovery_partition}
    human = (f"restored {len(result.restored)}, removed {len(result.removed)}, unrestorable "
             f"{', '.join(result.unrestorable) or 'none'}; {'verified' if result.ok else 'still failing'}"
             + (f"; next boot from partition {result.recovery_partition}" if result.recovery_partition else ""))
    cli.emit(data, human=human)


@boot.command()
@click.option("--action", type=click.Choice(["release-hold", "release-suspension"]), default="release-hold")
@pass_cli
def challenge(cli: Cli, action: str) -> None:
    """A fresh one-time challenge to be signed into an authorisation token."""
    issued = cli.client().boot_challenge(BootAuthAction[action.upper().replace("-", "_")])
    cli.emit({"challenge": issued.challenge.hex(), "expires": issued.expires, "serial": issued.serial,
              "action": issued.action.name.lower()},
             human=f"challenge {issued.challenge.hex()}\nserial {issued.serial}\nexpires {issued.expires:.0f}")


@boot.command()
@click.option("--key", "key_file", type=click.Path(exists=True, dir_okay=False), required=True,
              help="The authorising party's private key (PEM, P-256 or Ed25519).")
@click.option("--challenge", "challenge_hex", required=True, help="The module's challenge (hex).")
@click.option("--serial", required=True, help="The module's serial number.")
@click.option("--expires-in", type=click.IntRange(1), default=300, show_default=True, help="Seconds.")
@click.option("--action", type=click.Choice(["release-hold", "release-suspension"]), default="release-hold")
@click.option("--out", type=click.Path(dir_okay=False), default="-", show_default=True, help="File, or - for stdout.")
@pass_cli
def token(cli: Cli, key_file: str, challenge_hex: str, serial: str, expires_in: int, action: str, out: str) -> None:
    """Sign an authorisation token (the remote party's side; needs no module)."""
    key = serialization.load_pem_private_key(Path(key_file).read_bytes(), password=None)

    def sign(digest: bytes) -> bytes:
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return key.sign(digest)
        if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
            r, s = decode_dss_signature(key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256()))))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        raise click.BadParameter("the key must be P-256 or Ed25519", param_hint="--key")

    unsigned = AuthorizationToken(parse_hex(challenge_hex, "the challenge"), serial,
                                  BootAuthAction[action.upper().replace("-", "_")], int(time.time()) + expires_in)
    write_output(out, unsigned.signed(sign).to_bytes())
    if out != "-":
        cli.emit({"token": out}, human=f"token written to {out}")


@boot.command()
@click.option("--tap", "method", flag_value="tap", help="Tap the code on the module.")
@click.option("--slip39", "method", flag_value="slip39", help="Enter SLIP-39 admin shares (one per line).")
@click.option("--token", "token_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A signed authorisation token.")
@click.option("--timeout", type=click.IntRange(1, 600), default=60, show_default=True, help="Seconds to wait for taps.")
@click.option("--action", type=click.Choice(["release-hold", "release-suspension"]), default="release-hold",
              show_default=True, help="Leave HOLD, or resume key operations suspended by a battery fault.")
@pass_cli
def authorize(cli: Cli, method: str | None, token_file: str | None, timeout: int, action: str) -> None:
    """Authorise leaving HOLD (or a battery suspension): by tap code, SLIP-39 admin shares or a remote token."""
    if sum(x is not None for x in (method, token_file)) != 1:
        raise click.UsageError("give one of --tap, --slip39 or --token FILE")
    client = cli.client()
    what = BootAuthAction[action.upper().replace("-", "_")]
    if token_file is not None:
        result = client.boot_authorize_token(read_input(token_file), what)
    elif method == "slip39":
        shares: list[str] = []
        while share := read_secret(f"share {len(shares) + 1} (empty line to finish)").strip():
            shares.append(share)
        passphrase = read_secret("passphrase (empty if none)").encode()
        result = client.boot_authorize_slip39(shares, passphrase, what)
    else:
        click.echo("tap the code on the module now", err=True)
        result = client.boot_authorize_tap(timeout * 1000, what)
    cli.emit({"authorized": result.action.name.lower(), "held": result.held},
             human="authorised" + ("" if not result.held else " (the boot is still held)"))


@boot.command()
@pass_cli
def confirm(cli: Cli) -> None:
    """The boot verified in this run is good: raise the minimum accepted security version."""
    minimum = cli.client().boot_confirm()
    cli.emit({"minimum_version": minimum}, human=f"minimum security version {minimum}")


@boot.command()
@click.option("--tap-code", default=None, help="Tap groups, e.g. 3,2.")
@click.option("--admin-shares", default=None,
              help="New SLIP-39 admin shares: GROUP_THRESHOLD:T/N[,T/N...], e.g. 1:2/3.")
@click.option("--wipe-files/--no-wipe-files", default=None, help="Self-destruct also overwrites the guarded files.")
@pass_cli
def setup(cli: Cli, tap_code: str | None, admin_shares: str | None, wipe_files: bool | None) -> None:
    """Authorisation settings. New admin shares are shown once: hand them out."""
    code = None if tap_code is None else [int(g) for g in tap_code.split(",")]
    threshold, groups = None, None
    if admin_shares is not None:
        try:
            head, _, rest = admin_shares.partition(":")
            threshold = int(head)
            groups = [(int(t), int(n)) for t, n in (g.split("/") for g in rest.split(","))]
        except ValueError:
            raise click.BadParameter("use GROUP_THRESHOLD:T/N[,T/N...]", param_hint="--admin-shares") from None
    shares = cli.client().boot_setup(tap_code=code, admin_group_threshold=threshold, admin_groups=groups,
                                     wipe_files=wipe_files)
    cli.emit({"admin_shares": shares},
             human="\n".join(f"group {g + 1}, share {m + 1}: {s}" for g, group in enumerate(shares)
                             for m, s in enumerate(group)) or "set")

