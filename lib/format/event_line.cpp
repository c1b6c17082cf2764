// SPDX-License-Identifier: LGPL-2.1-or-later
// One off-CPU event as a line of text (waketrace --events).
#include <fmt/format.h>

#include "format/format.hpp"

namespace waketrace {
namespace {

std::string task_label(const Task& task) { return fmt::format("{}-{}", thread_name(task.comm), task.tid); }

std::string state_label(uint32_t state) {
    switch (state) {
    case 0: return "R";  // preempted while runnable
    case 1: return "S";
    case 2: return "D";
    default: return fmt::format("{:#x}", state);
    }
}

std::string waker_label(const OffCpuEvent& event) {
    switch (event.waker_context) {
    case WakerContext::task:
        return task_label(event.waker) + (event.waker_outside_filters ? " (untraced)" : "");
    case WakerContext::preempted: return "[preempted]";
    case WakerContext::unseen: return "[unseen]";
    default: return fmt::format("[{}]", to_string(event.waker_context));
    }
}

}  // namespace

std::string format_event_line(const OffCpuEvent& event, std::string_view blocked_in) {
    return fmt::format("{}.{:06} {} pid={} state={} off_us={} blocked_us={} runqueue_us={} in={} waker={}\n",
                       event.switch_out_ns / 1'000'000'000, event.switch_out_ns % 1'000'000'000 / 1000,
                       task_label(event.target), event.target.tgid, state_label(event.state),
                       event.total_ns() / 1000, event.blocked_ns() / 1000, event.runqueue_ns() / 1000,
                       blocked_in.empty() ? "-" : blocked_in, waker_label(event));
}

}  // namespace waketrace
