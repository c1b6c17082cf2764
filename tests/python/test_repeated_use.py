# SPDX-License-Identifier: LGPL-2.1-or-later
"""Start/stop/results cycles of Profilers in one Python process: each cycle
sees its workload, and fds and memory stay flat after the first cycles. CI
runs 25; bench/lifecycle.sh runs 300, the count that once grew the
interpreter's RSS from 56 to 115 MiB and its fds from 6 to 196."""
import ctypes
import os
import threading
import time

import waketrace
from workloads import WorkerThread, counted_rounds, describe, has_frame

WARM_UP_CYCLES = 10
# malloc's count of what is allocated: the leak once seen (200 KiB a cycle)
# would pass this within the 15 cycles after the warm-up that CI runs. RSS
# steps up while glibc makes its per-thread arenas (up to 8 per CPU, each
# keeping pages it once used): only a far looser bound holds for it.
HEAP_SLACK_KIB = 1024
RSS_SLACK_KIB = 16 * 1024
MILESTONES = (1, 10, 100, 300, 1000)
ROUNDS = 3


def cycles_to_run():
    return max(int(os.environ.get("WAKETRACE_PYTHON_LIFECYCLE_CYCLES", "25")), WARM_UP_CYCLES + 1)


def open_fds():
    return len(os.listdir("/proc/self/fd")) - 1  # less the one listdir opened


def rss_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


def wait_until_in_pipe_read(tid):
    """Until the thread sleeps in a pipe read (its wait channel), so the write
    that follows always ends a blocked read, however busy the machine."""
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        with open(f"/proc/self/task/{tid}/wchan") as wchan:
            if "pipe_read" in wchan.read():
                return
        time.sleep(0.0005)


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                 "uordblks", "fordblks", "keepcost")]


def heap_in_use_kib():
    """malloc's count of what is allocated and not freed, in every arena
    (mallinfo2): unlike RSS, not moved by the pages malloc keeps."""
    mallinfo2 = ctypes.CDLL(None).mallinfo2
    mallinfo2.restype = _MallInfo2
    info = mallinfo2()
    return (info.uordblks + info.hblkhd) // 1024


def one_cycle():
    """A reader thread blocks in three pipe reads, each ended by this thread's
    write: the profile must have all three."""
    read_fd, write_fd = os.pipe()
    go = threading.Event()
    reader = WorkerThread("wt-py-reader", lambda: [os.read(read_fd, 1) for _ in range(ROUNDS)], go)
    try:
        with waketrace.Profiler(tids=[reader.tid]) as profiler:
            go.set()
            for _ in range(ROUNDS):
                wait_until_in_pipe_read(reader.tid)
                os.write(write_fd, b"t")
            reader.join()
    finally:
        go.set()
        os.close(write_fd)  # an end of file, should the reader still wait
        reader.join()
        os.close(read_fd)
    profile = profiler.results()
    writer = threading.get_native_id()
    reads = sum(chain.count for chain in profile.chains
                if has_frame(chain.kernel_stack, "pipe_read") and chain.wakers[0].task.tid == writer)
    assert counted_rounds(reads, profile, ROUNDS), f"{describe(profile)}\n{profile.losses}"


def test_start_stop_cycles_leave_no_fds_or_memory_behind(privileged):
    cycles = cycles_to_run()
    fds_before = open_fds()
    warm_rss = warm_heap = None
    for cycle in range(1, cycles + 1):
        one_cycle()  # the Profiler and its results are gone when it returns
        fds, rss, heap = open_fds(), rss_kib(), heap_in_use_kib()
        if cycle in MILESTONES or cycle == cycles or os.environ.get("EVERY"):
            print(f"python cycle {cycle}: RSS {rss} KiB, heap in use {heap} KiB, {fds} fds")
        assert fds == fds_before, f"cycle {cycle}"
        if cycle == WARM_UP_CYCLES:
            warm_rss, warm_heap = rss, heap
    assert heap_in_use_kib() <= warm_heap + HEAP_SLACK_KIB
    assert rss_kib() <= warm_rss + RSS_SLACK_KIB
