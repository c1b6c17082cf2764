# SPDX-License-Identifier: LGPL-2.1-or-later
"""Stack sampling from Python: every blocking event is timed (exact
per-thread totals) while only some have stacks (scaled-up chains)."""
import pytest

import waketrace
from workloads import PipeTokenPass, has_frame

ROUNDS = 40
SLEEP_S = 0.002


def test_thread_totals_exact_and_chains_scaled(privileged):
    work = PipeTokenPass(ROUNDS, SLEEP_S)
    with waketrace.Profiler(tids=[work.reader.tid], stack_sample_percent=50) as profiler:
        work.run()
    profile = profiler.results()
    assert profile.stack_sample_percent == 50

    [reader] = [t for t in profile.threads if t.task.tid == work.reader.tid]
    assert ROUNDS - 3 <= reader.count <= 2 * ROUNDS  # plus GIL hand-offs and the like
    assert reader.total_ns == reader.blocked_ns + reader.runqueue_ns

    estimated = sum(chain.count for chain in profile.chains
                    if has_frame(chain.kernel_stack, "pipe_read") and chain.wakers[0].context != "preempted")
    assert all(chain.count % 2 == 0 for chain in profile.chains)  # each sample stands for two
    assert 2 * 8 <= estimated <= 2 * 32  # binomial(40, 0.5), far beyond 3 sigma


def test_sample_percent_is_validated():
    for bad in (0, 101, -1):
        with pytest.raises(ValueError):
            waketrace.Profiler(stack_sample_percent=bad)
