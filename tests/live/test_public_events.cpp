// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The event stream through the C ABI: the installed C++ layer's
// read_events() and, as an event loop would, poll() on the events' fd with
// wt_profiler_read_events() underneath. The pipe token pass must come through as the
// engine's own test (test_events.cpp) sees it: every read, in order, timed
// as the workload timed itself, with its stacks named. Linked against
// libwaketrace.so alone.
#include <catch2/catch.hpp>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "chain_queries.hpp"
#include "waketrace/profiler.hpp"
#include "workloads.hpp"

namespace wt = waketrace;
using namespace std::chrono_literals;

namespace {

constexpr int kRounds = 20;
constexpr auto kSleep = 5ms;

bool names(const wt::Stack& stack, std::string_view part) {
    return std::any_of(stack.frames.begin(), stack.frames.end(),
                       [&](const wt::Frame& frame) { return frame.symbol.find(part) != std::string::npos; });
}

// The checks of test_events.cpp on what one interface delivered.
void check_pipe_reads(const std::vector<wt::OffCpuEvent>& events, const wt::test::PipeTokenPass& work,
                      const wt::Losses& losses, wt::Profiler& profiler) {
    INFO(wt::test::describe(losses));
    CHECK(losses.off_cpu_events == 0);
    uint64_t reads = 0;
    uint64_t blocked_ns = 0;
    uint64_t previous_end = 0;
    for (const wt::OffCpuEvent& event : events) {
        CHECK(event.target.tid == uint32_t(work.reader_tid()));
        CHECK(event.switch_out_ns >= previous_end);
        previous_end = event.switch_in_ns;
        if (event.waker_context == wt::WakerContext::preempted ||
            !names(profiler.event_stack(event.target_kernel_stack, event.target.tgid, true), "pipe_read"))
            continue;
        ++reads;
        CHECK(event.switch_out_ns <= event.waking_ns);
        CHECK(event.waking_ns <= event.switch_in_ns);
        CHECK(event.state == 1);
        REQUIRE(event.waker_context == wt::WakerContext::task);
        CHECK(event.waker.tid == uint32_t(work.writer_tid()));
        CHECK(names(profiler.event_stack(event.waker_kernel_stack, 0, true), "pipe_write"));
        const wt::Stack user = profiler.event_stack(event.target_user_stack, event.target.tgid, false);
        REQUIRE(user.status == wt::StackStatus::ok);
        REQUIRE(!user.frames.empty());
        CHECK(user.frames.front().module.find("libc") != std::string::npos);
        CHECK(event.blocked_ns() >= uint64_t(std::chrono::nanoseconds(kSleep).count() * 9 / 10));
        blocked_ns += event.blocked_ns();
    }
    CHECK(wt::test::unaccounted_rounds(reads, kRounds, losses) == "");
    CHECK(double(blocked_ns) == Approx(double(work.reader_waited_ns())).epsilon(0.10));
}

wt::Config events_of(const wt::test::PipeTokenPass& work) {
    wt::Config config;
    config.tids = {uint32_t(work.reader_tid())};
    config.events = true;
    return config;
}

}  // namespace

TEST_CASE("public API events: read_events() from a thread of its own gets every pipe read") {
    wt::test::PipeTokenPass work(kRounds, kSleep);
    wt::Profiler profiler(events_of(work));
    profiler.start();
    std::vector<wt::OffCpuEvent> events;
    std::atomic<bool> stopped{false};
    std::thread consumer([&] {
        while (!stopped.load())
            for (wt::OffCpuEvent& event : profiler.read_events(64, 20))
                events.push_back(std::move(event));
    });
    work.run();
    profiler.stop();
    stopped = true;
    consumer.join();
    for (std::vector<wt::OffCpuEvent> rest; !(rest = profiler.read_events(64, 0)).empty();)
        events.insert(events.end(), rest.begin(), rest.end());
    check_pipe_reads(events, work, profiler.results().profile().losses, profiler);
    // As a Perfetto trace (tests/tool reads one with Perfetto's schema):
    // protobuf keeps strings as they are, so the names are in the bytes.
    const std::string trace = profiler.perfetto_trace(events);
    CHECK(trace.size() > events.size() * 20);
    CHECK(trace.find("pipe_read") != std::string::npos);
    CHECK(trace.find("wakes ") != std::string::npos);
}

TEST_CASE("public API events: an event loop polls events_fd() and reads what is ready") {
    wt::test::PipeTokenPass work(kRounds, kSleep);
    wt::Profiler profiler(events_of(work));
    profiler.start();
    const int fd = profiler.events_fd();
    REQUIRE(fd >= 0);
    std::thread workload([&] { work.run(); });
    // What an event loop does (events_fd() and read_events() are
    // wt_profiler_events_fd() and wt_profiler_read_events()).
    std::vector<wt::OffCpuEvent> events;
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < until) {
        pollfd ready{fd, POLLIN, 0};
        poll(&ready, 1, 50);  // a wake-up per batch; the timeout takes the rest
        const std::vector<wt::OffCpuEvent> read = profiler.read_events(16, 0);
        events.insert(events.end(), read.begin(), read.end());
        if (read.empty() && std::count_if(events.begin(), events.end(), [](const wt::OffCpuEvent& event) {
                                return event.waker_context == wt::WakerContext::task;
                            }) >= kRounds)
            break;
    }
    workload.join();
    profiler.stop();
    for (std::vector<wt::OffCpuEvent> rest; !(rest = profiler.read_events(64, 0)).empty();)
        events.insert(events.end(), rest.begin(), rest.end());
    check_pipe_reads(events, work, profiler.results().profile().losses, profiler);
}

TEST_CASE("C API events: argument checks, stack statuses and the clock offset") {
    wt_profiler_opts opts{};
    opts.sz = sizeof(opts);
    wt_profiler* plain = wt_profiler_new(&opts);
    REQUIRE(plain);
    wt_event event{};
    CHECK(wt_profiler_read_events(plain, &event, sizeof(event), 1, 0) == -EINVAL);  // never started
    CHECK(wt_profiler_events_fd(plain) == -EINVAL);
    CHECK(wt_profiler_read_events(nullptr, &event, sizeof(event), 1, 0) == -EINVAL);
    wt_profiler_free(plain);
    CHECK(wt_stack_id_status(5) == WT_STACK_OK);
    CHECK(wt_stack_id_status(-1000) == WT_STACK_NOT_CAPTURED);
    CHECK(wt_stack_id_status(-1001) == WT_STACK_IRQ_DROPPED);
    CHECK(wt_stack_id_status(-ENOMEM) == WT_STACK_MAP_FULL);
    CHECK(wt_stack_id_status(-EEXIST) == WT_STACK_COLLISION);
    CHECK(wt_stack_id_status(-EFAULT) == WT_STACK_ERROR);
    const int64_t offset = wt_realtime_offset_ns();
    CHECK(offset == Approx(double(wt::realtime_offset_ns())).margin(50e6));
}
