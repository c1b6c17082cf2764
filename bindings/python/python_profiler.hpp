// SPDX-License-Identifier: LGPL-2.1-or-later
//
// What waketrace.Profiler wraps: the engine behind two locks, so that Python
// threads, which run the engine with the GIL released, take turns as the
// engine asks. profiler.cpp binds the profile side, events.cpp the events.
#pragma once

#include <pybind11/pybind11.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "captured_profile.hpp"
#include "profiler_engine.hpp"

namespace waketrace::python {

class PythonProfiler {
public:
    explicit PythonProfiler(Config config);
    // Python frees this with the GIL held, but the engine's end joins its
    // threads, and one of them may be waiting for the GIL to log: let go of
    // it first.
    ~PythonProfiler();
    PythonProfiler(const PythonProfiler&) = delete;
    PythonProfiler& operator=(const PythonProfiler&) = delete;

    void start();
    void stop();
    bool running();
    CapturedProfile results();
    CapturedProfile drain();

    // The engine's event calls, each with the GIL released. They take only
    // the events lock, so that an event reader waiting in one thread does
    // not hold up stop() or results() in another (the engine allows one
    // such reader beside its user, except during start() and destruction,
    // which take both locks).
    size_t read_events(std::vector<OffCpuEvent>& out, size_t max, int timeout_ms);
    int events_fd();
    std::vector<Frame> event_frames(StackId id, uint32_t tgid, bool kernel);
    std::string perfetto_trace(std::vector<OffCpuEvent> events);
    // running, without waiting for mutex_ (results() may hold it
    // for long): for the event readers' "stopped and empty" test. Turns
    // false only once the engine has detached, so no event can follow.
    bool attached() const noexcept { return attached_.load(); }

private:
    // Drop the GIL before waiting for a lock: the log callback takes the GIL
    // while a lock is held, so a waiter holding it would deadlock.
    template <typename Call>
    auto without_gil(Call call) {
        pybind11::gil_scoped_release gil_released;
        std::lock_guard<std::mutex> one_caller(mutex_);
        return call(*profiler_);
    }
    template <typename Call>
    auto events_without_gil(Call call) {
        pybind11::gil_scoped_release gil_released;
        std::lock_guard<std::mutex> one_reader(events_mutex_);
        return call(*profiler_);
    }

    const StackKinds stacks_;
    std::atomic<bool> attached_{false};
    // A caller that takes both takes them in this order.
    std::mutex mutex_;         // the engine's one user
    std::mutex events_mutex_;  // the one reader of events beside it
    std::unique_ptr<detail::ProfilerEngine> profiler_;
};

}  // namespace waketrace::python
