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

// Waker levels beyond the first (Config::chain_depth > 1): `waker`, which
// had itself blocked in these stacks until the next level woke it, and how
// much of the target's wait that wait overlapped.
inline Waker blocked_in(Waker waker, Stack user, Stack kernel) {
    waker.blocked_user_stack = std::move(user);
    waker.blocked_kernel_stack = std::move(kernel);
    return waker;
}

inline Waker overlapping(Waker waker, uint64_t overlap_ns) {
    waker.overlap_ns = overlap_ns;
    return waker;
}

// A relay of pipe readers: relay-1 (tid 301) sleeps in nanosleep, a timer
// interrupt wakes it, it writes to relay-2's pipe, relay-2 (302) to relay-3's
// (303), the target. wakers[] holds the first `levels` (1-3) of relay-2,
// relay-1, [hardirq]; each waker's frames name its thread, so a test can
// tell the hops apart. 2 ms blocked in all, of which relay-1's wait covered
// 1.9 ms and the timer's 1.85 ms.
inline Stack relay_write_user(const std::string& thread) {
    return stack({"write", (thread + "_send").c_str(), (thread + "_main").c_str()});
}
inline Stack relay_write_kernel(const std::string& thread) {
    return stack({"try_to_wake_up", "pipe_write", (thread + "_ksys_write").c_str()});
}
inline Stack relay_read_user(const std::string& thread) {
    return stack({"read", (thread + "_receive").c_str(), (thread + "_main").c_str()});
}
inline Stack relay_read_kernel(const std::string& thread) {
    return stack({"__schedule", "schedule", (thread + "_pipe_read").c_str()});
}

inline WakeChain relay_chain(size_t levels, ChainEnd end = ChainEnd::complete) {
    std::vector<Waker> wakers;
    wakers.push_back(overlapping(
        task_waker("relay-2", 302, relay_write_user("relay2"), relay_write_kernel("relay2")), 2000000));
    wakers.push_back(overlapping(
        task_waker("relay-1", 301, relay_write_user("relay1"), relay_write_kernel("relay1")), 1900000));
    wakers.push_back(
        overlapping(context_waker(WakerContext::hardirq,
                                  stack({"try_to_wake_up", "hrtimer_wakeup", "hrtimer_interrupt"})),
                    1850000));
    wakers.resize(levels);
    // A level has blocked stacks when the next level, which ended that wait, is shown.
    if (levels > 1)
        wakers[0] = blocked_in(wakers[0], relay_read_user("relay2"), relay_read_kernel("relay2"));
    if (levels > 2)
        wakers[1] = blocked_in(wakers[1], stack({"clock_nanosleep", "relay1_main"}),
                               stack({"__schedule", "schedule", "do_nanosleep"}));
    WakeChain result =
        chain("relay-3", 303, relay_read_user("relay3"), relay_read_kernel("relay3"), wakers[0], 2100000);
    result.wakers = std::move(wakers);
    result.end = end;
    result.blocked_ns = 2000000;
    result.runqueue_ns = 100000;
    return result;
}

}  // namespace waketrace::test
