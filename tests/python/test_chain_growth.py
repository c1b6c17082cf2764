# SPDX-License-Identifier: LGPL-2.1-or-later
"""A chain map of two: half of it is one chain, so each look of the
library's thread (every 50 ms) moves the reader's pipe chain to user space.
The profile says how often, and no period goes missing on the way."""
import waketrace
from ci_rule import require_root
from workloads import PipeTokenPass, describe, has_frame

ROUNDS = 10
SLEEP_S = 0.03


def test_a_tiny_chain_map_grows_and_says_so():
    require_root()
    work = PipeTokenPass(ROUNDS, SLEEP_S)
    with waketrace.Profiler(tids=[work.reader.tid], max_chains=2) as profiler:
        work.run()
    profile = profiler.results()
    pipe_waits = sum(chain.count for chain in profile.chains
                     if has_frame(chain.kernel_stack, "pipe_read") and chain.wakers[0].context == "task")
    assert profile.chain_map_moves > 0, describe(profile)
    # Three new chains within one look would still fill it: counted, if so.
    assert pipe_waits + profile.losses.chain_map_full >= ROUNDS, describe(profile)
    assert pipe_waits <= ROUNDS
