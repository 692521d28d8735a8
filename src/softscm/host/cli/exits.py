"""The one place scmctl turns errors into messages on stderr and exit codes (never a traceback)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from enum import IntEnum, unique
from typing import Any, NoReturn

import click

from ...wire.defs import ErrorCode
from ...wire.errors import ScmError


@unique
class Exit(IntEnum):
    """scmctl's exit statuses."""

    OK = 0
    MODULE_ERROR = 1
    USAGE = 2
    UNREACHABLE = 3
    VERIFICATION_FAILED = 4
    NOT_FOUND = 5
    NOT_PERMITTED = 6
    TOO_LARGE = 7


EXIT_MEANINGS: Mapping[Exit, str] = {
    Exit.OK: "success (verify: the signature is valid)",
    Exit.MODULE_ERROR: "other module error (store corrupt/full, unsafe state directory, no free slot,\n"
                       "     wallet, provisioning), a local file error, or aborted at a prompt",
    Exit.USAGE: "bad usage or argument (option, hex, wrong key type, invalid key/slot)",
    Exit.UNREACHABLE: "module unreachable (no socket, refused, timeout, not a softscm module,\n"
                      "     the encrypted channel failed or is required)",
    Exit.VERIFICATION_FAILED: "a check failed: invalid signature, unlock authentication, mnemonic,\n"
                              "     audit log, boot image, certificate or manufacturing record verification",
    Exit.NOT_FOUND: "empty slot or not found",
    Exit.NOT_PERMITTED: "not permitted: access denied (role, key rights, PIN), client key not\n"
                        "     enrolled, export disabled, mode, state (hold, error, destroyed),\n"
                        "     binding, frozen policy, busy, session order",
    Exit.TOO_LARGE: "the request is larger than one frame (4 MiB): nothing was sent",
}

EXIT_CODES: Mapping[ErrorCode, Exit] = {
    ErrorCode.GENERIC: Exit.MODULE_ERROR,
    ErrorCode.PROTOCOL: Exit.UNREACHABLE,
    ErrorCode.UNSUPPORTED_VERSION: Exit.UNREACHABLE,
    ErrorCode.UNKNOWN_COMMAND: Exit.MODULE_ERROR,
    ErrorCode.INVALID_ARGUMENT: Exit.USAGE,
    ErrorCode.INVALID_SLOT: Exit.USAGE,
    ErrorCode.SLOT_EMPTY: Exit.NOT_FOUND,
    ErrorCode.NO_FREE_SLOT: Exit.MODULE_ERROR,
    ErrorCode.KEY_TYPE_MISMATCH: Exit.USAGE,
    ErrorCode.EXPORT_DISABLED: Exit.NOT_PERMITTED,
    ErrorCode.INVALID_KEY: Exit.USAGE,
    ErrorCode.INVALID_SIGNATURE: Exit.VERIFICATION_FAILED,
    ErrorCode.AUTHENTICATION_FAILED: Exit.VERIFICATION_FAILED,
    ErrorCode.MODULE_STATE: Exit.NOT_PERMITTED,
    ErrorCode.DESTROYED: Exit.NOT_PERMITTED,
    ErrorCode.BINDING: Exit.NOT_PERMITTED,
    ErrorCode.STORE_CORRUPT: Exit.MODULE_ERROR,
    ErrorCode.STORAGE_FULL: Exit.MODULE_ERROR,
    ErrorCode.TIMEOUT: Exit.UNREACHABLE,
    ErrorCode.POLICY_FROZEN: Exit.NOT_PERMITTED,
    ErrorCode.NOT_PERMITTED: Exit.NOT_PERMITTED,
    ErrorCode.WALLET: Exit.MODULE_ERROR,
    ErrorCode.MNEMONIC: Exit.VERIFICATION_FAILED,
    ErrorCode.SESSION: Exit.NOT_PERMITTED,
    ErrorCode.SELF_TEST_FAILED: Exit.NOT_PERMITTED,
    ErrorCode.BOOT_VERIFICATION: Exit.VERIFICATION_FAILED,
    ErrorCode.LOG_INTEGRITY: Exit.VERIFICATION_FAILED,
    ErrorCode.BUSY: Exit.NOT_PERMITTED,
    ErrorCode.TRANSPORT: Exit.UNREACHABLE,
    ErrorCode.INTERNAL: Exit.MODULE_ERROR,
    ErrorCode.SENSOR: Exit.MODULE_ERROR,
    ErrorCode.ACCESS_DENIED: Exit.NOT_PERMITTED,
    ErrorCode.PIN_LOCKED: Exit.NOT_PERMITTED,
    ErrorCode.STORE_ROLLBACK: Exit.MODULE_ERROR,
    ErrorCode.LIMIT_EXCEEDED: Exit.USAGE,
    ErrorCode.STORAGE_UNAVAILABLE: Exit.MODULE_ERROR,
    ErrorCode.LUKS: Exit.MODULE_ERROR,
    ErrorCode.LUKS_KEY: Exit.VERIFICATION_FAILED,
    ErrorCode.ENROLMENT: Exit.NOT_PERMITTED,
    ErrorCode.BOOT_MANIFEST: Exit.VERIFICATION_FAILED,
    ErrorCode.BOOT_ROLLBACK: Exit.VERIFICATION_FAILED,
    ErrorCode.BOOT_HELD: Exit.NOT_PERMITTED,
    ErrorCode.BOOT_AUTHORIZATION: Exit.VERIFICATION_FAILED,
    ErrorCode.CHANNEL: Exit.UNREACHABLE,
    ErrorCode.CHANNEL_REQUIRED: Exit.UNREACHABLE,
    ErrorCode.CLIENT_KEY: Exit.NOT_PERMITTED,
    ErrorCode.REQUEST_TOO_LARGE: Exit.TOO_LARGE,
    ErrorCode.STATE_DIR: Exit.MODULE_ERROR,
    ErrorCode.ENDPOINT_IN_USE: Exit.MODULE_ERROR,
    ErrorCode.CERTIFICATE: Exit.VERIFICATION_FAILED,
    ErrorCode.NOT_FOUND: Exit.NOT_FOUND,
    ErrorCode.PROVISIONING: Exit.MODULE_ERROR,
}

