// SPDX-License-Identifier: LGPL-2.1-or-later
// The Profiler's contract where no kernel work is involved: config
// validation, errors before start, stop() without start.
#include <catch2/catch.hpp>
#include <cerrno>
#include <string>

#include "profiler_engine.hpp"

namespace wt = waketrace;

namespace {

int error_of(const wt::Config& config) {
    try {
        wt::detail::ProfilerEngine profiler(config);
    } catch (const wt::Error& error) {
        return error.errno_value();
    }
    return 0;
}

}  // namespace

TEST_CASE("invalid configs are refused with EINVAL and a reason") {
    CHECK(error_of(wt::Config{}) == 0);
    wt::Config config;
    SECTION("min above max") {
        config.min_block_us = 10;
        config.max_block_us = 5;
    }
    SECTION("empty stack map") { config.stack_storage_size = 0; }
    SECTION("empty chain map") { config.max_chains = 0; }
    SECTION("no room for off-CPU threads") { config.max_off_cpu_threads = 0; }
    SECTION("pid 0, the idle task") { config.pids = {0}; }
    SECTION("tid 0, the idle task") { config.tids = {0}; }
    CHECK(error_of(config) == EINVAL);
}

TEST_CASE("the message says what was wrong") {
    wt::Config config;
    config.min_block_us = 10;
    config.max_block_us = 5;
    CHECK_THROWS_WITH(wt::detail::ProfilerEngine(config),
                      Catch::Contains("min_block_us (10) is above max_block_us (5)"));
}

TEST_CASE("a pid that does not exist is ESRCH at start, before any privilege check") {
    wt::Config config;
    config.pids = {999'999'999};
    wt::detail::ProfilerEngine profiler(config);
    try {
        profiler.start();
        FAIL("start() succeeded");
    } catch (const wt::Error& error) {
        CHECK(error.errno_value() == ESRCH);
        CHECK_THAT(error.what(), Catch::Contains("no process 999999999"));
    }
    CHECK_FALSE(profiler.running());
}

TEST_CASE("results before start is EINVAL; stop without start is harmless") {
    wt::detail::ProfilerEngine profiler(wt::Config{});
    profiler.stop();
    profiler.stop();
    CHECK_FALSE(profiler.running());
    CHECK_THROWS_AS(profiler.results(), wt::Error);
}

TEST_CASE("names of contexts and statuses") {
    CHECK(wt::to_string(wt::WakerContext::hardirq) == "hardirq");
    CHECK(wt::to_string(wt::WakerContext::preempted) == "preempted");
    CHECK(wt::to_string(wt::StackStatus::collision) == "lost (stack map collision)");
}

TEST_CASE("an Error's hint is named in C++ terms by what(), and kept apart for bindings") {
    const wt::Error plain(EINVAL, "plain failure");
    CHECK(plain.message() == "plain failure");
    CHECK_FALSE(plain.hint().has_value());

    const wt::Error hinted(EINVAL, "loading failed", wt::Hint{"log", "to see the verifier log"});
    CHECK(hinted.errno_value() == EINVAL);
    CHECK(hinted.message() == "loading failed");
    REQUIRE(hinted.hint().has_value());
    CHECK(hinted.hint()->option == "log");
    CHECK(hinted.hint()->purpose == "to see the verifier log");
    const std::string what = hinted.what();
    CHECK(what.rfind("loading failed (set Config::log to see the verifier log)", 0) == 0);
    // A copy (as a rethrow makes) carries the same parts.
    const wt::Error copy = hinted;
    CHECK(copy.message() == hinted.message());
    CHECK(copy.hint()->option == "log");
}
