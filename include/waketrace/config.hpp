// SPDX-License-Identifier: LGPL-2.1-or-later
//
// libwaketrace C++ API: what to profile and how (waketrace::Config), read by
// the library's internals and by the installed header-only Profiler
// (waketrace/profiler.hpp), which hands it to the C ABI.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace waketrace {

// Most cgroups one profile filters on (Config::cgroups).
inline constexpr size_t kMaxCgroups = 8;

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
    // cgroup v2 directories (e.g. "/sys/fs/cgroup/unified/system.slice/x.service"):
    // a thread matches if it is in one of them or below, decided in the
    // kernel. At most 8.
    std::vector<std::string> cgroups;
    // Processes forked by a traced process (one in `pids`) are traced too,
    // from their fork on: a server's workers, a build's compilers. A pid
    // leaves the filter when its process has exited.
    bool follow_children = false;
    ThreadKind threads = ThreadKind::all;
    // offwaketime's --state: 0 keeps only switches while runnable (preemption);
    // N keeps blocking switches whose state has any bit of N (2: uninterruptible).
    std::optional<uint32_t> state_mask;
    // Off-CPU time bounds per event, microseconds, inclusive (offwaketime -m / -M).
    // With `wakeup`, they bound the blocked time instead, as wakeuptime's do.
    uint64_t min_block_us = 1;
    uint64_t max_block_us = UINT64_MAX;
    StackKinds stacks = StackKinds::both;
    // Capacities of the kernel maps. What does not fit is counted in Losses.
    // Stacks the kernel maps hold, kernel and user together: this many of
    // up to 32 frames (most stacks), and an eighth as many (at least 64, or
    // this many if fewer) longer ones. Not a cap on the profile either: once
    // either map is half full, the stacks are moved to user space.
    uint32_t stack_storage_size = 4096;
    // Distinct (target, waker) chains the kernel map holds. Not a cap on the
    // profile: once the map is half full, a library thread moves its chains
    // to user space (checked every 50 ms), so only a burst of more than
    // max_chains / 2 new chains within one check can find it full.
    uint32_t max_chains = 16384;
    // Traced threads alive at once: each has one entry from its first
    // switch-out to its exit.
    uint32_t max_off_cpu_threads = 16384;
    // Waker levels per chain (1-8). 1 is offwaketime: the target and who woke
    // it. N > 1 follows the wakers back: when the waker had itself been
    // woken during the target's wait, the chain goes on with where the waker
    // had blocked and who woke it, up to N wakers (WakeChain::wakers,
    // WakeChain::end, Waker::overlap_ns). Each thread's last wait is kept in
    // a map of max_off_cpu_threads entries, the waker levels in a map of
    // max_hops entries; what does not fit ends a chain early and is counted.
    uint32_t chain_depth = 1;
    // Distinct waker levels (a waker, where it blocked and who woke it) the
    // kernel keeps for chain_depth > 1. A level that finds it full ends its
    // chains early, counted in Losses::hop_map_full.
    uint32_t max_hops = 16384;
    AttachMode attach = AttachMode::automatic;
    // Percentage (1-100) of blocking events whose stacks are taken. Below 100
    // the time of every event is still measured (Profile::threads stays
    // exact) and chain times are scaled up, so they are unbiased estimates;
    // most of the per-switch cost (stack walks) is saved.
    uint32_t stack_sample_percent = 100;
    // How user stacks are taken. 0 (the default): the kernel walks frame
    // pointers, which is cheap but stops at code built without them (Debian's
    // libc, most distribution binaries). N (waketrace --dwarf): the kernel
    // copies the user registers and the top N bytes of the user stack (only
    // up to where the thread's stack ends, once the library has learned
    // that from an unwind), and the library unwinds them with the binaries'
    // CFI (.eh_frame), which names those callers too. N is a multiple of
    // 1024 up to 16384; 8192 covers most call chains. Costs a copy per stack and unwinding in a
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
    // What each off-CPU period records: the three tools of the BPF
    // Performance Tools' off-CPU chapter. Neither (the default) is
    // offwaketime: the target's stacks and its waker's. `offcpu` is
    // offcputime: the target's stacks only; wakings are not traced at all,
    // so WakeChain::wakers is empty and blocked_ns and runqueue_ns are 0
    // (total_ns is still switch-out to switch-in). `wakeup` is wakeuptime:
    // the waker's stacks only, per woken thread (the target is named, its
    // stacks not taken), and preemptions are left out, since nobody wakes
    // a runnable thread. Each skips the work it does not need. At most one
    // of the two; neither with chain_depth > 1.
    bool offcpu = false;
    bool wakeup = false;
    // Keeps a log2 histogram of each chain's off-CPU periods and one of its
    // runqueue waits (WakeChain::histogram), like runqlat per chain. Costs a
    // second map entry per chain (sized like max_chains) and one more map
    // update per period; off, the program skips it in one branch.
    bool histograms = false;
    // Also delivers every off-CPU period of a traced thread on its own, as it
    // ends, with its timestamps and stacks (OffCpuEvent, read with
    // read_events(); waketrace/events.hpp): for timelines, flight recorders
    // and other tracers. The chains are summed all the same. Events go
    // through a ring buffer that the caller's thread reads: while nobody
    // reads, events that find it full are counted in Losses::off_cpu_events
    // and the traced threads never wait. Costs a ring record per period.
    // While events are on, drains forget nothing (no stack, process or
    // file): events not yet read may still name them. Not with
    // dwarf_stack_bytes (yet).
    bool events = false;
    // The events' ring buffer, bytes: a power of two number of pages, at
    // most 1 GiB. 0 (the default): room for 32,768 events per CPU, at most
    // 64 MiB.
    uint32_t events_ring_bytes = 0;
    // With events: an event off CPU for at least this many milliseconds is
    // marked OffCpuEvent::triggered, decided in the kernel, and its reader
    // is woken for it at once (waketrace --trigger-blocked, a flight
    // recorder). 0: none. Without events it has nothing to mark.
    uint32_t trigger_blocked_ms = 0;
    // Messages from the profiler and the BPF verifier; nullptr: dropped.
    // Also called from the profiler's own threads while it runs: it must be
    // safe to call from any thread.
    std::function<void(LogLevel, std::string_view)> log;
};

// What a profile's periods record (Config::offcpu, Config::wakeup;
// Profile::mode); the values are the C API's WT_MODE_*.
enum class CaptureMode : uint8_t {
    offwake,  // offwaketime: the target's stacks and its wakers'
    offcpu,   // offcputime: the target's stacks; no wakers, no blocked/runqueue split
    wakeup,   // wakeuptime: the wakers' stacks; the target named, its stacks not captured
};

inline CaptureMode capture_mode(const Config& config) noexcept {
    if (config.offcpu)
        return CaptureMode::offcpu;
    return config.wakeup ? CaptureMode::wakeup : CaptureMode::offwake;
}

}  // namespace waketrace
