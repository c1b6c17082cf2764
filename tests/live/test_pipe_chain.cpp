// SPDX-License-Identifier: LGPL-2.1-or-later
// Two threads pass a token through a pipe with known sleeps before each
// write: the profiler must blame the writer, in the pipe write path, for the
// reader's time blocked in the pipe read path, and measure that time.
#include <catch2/catch.hpp>
#include <unistd.h>

#include "chain_queries.hpp"
#include "profile_while.hpp"
#include "workloads.hpp"

namespace wt = waketrace;
using namespace std::chrono_literals;

namespace {

bool is_tracing_frame(const wt::Frame& frame) {
    for (const char* prefix : {"bpf_prog_", "bpf_trace_run", "__traceiter_", "__bpf_trace_"})
        if (frame.symbol.rfind(prefix, 0) == 0)
            return true;
    return false;
}

}  // namespace

TEST_CASE("pipe token pass: reader blocked in pipe read, woken by the writer in pipe write") {
    const wt::AttachMode mode = GENERATE(wt::AttachMode::automatic, wt::AttachMode::raw_tp);
    CAPTURE(int(mode));
    constexpr int kRounds = 10;
    wt::test::PipeTokenPass work(kRounds, 20ms);
    wt::Config config;
    config.tids = {uint32_t(work.reader_tid())};
    config.attach = mode;
    const wt::Profile profile = wt::test::profile_while(config, work);

    for (const wt::WakeChain& chain : profile.chains)
        CHECK(chain.target.tid == uint32_t(work.reader_tid()));  // the tid filter held

    std::vector<const wt::WakeChain*> pipe_chains;
    for (const wt::WakeChain* chain : wt::test::chains_of_target(profile, work.reader_tid()))
        // Blocking waits only: a busy machine may also preempt the reader
        // inside the read path, and those periods have no waker.
        if (wt::test::has_frame(chain->kernel_stack, "pipe_read") &&
            chain->wakers[0].context != wt::WakerContext::preempted)
            pipe_chains.push_back(chain);
    REQUIRE(!pipe_chains.empty());

    uint64_t count = 0;
    for (const wt::WakeChain* chain : pipe_chains) {
        REQUIRE(chain->wakers.size() == 1);
        const wt::Waker& waker = chain->wakers[0];
        CHECK(waker.context == wt::WakerContext::task);
        CHECK(waker.task.tid == uint32_t(work.writer_tid()));
        CHECK(waker.task.tgid == uint32_t(getpid()));
        CHECK(chain->target.tgid == uint32_t(getpid()));
        CHECK(wt::test::has_frame(waker.kernel_stack, "pipe_write"));
        // Frame pointers lose libc's caller, but the leaf is libc's read/write.
        REQUIRE(chain->user_stack.status == wt::StackStatus::ok);
        REQUIRE(!chain->user_stack.frames.empty());
        CHECK(chain->user_stack.frames.front().module.find("libc") != std::string::npos);
        CHECK(chain->total_ns == chain->blocked_ns + chain->runqueue_ns);
        CHECK(chain->max_ns <= chain->total_ns);
        for (const wt::Frame& frame : chain->kernel_stack.frames)
            CHECK_FALSE(is_tracing_frame(frame));
        for (const wt::Frame& frame : waker.kernel_stack.frames)
            CHECK_FALSE(is_tracing_frame(frame));
        count += chain->count;
    }
    INFO(wt::test::describe_chains(profile, uint32_t(work.reader_tid())));
    CHECK(wt::test::unaccounted_rounds(count, kRounds, profile.losses) == "");
    const double blocked = double(wt::test::sum_blocked_ns(pipe_chains));
    CHECK(blocked == Approx(double(work.reader_waited_ns())).epsilon(0.05));
    INFO(wt::test::describe(profile.losses));
    CHECK(wt::test::losses_on_our_side(profile.losses) == 0);
}

TEST_CASE("no_waker_user_stacks: the writer still wakes the reader in pipe write, without its user stack") {
    const bool no_waker_user_stacks = GENERATE(false, true);
    const uint32_t dwarf_stack_bytes = GENERATE(0u, 8192u);
    CAPTURE(no_waker_user_stacks, dwarf_stack_bytes);
    constexpr int kRounds = 10;
    wt::test::PipeTokenPass work(kRounds, 20ms);
    wt::Config config;
    config.tids = {uint32_t(work.reader_tid())};
    config.no_waker_user_stacks = no_waker_user_stacks;
    config.dwarf_stack_bytes = dwarf_stack_bytes;
    const wt::Profile profile = wt::test::profile_while(config, work);

    uint64_t count = 0;
    for (const wt::WakeChain* chain : wt::test::chains_of_target(profile, work.reader_tid())) {
        if (!wt::test::has_frame(chain->kernel_stack, "pipe_read") ||
            chain->wakers[0].context == wt::WakerContext::preempted)
            continue;
        const wt::Waker& waker = chain->wakers[0];
        CHECK(waker.context == wt::WakerContext::task);
        CHECK(waker.task.tid == uint32_t(work.writer_tid()));
        CHECK(wt::test::has_frame(waker.kernel_stack, "pipe_write"));
        // The target's user stack is taken either way; the waker's only without the option.
        CHECK(chain->user_stack.status == wt::StackStatus::ok);
        if (no_waker_user_stacks) {
            CHECK(waker.user_stack.status == wt::StackStatus::not_captured);
            CHECK(waker.user_stack.frames.empty());
        } else {
            CHECK(waker.user_stack.status == wt::StackStatus::ok);
            CHECK(!waker.user_stack.frames.empty());
        }
        count += chain->count;
    }
    INFO(wt::test::describe_chains(profile, uint32_t(work.reader_tid())));
    CHECK(wt::test::unaccounted_rounds(count, kRounds, profile.losses) == "");
    INFO(wt::test::describe(profile.losses));
    CHECK(wt::test::losses_on_our_side(profile.losses) == 0);
}
