// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The library's own threads, for the whole process. Every capture leaves out
// of its targets every library thread of its process -- its own, and those of
// any other Profiler running in the same process -- so that a Profiler
// tracing its own process does not report another Profiler's ring readers,
// chain mover or symbol preparation as the user's threads. A thread is taken
// back once joined: its tid may then go to a thread the user wants to see
// (with pid_max at 32768, tids come round again within minutes on a busy
// machine).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <vector>

namespace waketrace::detail {

// What one capture does with a library thread's tid.
struct ThreadExclusion {
    std::function<void(uint32_t tid)> leave_out;
    std::function<void(uint32_t tid)> take_back;
};

// The tids of the live library threads and the captures that hear of them.
class LibraryThreads {
public:
    // The process's one registry. Never destroyed: a Profiler in static
    // storage may be destroyed after any function-local static would be.
    static LibraryThreads& of_process() {
        static LibraryThreads& threads = *new LibraryThreads;
        return threads;
    }

    void add_thread(uint32_t tid) {
        const std::lock_guard<std::mutex> lock(mutex_);
        tids_.insert(tid);
        for (const ThreadExclusion* exclusion : exclusions_)
            exclusion->leave_out(tid);
    }
    void remove_thread(uint32_t tid) {
        const std::lock_guard<std::mutex> lock(mutex_);
        tids_.erase(tid);
        for (const ThreadExclusion* exclusion : exclusions_)
            exclusion->take_back(tid);
    }
    // `exclusion` hears at once of every live library thread, then of each
    // one started or joined until remove_exclusion().
    void add_exclusion(const ThreadExclusion* exclusion) {
        const std::lock_guard<std::mutex> lock(mutex_);
        exclusions_.push_back(exclusion);
        for (uint32_t tid : tids_)
            exclusion->leave_out(tid);
    }
    void remove_exclusion(const ThreadExclusion* exclusion) {
        const std::lock_guard<std::mutex> lock(mutex_);
        exclusions_.erase(std::remove(exclusions_.begin(), exclusions_.end(), exclusion), exclusions_.end());
    }
    size_t thread_count() {
        const std::lock_guard<std::mutex> lock(mutex_);
        return tids_.size();
    }

private:
    LibraryThreads() = default;

    std::mutex mutex_;
    std::set<uint32_t> tids_;
    std::vector<const ThreadExclusion*> exclusions_;
};

// A capture's place in the registry while it exists (not movable: the
// registry points at it).
class ExclusionRegistration {
public:
    explicit ExclusionRegistration(ThreadExclusion exclusion) : exclusion_(std::move(exclusion)) {
        LibraryThreads::of_process().add_exclusion(&exclusion_);
    }
    ~ExclusionRegistration() { LibraryThreads::of_process().remove_exclusion(&exclusion_); }
    ExclusionRegistration(const ExclusionRegistration&) = delete;
    ExclusionRegistration& operator=(const ExclusionRegistration&) = delete;

private:
    ThreadExclusion exclusion_;
};

}  // namespace waketrace::detail
