// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Starts one of the library's own threads (ring readers, the chain mover,
// symbol preparation). They are not what a user profiles, so each adds its
// tid to the program's own_threads map through `leave_out` (the capture of
// the profiler starting it) and to the process's LibraryThreads (every
// capture of the process, so another Profiler in the same process leaves it
// out too) -- and the caller waits until it has. Started before the program
// attaches, such a thread is then never a target: not even for the switches
// it makes before its body runs (a sanitizer's pthread_create yields until
// the new thread has registered itself, and a thread that had not yet left
// itself out when the program attached was once seen in a profile of the
// user's process).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <utility>

#include <unistd.h>

#include "support/library_threads.hpp"

namespace waketrace::detail {

using LeaveOut = std::function<void(uint32_t tid)>;

// A std::thread that leaves the process's LibraryThreads when joined (not
// before: until it is gone, its tid is still a library thread's).
class LibraryThread {
public:
    LibraryThread() = default;
    LibraryThread(std::thread thread, uint32_t tid) : thread_(std::move(thread)), tid_(tid) {}
    bool joinable() const noexcept { return thread_.joinable(); }
    void join() {
        thread_.join();
        wait_until_reaped(tid_);
        LibraryThreads::of_process().remove_thread(tid_);
    }

    // pthread_join returns when the kernel clears the thread's tid, early in
    // its exit; the thread still runs (and may be preempted, a switch a
    // profiler would trace) until it is reaped, near the end of its exit,
    // when its /proc/self/task entry goes. A 6.1 guest under emulation saw
    // such a switch traced as a target's. Bounded: at most about 100 ms.
    static void wait_until_reaped(uint32_t tid) {
        const std::string task = "/proc/self/task/" + std::to_string(tid);
        for (int tries = 0; tries < 100 && access(task.c_str(), F_OK) == 0; ++tries)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }

private:
    std::thread thread_;
    uint32_t tid_ = 0;
};

template <typename Body>
LibraryThread start_left_out_thread(LeaveOut leave_out, Body body) {
    std::promise<uint32_t> left_out;
    std::future<uint32_t> ready = left_out.get_future();
    // The promise moves into the thread: set_value may still touch it after
    // the wait below has returned.
    std::thread thread(
        [leave_out = std::move(leave_out), left_out = std::move(left_out), body = std::move(body)]() mutable {
            const auto tid = uint32_t(gettid());
            try {
                LibraryThreads::of_process().add_thread(tid);
            } catch (...) {
                // Out of memory: only the starting profiler's capture leaves it out.
            }
            if (leave_out)
                leave_out(tid);
            left_out.set_value(tid);
            body();
        });
    const uint32_t tid = ready.get();
    return LibraryThread(std::move(thread), tid);
}

}  // namespace waketrace::detail
