# SPDX-License-Identifier: LGPL-2.1-or-later
"""A thread waiting on a threading.Event (futex_wait) is woken by the thread
that sets it (futex_wake): the waker is that thread, and the time blocked is
the setter's sleeps."""
import pytest

import waketrace
from workloads import EventHandoff, describe, has_frame

ROUNDS = 10
SLEEP_S = 0.02


def test_event_waiter_is_woken_by_the_setter(privileged):
    work = EventHandoff(ROUNDS, SLEEP_S)
    with waketrace.Profiler(tids=[work.waiter.tid]) as profiler:
        work.run()
    profile = profiler.results()

    woken_by_setter = [chain for chain in profile.chains
                       if has_frame(chain.kernel_stack, "futex_wait")
                       and chain.wakers[0].task.tid == work.setter.tid]
    assert woken_by_setter, describe(profile)
    for chain in woken_by_setter:
        assert chain.target.tid == work.waiter.tid
        assert chain.target.comm == "wt-py-waiter"
        assert chain.wakers[0].context == "task"
        assert has_frame(chain.wakers[0].kernel_stack, "futex_wake")
    # The waiter may also wait briefly for the GIL, which the setter hands
    # over through a futex too: at least one wake per round, and the sleeps
    # dominate the time.
    assert sum(chain.count for chain in woken_by_setter) >= ROUNDS
    blocked_ns = sum(chain.blocked_ns for chain in woken_by_setter)
    assert blocked_ns == pytest.approx(work.slept_ns, rel=0.15)
