// SPDX-License-Identifier: LGPL-2.1-or-later
// waketrace --trigger-blocked MS: a flight recorder. It keeps the last
// seconds of events (EventWindow) and, when a period off CPU for MS or more
// ends (marked so by the kernel), writes what led to it: the stall, its wake
// chain (who woke it, what that waker had been waiting for, ...) with
// stacks, and the window's events, as text and as a Perfetto trace. One
// stall often trips the trigger several times (the thread that slept and
// the threads that waited for it): triggers that end within a short settle
// time are one incident, written once, headed by the wait the others
// explain. At most kMaxDumpsPerMinute incidents a minute are written; the
// rest are counted.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "assemble/event_window.hpp"
#include "profiler_engine.hpp"
#include "waketrace/events.hpp"

namespace waketrace::cli {

class FlightRecorder {
public:
    static constexpr int kMaxDumpsPerMinute = 6;
    static constexpr std::chrono::milliseconds kSettle{200};
    static constexpr size_t kMaxWindowEvents = size_t(1) << 20;

    // Writes incidents to DIR/waketrace-stall-N.txt and .pftrace.
    FlightRecorder(detail::ProfilerEngine& profiler, std::string directory, double window_s);

    // Called with every event, in the order read (from the reading thread).
    void add(const OffCpuEvent& event);
    // Called after each read, and at the end (`final`: nothing more comes):
    // writes an incident whose settle time has passed.
    void settle(bool final);

    uint64_t incidents_written() const { return written_; }
    uint64_t incidents_skipped() const { return skipped_; }

private:
    using Clock = std::chrono::steady_clock;
    void write_incident();
    std::string stacks_text(StackId kernel, StackId user, uint32_t tgid) const;
    std::string blocked_in(const OffCpuEvent& event) const;

    detail::ProfilerEngine& profiler_;
    std::string directory_;
    detail::EventWindow window_;
    std::vector<OffCpuEvent> pending_;  // the triggers of the incident settling
    Clock::time_point first_trigger_{};
    std::vector<Clock::time_point> recent_dumps_;
    uint64_t written_ = 0;
    uint64_t skipped_ = 0;
};

}  // namespace waketrace::cli
