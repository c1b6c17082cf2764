# SPDX-License-Identifier: LGPL-2.1-or-later
"""offcpu=True and wakeup=True from Python, on a pipe token pass: each
profile says its mode, keeps the half of the chain its tool shows, and
prints in that tool's layout."""
import pytest

import waketrace
from ci_rule import require_root
from workloads import PipeTokenPass, counted_rounds, describe, has_frame

ROUNDS = 6
SLEEP_S = 0.01


def profile_in_mode(**mode):
    require_root()
    work = PipeTokenPass(ROUNDS, SLEEP_S)
    with waketrace.Profiler(tids=[work.reader.tid], **mode) as profiler:
        work.run()
    return profiler.results(), work


def test_offcpu_keeps_the_readers_stacks_and_no_waker():
    profile, work = profile_in_mode(offcpu=True)
    assert profile.mode == "offcpu"
    reads = [chain for chain in profile.chains if has_frame(chain.kernel_stack, "pipe_read")]
    assert reads, describe(profile)
    for chain in profile.chains:
        assert chain.wakers == []
        assert chain.blocked_ns == 0 and chain.runqueue_ns == 0
    assert sum(chain.count for chain in reads) + profile.losses.missed_switch_ins >= ROUNDS
    assert len(profile.to_dataframe()) == len(profile.chains)  # waker columns empty, not an error
    text = profile.text()
    assert "waker:" not in text
    assert f"-                wt-py-reader ({work.reader.tid})" in text


def test_wakeup_keeps_the_writers_stacks_per_woken_reader():
    profile, work = profile_in_mode(wakeup=True)
    assert profile.mode == "wakeup"
    for chain in profile.chains:
        assert chain.kernel_stack.status == "not_captured"
        assert chain.wakers[0].context != "preempted"
    # The writer also wakes the reader through the GIL (a futex): the
    # pipe writes are the waits the workload made.
    writes = [chain for chain in profile.chains
              if chain.wakers[0].context == "task" and chain.wakers[0].task.tid == work.writer.tid
              and has_frame(chain.wakers[0].kernel_stack, "pipe_write")]
    assert writes, describe(profile)
    seen = sum(chain.count for chain in writes)
    assert counted_rounds(seen, profile, ROUNDS)
    # The reader's reads hold its blocked periods plus the wake-up latency:
    # an upper bound that holds however slow the writer's loop is (ASan);
    # a round counted as lost takes its share out of the lower one.
    blocked_ns = sum(chain.blocked_ns for chain in writes)
    assert 0.85 * work.waited_ns * seen / ROUNDS <= blocked_ns <= work.waited_ns, (blocked_ns, work.waited_ns, seen)
    folded = profile.folded()
    assert any(line.startswith("wt-py-writer;") and ";wt-py-reader " in line for line in folded.splitlines())


def test_the_modes_exclude_each_other():
    with pytest.raises(ValueError, match="offcpu and wakeup exclude each other"):
        waketrace.Profiler(offcpu=True, wakeup=True)