# "\b" keeps click from re-wrapping the lines.
EXIT_HELP = "\b\nExit codes:\n" + "\n".join(f"  {code.value}  {text}" for code, text in EXIT_MEANINGS.items()) + (
    "\n\n\bErrors go to stderr: one line 'scmctl: ErrorClass: message', or with --json one JSON object"
    "\n{error, code, message, exit_code}.")


def exit_code(error: ScmError) -> Exit:
    """The exit status for a module error (its :class:`ErrorCode` looked up in :data:`EXIT_CODES`)."""
    return EXIT_CODES.get(error.code, Exit.MODULE_ERROR)


def fail(kind: str, message: str, status: Exit, *, code: str | None = None, as_json: bool | None = None) -> NoReturn:
    """Print an error to stderr (JSON under ``--json``, or as ``as_json`` says) and exit with ``status``."""
    if _json_output() if as_json is None else as_json:
        click.echo(json.dumps({"error": kind, "code": code, "message": message, "exit_code": int(status)}), err=True)
    else:
        click.echo(f"scmctl: {kind}: {message}", err=True)
    sys.exit(int(status))


def run_reporting_click_errors(main: Callable[[], Any], *, as_json: bool) -> None:
    """Run click's ``main`` (not standalone) and report its usage errors, other click errors and
    aborts as :func:`fail` does: one line, or one JSON object with ``as_json``, and an exit status."""
    try:
        status = main()
    except click.UsageError as exc:
        if not as_json:
            exc.show()
            sys.exit(int(Exit.USAGE))
        fail("usage", exc.format_message(), Exit.USAGE, as_json=True)
    except click.ClickException as exc:
        known = exc.exit_code in {int(status) for status in Exit}
        fail("error", exc.format_message(), Exit(exc.exit_code) if known else Exit.MODULE_ERROR, as_json=as_json)
    except click.Abort:
        fail("aborted", "Aborted (at a prompt or by Ctrl-C); nothing more was done", Exit.MODULE_ERROR,
             as_json=as_json)
    sys.exit(status if isinstance(status, int) else 0)


@contextmanager
def handle_errors() -> Iterator[None]:
    """Turn module errors, bad values and local file errors into a message and an exit status."""
    try:
        yield
    except ScmError as exc:
        fail(exc.__class__.__name__, exc.message, exit_code(exc), code=exc.code.name)
    except ValueError as exc:
        fail("usage", str(exc), Exit.USAGE)
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        fail("file", f"{exc.strerror or exc}{where}", Exit.MODULE_ERROR)


def _json_output() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and getattr(ctx.find_root().obj, "as_json", False))
