// SPDX-License-Identifier: LGPL-2.1-or-later
//
// libwaketrace C++ API: what a profile holds -- wake chains (a target, its
// wakers, their stacks and times), per-thread totals and losses. Plain values:
// the library's stages build them, and the installed header-only Profiler
// (waketrace/profiler.hpp) fills them from the C ABI's wt_profile.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "waketrace/config.hpp"

namespace waketrace {

struct Frame {
    uint64_t address = 0;
    std::string symbol;   // demangled; empty when unresolved (formats print "[unknown]")
    std::string module;   // file path, "[kernel]" or a kernel module name
    uint64_t offset = 0;  // address - symbol start, when resolved
    // Source position from DWARF debug info (the binary's own, or a separate
    // debug file); empty / 0 when unknown.
    std::string file;
    uint32_t line = 0;
    // A function inlined into the next (outer) frame: it has no address of
    // its own, `address` repeats the outer frame's and `offset` is 0.
    bool inlined = false;
    // Where the address lies in `module`'s file, and that file's GNU
    // build-id (lower-case hex; empty when it has none or was not read), so
    // that a tool holding the same file can name the frame again (pprof
    // mappings). Set for user frames in mapped files; nullopt for kernel,
    // JIT and unmapped frames, and in profiles read back through the C ABI.
    std::optional<uint64_t> file_offset;
    std::string build_id;
    bool resolved() const noexcept { return !symbol.empty(); }
};

// Why a stack has no frames.
enum class StackStatus : uint8_t {
    ok,
    not_captured,  // excluded by Config::stacks, or a kernel thread's user stack
    irq_dropped,   // user stack of the task an interrupt happened to interrupt
    collision,     // another stack is stored under the same id (a 30-bit hash of the frames)
    map_full,      // stack map full (raise stack_storage_size)
    error,         // any other capture error (e.g. user memory not readable)
};

struct Stack {
    StackStatus status = StackStatus::not_captured;
    int error = 0;              // the kernel's -errno when status is collision/map_full/error
    std::vector<Frame> frames;  // innermost (leaf) first
};

struct Task {
    uint32_t tid = 0;
    uint32_t tgid = 0;  // process id
    std::string comm;
};

enum class WakerContext : uint8_t {
    task,       // a task woke the target: Waker::task is that task
    hardirq,    // woken from a hard interrupt (timers, devices): no task to blame
    softirq,    // woken from a softirq
    nmi,        // woken from an NMI
    preempted,  // never blocked: switched out while runnable, no waker
    unseen,     // blocked, but the waking raced ahead of the switch-out
};

struct Waker {
    WakerContext context = WakerContext::task;
    Task task;           // tid/tgid 0 and empty comm unless context == task
    Stack kernel_stack;  // where it was when it woke the level below
    Stack user_stack;
    // Chains deeper than one level (Config::chain_depth > 1). When the next
    // level (wakers[i + 1]) exists, this waker had itself been blocked during
    // the target's wait, and these are the stacks it had blocked in: the wait
    // that wakers[i + 1] ended. Otherwise status not_captured.
    Stack blocked_kernel_stack;
    Stack blocked_user_stack;
    // How much of the target's blocked time (WakeChain::blocked_ns) the wait
    // this waker ended overlapped, summed like the chain's times: for
    // wakers[0] the target's own wait, so blocked_ns itself; for wakers[i]
    // (i >= 1) the wait of wakers[i - 1]. Its share of blocked_ns is how much
    // of the target's wait lay on that hop of the critical path.
    uint64_t overlap_ns = 0;
    // A task the filters (pids, tids, cgroups, thread kind) do not trace:
    // it is still who woke the level below. Always false without a filter.
    bool outside_filters = false;
};

// Why a chain has no deeper waker level than it shows.
enum class ChainEnd : uint8_t {
    complete,        // the last waker was not waiting during the target's wait: it was
                     // running (at a deeper level: woken before the target blocked, even
                     // if it had waited during the wait of the level it woke), it is an
                     // interrupt, or there is no waker (preempted)
    depth_reached,   // the last waker had itself been woken during the wait, but
                     // Config::chain_depth levels are shown: "[deeper wakers not traced]"
    waker_untraced,  // the last waker's own wait is not traced (outside the filters)
    waker_lost,      // the last waker's own wait is unknown: its state or hop record did not
                     // fit (Losses::chain_states_full / hop_map_full / hop_collisions), its
                     // switch back in was not reported (missed_switch_ins), its stacks were
                     // not sampled, or it had been waiting since before the start
};

// How a chain's periods spread (Config::histograms): log2 histograms, like
// runqlat's, in microseconds. Bucket 0 counts periods under 1 us; bucket i
// (1 .. kBuckets - 2) those from 2^(i-1) us up to 2^i us, excluded; the
// last one those of 2^26 us (about 67 s) and more. With stack sampling the
// counts are of the sampled periods, not scaled up.
struct LatencyHistogram {
    static constexpr size_t kBuckets = 28;
    using Buckets = std::array<uint64_t, kBuckets>;
    Buckets off_cpu{};   // each period's off-CPU time (total_ns)
    Buckets runqueue{};  // each period's runqueue wait (runqueue_ns)

