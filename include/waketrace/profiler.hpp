// SPDX-License-Identifier: LGPL-2.1-or-later
//
// libwaketrace C++ API: why threads were not running, and who woke them.
//
//     waketrace::Config config;
//     config.tids = {worker_tid};
//     waketrace::Profiler profiler(config);
//     profiler.start();
//     ... run the workload ...
//     profiler.stop();
//     for (const waketrace::WakeChain& chain : profiler.results().chains) ...
//
// Thread safety: one Profiler may be used from one thread at a time; separate
// Profilers are independent (they share no state and may run at once).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace waketrace {

// An option the caller can set to learn more or to get past an error, named
// by its Config member so that each binding can say it in its caller's terms
// (Config::log, the command line's -v, Python's log=).
struct Hint {
    std::string option;   // a Config member: "log"
    std::string purpose;  // what setting it gives: "to see the verifier log"
};

// Every failure is a waketrace::Error: code() carries the errno value
// (std::generic_category()), what() says what went wrong and what to do, in
// C++ terms ("... (set Config::log to see the verifier log): <errno text>").
// Bindings compose their own text from message() and hint().
class Error : public std::system_error {
public:
    Error(int errno_value, const std::string& message)
        : std::system_error(errno_value, std::generic_category(), message),
          details_(std::make_shared<const Details>(Details{message, std::nullopt})) {}
    Error(int errno_value, const std::string& message, Hint hint)
        : std::system_error(errno_value, std::generic_category(),
                            message + " (set Config::" + hint.option + " " + hint.purpose + ")"),
          details_(std::make_shared<const Details>(Details{message, std::move(hint)})) {}
    int errno_value() const noexcept { return code().value(); }
    // What went wrong, without the hint and without the errno text.
    const std::string& message() const noexcept { return details_->message; }
    const std::optional<Hint>& hint() const noexcept { return details_->hint; }

private:
    struct Details {
        std::string message;
        std::optional<Hint> hint;
    };
    // Shared, so that copying an exception cannot throw.
    std::shared_ptr<const Details> details_;
};

enum class ThreadKind : uint8_t { all, user_only, kernel_only };
enum class StackKinds : uint8_t { both, kernel_only, user_only };
// Which tracepoint flavour to attach: the typed tp_btf (5.5+) or raw_tp.
// `automatic` probes the kernel once at start() and prefers tp_btf.
enum class AttachMode : uint8_t { automatic, tp_btf, raw_tp };
enum class LogLevel : uint8_t { debug, info, warning };

struct Config {
    // Targets: a thread is profiled when it matches every non-empty filter.
    // The profiler's own threads (ring readers, symbol loading) are never
    // targets unless listed in `tids`; they still show as wakers.
    std::vector<uint32_t> pids;  // process ids (tgid); a thread matches if its process is listed
    std::vector<uint32_t> tids;  // thread ids
    ThreadKind threads = ThreadKind::all;
    // offwaketime's --state: 0 keeps only switches while runnable (preemption);
    // N keeps blocking switches whose state has any bit of N (2: uninterruptible).
    std::optional<uint32_t> state_mask;
    // Off-CPU time bounds per event, microseconds, inclusive (offwaketime -m / -M).
    uint64_t min_block_us = 1;
    uint64_t max_block_us = UINT64_MAX;
    StackKinds stacks = StackKinds::both;
    // Capacities of the kernel maps. What does not fit is counted in Losses.
    uint32_t stack_storage_size = 16384;  // distinct stacks, kernel and user together
    // Distinct (target, waker) chains the kernel map holds. Not a cap on the
    // profile: once the map is half full, a library thread moves its chains
    // to user space (checked every 50 ms), so only a burst of more than
    // max_chains / 2 new chains within one check can find it full.
    uint32_t max_chains = 16384;
    uint32_t max_off_cpu_threads = 16384; // threads off CPU at the same moment
    AttachMode attach = AttachMode::automatic;
    // Percentage (1-100) of blocking events whose stacks are taken. Below 100
    // the time of every event is still measured (Profile::threads stays
    // exact) and chain times are scaled up, so they are unbiased estimates;
    // most of the per-switch cost (stack walks) is saved.
    uint32_t stack_sample_percent = 100;
    // How user stacks are taken. 0 (the default): the kernel walks frame
    // pointers, which is cheap but stops at code built without them (Debian's
    // libc, most distribution binaries). N (waketrace --dwarf): the kernel
    // copies the user registers and the top N bytes of the user stack, and
    // the library unwinds them with the binaries' CFI (.eh_frame), which
    // names those callers too. N is a multiple of 1024 up to 16384; 8192
    // covers most call chains. Costs a copy per stack and unwinding in a
    // library thread (bench/RESULTS.md); needs x86_64 and Linux 5.15+.
    uint32_t dwarf_stack_bytes = 0;
    // --dwarf mode's ring buffer to the unwinding thread, bytes: a power of
    // two number of pages, at most 1 GiB. 0 (the default) sizes it for the
    // machine: 4,096 snapshots per CPU (at least 8,192), at most 32 MiB. What
    // does not fit while the thread catches up is counted in
    // Losses::user_stack_events and Losses::period_events.
    uint32_t dwarf_ring_bytes = 0;
    // Takes no user stacks of the wakers, only their kernel stacks: who woke
    // each thread and through which kernel path, without walking the
    // wakers' user stacks (with dwarf_stack_bytes, without copying and
    // unwinding them: up to half the copies).
    bool no_waker_user_stacks = false;
    // Messages from the profiler and the BPF verifier; nullptr: dropped.
    // Also called from the profiler's own threads while it runs: it must be
    // safe to call from any thread.
    std::function<void(LogLevel, std::string_view)> log;
};

