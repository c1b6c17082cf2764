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

#include <memory>

#include "waketrace/config.hpp"
#include "waketrace/error.hpp"
#include "waketrace/profile.hpp"

namespace waketrace::detail {

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

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace waketrace::detail
