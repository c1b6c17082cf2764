# SPDX-License-Identifier: LGPL-2.1-or-later
"""examples/benchmark/handoff-bench, the Google Benchmark example: its
benchmark thread hands each job to a worker thread through a condition
variable and waits, so its waits should be futex waits that the worker ended,
one or two per iteration."""
import re
import subprocess

from conftest import run, unprivileged

BENCH = ["--benchmark_min_time=0.05"]

HEADER = re.compile(r"^BM_Handoff: where thread (\d+) waited in the last run "
                    r"\((\d+) iterations\), worker handoff-worker (\d+):$", re.M)
# total, blocked, runqueue (ms), waits, waker (name and tid for tasks),
# where the thread waited, where the waker woke it.
ROW = re.compile(r"^  +(\d+\.\d{3}) +(\d+\.\d{3}) +(\d+\.\d{3}) +(\d+)  (.{24}) (\S+) +(.+)$", re.M)


def rows(text):
    return [(float(total), float(blocked), float(runqueue), int(waits), waker.strip(), waited, woken)
            for total, blocked, runqueue, waits, waker, waited, woken in ROW.findall(text)]


def run_bench(args):
    """(pid, exit status, stdout, stderr)"""
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as bench:
        out, err = bench.communicate(timeout=120)
    return bench.pid, bench.returncode, out, err


def counter_value(out, name):
    """A user counter from the console table: "offcpu_us=43.25" or "=1.2k"."""
    match = re.search(rf"^BM_Handoff .* {name}=(\d+(?:\.\d+)?)([kMmu]?)(?:\s|$)", out, re.M)
    assert match, out
    return float(match[1]) * {"": 1, "k": 1e3, "M": 1e6, "m": 1e-3, "u": 1e-6}[match[2]]


def test_reports_its_own_thread_woken_by_the_worker(privileged, handoff_bench):
    pid, status, out, err = run_bench([handoff_bench] + BENCH)
    assert status == 0, err
    header = HEADER.search(out)
    assert header, out
    tid, iterations, worker_tid = map(int, header.groups())
    # Benchmarks without ->Threads() run on the main thread.
    assert tid == pid, out
    chains = rows(out[header.end():])
    assert chains, out

    totals = [total for total, *_ in chains]
    assert totals == sorted(totals, reverse=True), out
    for total, blocked, runqueue, *_ in chains:
        assert abs(total - blocked - runqueue) <= 0.003, out

    # The longest with a waker seen: in a futex, until the worker's
    # futex_wake (notify_all, or the unlock of the mutex). A wake that races
    # ahead of the waiter's switch-out shows as "[unseen]" (more often on a
    # slow build, e.g. under the sanitizers); here it can only be the worker
    # too.
    worker = f"handoff-worker {worker_tid}"
    seen = [chain for chain in chains if chain[4] not in ("[unseen]", "[preempted]")]
    assert seen, out
    _, blocked, _, _, waker, waited, woken = seen[0]
    assert waker == worker, out
    assert "futex" in waited and "futex_wake" in woken, out
    assert blocked > 0, out
    # One wait per iteration for the answer, and at times a second one for
    # the mutex, when the worker still holds it after notifying.
    by_worker = [(total, waits) for total, _, _, waits, waker, _, _ in chains
                 if waker in (worker, "[unseen]")]
    assert iterations / 2 <= sum(waits for _, waits in by_worker) <= 2 * iterations, out

    # The off-CPU counter is per iteration over all chains, the rows the
    # largest of them: mostly waits for the worker.
    offcpu_ms = counter_value(out, "offcpu_us") * iterations / 1e3
    assert 0.5 * offcpu_ms <= sum(total for total, _ in by_worker), out
    assert sum(totals) <= 1.01 * offcpu_ms + 0.01, out


def test_unprivileged_runs_unprofiled(handoff_bench):
    result = run(unprivileged([handoff_bench] + BENCH))
    assert result.returncode == 0, result.stderr
    assert "running unprofiled" in result.stderr and "CAP_BPF" in result.stderr, result.stderr
    assert re.search(r"^BM_Handoff +\S+ us +\S+ us +\d+$", result.stdout, re.M), result.stdout
    assert not HEADER.search(result.stdout)
