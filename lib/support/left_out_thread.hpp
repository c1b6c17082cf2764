// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Starts one of the library's own threads (ring readers, the chain mover,
// symbol preparation). They are not what a user profiles, so each adds its
// tid to the program's own_threads map through `leave_out` — and the caller
// waits until it has. Started before the program attaches, such a thread is
// then never a target: not even for the switches it makes before its body
// runs (a sanitizer's pthread_create yields until the new thread has
// registered itself, and a thread that had not yet left itself out when
// the program attached was once seen in a profile of the user's process).
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <thread>
#include <utility>

#include <unistd.h>

namespace waketrace::detail {

using LeaveOut = std::function<void(uint32_t tid)>;

template <typename Body>
std::thread start_left_out_thread(LeaveOut leave_out, Body body) {
    std::promise<void> left_out;
    std::future<void> ready = left_out.get_future();
    // The promise moves into the thread: set_value may still touch it after
    // the wait below has returned.
    std::thread thread([leave_out = std::move(leave_out), left_out = std::move(left_out),
                        body = std::move(body)]() mutable {
        if (leave_out)
            leave_out(uint32_t(gettid()));
        left_out.set_value();
        body();
    });
    ready.wait();
    return thread;
}

}  // namespace waketrace::detail
