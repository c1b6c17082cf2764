// SPDX-License-Identifier: LGPL-2.1-or-later
// Config::events: every off-CPU period as an event of its own. A pipe token
// pass of known length must arrive whole, in order, timed as the workload
// timed itself and with stacks naming the read and write paths; a reader
// that does not read loses events, counted, while the chains keep every
// period.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "chain_queries.hpp"
#include "profiler_engine.hpp"
#include "workloads.hpp"

namespace wt = waketrace;
using namespace std::chrono_literals;

namespace {

bool names(const std::vector<wt::Frame>& frames, std::string_view part) {
    return std::any_of(frames.begin(), frames.end(),
                       [&](const wt::Frame& frame) { return frame.symbol.find(part) != std::string::npos; });
}

// Runs `work` under `engine` while a thread of ours reads its events as they
// come, then reads what is left after stop().
template <typename Workload>
std::vector<wt::OffCpuEvent> events_while(wt::detail::ProfilerEngine& engine, Workload& work) {
    std::vector<wt::OffCpuEvent> events;
    std::atomic<bool> stopped{false};
    engine.start();
    std::thread consumer([&] {
        while (!stopped.load())
            engine.read_events(events, 256, 20);
    });
    work.run();
    engine.stop();
    stopped = true;
    consumer.join();
    while (engine.read_events(events, 256, 0) != 0) {
    }
    return events;
}

uint64_t count_of(const std::vector<const wt::WakeChain*>& chains) {
    uint64_t count = 0;
    for (const wt::WakeChain* chain : chains)
        count += chain->count;
    return count;
}

}  // namespace

TEST_CASE("events: every blocking read of a pipe token pass, in order, timed, with its stacks") {
    constexpr int kRounds = 20;
    constexpr auto kSleep = 5ms;
    wt::test::PipeTokenPass work(kRounds, kSleep);
    wt::Config config;
    config.tids = {uint32_t(work.reader_tid())};
    config.events = true;
    wt::detail::ProfilerEngine engine(config);
    const std::vector<wt::OffCpuEvent> events = events_while(engine, work);
    const wt::Profile profile = engine.results();
    INFO(wt::test::describe(profile.losses));
    CHECK(profile.losses.off_cpu_events == 0);
    CHECK(wt::test::losses_on_our_side(profile.losses) == 0);

    std::vector<const wt::OffCpuEvent*> reads;
    uint64_t previous_end = 0;
    for (const wt::OffCpuEvent& event : events) {
        CHECK(event.target.tid == uint32_t(work.reader_tid()));  // the tid filter held
        CHECK(event.target.tgid == uint32_t(getpid()));
        // One thread's periods follow each other: each ends before the next begins.
        CHECK(event.switch_out_ns >= previous_end);
        previous_end = event.switch_in_ns;
        CHECK(event.switch_out_ns <= event.switch_in_ns);
        if (event.waking_ns) {
            CHECK(event.switch_out_ns <= event.waking_ns);
            CHECK(event.waking_ns <= event.switch_in_ns);
        }
        if (event.waker_context != wt::WakerContext::preempted &&
            names(engine.event_frames(event.target_kernel_stack, event.target.tgid, true), "pipe_read"))
            reads.push_back(&event);
    }
    CHECK(wt::test::unaccounted_rounds(reads.size(), kRounds, profile.losses) == "");

    uint64_t blocked_ns = 0;
    for (const wt::OffCpuEvent* read : reads) {
        CHECK(read->state == 1);  // S: an interruptible sleep in pipe_read
        REQUIRE(read->waker_context == wt::WakerContext::task);
        CHECK(read->waker.tid == uint32_t(work.writer_tid()));
        CHECK(read->waker.tgid == uint32_t(getpid()));
        CHECK_FALSE(read->waker.comm.empty());
        CHECK(names(engine.event_frames(read->waker_kernel_stack, 0, true), "pipe_write"));
        // Named as a Profile's stacks are: without the tracing machinery.
        CHECK_FALSE(names(engine.event_frames(read->target_kernel_stack, 0, true), "bpf_prog_"));
        CHECK_FALSE(names(engine.event_frames(read->waker_kernel_stack, 0, true), "bpf_prog_"));
        // Frame pointers lose libc's caller, but the leaf is libc's read.
        const std::vector<wt::Frame> user =
            engine.event_frames(read->target_user_stack, read->target.tgid, false);
        REQUIRE(!user.empty());
        CHECK(user.front().module.find("libc") != std::string::npos);
        // The writer wrote only after sleeping once the reader was blocked.
        CHECK(read->blocked_ns() >= uint64_t(std::chrono::nanoseconds(kSleep).count() * 9 / 10));
        CHECK(read->total_ns() == read->blocked_ns() + read->runqueue_ns());
        blocked_ns += read->blocked_ns();
    }
    // The workload's own clocks: from each read() call to its byte's write.
    CHECK(double(blocked_ns) == Approx(double(work.reader_waited_ns())).epsilon(0.10));

    // The chains were summed all the same, from the same periods.
    std::vector<const wt::WakeChain*> read_chains;
    for (const wt::WakeChain* chain : wt::test::chains_of_target(profile, uint32_t(work.reader_tid())))
        if (wt::test::has_frame(chain->kernel_stack, "pipe_read") &&
            chain->wakers[0].context != wt::WakerContext::preempted)
            read_chains.push_back(chain);
    CHECK(count_of(read_chains) == reads.size());
    CHECK(wt::test::sum_blocked_ns(read_chains) == blocked_ns);
}

