// SPDX-License-Identifier: LGPL-2.1-or-later
//
// libbpf's messages during a profiler's start(), and on the library's own
// threads while a profile runs, delivered to that profiler's Config::log (or
// dropped when it has none) instead of libbpf's default, standard error.
//
// libbpf has one process-wide print hook and no per-object one. The library
// borrows the hook only while a start() or one of its threads runs, and only
// for those threads: messages libbpf prints on any other thread meanwhile go
// on to the hook that was set before, and that hook is put back when the
// last route closes. A program that installs its own hook keeps it outside
// those moments.
#pragma once

#include <functional>
#include <string_view>

#include "waketrace/config.hpp"

namespace waketrace::detail {

class LibbpfLogRoute {
public:
    using LogFunction = std::function<void(LogLevel, std::string_view)>;

    // `log` must outlive the route; empty: this thread's messages are dropped.
    explicit LibbpfLogRoute(const LogFunction& log);
    ~LibbpfLogRoute();
    LibbpfLogRoute(const LibbpfLogRoute&) = delete;
    LibbpfLogRoute& operator=(const LibbpfLogRoute&) = delete;

private:
    const LogFunction* outer_;  // a route further up this thread's stack
};

// Opens a route for the calling thread that closes when the thread ends: for
// the library's threads (ring readers, the chain mover), which call libbpf
// while a profile runs. `log` must outlive the thread.
void route_libbpf_messages_until_thread_exit(const LibbpfLogRoute::LogFunction& log);

}  // namespace waketrace::detail
