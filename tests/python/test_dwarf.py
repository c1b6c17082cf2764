# SPDX-License-Identifier: LGPL-2.1-or-later
"""dwarf_stack_bytes from Python: a program built without frame pointers is
named through libc up to main, and frames carry source files and lines."""
import os
import subprocess

import pytest

import waketrace
from workloads import has_frame

ROUNDS = 4


def test_dwarf_unwinding_and_source_lines(privileged):
    program = subprocess.Popen([os.environ["DEEP_BLOCKER"], str(ROUNDS), "20"],
                               stdin=subprocess.PIPE)
    try:
        with waketrace.Profiler(pids=[program.pid], dwarf_stack_bytes=8192) as profiler:
            program.stdin.write(b"g")
            program.stdin.close()
            assert program.wait(timeout=30) == 0
        profile = profiler.results()
    finally:
        program.kill()
        program.wait()
    # missed_switch_ins: switches the host did not report (README, "What is counted").
    assert profile.losses.total - profile.losses.missed_switch_ins == 0, profile.losses
    # Blocking waits only: a busy machine may also preempt the reader.
    deep = [c for c in profile.chains
            if has_frame(c.user_stack, "level_c") and c.wakers[0].context != "preempted"]
    assert sum(c.count for c in deep) == ROUNDS
    for chain in deep:
        names = [f.symbol for f in chain.user_stack.frames]
        assert names.index("wait_for_token") < names.index("level_c") \
            < names.index("deep_blocker::level_b") < names.index("level_a") < names.index("main"), names
        assert chain.user_stack.frames[names.index("wait_for_token")].inlined
        level_b = chain.user_stack.frames[names.index("deep_blocker::level_b")]
        # The fixture is built with -g: its frames know where they are.
        assert level_b.file.endswith("deep_blocker.c"), level_b
        assert level_b.line > 0
        assert not level_b.inlined


def test_dwarf_stack_bytes_is_validated():
    for bad in (1000, 32768, -1):
        with pytest.raises(ValueError):
            waketrace.Profiler(dwarf_stack_bytes=bad)


def test_dwarf_ring_bytes_is_validated():
    page = os.sysconf("SC_PAGESIZE")
    for bad in (page // 2, 3 * page, page + 1, 2**31, -1, 2**32):
        with pytest.raises(ValueError, match="dwarf_ring_bytes"):
            waketrace.Profiler(dwarf_stack_bytes=8192, dwarf_ring_bytes=bad)
    waketrace.Profiler(dwarf_stack_bytes=8192, dwarf_ring_bytes=64 * page)  # accepted


def test_dwarf_ring_bytes_sizes_the_ring(privileged):
    # One page holds no 8 KiB stack copy: every user stack of the run is
    # lost to the ring, and counted.
    program = subprocess.Popen([os.environ["DEEP_BLOCKER"], str(ROUNDS), "20"],
                               stdin=subprocess.PIPE)
    try:
        with waketrace.Profiler(pids=[program.pid], dwarf_stack_bytes=8192,
                                dwarf_ring_bytes=os.sysconf("SC_PAGESIZE")) as profiler:
            program.stdin.write(b"g")
            program.stdin.close()
            assert program.wait(timeout=30) == 0
        profile = profiler.results()
    finally:
        program.kill()
        program.wait()
    assert profile.losses.user_stack_events >= ROUNDS, profile.losses
    assert profile.chains
    assert all(c.user_stack.status != "ok" for c in profile.chains)
