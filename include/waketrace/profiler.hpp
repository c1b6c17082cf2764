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

#include <memory>

#include <waketrace/config.hpp>
#include <waketrace/error.hpp>
#include <waketrace/profile.hpp>

namespace waketrace {

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

}  // namespace waketrace
