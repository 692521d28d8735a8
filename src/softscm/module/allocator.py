"""The C allocator's settings for the daemon: large buffers reused, not mapped afresh.

glibc serves every allocation over 128 KiB (a megabyte to lock, its frame, its reply) with a fresh
``mmap`` and unmaps it at free, so each of its pages costs a page fault the next time: copying
1 MiB into new memory took 1.5 ms here, against 66 µs into memory the process already had, and a
1 MiB lock makes several such buffers. :func:`reuse_large_buffers` keeps them on the heap instead
(nothing under 64 MiB is mapped on its own; free memory at the top of the heap is given back
only past 128 MiB). The process keeps its high-water mark, which the server's connection and
buffer limits bound.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 64 * 1024 * 1024
TRIM_THRESHOLD = 128 * 1024 * 1024


def reuse_large_buffers() -> bool:
    """Set glibc's mmap and trim thresholds for this process; False where the C library has no
    ``mallopt`` (musl) or refuses (nothing changes then)."""
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
