// SPDX-License-Identifier: LGPL-2.1-or-later
// The C API over a real workload: what the packed profile holds must be
// what the workload did, and every pointer must be usable until it is freed.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "waketrace/waketrace.h"
#include "workloads.hpp"

using namespace std::chrono_literals;

namespace {

bool stack_has(const wt_stack& stack, const char* part) {
    for (size_t i = 0; i < stack.nr_frames; ++i)
        if (stack.frames[i].symbol && std::strstr(stack.frames[i].symbol, part))
            return true;
    return false;
}

// A profiler of one thread, started; a failure ends the test with
// libwaketrace's message.
wt_profiler* started_on(wt_profiler_opts opts, pid_t tid) {
    opts.sz = sizeof(opts);
    wt_profiler* profiler = wt_profiler_new(&opts);
    if (!profiler)
        FAIL("wt_profiler_new: " << wt_last_error());
    if (wt_profiler_add_tid(profiler, uint32_t(tid)) != 0)
        FAIL("wt_profiler_add_tid: " << wt_last_error());
    if (wt_profiler_start(profiler) != 0)
        FAIL("wt_profiler_start: " << wt_last_error());
    return profiler;
}

}  // namespace

TEST_CASE("C API: a pipe token pass, profiled, packed, formatted, drained") {
    constexpr int kRounds = 4;
    waketrace::test::PipeTokenPass work(kRounds, 10ms);
    wt_profiler* profiler = started_on(wt_profiler_opts{}, work.reader_tid());
    CHECK(wt_profiler_add_tid(profiler, 1) == -EBUSY);
    work.run();
    REQUIRE(wt_profiler_stop(profiler) == 0);

    wt_profile* profile = wt_profiler_results(profiler);
    REQUIRE(profile);
    uint64_t pipe_waits = 0;
    for (size_t i = 0; i < profile->nr_chains; ++i) {
        const wt_chain& chain = profile->chains[i];
        CHECK(chain.target.tid == uint32_t(work.reader_tid()));
        if (!stack_has(chain.kernel_stack, "pipe_read") || chain.wakers[0].context == WT_WAKER_PREEMPTED)
            continue;  // blocking waits only, not preemptions inside the read path
        REQUIRE(chain.nr_wakers == 1);
        CHECK(chain.wakers[0].context == WT_WAKER_TASK);
        CHECK(chain.wakers[0].task.tid == uint32_t(work.writer_tid()));
        CHECK(stack_has(chain.wakers[0].kernel_stack, "pipe_write"));
        CHECK(chain.total_ns == chain.blocked_ns + chain.runqueue_ns);
        CHECK(chain.user_stack.status == WT_STACK_OK);
        pipe_waits += chain.count;
    }
    // Every round, but for one whose end the host did not report (counted).
    CHECK(pipe_waits <= uint64_t(kRounds));
    CHECK(pipe_waits + profile->losses.missed_switch_ins >= uint64_t(kRounds));
    REQUIRE(profile->nr_threads == 1);
    CHECK(profile->threads[0].task.tid == uint32_t(work.reader_tid()));
    CHECK(profile->threads[0].count >= uint64_t(kRounds));
    CHECK(profile->stack_sample_percent == 100);

    // Source lines (0.2): the workload is built with -g, so its own frames
    // in the reader's user stack name their file and line.
    REQUIRE(profile->nr_chains > 0);  // the longest: a pipe wait
    const wt_stack& reader_user = profile->chains[profile->nr_chains - 1].user_stack;
    size_t frames_with_lines = 0;
    for (size_t i = 0; i < reader_user.nr_frames; ++i) {
        wt_source_location where{};
        where.sz = sizeof(where);
        REQUIRE(wt_frame_source(profile, &reader_user.frames[i], &where) == 0);
        if (where.file && std::strstr(where.file, "workloads.cpp") && where.line > 0)
            ++frames_with_lines;
    }
    CHECK(frames_with_lines > 0);
    wt_source_location too_small{};
    too_small.sz = sizeof(size_t);
    CHECK(wt_frame_source(profile, &reader_user.frames[0], &too_small) == -EINVAL);
    const wt_frame foreign{};
    wt_source_location where{};
    where.sz = sizeof(where);
    CHECK(wt_frame_source(profile, &foreign, &where) == -EINVAL);

    char* folded = wt_profile_format(profile, WT_FORMAT_FOLDED | WT_FORMAT_DELIMITER, WT_STACKS_BOTH);
    REQUIRE(folded);
    CHECK(std::string(folded).find("pipe_read;schedule;__schedule;--;try_to_wake_up") != std::string::npos);
    wt_string_free(folded);
    CHECK(wt_profile_mode(profile) == WT_MODE_OFFWAKE);
    CHECK(wt_profile_mode(nullptr) == -EINVAL);
    wt_profile_free(profile);

    wt_profile* drained = wt_profiler_drain(profiler);
    REQUIRE(drained);
    CHECK(drained->nr_chains > 0);
    wt_profile_free(drained);
    wt_profile* empty = wt_profiler_drain(profiler);
    REQUIRE(empty);
    CHECK(empty->nr_chains == 0);
    wt_profile_free(empty);
    wt_profiler_free(profiler);
}

