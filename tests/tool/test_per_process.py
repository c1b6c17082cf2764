# SPDX-License-Identifier: LGPL-2.1-or-later
"""--per-process, --per-thread and --thread-totals on real workloads: two
processes of one name kept apart with their own pids and times, the demo's
threads named with their process and thread ids, and each thread's totals
agreeing with its chains."""
import re

from conftest import folded_lines, parse_folded, run

# Two `sleep` processes of different lengths, their pids printed by the
# shell that starts them; each waits in nanosleep until the timer wakes it.
TWO_SLEEPS = "sleep 0.2 & echo $!; sleep 0.4 & echo $!; wait"
SLEEP_US = {0: 200_000, 1: 400_000}


def text_blocks(report):
    """(target name, tid, value) of every chain of a text report."""
    blocks = []
    for block in report.split("\n\n"):
        target = re.search(r"^    target:\s+(\S+) (\d+)\n        (\d+)$", block, re.M)
        if target:
            blocks.append((target.group(1), int(target.group(2)), int(target.group(3))))
    return blocks


def thread_table(report):
    """The --thread-totals rows: {tid: (pid, total, blocked, runqueue, count, comm)}."""
    table = report[report.index("Off-CPU time by thread (us), largest first:\n"):].splitlines()
    assert table[1].split() == ["TID", "PID", "TOTAL", "BLOCKED", "RUNQUEUE", "COUNT", "COMM"]
    rows = {}
    for line in table[2:]:
        tid, pid, total, blocked, runqueue, count, comm = line.split(None, 6)
        rows[int(tid)] = (int(pid), int(total), int(blocked), int(runqueue), int(count), comm)
    return rows, [int(line.split()[0]) for line in table[2:]]


def test_per_process_keeps_two_processes_of_one_name_apart(waketrace, privileged, tmp_path):
    report_file = tmp_path / "report.txt"
    result = run([waketrace, "--per-process", "--thread-totals", "-o", str(report_file),
                  "--", "sh", "-c", TWO_SLEEPS])
    assert result.returncode == 0, result.stderr
    pids = [int(line) for line in result.stdout.split()]
    assert len(pids) == 2 and pids[0] != pids[1]
    report = report_file.read_text()
    chains = text_blocks(report)

    # Every sleep chain is named sleep-PID with one of the two pids, and
    # each pid's chains hold about its own sleep.
    sleeps = [(name, tid, value) for name, tid, value in chains if name.startswith("sleep")]
    assert {name for name, _, _ in sleeps} == {f"sleep-{pid}" for pid in pids}, chains
    by_pid = {pid: sum(value for name, _, value in sleeps if name == f"sleep-{pid}") for pid in pids}
    for index, pid in enumerate(pids):
        assert 0.9 * SLEEP_US[index] <= by_pid[pid] <= 1.5 * SLEEP_US[index], by_pid
    # A sleep process has one thread: its tid is its pid.
    assert all(name == f"sleep-{tid}" for name, tid, _ in sleeps)

    # The table: one row per thread, largest first; each sleep's total is
    # its chains' (those are rounded down one by one: at most 1 us each),
    # counting those from before its exec, when the thread was still named
    # "sh" (the table names a thread by its last name).
    rows, order = thread_table(report)
    totals = [rows[tid][1] for tid in order]
    assert totals == sorted(totals, reverse=True)
    for pid in pids:
        row_pid, total, blocked, runqueue, count, comm = rows[pid]
        # Named as last seen: "sh" when its last captured period came before its exec.
        assert row_pid == pid and comm in ("sleep", "sh")
        of_thread = [value for _, tid, value in chains if tid == pid]
        assert sum(of_thread) <= total <= sum(of_thread) + len(of_thread), chains
        assert blocked + runqueue in (total - 1, total, total + 1)
        assert count >= 1
    # The merged name's time is the two processes' time: nothing lost or doubled.
    merged = sum(value for name, _, value in sleeps)
    assert merged == by_pid[pids[0]] + by_pid[pids[1]]


def test_per_thread_names_the_demo_threads_with_pid_and_tid(waketrace, demo, privileged):
    result = run([waketrace, "-f", "--per-thread", "--", demo, "10", "5"])
    assert result.returncode == 0, result.stderr
    chains = [parse_folded(l) for l in folded_lines(result.stdout) if not l.startswith("waketrace-demo:")]
    named = re.compile(r"^(demo-ping|demo-pong|waketrace-demo)-(\d+)/(\d+)$")
    roots = {}
    for target, waker, _ in chains:
        found = named.match(target[0])
        if found:
            roots[found.group(1)] = (int(found.group(2)), int(found.group(3)))
    assert {"demo-ping", "demo-pong"} <= roots.keys(), [t[0] for t, _, _ in chains]
    # One process: every thread shows the same pid, and each its own tid.
    assert len({pid for pid, _ in roots.values()}) == 1
    assert len({tid for _, tid in roots.values()}) == len(roots)
    # The waker of pong's pipe read is ping, named the same way.
    pong = f"demo-pong-{roots['demo-pong'][0]}/{roots['demo-pong'][1]}"
    ping = f"demo-ping-{roots['demo-ping'][0]}/{roots['demo-ping'][1]}"
    assert any(target[0] == pong and waker[-1] == ping and any("pipe_read" in f for f in target)
               for target, waker, _ in chains), chains


def test_naming_options_are_checked(waketrace):
    both = run([waketrace, "--per-process", "--per-thread", "1"])
    assert both.returncode == 2
    assert "--per-process cannot be combined with --per-thread" in both.stderr
    folded = run([waketrace, "--thread-totals", "-f", "1"])
    assert folded.returncode == 2
    assert "--thread-totals cannot be combined with --folded" in folded.stderr
