"""``scm-luks-unlock``: the boot-time key script for ``/etc/crypttab`` (``keyscript=``) and the
``softscm-luks-unlock@`` unit.

It reads the volume's softscm token, asks the module to unlock the key in it and writes the key
to stdout, for ``cryptsetup open --key-file -``. It prints the key only when the module answers,
is READY and its boot gate is open; otherwise (unreachable, HOLD, ERROR, boot not verified,
another module's token) it prints nothing on stdout, one line on stderr, and exits non-zero, so
the boot does not get the key.

The device comes from the first argument or ``$CRYPTTAB_SOURCE``; the module from ``--url``,
``$SOFTSCM_URL`` or the default socket.
"""

from __future__ import annotations

import os
import sys
from enum import IntEnum, unique

from ...wire.errors import LuksError, ModuleStateError, ScmError, TransportError
from ..client import connect
from .custody import ClientCustody
from .enroll import Enroller


@unique
class KeyscriptExit(IntEnum):
    OK = 0
    FAILED = 1  # no usable token, or cryptsetup failed
    USAGE = 2
    UNREACHABLE = 3  # the module did not answer
    NOT_READY = 4  # the module answered but is not READY (HOLD, ERROR, ...) or its boot gate is closed
    REFUSED = 5  # the module refused the token (another module's, or tampered with)


def unlock(device: str, url: str | None = None, *, timeout: float = 10.0) -> bytes:
    """The key that opens ``device``, from the module at ``url``.

    :raises TransportError: if the module is unreachable. :raises ModuleStateError: unless it is
        READY. :raises AuthenticationError: for a token it did not lock. :raises LuksError: if the
        device has no softscm token.
    """
    with connect(url, timeout=timeout) as client:
        return Enroller(ClientCustody(client)).unlock_key(device, verify=False)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    url = None
    if len(args) >= 2 and args[0] == "--url":
        url, args = args[1], args[2:]
    device = args[0] if args else os.environ.get("CRYPTTAB_SOURCE", "")
    if not device or len(args) > 1:
        print("usage: scm-luks-unlock [--url URL] [DEVICE]   (or $CRYPTTAB_SOURCE)", file=sys.stderr)
        return KeyscriptExit.USAGE
    try:
        key = unlock(device, url)
    except TransportError as exc:
        return _fail(KeyscriptExit.UNREACHABLE, f"module unreachable: {exc.message}")
    except ModuleStateError as exc:
        return _fail(KeyscriptExit.NOT_READY, exc.message)
    except LuksError as exc:
        return _fail(KeyscriptExit.FAILED, exc.message)
    except ScmError as exc:
        return _fail(KeyscriptExit.REFUSED, f"{exc.__class__.__name__}: {exc.message}")
    except (OSError, LookupError, ValueError) as exc:  # a broken boot environment: fail without a key
        return _fail(KeyscriptExit.FAILED, f"{exc.__class__.__name__}: {exc}")
    sys.stdout.buffer.write(key)
    sys.stdout.buffer.flush()
    return KeyscriptExit.OK


def _fail(status: KeyscriptExit, message: str) -> int:
    print(f"scm-luks-unlock: {message}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
