// SPDX-License-Identifier: LGPL-2.1-or-later
// A flight recorder's memory: the events of the last few seconds (bounded
// in time and in count), and, for an event that tripped the trigger
// (OffCpuEvent::triggered), its wake chain as the window shows it: who woke
// the stalled thread, and, while that waker had itself been waiting during
// the stall, who woke the waker, and so on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "waketrace/events.hpp"

namespace waketrace::detail {

class EventWindow {
public:
    // Keeps the events that ended within `span_ns` of the latest one, at
    // most `max_events` of them (the oldest go first).
    EventWindow(uint64_t span_ns, size_t max_events);

    // Events in the order they were read (each thread's in time order).
    void add(const OffCpuEvent& event);
    // What the window holds, oldest first.
    std::vector<OffCpuEvent> events() const { return {events_.begin(), events_.end()}; }
    size_t size() const { return events_.size(); }
    // Events the count bound pushed out before their time was up.
    uint64_t evicted_early() const { return evicted_early_; }

    // The waits behind `stall`: element 0 is the period of its waker that
    // ended last before the waking (what the waker had been waiting for),
    // when that overlapped the stall; element i + 1 the same for element
    // i's waker, within element i's wait; at most `depth` levels. Empty
    // when the waker was an interrupt, or was running through the stall,
    // or its periods are not in the window (not traced).
    std::vector<OffCpuEvent> wake_chain(const OffCpuEvent& stall, size_t depth = 8) const;

private:
    // The period of `tid` that ended last at or before `at_ns`.
    const OffCpuEvent* last_period_of(uint32_t tid, uint64_t at_ns) const;

    uint64_t span_ns_;
    size_t max_events_;
    std::deque<OffCpuEvent> events_;
    uint64_t evicted_early_ = 0;
};

}  // namespace waketrace::detail
