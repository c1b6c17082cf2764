// SPDX-License-Identifier: LGPL-2.1-or-later
// A thread in a loop of short nanosleeps is woken by the hrtimer interrupt:
// the waker must be flagged as hard IRQ context, with the timer path in its
// kernel stack and no stack of whatever task the interrupt hit.
#include <catch2/catch.hpp>

#include "chain_queries.hpp"
#include "profile_while.hpp"
#include "workloads.hpp"

namespace wt = waketrace;
using namespace std::chrono_literals;

TEST_CASE("nanosleep wakeups come from hard IRQ context through the hrtimer path") {
    constexpr int kRounds = 50;
    wt::test::NanosleepLoop work(kRounds, 1000us);
    wt::Config config;
    config.tids = {uint32_t(work.sleeper_tid())};
    const wt::Profile profile = wt::test::profile_while(config, work);

    uint64_t irq_wakeups = 0;
    for (const wt::WakeChain* chain : wt::test::chains_of_target(profile, work.sleeper_tid())) {
        REQUIRE(!chain->wakers.empty());
        const wt::Waker& waker = chain->wakers[0];
        if (waker.context != wt::WakerContext::hardirq)
            continue;
        CHECK(wt::test::has_frame(chain->kernel_stack, "nanosleep"));
        CHECK(wt::test::has_frame(waker.kernel_stack, "hrtimer_wakeup"));
        CHECK(waker.user_stack.status == wt::StackStatus::irq_dropped);
        CHECK(waker.user_stack.frames.empty());
        CHECK(waker.task.tid == 0);
        CHECK(waker.task.comm.empty());
        irq_wakeups += chain->count;
    }
    CHECK(irq_wakeups >= kRounds * 9 / 10);
}
