// SPDX-License-Identifier: LGPL-2.1-or-later
#include "assemble/event_window.hpp"

#include <algorithm>

namespace waketrace::detail {

EventWindow::EventWindow(uint64_t span_ns, size_t max_events)
    : span_ns_(span_ns), max_events_(std::max<size_t>(max_events, 1)) {}

void EventWindow::add(const OffCpuEvent& event) {
    events_.push_back(event);
    // Events come per CPU batch, not strictly in time: the newest end seen
    // so far bounds the window.
    const uint64_t newest = event.switch_in_ns;
    while (!events_.empty() && events_.front().switch_in_ns + span_ns_ < newest)
        events_.pop_front();
    while (events_.size() > max_events_) {
        events_.pop_front();
        ++evicted_early_;
    }
}

const OffCpuEvent* EventWindow::last_period_of(uint32_t tid, uint64_t at_ns) const {
    const OffCpuEvent* last = nullptr;
    for (const OffCpuEvent& event : events_)
        if (event.target.tid == tid && event.switch_in_ns <= at_ns &&
            (!last || event.switch_in_ns > last->switch_in_ns))
            last = &event;
    return last;
}

std::vector<OffCpuEvent> EventWindow::wake_chain(const OffCpuEvent& stall, size_t depth) const {
    std::vector<OffCpuEvent> chain;
    const uint64_t stall_began = stall.switch_out_ns;
    const OffCpuEvent* level = &stall;
    while (chain.size() < depth && level->waker_context == WakerContext::task && level->waking_ns) {
        // Where the waker was before it ran to wake `level`: its last
        // period before the waking. It was waiting during the stall if
        // that period ended after the stall began.
        const OffCpuEvent* waker = last_period_of(level->waker.tid, level->waking_ns);
        if (!waker || waker->switch_in_ns <= stall_began || waker->waker_context == WakerContext::preempted)
            break;
        chain.push_back(*waker);
        level = &chain.back();
    }
    return chain;
}

}  // namespace waketrace::detail