struct Frame {
    uint64_t address = 0;
    std::string symbol;  // demangled; empty when unresolved (formats print "[unknown]")
    std::string module;  // file path, "[kernel]" or a kernel module name
    uint64_t offset = 0; // address - symbol start, when resolved
    // Source position from DWARF debug info (the binary's own, or a separate
    // debug file); empty / 0 when unknown.
    std::string file;
    uint32_t line = 0;
    // A function inlined into the next (outer) frame: it has no address of
    // its own, `address` repeats the outer frame's and `offset` is 0.
    bool inlined = false;
    bool resolved() const noexcept { return !symbol.empty(); }
};

// Why a stack has no frames.
enum class StackStatus : uint8_t {
    ok,
    not_captured,  // excluded by Config::stacks, or a kernel thread's user stack
    irq_dropped,   // user stack of the task an interrupt happened to interrupt
    collision,     // another stack is stored under the same id (a 31-bit hash of the frames)
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
    Task task;  // tid/tgid 0 and empty comm unless context == task
    Stack kernel_stack;
    Stack user_stack;
};

struct WakeChain {
    Task target;
    Stack kernel_stack;
    Stack user_stack;
    std::vector<Waker> wakers;  // wakers[0] woke the target; deeper levels woke the waker
    uint64_t total_ns = 0;      // off CPU: switch-out -> switch-in
    uint64_t blocked_ns = 0;    // switch-out -> waking
    uint64_t runqueue_ns = 0;   // waking -> switch-in (all of total when preempted)
    uint64_t max_ns = 0;        // longest single off-CPU period
    uint64_t count = 0;         // off-CPU periods summed here
};

// Everything that did not make it into the results, per cause.
struct Losses {
    uint64_t stack_collisions = 0;   // stacks lost to an id (frame hash) another stack holds
    uint64_t stack_map_full = 0;     // stacks lost to a full stack map
    uint64_t stack_errors = 0;       // stacks lost to other capture errors
    uint64_t chain_map_full = 0;     // off-CPU periods lost to a full chain map
    uint64_t missed_switch_outs = 0; // off-CPU periods lost: too many threads off CPU at once
    uint64_t process_events = 0;     // new processes not announced in time (may lose symbols)
    uint64_t thread_map_full = 0;    // off-CPU periods missing from Profile::threads (sampling)
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
    uint64_t total() const noexcept {
        return stack_collisions + stack_map_full + stack_errors + chain_map_full +
               missed_switch_outs + process_events + thread_map_full + user_stack_events +
               period_events + missed_switch_ins + skipped_runs;
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
    Losses losses;
    uint64_t duration_ns = 0;       // start() -> stop(), or since the last drain()
    // Times the kernel's chain map (or, sampling, its per-thread totals
    // map) passed half full and its entries were moved to user space, over
    // the same span: the profile grew past Config::max_chains without loss.
    uint64_t chain_map_moves = 0;
};

class Profiler {
public:
    // Validates the config (throws Error with EINVAL). No kernel work yet.
    explicit Profiler(Config config);
    ~Profiler();
    Profiler(Profiler&&) noexcept;
    Profiler& operator=(Profiler&&) noexcept;
    Profiler(const Profiler&) = delete;
    Profiler& operator=(const Profiler&) = delete;

    // Loads and attaches the BPF program. Throws Error: EPERM (missing
    // capability, named in the message), ENOTSUP (no BTF), ESRCH (a pid or
    // tid does not exist), EBUSY (already started), or the libbpf error.
    // Once attached, a library thread (at nice +10) loads the symbol tables
    // results() will need -- kallsyms, and the files Config::pids map -- so
    // that results() after stop() need not start from nothing.
    void start();
    // Detaches. Idempotent; results() stays readable afterwards.
    void stop() noexcept;
    bool running() const noexcept;

    // Reads, symbolizes and returns what was captured so far. Valid while
    // running (a snapshot) and after stop(); throws Error (EINVAL) before start().
    Profile results();

    // Like results(), then forgets the chains returned, so the next drain()
    // returns only what came after: for exporting every N seconds while
    // running. Losses and duration are those since the previous drain (or
    // start). Throws Error (EINVAL) before start().
    Profile drain();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

std::string_view to_string(WakerContext context) noexcept;
std::string_view to_string(StackStatus status) noexcept;

}  // namespace waketrace
