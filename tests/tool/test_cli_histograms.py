# SPDX-License-Identifier: LGPL-2.1-or-later
"""waketrace -H: runqlat-style histograms under each chain of the text
layout, on a command whose thread sleeps 1.4 ms and 24 ms in turn."""
import re
import sys

from conftest import missed_switch_ins, run

ROUNDS = 20  # half of each length
SLEEPS_NS = (1_400_000, 24_000_000)
SLEEPER = f"""
import os, sys, time
os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))  # not kept waiting by other work
for i in range({ROUNDS}):
    before = time.monotonic_ns()
    time.sleep({SLEEPS_NS}[i % 2] / 1e9)
    print("wt-slept", time.monotonic_ns() - before, file=sys.stderr)
"""
HEADER = re.compile(r"^ +(off-CPU|runqueue) usecs : count +distribution$")
ROW = re.compile(r"^ +(\d+) -> (\d+|\.\.\.) +: (\d+) +\|(\**) *\|$")


def histograms_of(block):
    """{"off-CPU": {low_us: count}, "runqueue": {...}} from the lines after a block's total."""
    found, current = {}, None
    for line in block.splitlines():
        if header := HEADER.match(line):
            current = found.setdefault(header.group(1), {})
        elif current is not None:
            row = ROW.match(line)
            assert row, f"not a histogram row: {line!r}"
            current[int(row.group(1))] = int(row.group(3))
    return found


def test_histograms_are_printed_under_each_chain(waketrace, privileged):
    result = run([waketrace, "--histograms", "--", sys.executable, "-c", SLEEPER])
    assert result.returncode == 0, result.stderr
    blocks = [b for b in result.stdout.split("\n\n") if "target:" in b]
    assert blocks
    sleeps = {}
    for block in blocks:
        lines = block.strip("\n").splitlines()
        total_at = next(i for i, line in enumerate(lines) if re.match(r"^        \d+$", line))
        assert re.match(r"^    target:\s{10}\S+ \d+$", lines[total_at - 1])
        histograms = histograms_of("\n".join(lines[total_at + 1:]))
        assert set(histograms) == {"off-CPU", "runqueue"}, block
        # Both count every period of the chain.
        assert sum(histograms["off-CPU"].values()) == sum(histograms["runqueue"].values())
        if "clock_nanosleep" in block and "[hardirq]" in block:
            for low, count in histograms["off-CPU"].items():
                sleeps[low] = sleeps.get(low, 0) + count
    # The timer's wake-ups, one a sleep; a sleep whose end the kernel did
    # not report is counted as lost instead.
    missed = missed_switch_ins(result.stderr)
    assert ROUNDS - missed <= sum(sleeps.values()) <= ROUNDS, (sleeps, result.stderr)
    # Each off-CPU period lies within its time.sleep() call, as the sleeper
    # measured it, and lasts at least the sleep asked for (less the system
    # call's way in). A busy host stretches sleeps into the next bucket or
    # further (CI: a 1.4 ms one past 4 ms), so the buckets are compared with
    # what each sleep took, as counts up to each bucket, so that which period
    # was which sleep need not be known.
    measured = [int(ns) for ns in re.findall(r"^wt-slept (\d+)$", result.stderr, re.MULTILINE)]
    assert len(measured) == ROUNDS, result.stderr
    longest = [bucket_low_us(ns) for ns in measured]
    shortest = [bucket_low_us(SLEEPS_NS[i % 2] - 50_000) for i in range(ROUNDS)]
    for low in sorted(set(sleeps) | set(longest) | set(shortest)):
        seen_through = sum(count for bucket, count in sleeps.items() if bucket <= low)
        assert seen_through + missed >= sum(1 for b in longest if b <= low), (low, sleeps, measured)
        assert seen_through <= sum(1 for b in shortest if b <= low), (low, sleeps)


def bucket_low_us(ns):
    """The lower bound in microseconds of the histogram bucket of `ns`."""
    us = ns // 1000
    return 1 << (us.bit_length() - 1) if us else 0


def test_without_histograms_the_layout_is_unchanged(waketrace, privileged):
    result = run([waketrace, "--", sys.executable, "-c", SLEEPER])
    assert result.returncode == 0, result.stderr
    assert "usecs" not in result.stdout
    for block in (b for b in result.stdout.split("\n\n") if "target:" in b):
        assert re.match(r"^        \d+$", block.strip("\n").splitlines()[-1])


def test_short_option_is_the_same(waketrace, privileged):
    result = run([waketrace, "-H", "--", sys.executable, "-c", "import time; time.sleep(0.01)"])
    assert result.returncode == 0, result.stderr
    assert "off-CPU usecs : count    distribution" in result.stdout
