// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The profiler itself, in process: validates a Config, then runs the data
// path capture -> decode -> symbolize/assemble on demand. Internal: the C ABI
// (bindings/c), the waketrace command, the Python module and the tests use
// it directly, as they need what the C ABI does not carry (Error::hint() in
// each one's own words, the Config in C++ terms). C++ programs outside the
// tree use waketrace::Profiler (include/waketrace/profiler.hpp), the installed
// header-only layer over the C ABI, which keeps the same methods.
//
//     waketrace::Config config;
//     config.tids = {worker_tid};
//     waketrace::detail::ProfilerEngine engine(config);
//     engine.start();
//     ... run the workload ...
//     engine.stop();
//     for (const waketrace::WakeChain& chain : engine.results().chains) ...
//
// Thread safety: one engine may be used from one thread at a time; separate
// engines are independent (they share no state and may run at once).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "waketrace/config.hpp"
#include "waketrace/error.hpp"
#include "waketrace/events.hpp"
#include "waketrace/profile.hpp"

namespace waketrace::detail {

struct ForgetOutcome;

class ProfilerEngine {
public:
    // Validates the config (throws Error with EINVAL). No kernel work yet.
    explicit ProfilerEngine(Config config);
    ~ProfilerEngine();
    ProfilerEngine(ProfilerEngine&&) noexcept;
    ProfilerEngine& operator=(ProfilerEngine&&) noexcept;
    ProfilerEngine(const ProfilerEngine&) = delete;
    ProfilerEngine& operator=(const ProfilerEngine&) = delete;

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

    // What the profiler keeps from one drain to the next. A drain forgets
    // whatever no record still to be read names (stacks moved out of the
    // kernel map, --dwarf snapshots and unwound stacks, exited processes)
    // and the parsed files nothing used for kKeptDrains drains, so each
    // count stays bounded however long a profiler runs and drains.
    // For tests and bench/long_run.
    struct Retained {
        size_t archived_stacks = 0;    // stacks moved out of the kernel map, kept
        size_t unwound_stacks = 0;     // --dwarf: distinct unwound user stacks kept
        size_t pending_snapshots = 0;  // --dwarf: snapshots waiting for their period
        size_t processes = 0;          // process snapshots remembered
        size_t pinned_files = 0;       // files held open for them
        size_t file_copies = 0;        // private copies of files kept
        size_t parsed_files = 0;       // files whose symbols are parsed
        size_t named_images = 0;       // process snapshots with named frames cached
        size_t named_frames = 0;       // addresses named in those caches
        size_t perf_maps = 0;          // processes whose JIT symbols were read
    };
    Retained retained() const;

    // --dwarf mode: user stack snapshots received since start(), and the
    // stack bytes the program copied for them (it copies a thread's stack
    // only down to where the thread's stack ends, once that is learned).
    // Zero outside --dwarf. For tests and bench.
    struct DwarfCopies {
        uint64_t snapshots = 0;
        uint64_t stack_bytes = 0;
    };
    DwarfCopies dwarf_copies() const;

    // Config::events: the off-CPU periods that ended since the last call,
    // oldest first: appends up to `max` to `out` and returns how many. When
    // none waits, waits up to `timeout_ms` (0: returns at once; -1: until
    // one comes) -- an event may wait up to 50 ms in the kernel's ring
    // before a reader is woken for it. Events that find the ring full are
    // lost, counted in Losses::off_cpu_events. After stop() the events
    // still in the ring can be read. Throws Error (EINVAL) unless started
    // with Config::events.
    // Thread safety: read_events(), events_fd() and event_frames() may be
    // called from one other thread while this one uses the engine, but
    // not during start() or the engine's destruction.
    size_t read_events(std::vector<OffCpuEvent>& out, size_t max, int timeout_ms);
    // Readable (poll's POLLIN) when a batch of events waits; an event loop
    // should still call read_events() every 50 ms or so. -1 without events.
    int events_fd() const;
    // The named frames of a stack of an event read so far (innermost
    // first): `tgid` is the event's target's or waker's process for a user
    // stack (ignored for kernel stacks). Empty for an id < 0.
    std::vector<Frame> event_frames(StackId id, uint32_t tgid, bool kernel);
    // Events read from this profiler as a Perfetto trace (bytes; see
    // format/perfetto_trace.hpp for what it shows), their stacks named
    // through event_frames(). Thread safety as event_frames().
    std::string perfetto_trace(std::vector<OffCpuEvent> events);
    // A parsed file or file copy unused for this many drains is forgotten,
    // unless a remembered process maps it.
    static constexpr uint64_t kKeptDrains = 2;

private:
    struct Impl;
    static ForgetOutcome forget_unreferenced_records(Impl& impl) noexcept;
    static void forget_after_naming(Impl& impl, const ForgetOutcome& forgot) noexcept;
    std::unique_ptr<Impl> impl_;
};

}  // namespace waketrace::detail
