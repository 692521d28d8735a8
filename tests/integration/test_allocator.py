"""The daemon's allocator settings (module/allocator.py): large buffers come from memory the
process already has, so a megabyte costs no page faults once the daemon is warm."""

import os
import subprocess
import sys

MiB = 1024 * 1024


def _minor_faults(pid: int) -> int:
    return int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[7])


def test_glibc_accepts_the_thresholds_in_a_fresh_process():
    code = "from softscm.module.allocator import reuse_large_buffers; print(reuse_large_buffers())"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "True"


def test_a_warm_daemon_locks_megabytes_without_faulting_in_new_pages(daemon):
    """Without the setting each 1 MiB lock and unlock maps fresh buffers (measured: about 2,600
    page faults per round trip, 55,000 over twenty); with it, twenty round trips after a warm-up
    fault in at most a few buffers' pages in all (usually one page; now and then the heap still
    grows to a new high-water mark, ~290 faults in one round trip of a few runs)."""
    data = os.urandom(MiB)
    with daemon.connect() as scm:
        for _ in range(5):
            scm.unlock_stream(scm.lock_stream(data, final=True).data, final=True)
        before = _minor_faults(daemon.process.pid)
        for _ in range(20):
            assert scm.unlock_stream(scm.lock_stream(data, final=True).data, final=True).data == data
        assert _minor_faults(daemon.process.pid) - before < 4 * 256
