// SPDX-License-Identifier: LGPL-2.1-or-later
// The offcpu and wakeup modes (offcputime's and wakeuptime's jobs) on a pipe
// token pass with known sleeps: each keeps the half of a chain its tool
// shows, with the right times, and loads no program it does not need.
#include <catch2/catch.hpp>
#include <unistd.h>

#include "chain_queries.hpp"
#include "process_usage.hpp"
#include "profile_while.hpp"
#include "profiler_engine.hpp"
#include "workloads.hpp"

namespace wt = waketrace;
using namespace std::chrono_literals;

namespace {

constexpr int kRounds = 10;

size_t programs_loaded_by(const wt::Config& config) {
    wt::detail::ProfilerEngine engine(config);
    const size_t before = wt::test::process_usage().bpf_held.programs;
    engine.start();
    const size_t running = wt::test::process_usage().bpf_held.programs;
    engine.stop();
    return running - before;
}

}  // namespace

TEST_CASE("offcpu: the reader's waits in the pipe read, with its stacks and no waker") {
    wt::test::PipeTokenPass work(kRounds, 10ms);
    wt::Config config;
    config.tids = {uint32_t(work.reader_tid())};
    config.offcpu = true;
    const wt::Profile profile = wt::test::profile_while(config, work);
    INFO(wt::test::describe(profile.losses));
    INFO(wt::test::describe_chains(profile, uint32_t(work.reader_tid())));

    CHECK(profile.mode == wt::CaptureMode::offcpu);
    uint64_t reads = 0, read_ns = 0;
    for (const wt::WakeChain* chain : wt::test::chains_of_target(profile, work.reader_tid())) {
        CHECK(chain->wakers.empty());
        CHECK(chain->end == wt::ChainEnd::complete);
        // No waking is traced: nothing to split the time at.
        CHECK(chain->blocked_ns == 0);
        CHECK(chain->runqueue_ns == 0);
        CHECK(chain->kernel_stack.status == wt::StackStatus::ok);
        if (!wt::test::has_frame(chain->kernel_stack, "pipe_read"))
            continue;
        CHECK(chain->user_stack.status == wt::StackStatus::ok);
        reads += chain->count;
        read_ns += chain->total_ns;
    }
    // Preempted and blocked periods share a key here, as in offcputime, so
    // a preemption inside the read path may add to the count.
    CHECK(reads + profile.losses.missed_switch_ins >= uint64_t(kRounds));
    // Off CPU from switch-out to switch-in: the wait, plus its runqueue time.
    CHECK(double(read_ns) >= 0.97 * double(work.reader_waited_ns()));
    CHECK(double(read_ns) == Approx(double(work.reader_waited_ns())).epsilon(0.1));
    CHECK(wt::test::losses_on_our_side(profile.losses) == 0);
}

TEST_CASE("wakeup: the writer's stacks in the pipe write, per woken reader, with its blocked time") {
    wt::test::PipeTokenPass work(kRounds, 10ms);
    wt::Config config;
    config.tids = {uint32_t(work.reader_tid())};
    config.wakeup = true;
    const wt::Profile profile = wt::test::profile_while(config, work);
    INFO(wt::test::describe(profile.losses));
    INFO(wt::test::describe_chains(profile, uint32_t(work.reader_tid())));

    CHECK(profile.mode == wt::CaptureMode::wakeup);
    uint64_t writes = 0, blocked_ns = 0;
    for (const wt::WakeChain* chain : wt::test::chains_of_target(profile, work.reader_tid())) {
        // The target is named, not walked.
        CHECK(chain->target.comm.empty() == false);
        CHECK(chain->kernel_stack.status == wt::StackStatus::not_captured);
        CHECK(chain->user_stack.status == wt::StackStatus::not_captured);
        REQUIRE(chain->wakers.size() == 1);
        // Nobody wakes a preempted thread: those periods are left out.
        CHECK(chain->wakers[0].context != wt::WakerContext::preempted);
        const wt::Waker& waker = chain->wakers[0];
        if (waker.context != wt::WakerContext::task || waker.task.tid != uint32_t(work.writer_tid()))
            continue;
        CHECK(wt::test::has_frame(waker.kernel_stack, "pipe_write"));
        CHECK(waker.user_stack.status == wt::StackStatus::ok);
        writes += chain->count;
        blocked_ns += chain->blocked_ns;
    }
    CHECK(wt::test::unaccounted_rounds(writes, kRounds, profile.losses) == "");
    CHECK(double(blocked_ns) == Approx(double(work.reader_waited_ns())).epsilon(0.05));
    CHECK(wt::test::losses_on_our_side(profile.losses) == 0);
}

TEST_CASE("offcpu loads no program for the wakings; wakeup and the default load the same") {
    wt::Config config;
    config.pids = {uint32_t(getpid())};
    const size_t offwake = programs_loaded_by(config);
    config.wakeup = true;
    const size_t wakeup = programs_loaded_by(config);
    config.wakeup = false;
    config.offcpu = true;
    const size_t offcpu = programs_loaded_by(config);
    CHECK(offwake > 0);
    CHECK(wakeup == offwake);
    CHECK(offcpu < offwake);  // the waking's program (and its link) are not there
}

TEST_CASE("the modes exclude each other, and deeper chains") {
    wt::Config config;
    config.offcpu = true;
    config.wakeup = true;
    CHECK_THROWS_WITH(wt::detail::ProfilerEngine(config),
                      Catch::Contains("offcpu and wakeup exclude each other"));
    config.wakeup = false;
    config.chain_depth = 2;
    CHECK_THROWS_WITH(wt::detail::ProfilerEngine(config), Catch::Contains("chain_depth 2"));
    config.chain_depth = 1;
    config.no_waker_user_stacks = true;
    CHECK_THROWS_WITH(wt::detail::ProfilerEngine(config), Catch::Contains("no_waker_user_stacks"));
}

// [precise-timing]: the 2 ms sleeps must end before 6 ms, which emulation
// does not keep to.
TEST_CASE("wakeup: -m and -M bound the blocked time, as wakeuptime's do", "[precise-timing]") {
    // Rounds alternate 2 ms and 12 ms sleeps; only the long waits pass 6 ms.
    wt::test::PipeTokenPass work(kRounds, std::vector<std::chrono::microseconds>{2ms, 12ms});
    wt::Config config;
    config.tids = {uint32_t(work.reader_tid())};
    config.wakeup = true;
    config.min_block_us = 6000;
    const wt::Profile profile = wt::test::profile_while(config, work);
    INFO(wt::test::describe(profile.losses));
    INFO(wt::test::describe_chains(profile, uint32_t(work.reader_tid())));

    uint64_t writes = 0;
    for (const wt::WakeChain* chain : wt::test::chains_of_target(profile, work.reader_tid())) {
        CHECK(chain->blocked_ns >= chain->count * 6'000'000);
        if (wt::test::has_frame(chain->wakers[0].kernel_stack, "pipe_write"))
            writes += chain->count;
    }
    CHECK(wt::test::unaccounted_rounds(writes, kRounds / 2, profile.losses) == "");
}
