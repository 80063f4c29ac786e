"""One malloc arena (heap.py): memory a thread let go is reused by the main thread, as it is
not with glibc's arena per thread (what kept ~0.65 GB more at a 1M run's peak)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from test_orphans import linux_only

# A thread fills 300 MB of 4 KB blocks (malloc, not Python's small-object allocator) and
# frees all but one in 64, as reading leaves a few long-lived objects among the frames it
# frees; then the main thread fills 300 MB again: the process's peak (VmHWM).
REUSE = r"""
import sys, threading
from icp_migrate.heap import one_arena

if sys.argv[1] == "one":
    assert one_arena()

def fill():
    return [bytearray(4096) for _ in range(75_000)]

survivors = []

def in_thread():
    blocks = fill()
    survivors.extend(blocks[::64])
    del blocks

worker = threading.Thread(target=in_thread)
worker.start()
worker.join()
kept = fill()
with open("/proc/self/status") as status:
    print(next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) // 1024)
"""


def _peak_mb(arenas: str) -> int:
    done = subprocess.run([sys.executable, "-c", REUSE, arenas], capture_output=True,
                          text=True, check=True, timeout=120)
    return int(done.stdout)


@linux_only
def test_with_one_arena_the_main_thread_reuses_what_a_thread_freed():
    if not _glibc():
        pytest.fail("this machine's C library is not glibc: heap.one_arena does nothing")
    one, default = _peak_mb("one"), _peak_mb("default")
    assert default - one > 200, (one, default)  # the thread's 300 MB reused, not added


def _glibc() -> bool:
    import platform

    return platform.libc_ver()[0] == "glibc"


@linux_only
def test_a_process_reports_its_own_peak_not_its_parents():
    """peak_rss_mb is the process's own (VmHWM): Linux carries getrusage's ru_maxrss over
    fork and exec, so a run started by a process that once held 300 MB would report 300 MB
    (the bench's 1M PostgreSQL runs said 3.2 GB, started after the floor held its rows)."""
    big = bytearray(300 * 2**20)  # touched: resident
    big[:: 4096] = b"x" * len(big[:: 4096])
    code = ("import resource; from icp_migrate.pipeline.run import peak_rss_mb; "
            "print(peak_rss_mb(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)")
    own, inherited = map(int, subprocess.run([sys.executable, "-c", code], check=True,
                                             capture_output=True, text=True).stdout.split())
    del big
    assert inherited >= 300  # what ru_maxrss says of the child
    assert own < 250  # the child's own peak: an interpreter with pandas and pyarrow
