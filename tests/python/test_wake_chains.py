# SPDX-License-Identifier: LGPL-2.1-or-later
"""Wake chains from Python (chain_depth=): wt-relay (tests/live/relay.hpp) as
a child process, profiled by pid. relay-1 sleeps 10 ms, then wakes relay-2
through a pipe, which wakes relay-3; relay-1's sleep ends in the timer
interrupt. So relay-3's chain is relay-2, relay-1, [hardirq]."""
import os
import subprocess

import pytest

import waketrace
from ci_rule import require_root
from workloads import describe, has_frame

ROUNDS = 20


@pytest.fixture(scope="module")
def relay_run():
    require_root()
    relay = subprocess.Popen([os.environ["WT_RELAY"], "-k", "3", "-n", str(ROUNDS), "-r", "-w"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        with waketrace.Profiler(pids=[relay.pid], chain_depth=3) as profiler:
            output, _ = relay.communicate("go\n", timeout=60)
        assert relay.returncode == 0, output
    finally:
        if relay.poll() is None:
            relay.kill()
            relay.wait()
    tids = [int(tid) for tid in output.split("tids=")[1].split(",")]
    return profiler.results(), tids


def relay3_chains(profile, tids):
    return [chain for chain in profile.chains
            if chain.target.tid == tids[2] and has_frame(chain.kernel_stack, "pipe_read")
            and chain.wakers[0].context != "preempted"]


def test_the_chain_of_the_last_stage_names_every_hop_in_order(relay_run):
    profile, tids = relay_run
    chains = relay3_chains(profile, tids)
    assert chains, describe(profile)
    full = max(chains, key=lambda chain: chain.blocked_ns)
    assert [(waker.context, waker.task.tid) for waker in full.wakers] == \
        [("task", tids[1]), ("task", tids[0]), ("hardirq", 0)], repr(full)
    assert [waker.task.comm for waker in full.wakers[:2]] == ["relay-2", "relay-1"]
    assert has_frame(full.wakers[0].kernel_stack, "pipe_write")
    assert has_frame(full.wakers[0].blocked_kernel_stack, "pipe_read")
    assert has_frame(full.wakers[1].blocked_kernel_stack, "nanosleep")
    assert has_frame(full.wakers[2].kernel_stack, "hrtimer_wakeup")
    assert full.end == "complete"
    assert full.wakers[0].overlap_ns == full.blocked_ns
    assert 0 < full.wakers[2].overlap_ns <= full.blocked_ns
    # Nearly all of relay-3's wait is in chains with these hops (their stacks
    # may differ), less what missed switch-ins took.
    def hops(chain):
        return [(waker.context, waker.task.tid) for waker in chain.wakers], chain.end
    in_full = sum(chain.blocked_ns for chain in chains if hops(chain) == hops(full))
    excused = profile.losses.missed_switch_ins * full.max_ns
    assert in_full + excused >= 0.99 * sum(chain.blocked_ns for chain in chains), describe(profile)


def test_the_dataframe_has_one_row_per_chain_with_its_depth(relay_run):
    pandas = pytest.importorskip("pandas")
    profile, tids = relay_run
    frame = profile.to_dataframe()
    assert isinstance(frame, pandas.DataFrame)
    assert len(frame) == len(profile.chains)
    full = max(relay3_chains(profile, tids), key=lambda chain: chain.blocked_ns)
    rows = frame[(frame["target_tid"] == tids[2]) & (frame["depth"] == 3)]
    row = rows[rows["blocked_us"] == rows["blocked_us"].max()].iloc[0]
    assert (row["end"], row["waker_tid"], row["count"]) == (full.end, tids[1], full.count), rows
    assert row["blocked_us"] == pytest.approx(full.blocked_ns / 1000, abs=1)
    assert "relay-2" in row["waker_path"] and "relay-1" in row["waker_path"], row["waker_path"]
