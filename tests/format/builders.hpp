// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Small builders for hand-made Profiles, so each test shows only the frames
// and statuses it is about.
#pragma once

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include <waketrace/profile.hpp>

namespace waketrace::test {

inline Frame named(std::string symbol) {
    Frame frame;
    frame.address = 0x1000;
    frame.symbol = std::move(symbol);
    return frame;
}

// Symbols listed innermost (leaf) first, like Stack::frames.
inline Stack stack(std::initializer_list<const char*> leaf_first) {
    Stack result;
    result.status = StackStatus::ok;
    for (const char* symbol : leaf_first)
        result.frames.push_back(named(symbol));
    return result;
}

inline Stack lost(StackStatus status) {
    Stack result;
    result.status = status;
    result.error = -14;
    return result;
}

inline Waker task_waker(std::string comm, uint32_t tid, Stack user, Stack kernel) {
    Waker waker;
    waker.context = WakerContext::task;
    waker.task = Task{tid, tid, std::move(comm)};
    waker.user_stack = std::move(user);
    waker.kernel_stack = std::move(kernel);
    return waker;
}

inline Waker context_waker(WakerContext context, Stack kernel = {}) {
    Waker waker;
    waker.context = context;
    waker.kernel_stack = std::move(kernel);
    return waker;
}

inline WakeChain chain(std::string comm, uint32_t tid, Stack user, Stack kernel, Waker waker,
                       uint64_t total_ns) {
    WakeChain result;
    result.target = Task{tid, tid, std::move(comm)};
    result.user_stack = std::move(user);
    result.kernel_stack = std::move(kernel);
    result.wakers.push_back(std::move(waker));
    result.total_ns = total_ns;
    result.count = 1;
    return result;
}

inline Profile profile_of(std::vector<WakeChain> chains) {
    Profile profile;
    profile.chains = std::move(chains);
    return profile;
}

// A worker blocked in a futex, woken by a producer thread: every stack has
// frames, 1234567 ns off CPU.
inline Stack worker_user() { return stack({"__futex_wait", "pthread_cond_wait", "worker_loop"}); }
inline Stack worker_kernel() { return stack({"finish_task_switch", "schedule", "futex_wait"}); }
inline Stack producer_user() { return stack({"__futex_wake", "pthread_cond_signal", "produce_items"}); }
inline Stack producer_kernel() { return stack({"try_to_wake_up", "wake_up_q", "futex_wake"}); }

inline WakeChain futex_chain() {
    return chain("worker", 42, worker_user(), worker_kernel(),
                 task_waker("producer", 41, producer_user(), producer_kernel()), 1234567);
}

}  // namespace waketrace::test
