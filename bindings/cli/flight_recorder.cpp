// SPDX-License-Identifier: LGPL-2.1-or-later
#include "flight_recorder.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <utility>

#include "format/format.hpp"
#include "format/perfetto_trace.hpp"
#include "report_output.hpp"

namespace waketrace::cli {
namespace {

uint64_t monotonic_ns() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return uint64_t(now.tv_sec) * 1'000'000'000u + uint64_t(now.tv_nsec);
}

std::string ms(uint64_t ns) { return fmt::format("{:.1f} ms", double(ns) / 1e6); }

std::string waker_text(const OffCpuEvent& event) {
    if (event.waker_context == WakerContext::task)
        return fmt::format("{}-{}", thread_name(event.waker.comm), event.waker.tid);
    return fmt::format("[{}]", to_string(event.waker_context));
}

}  // namespace

FlightRecorder::FlightRecorder(detail::ProfilerEngine& profiler, std::string directory, double window_s)
    : profiler_(profiler),
      directory_(std::move(directory)),
      window_(uint64_t(window_s * 1e9), kMaxWindowEvents) {}

void FlightRecorder::add(const OffCpuEvent& event) {
    window_.add(event);
    if (!event.triggered)
        return;
    if (pending_.empty())
        first_trigger_ = Clock::now();
    pending_.push_back(event);
}

void FlightRecorder::settle(bool final) {
    if (pending_.empty() || (!final && Clock::now() - first_trigger_ < kSettle))
        return;
    const Clock::time_point now = Clock::now();
    recent_dumps_.erase(
        std::remove_if(recent_dumps_.begin(), recent_dumps_.end(),
                       [&](Clock::time_point at) { return now - at > std::chrono::minutes(1); }),
        recent_dumps_.end());
    if (recent_dumps_.size() >= size_t(kMaxDumpsPerMinute)) {
        ++skipped_;
    } else {
        recent_dumps_.push_back(now);
        write_incident();
    }
    pending_.clear();
}

// Innermost first, the kernel's frames above the user's, as offwaketime
// prints a stack.
std::string FlightRecorder::stacks_text(StackId kernel, StackId user, uint32_t tgid) const {
    std::string text;
    for (const auto& [id, is_kernel] : {std::pair{kernel, true}, std::pair{user, false}}) {
        if (id < 0 && stack_status(id) != StackStatus::not_captured)
            text += fmt::format("      [{} stack {}]\n", is_kernel ? "kernel" : "user",
                                to_string(stack_status(id)));
        for (const Frame& frame : profiler_.event_frames(id, tgid, is_kernel))
            text += fmt::format("      {}\n", frame_name(frame));
    }
    return text;
}

std::string FlightRecorder::blocked_in(const OffCpuEvent& event) const {
    return detail::blocked_slice_name(
        profiler_.event_frames(event.target_kernel_stack, 0, true),
        profiler_.event_frames(event.target_user_stack, event.target.tgid, false));
}

void FlightRecorder::write_incident() {
    // The incident's head: the wait whose chain explains the most of the
    // others (the thread that waited for the threads that waited), then the
    // longest.
    const OffCpuEvent* head = &pending_.front();
    size_t head_chain = 0;
    for (const OffCpuEvent& stall : pending_) {
        const size_t chain = window_.wake_chain(stall).size();
        if (chain > head_chain || (chain == head_chain && stall.total_ns() > head->total_ns())) {
            head = &stall;
            head_chain = chain;
        }
    }
    const OffCpuEvent stall = *head;
    const std::vector<OffCpuEvent> chain = window_.wake_chain(stall);
    const std::vector<OffCpuEvent> events = window_.events();
    const uint64_t number = written_ + 1;
    const std::string base = fmt::format("{}/waketrace-stall-{}", directory_, number);

    std::string text = fmt::format(
        "stall {}: {}-{} pid={} off CPU {} (blocked {}, runqueue {}) in {}, woken by {}\n", number,
        thread_name(stall.target.comm), stall.target.tid, stall.target.tgid, ms(stall.total_ns()),
        ms(stall.blocked_ns()), ms(stall.runqueue_ns()), blocked_in(stall), waker_text(stall));
    text += fmt::format("  switch_out_ns={} waking_ns={} switch_in_ns={}\n", stall.switch_out_ns,
                        stall.waking_ns, stall.switch_in_ns);
    text += "    where it blocked:\n" +
            stacks_text(stall.target_kernel_stack, stall.target_user_stack, stall.target.tgid);
    text += "    where it was woken:\n" +
            stacks_text(stall.waker_kernel_stack, stall.waker_user_stack, stall.waker.tgid);
    text += fmt::format("wake chain: {} level{}\n", chain.size(), chain.size() == 1 ? "" : "s");
    for (size_t i = 0; i < chain.size(); ++i) {
        const OffCpuEvent& level = chain[i];
        text += fmt::format("  {}. {}-{} had been off CPU {} (blocked {}) in {}, woken by {}\n", i + 1,
                            thread_name(level.target.comm), level.target.tid, ms(level.total_ns()),
                            ms(level.blocked_ns()), blocked_in(level), waker_text(level));
        text += fmt::format("     switch_out_ns={} waking_ns={} switch_in_ns={}\n", level.switch_out_ns,
                            level.waking_ns, level.switch_in_ns);
        text += "    where it blocked:\n" +
                stacks_text(level.target_kernel_stack, level.target_user_stack, level.target.tgid);
    }
    text += fmt::format("triggers in this incident: {}\n", pending_.size());
    text += fmt::format("window: {} events, in {}.pftrace\n", events.size(), base);
    for (const OffCpuEvent& event : events)
        text += format_event_line(event, blocked_in(event));

    ReportOutput perfetto(base + ".pftrace");
    perfetto.write(profiler_.perfetto_trace(events));
    perfetto.commit();
    // Last, so that a reader of the text finds the trace already there.
    text += fmt::format("written_ns={}\n", monotonic_ns());
    ReportOutput report(base + ".txt");
    report.write(text);
    report.commit();
    ++written_;
    fmt::print(stderr, "waketrace: stall {}: {}-{} off CPU {}, wake chain of {}: wrote {}.txt and .pftrace\n",
               number, thread_name(stall.target.comm), stall.target.tid, ms(stall.total_ns()), chain.size(),
               base);
}

}  // namespace waketrace::cli
