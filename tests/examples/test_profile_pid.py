# SPDX-License-Identifier: LGPL-2.1-or-later
"""examples/c/profile_pid, the C API example, run on the demo workload
(conftest.pingpong): over a traced second pong is blocked almost all the
time, woken by ping in the pipe code, and ping is woken by the timer
interrupt."""
import re

import pytest

from conftest import parse_folded, run, thread_ids, unprivileged

TRACED_US = 1_000_000


def test_folded_pipe_ping_pong(privileged, profile_pid, pingpong):
    result = run([profile_pid, "-f", str(pingpong.pid), "1"])
    assert result.returncode == 0, result.stderr
    chains = [parse_folded(line) for line in result.stdout.splitlines() if line]
    assert chains
    # Only the traced process, in offwaketime's ascending order.
    assert {target[0] for target, _, _ in chains} <= {"waketrace-demo", "demo-ping", "demo-pong"}
    totals = [value for _, _, value in chains]
    assert totals == sorted(totals)

    # Substrings: kernels before 6.15 name the pipe functions pipe_read and
    # pipe_write, later ones anon_pipe_read and anon_pipe_write.
    pong_from_ping = [value for target, waker, value in chains
                      if target[0] == "demo-pong" and waker[-1] == "demo-ping"
                      and any("pipe_read" in frame for frame in target)
                      and any("pipe_write" in frame for frame in waker)]
    assert pong_from_ping, result.stdout
    # Pong waits on the pipe nearly all of the traced second, never more.
    assert 0.7 * TRACED_US <= sum(pong_from_ping) <= 1.5 * TRACED_US, result.stdout

    ping_from_timer = [value for target, waker, value in chains
                       if target[0] == "demo-ping" and waker[-1] == "[hardirq]"
                       and "do_nanosleep" in target]
    assert ping_from_timer, result.stdout
    assert sum(ping_from_timer) >= 0.5 * TRACED_US, result.stdout


def test_text_names_the_threads(privileged, profile_pid, pingpong):
    tids = thread_ids(pingpong.pid)
    result = run([profile_pid, str(pingpong.pid), "1"])
    assert result.returncode == 0, result.stderr
    blocks = [block for block in result.stdout.split("\n\n") if "target:" in block]
    assert blocks, result.stdout
    for block in blocks:
        target = re.search(r"^    target:\s+(\S+) (\d+)$", block, re.M)
        assert target, block
        assert tids.get(target[1]) == int(target[2]), block
    assert any(f"demo-ping {tids['demo-ping']}\n" in block
               and f"target:          demo-pong {tids['demo-pong']}\n" in block
               and "pipe_read" in block  # anon_pipe_read from 6.15 on
               for block in blocks), result.stdout


def test_no_such_pid(privileged, profile_pid):
    # pid_max is one more than the largest pid the kernel hands out.
    pid = int(open("/proc/sys/kernel/pid_max").read())
    result = run([profile_pid, str(pid), "1"])
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("profile_pid: ") and str(pid) in result.stderr, result.stderr


def test_unprivileged_says_what_is_missing(profile_pid):
    result = run(unprivileged([profile_pid, "1", "1"]))
    assert result.returncode == 1, result.stderr
    assert "CAP_BPF" in result.stderr and "run as root" in result.stderr, result.stderr


@pytest.mark.parametrize("args", [
    [], ["1"], ["1", "1", "1"], ["-x", "1", "1"], ["-f"],
    ["0", "1"], ["-1", "1"], ["abc", "1"], ["1", "0"], ["1", "1.5"], ["4294967296", "1"],
])
def test_bad_usage(profile_pid, args):
    result = run([profile_pid] + args)
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert "usage: profile_pid [-f] PID SECONDS" in result.stderr
