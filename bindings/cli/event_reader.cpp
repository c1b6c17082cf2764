// SPDX-License-Identifier: LGPL-2.1-or-later
#include "event_reader.hpp"

#include "format/format.hpp"
#include "format/perfetto_trace.hpp"  // blocked_slice_name

namespace waketrace::cli {
namespace {

constexpr size_t kBatch = 4096;
constexpr int kWaitMs = 100;

}  // namespace

EventReader::EventReader(detail::ProfilerEngine& profiler, ReportOutput* lines, bool keep,
                         FlightRecorder* recorder)
    : profiler_(profiler), lines_(lines), keep_(keep), recorder_(recorder), thread_([this] { run(); }) {}

EventReader::~EventReader() {
    stopping_ = true;
    if (thread_.joinable())
        thread_.join();
}

void EventReader::run() noexcept {
    try {
        std::vector<OffCpuEvent> batch;
        while (!stopping_.load()) {
            profiler_.read_events(batch, kBatch, kWaitMs);
            take(batch);
        }
    } catch (...) {
        failure_ = std::current_exception();
    }
}

void EventReader::take(std::vector<OffCpuEvent>& batch) {
    for (OffCpuEvent& event : batch) {
        if (recorder_)
            recorder_->add(event);
        if (lines_) {
            const std::vector<Frame> kernel = profiler_.event_frames(event.target_kernel_stack, 0, true);
            const std::vector<Frame> user =
                profiler_.event_frames(event.target_user_stack, event.target.tgid, false);
            lines_->write(format_event_line(event, detail::blocked_slice_name(kernel, user)));
        }
        if (!keep_)
            continue;
        if (kept_.size() < kMaxKeptEvents)
            kept_.push_back(std::move(event));
        else
            ++not_kept_;
    }
    batch.clear();
    if (recorder_)
        recorder_->settle(false);
}

void EventReader::finish() {
    stopping_ = true;
    if (thread_.joinable())
        thread_.join();
    if (failure_)
        std::rethrow_exception(failure_);
    std::vector<OffCpuEvent> batch;
    while (profiler_.read_events(batch, kBatch, 0) != 0)
        take(batch);
    if (recorder_)
        recorder_->settle(true);
}

std::string EventReader::perfetto_trace() { return profiler_.perfetto_trace(std::move(kept_)); }

}  // namespace waketrace::cli