TEST_CASE("C API: WT_OPT_OFFCPU keeps the target's stacks only, and formats as offcputime") {
    constexpr int kRounds = 4;
    waketrace::test::PipeTokenPass work(kRounds, 10ms);
    wt_profiler_opts opts{};
    opts.flags = WT_OPT_OFFCPU;
    wt_profiler* profiler = started_on(opts, work.reader_tid());
    work.run();
    REQUIRE(wt_profiler_stop(profiler) == 0);
    wt_profile* profile = wt_profiler_results(profiler);
    REQUIRE(profile);
    CHECK(wt_profile_mode(profile) == WT_MODE_OFFCPU);
    uint64_t pipe_waits = 0;
    for (size_t i = 0; i < profile->nr_chains; ++i) {
        const wt_chain& chain = profile->chains[i];
        CHECK(chain.nr_wakers == 0);
        CHECK(chain.blocked_ns + chain.runqueue_ns == 0);
        if (stack_has(chain.kernel_stack, "pipe_read"))
            pipe_waits += chain.count;
    }
    CHECK(pipe_waits + profile->losses.missed_switch_ins >= uint64_t(kRounds));
    char* text = wt_profile_format(profile, WT_FORMAT_TEXT, WT_STACKS_BOTH);
    REQUIRE(text);
    const std::string target_line = "    -                " + std::string(profile->chains[0].target.comm) +
                                    " (" + std::to_string(work.reader_tid()) + ")\n";
    CHECK(std::string(text).find(target_line) != std::string::npos);
    CHECK(std::string(text).find("waker:") == std::string::npos);
    wt_string_free(text);
    wt_profile_free(profile);
    wt_profiler_free(profiler);

    opts.flags = WT_OPT_OFFCPU | WT_OPT_WAKEUP;
    opts.sz = sizeof(opts);
    CHECK(wt_profiler_new(&opts) == nullptr);
    CHECK(std::string(wt_last_error()).find("offcpu and wakeup exclude each other") != std::string::npos);
}

TEST_CASE("C API: a chain map of two grows, and the profile says how often") {
    // Half of two is one chain: each look of the library's thread (every
    // 50 ms) finds the reader's pipe chain there and moves it.
    constexpr int kRounds = 10;
    waketrace::test::PipeTokenPass work(kRounds, 30ms);
    wt_profiler_opts opts{};
    opts.max_chains = 2;
    wt_profiler* profiler = started_on(opts, work.reader_tid());
    work.run();
    REQUIRE(wt_profiler_stop(profiler) == 0);
    wt_profile* profile = wt_profiler_results(profiler);
    REQUIRE(profile);
    uint64_t pipe_waits = 0;
    for (size_t i = 0; i < profile->nr_chains; ++i) {
        const wt_chain& chain = profile->chains[i];
        if (stack_has(chain.kernel_stack, "pipe_read") && chain.wakers[0].context == WT_WAKER_TASK)
            pipe_waits += chain.count;
    }
    INFO(profile->chain_map_moves << " moves, " << profile->losses.chain_map_full
                                  << " periods lost to a full map");
    CHECK(profile->chain_map_moves > 0);
    // Three new chains within one look would still fill it: counted, if so.
    CHECK(pipe_waits + profile->losses.chain_map_full + profile->losses.missed_switch_ins >=
          uint64_t(kRounds));
    CHECK(pipe_waits <= uint64_t(kRounds));
    wt_profile_free(profile);
    wt_profiler_free(profiler);
}
