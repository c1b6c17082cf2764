// SPDX-License-Identifier: LGPL-2.1-or-later
//
// libwaketrace C++ API: off-CPU periods one by one, as they happen
// (Config::events). Where a Profile sums periods into wake chains, an event
// is one period of one thread with its own timestamps: what a timeline
// (Perfetto), a flight recorder or another tracer needs. Stacks travel as
// ids into a table the profiler keeps, each sent from the kernel once, and
// are named only when asked for.
#pragma once

#include <time.h>

#include <cerrno>
#include <cstdint>

#include "waketrace/profile.hpp"

namespace waketrace {

// A stack in an event. >= 0: an id whose frames the profiler can name
// (frames for a given process: user stacks are per process). < 0: no
// frames, and stack_status() says why.
using StackId = int32_t;

// Why a StackId has no frames; StackStatus::ok for an id >= 0. The
// negative values are the BPF program's (bpf/waketrace_abi.h,
// WT_STACK_ID_*, or the kernel's -errno).
inline StackStatus stack_status(StackId id) noexcept {
    if (id >= 0)
        return StackStatus::ok;
    switch (id) {
    case -1000: return StackStatus::not_captured;  // not asked for, or a kernel thread's user stack
    case -1001: return StackStatus::irq_dropped;
    case -1002: return StackStatus::not_captured;  // stack sampling skipped the period
    case -EEXIST: return StackStatus::collision;
    case -ENOMEM: return StackStatus::map_full;
    default: return StackStatus::error;
    }
}

struct OffCpuEvent {
    Task target;
    // CLOCK_MONOTONIC nanoseconds (the kernel's bpf_ktime_get_ns);
    // realtime_offset_ns() maps them to CLOCK_REALTIME.
    uint64_t switch_out_ns = 0;
    uint64_t waking_ns = 0;  // 0: no waking seen (preempted, unseen, or Config::offcpu)
    uint64_t switch_in_ns = 0;
    // The target's task state at switch-out, as the kernel keeps it
    // (/proc/PID/stat letters: 0 runnable, i.e. preempted; 1 S, sleeping;
    // 2 D, uninterruptible; ...).
    uint32_t state = 0;
    // Who woke the target. `task`: `waker` names the task. An interrupt
    // waker (hardirq, softirq, nmi) is told apart by its kernel stack once
    // that is named; until then it reads hardirq. preempted / unseen: no
    // waker (see WakerContext).
    WakerContext waker_context = WakerContext::task;
    Task waker;  // tid/tgid 0 and empty comm unless waker_context == task
    // A task the filters (pids, tids, cgroups, thread kind) do not trace:
    // still who woke the target.
    bool waker_outside_filters = false;
    // Off CPU for at least Config::trigger_blocked_ms: decided in the
    // kernel at switch-in, which also wakes the reader at once for it (a
    // flight recorder's trigger).
    bool triggered = false;
    StackId target_kernel_stack = -1;
    StackId target_user_stack = -1;
    StackId waker_kernel_stack = -1;
    StackId waker_user_stack = -1;

    uint64_t total_ns() const noexcept { return switch_in_ns - switch_out_ns; }
    // switch-out -> waking; 0 without a waking.
    uint64_t blocked_ns() const noexcept { return waking_ns ? waking_ns - switch_out_ns : 0; }
    // waking -> switch-in; all of total_ns without a waking.
    uint64_t runqueue_ns() const noexcept { return total_ns() - blocked_ns(); }
};

// CLOCK_REALTIME minus CLOCK_MONOTONIC, now, in nanoseconds: add it to an
// event's timestamps for wall-clock time (it moves when the clock is set).
inline int64_t realtime_offset_ns() noexcept {
    timespec monotonic{}, realtime{};
    clock_gettime(CLOCK_MONOTONIC, &monotonic);
    clock_gettime(CLOCK_REALTIME, &realtime);
    return (int64_t(realtime.tv_sec) - int64_t(monotonic.tv_sec)) * 1'000'000'000 +
           (int64_t(realtime.tv_nsec) - int64_t(monotonic.tv_nsec));
}

}  // namespace waketrace