    // A bucket's bounds in microseconds: low_us(i) <= period < high_us(i);
    // the last bucket's high_us is UINT64_MAX.
    static constexpr uint64_t low_us(size_t bucket) noexcept {
        return bucket == 0 ? 0 : uint64_t(1) << (bucket - 1);
    }
    static constexpr uint64_t high_us(size_t bucket) noexcept {
        return bucket + 1 >= kBuckets ? UINT64_MAX : uint64_t(1) << bucket;
    }
    // The bucket a duration in nanoseconds falls in (what the BPF program
    // does too).
    static constexpr size_t bucket_of(uint64_t ns) noexcept {
        size_t bucket = 0;
        for (uint64_t us = ns / 1000; us && bucket + 1 < kBuckets; us >>= 1)
            ++bucket;
        return bucket;
    }
    // Periods counted: the sum of off_cpu (runqueue sums to the same).
    uint64_t count() const noexcept {
        uint64_t sum = 0;
        for (uint64_t n : off_cpu)
            sum += n;
        return sum;
    }
    void add(const LatencyHistogram& other) noexcept {
        for (size_t i = 0; i < kBuckets; ++i) {
            off_cpu[i] += other.off_cpu[i];
            runqueue[i] += other.runqueue[i];
        }
    }
};

struct WakeChain {
    Task target;
    Stack kernel_stack;
    Stack user_stack;
    std::vector<Waker> wakers;          // wakers[0] woke the target; wakers[i + 1] woke wakers[i]
    ChainEnd end = ChainEnd::complete;  // always complete with chain_depth 1
    uint64_t total_ns = 0;              // off CPU: switch-out -> switch-in
    uint64_t blocked_ns = 0;            // switch-out -> waking
    uint64_t runqueue_ns = 0;           // waking -> switch-in (all of total when preempted)
    uint64_t max_ns = 0;                // longest single off-CPU period
    uint64_t count = 0;                 // off-CPU periods summed here
    // Config::histograms: how the periods spread (all zero otherwise).
    // Read after stop(), its count() is `count` (with sampling, the sampled
    // periods); read while tracing, periods that ended during the read may
    // show in one and not yet in the other.
    LatencyHistogram histogram;
};

// Everything that did not make it into the results, per cause.
struct Losses {
    uint64_t stack_collisions = 0;  // stacks lost to an id (frame hash) another stack holds
    uint64_t stack_map_full = 0;    // stacks lost to a full stack map
    // Stacks lost to other capture errors, and any a chain named that was
    // found nowhere when read back (StackStatus::error, -ENOENT; a drain
    // forgets only what no record names, so none is expected).
    uint64_t stack_errors = 0;
    uint64_t chain_map_full = 0;      // off-CPU periods lost to a full chain map
    uint64_t missed_switch_outs = 0;  // off-CPU periods lost: too many traced threads at once
    uint64_t process_events = 0;      // new processes not announced in time (may lose symbols)
    uint64_t thread_map_full = 0;     // off-CPU periods missing from Profile::threads (sampling)
    // --dwarf mode: the ring buffer to user space was full.
    uint64_t user_stack_events = 0;  // user stacks lost (their chains show them as errors)
    uint64_t period_events = 0;      // off-CPU periods lost
    // Off-CPU periods lost because the kernel did not report the thread's
    // switch back in: it was seen switching out again with its last period
    // still open. Some virtualised hosts hide switches from their own agent's
    // threads; see README, "What is counted".
    uint64_t missed_switch_ins = 0;
    // Runs of the BPF programs the kernel skipped because a BPF program was
    // already running on that CPU (bpf_prog_info.recursion_misses): each may
    // have lost a switch or a waking.
    uint64_t skipped_runs = 0;
    // Chains deeper than one level (Config::chain_depth > 1): waker levels
    // lost, each ending a chain early as ChainEnd::waker_lost. The periods
    // themselves are counted in full.
    uint64_t chain_states_full = 0;  // a thread's last wait did not fit (raise max_off_cpu_threads)
    uint64_t hop_map_full = 0;       // a waker level did not fit the hop map (raise max_hops)
    uint64_t hop_collisions = 0;     // another level is stored under the level's id (a hash)
    // Config::follow_children: child processes not traced because the pid
    // filter had no room left.
    uint64_t untraced_children = 0;
    // Config::histograms: periods missing from their chain's histogram (it
    // did not fit the histogram map); they are still in the chain's times.
    uint64_t histogram_map_full = 0;
    // Config::events: events lost because their ring buffer was full (the
    // reader fell behind). The periods are still in the chains.
    uint64_t off_cpu_events = 0;
    uint64_t total() const noexcept {
        return stack_collisions + stack_map_full + stack_errors + chain_map_full + missed_switch_outs +
               process_events + thread_map_full + user_stack_events + period_events + missed_switch_ins +
               skipped_runs + chain_states_full + hop_map_full + hop_collisions + untraced_children +
               histogram_map_full + off_cpu_events;
    }
};

// One target thread's off-CPU time, whatever its stacks.
struct ThreadTotal {
    Task task;
    uint64_t total_ns = 0;
    uint64_t blocked_ns = 0;
    uint64_t runqueue_ns = 0;
    uint64_t max_ns = 0;
    uint64_t count = 0;
};

struct Profile {
    // Sorted by total_ns, ascending (like offwaketime). With stack sampling
    // their times and counts are estimates (sampled values scaled up).
    std::vector<WakeChain> chains;
    // Exact per-thread totals, sampling or not; sorted by total_ns, ascending.
    std::vector<ThreadTotal> threads;
    uint32_t stack_sample_percent = 100;
    CaptureMode mode = CaptureMode::offwake;
    Losses losses;
    uint64_t duration_ns = 0;  // start() -> stop(), or since the last drain()
    // Times the kernel's chain map (or, sampling, its per-thread totals
    // map) passed half full and its entries were moved to user space, over
    // the same span: the profile grew past Config::max_chains without loss.
    uint64_t chain_map_moves = 0;
};

inline std::string_view to_string(WakerContext context) noexcept {
    switch (context) {
    case WakerContext::task: return "task";
    case WakerContext::hardirq: return "hardirq";
    case WakerContext::softirq: return "softirq";
    case WakerContext::nmi: return "nmi";
    case WakerContext::preempted: return "preempted";
    case WakerContext::unseen: return "unseen";
    }
    return "unknown";
}

inline std::string_view to_string(CaptureMode mode) noexcept {
    switch (mode) {
    case CaptureMode::offwake: return "offwake";
    case CaptureMode::offcpu: return "offcpu";
    case CaptureMode::wakeup: return "wakeup";
    }
    return "unknown";
}

inline std::string_view to_string(ChainEnd end) noexcept {
    switch (end) {
    case ChainEnd::complete: return "complete";
    case ChainEnd::depth_reached: return "deeper wakers not traced";
    case ChainEnd::waker_untraced: return "waker's wait not traced";
    case ChainEnd::waker_lost: return "waker's wait lost";
    }
    return "unknown";
}

inline std::string_view to_string(StackStatus status) noexcept {
    switch (status) {
    case StackStatus::ok: return "ok";
    case StackStatus::not_captured: return "not captured";
    case StackStatus::irq_dropped: return "dropped (interrupt context)";
    case StackStatus::collision: return "lost (stack map collision)";
    case StackStatus::map_full: return "lost (stack map full)";
    case StackStatus::error: return "lost (capture error)";
    }
    return "unknown";
}

}  // namespace waketrace
