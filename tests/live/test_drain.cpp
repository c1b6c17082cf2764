// SPDX-License-Identifier: LGPL-2.1-or-later
// Periodic drain: each drain returns what happened since the previous one,
// while the profiler keeps running.
#include <catch2/catch.hpp>

#include "chain_queries.hpp"
#include "profiler_engine.hpp"
#include "workloads.hpp"

namespace wt = waketrace;
using namespace std::chrono_literals;

TEST_CASE("drain returns each period's chains once, while running") {
    wt::test::PipeTokenPass first(3, 10ms);
    wt::test::PipeTokenPass second(2, 10ms);
    wt::Config config;
    config.tids = {uint32_t(first.reader_tid()), uint32_t(second.reader_tid())};
    wt::detail::ProfilerEngine profiler(config);
    profiler.start();

    first.run();
    const wt::Profile period1 = profiler.drain();
    second.run();
    const wt::Profile period2 = profiler.drain();
    const wt::Profile period3 = profiler.drain();
    CHECK(profiler.running());
    profiler.stop();

    // (A joined thread may still block on its way out after the join: only
    // the pipe waits say which period they belong to.)
    INFO("period 1:\n" << wt::test::describe_chains(period1, first.reader_tid()));
    INFO("period 2:\n" << wt::test::describe_chains(period2, first.reader_tid()));
    CHECK(wt::test::count_blocked_in(period1, first.reader_tid(), "pipe_read") == 3);
    CHECK(wt::test::count_blocked_in(period1, second.reader_tid(), "pipe_read") == 0);
    CHECK(wt::test::count_blocked_in(period2, second.reader_tid(), "pipe_read") == 2);
    CHECK(wt::test::count_blocked_in(period2, first.reader_tid(), "pipe_read") == 0);
    CHECK(wt::test::count_blocked_in(period3, second.reader_tid(), "pipe_read") == 0);
    CHECK(period1.duration_ns > 0);
    CHECK(period2.duration_ns > 0);
    CHECK(wt::test::count_blocked_in(profiler.results(), second.reader_tid(), "pipe_read") == 0);
}