TEST_CASE("events: a reader that stops reading loses events, counted; the chains keep every period") {
    constexpr int kRounds = 400;
    wt::test::PipeTokenPass work(kRounds, 0ms);
    wt::Config config;
    config.tids = {uint32_t(work.reader_tid()), uint32_t(work.writer_tid())};
    config.events = true;
    config.events_ring_bytes = uint32_t(sysconf(_SC_PAGESIZE));  // a few dozen events
    wt::detail::ProfilerEngine engine(config);
    engine.start();
    work.run();  // nobody reads meanwhile
    engine.stop();
    std::vector<wt::OffCpuEvent> events;
    while (engine.read_events(events, 1024, 0) != 0) {
    }
    const wt::Profile profile = engine.results();
    INFO(wt::test::describe(profile.losses));
    uint64_t periods = 0;
    for (const wt::WakeChain& chain : profile.chains)
        periods += chain.count;
    CHECK(periods >= uint64_t(kRounds));
    CHECK(profile.losses.off_cpu_events > 0);
    // Each period went into the chains, and into the ring or the count of
    // events lost; the ring held what it could.
    CHECK(events.size() + profile.losses.off_cpu_events == periods);
    CHECK(!events.empty());
}

TEST_CASE("events: an interrupt waker is named as such, without a task") {
    constexpr int kRounds = 10;
    wt::test::NanosleepLoop work(kRounds, 2000us);
    wt::Config config;
    config.tids = {uint32_t(work.sleeper_tid())};
    config.events = true;
    wt::detail::ProfilerEngine engine(config);
    const std::vector<wt::OffCpuEvent> events = events_while(engine, work);
    const wt::Profile profile = engine.results();
    INFO(wt::test::describe(profile.losses));
    uint64_t sleeps = 0;
    for (const wt::OffCpuEvent& event : events) {
        if (!names(engine.event_frames(event.target_kernel_stack, event.target.tgid, true), "nanosleep") ||
            event.waker_context == wt::WakerContext::preempted)
            continue;
        ++sleeps;
        CHECK(event.waker_context == wt::WakerContext::hardirq);
        CHECK(event.waker.tid == 0);
        CHECK(event.waker_user_stack < 0);
        CHECK(names(engine.event_frames(event.waker_kernel_stack, 0, true), "hrtimer"));
    }
    CHECK(wt::test::unaccounted_rounds(sleeps, kRounds, profile.losses) == "");
}

TEST_CASE("events: refused without Config::events, and with --dwarf") {
    wt::Config config;
    wt::detail::ProfilerEngine engine(config);
    std::vector<wt::OffCpuEvent> events;
    CHECK_THROWS_AS(engine.read_events(events, 1, 0), wt::Error);
    CHECK(engine.events_fd() == -1);
    config.events = true;
    config.dwarf_stack_bytes = 8192;
    CHECK_THROWS_AS(wt::detail::ProfilerEngine(config), wt::Error);
}

TEST_CASE("events: realtime_offset_ns maps the monotonic clock to the wall clock") {
    timespec monotonic{}, realtime{};
    clock_gettime(CLOCK_MONOTONIC, &monotonic);
    const int64_t offset = wt::realtime_offset_ns();
    clock_gettime(CLOCK_REALTIME, &realtime);
    const int64_t mono_ns = int64_t(monotonic.tv_sec) * 1'000'000'000 + monotonic.tv_nsec;
    const int64_t real_ns = int64_t(realtime.tv_sec) * 1'000'000'000 + realtime.tv_nsec;
    CHECK(std::abs(mono_ns + offset - real_ns) < 50'000'000);
}
