"""Process hardening for the daemon: no core dumps, no ptrace by other users.

A core dump of the module holds its unwrapped keys (an imported private key and a BIP39
mnemonic were found four times in a 25 MB core). The daemon calls :func:`disable_core_dumps`
before it loads any key: ``RLIMIT_CORE`` 0 (soft and hard, so nothing it runs can raise it) and
``PR_SET_DUMPABLE`` 0 (no core whatever the limit or ``core_pattern`` says, and ``/proc/<pid>``
memory readable by root only).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import resource

PR_SET_DUMPABLE = 4
PR_GET_DUMPABLE = 3


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def disable_core_dumps() -> None:
    """Make this process undumpable and set its core size limit to 0.

    :raises OSError: if the kernel refuses either (never on Linux for a process's own settings).
    """
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    libc = _libc()
    if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, "prctl(PR_SET_DUMPABLE, 0) failed")


def is_dumpable() -> bool:
    """Whether this process may dump core (``PR_GET_DUMPABLE``)."""
    return bool(_libc().prctl(PR_GET_DUMPABLE, 0, 0, 0, 0))
