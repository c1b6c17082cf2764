// SPDX-License-Identifier: LGPL-2.1-or-later
// Stack sampling: stacks for a fraction of blocking events, while every
// event's time is still measured exactly per thread.
#include <catch2/catch.hpp>

#include "chain_queries.hpp"
#include "profile_while.hpp"
#include "workloads.hpp"

namespace wt = waketrace;
using namespace std::chrono_literals;

namespace {

const wt::ThreadTotal* thread_total(const wt::Profile& profile, uint32_t tid) {
    for (const wt::ThreadTotal& thread : profile.threads)
        if (thread.task.tid == tid)
            return &thread;
    return nullptr;
}

}  // namespace

TEST_CASE("sampling half the stacks: exact thread totals, chains scaled up") {
    constexpr int kRounds = 40;
    wt::test::PipeTokenPass work(kRounds, 2ms);
    wt::Config config;
    config.tids = {uint32_t(work.reader_tid())};
    config.stack_sample_percent = 50;
    const wt::Profile profile = wt::test::profile_while(config, work);
    CHECK(profile.stack_sample_percent == 50);

    const wt::ThreadTotal* reader = thread_total(profile, work.reader_tid());
    REQUIRE(reader);
    // Every event counted, unscaled: about one per round (a loaded machine
    // may let the reader find a byte already there, or block once more).
    CHECK(reader->count >= kRounds - 3);
    CHECK(reader->count <= kRounds + 5);
    CHECK(double(reader->blocked_ns) == Approx(double(work.reader_waited_ns())).epsilon(0.05));

    // Each sampled event stands for two; about half of them were sampled.
    uint64_t estimated = 0;
    for (const wt::WakeChain* chain : wt::test::chains_of_target(profile, work.reader_tid())) {
        CHECK(chain->count % 2 == 0);
        if (wt::test::has_frame(chain->kernel_stack, "pipe_read") &&
            chain->wakers[0].context != wt::WakerContext::preempted)
            estimated += chain->count;
    }
    CHECK(estimated >= 2 * 8);   // binomial(40, 0.5) stays within 8..32
    CHECK(estimated <= 2 * 32);  // far beyond 3 standard deviations
}

TEST_CASE("without sampling, thread totals are the sums of the chains") {
    wt::test::PipeTokenPass work(5, 5ms);
    wt::Config config;
    config.tids = {uint32_t(work.reader_tid())};
    const wt::Profile profile = wt::test::profile_while(config, work);
    const wt::ThreadTotal* reader = thread_total(profile, work.reader_tid());
    REQUIRE(reader);
    uint64_t count = 0, total = 0;
    for (const wt::WakeChain* chain : wt::test::chains_of_target(profile, work.reader_tid())) {
        count += chain->count;
        total += chain->total_ns;
    }
    CHECK(reader->count == count);
    CHECK(reader->total_ns == total);
    CHECK(profile.threads.size() == 1);
}
