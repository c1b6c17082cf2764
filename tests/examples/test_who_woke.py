# SPDX-License-Identifier: LGPL-2.1-or-later
"""examples/cxx/who_woke, the C++ API example, run on the demo workload
(conftest.pingpong): one table row per wake chain, the longest first, whose
pong row must show ping waking it from the pipe for almost all of the traced
second, once per round."""
import re

import pytest

from conftest import DEMO_SLEEP_MS, parse_folded, run, thread_ids, unprivileged

TRACED_MS = 1000
HEADER = ["thread", "tid", "woken", "by", "waits", "blocked_ms", "runq_ms", "waited", "in"]
# thread, tid, waker (24 columns), waits, blocked ms, runqueue ms, waited in
ROW = re.compile(r"^(\S+) +(\d+)  (.{24}) +(\d+) +(\d+\.\d{3}) +(\d+\.\d{3})  (\S+)$")


def table(stdout):
    lines = stdout.splitlines()
    assert lines and lines[0].split() == HEADER, stdout
    rows = []
    for line in lines[1:]:
        match = ROW.match(line)
        assert match, line
        comm, tid, waker, waits, blocked, runqueue, waited_in = match.groups()
        rows.append((comm, int(tid), waker.strip(), int(waits), float(blocked), float(runqueue), waited_in))
    return rows


def test_table_blames_ping_for_pong(privileged, who_woke, pingpong):
    tids = thread_ids(pingpong.pid)
    result = run([who_woke, str(pingpong.pid), "1"])
    assert result.returncode == 0, result.stderr
    rows = table(result.stdout)
    assert rows, result.stdout
    # Only the traced process's threads, each with its own tid.
    for comm, tid, *_ in rows:
        assert tids.get(comm) == tid, result.stdout
    # Longest first (blocked + runqueue is each chain's total, to rounding).
    totals = [blocked + runqueue for *_, blocked, runqueue, _ in rows]
    assert all(a >= b - 0.002 for a, b in zip(totals, totals[1:])), result.stdout

    # Substrings: kernels before 6.15 call it pipe_read, later ones anon_pipe_read.
    ping = f"demo-ping {tids['demo-ping']}"
    pong_rows = [row for row in rows if row[0] == "demo-pong" and row[2] == ping and "pipe_read" in row[6]]
    assert pong_rows, result.stdout
    blocked_ms = sum(row[4] for row in pong_rows)
    assert 0.7 * TRACED_MS <= blocked_ms <= 1.5 * TRACED_MS, result.stdout
    # One wait per round: each round sleeps DEMO_SLEEP_MS and a little more.
    waits = sum(row[3] for row in pong_rows)
    assert 0.3 * TRACED_MS / DEMO_SLEEP_MS <= waits <= 1.5 * TRACED_MS / DEMO_SLEEP_MS, result.stdout

    timer_rows = [row for row in rows if row[0] == "demo-ping" and row[2] == "[hardirq]"
                  and row[6] == "do_nanosleep"]
    assert timer_rows, result.stdout
    assert sum(row[4] for row in timer_rows) >= 0.5 * TRACED_MS, result.stdout


def test_folded_through_the_library(privileged, who_woke, pingpong):
    result = run([who_woke, "-f", str(pingpong.pid), "1"])
    assert result.returncode == 0, result.stderr
    chains = [parse_folded(line) for line in result.stdout.splitlines() if line]
    assert chains, result.stdout
    assert [value for *_, value in chains] == sorted(value for *_, value in chains)
    assert any(target[0] == "demo-pong" and waker[-1] == "demo-ping"
               and any("pipe_read" in frame for frame in target)
               and any("pipe_write" in frame for frame in waker)
               for target, waker, _ in chains), result.stdout


def test_no_such_pid(privileged, who_woke):
    pid = int(open("/proc/sys/kernel/pid_max").read())
    result = run([who_woke, str(pid), "1"])
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("who_woke: ") and str(pid) in result.stderr, result.stderr


def test_unprivileged_says_what_is_missing(who_woke):
    result = run(unprivileged([who_woke, "1", "1"]))
    assert result.returncode == 1, result.stderr
    assert "CAP_BPF" in result.stderr and "run as root" in result.stderr, result.stderr
    # The message from the C ABI, ending once in the errno's text.
    assert result.stderr.count("Operation not permitted") == 1, result.stderr


@pytest.mark.parametrize("args", [[], ["1"], ["1", "1", "1"], ["-f"], ["0", "1"], ["abc", "1"],
                                  ["1", "0"], ["4294967296", "1"], ["1", "86401"]])
def test_bad_usage(who_woke, args):
    result = run([who_woke] + args)
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert "usage: who_woke [-f] PID SECONDS" in result.stderr
