// SPDX-License-Identifier: LGPL-2.1-or-later
// waketrace --events and --perfetto: a thread that reads the profiler's
// events while it traces, printing each as a line (--events) and keeping
// them for the Perfetto trace written at the end (--perfetto).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "flight_recorder.hpp"
#include "profiler_engine.hpp"
#include "report_output.hpp"
#include "waketrace/events.hpp"

namespace waketrace::cli {

class EventReader {
public:
    // Events a Perfetto trace keeps (about 100 bytes each in memory): past
    // them, a run's later events are counted, not kept.
    static constexpr size_t kMaxKeptEvents = size_t(1) << 22;

    // Starts reading `profiler`'s events (it was started with
    // Config::events). `lines`: where to print each as it comes, or null;
    // `keep`: keep them for perfetto_trace(); `recorder`: give each to it
    // (--trigger-blocked), or null.
    EventReader(detail::ProfilerEngine& profiler, ReportOutput* lines, bool keep, FlightRecorder* recorder);
    ~EventReader();
    EventReader(const EventReader&) = delete;
    EventReader& operator=(const EventReader&) = delete;

    // After the profiler's stop(): reads what is left and ends the thread.
    // Throws what the reading thread met (a write error, say).
    void finish();
    // The kept events as a Perfetto trace (after finish()).
    std::string perfetto_trace();
    uint64_t events_not_kept() const { return not_kept_; }
    size_t events_kept() const { return kept_.size(); }

private:
    void take(std::vector<OffCpuEvent>& batch);
    void run() noexcept;

    detail::ProfilerEngine& profiler_;
    ReportOutput* lines_;
    bool keep_;
    FlightRecorder* recorder_;
    std::vector<OffCpuEvent> kept_;
    uint64_t not_kept_ = 0;
    std::atomic<bool> stopping_{false};
    std::exception_ptr failure_;
    std::thread thread_;
};

}  // namespace waketrace::cli
