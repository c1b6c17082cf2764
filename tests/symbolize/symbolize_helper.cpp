// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Symbolizes addresses of another process in a process of its own, so a test
// can choose the environment libdw sees (DEBUGINFOD_URLS,
// DEBUGINFOD_CACHE_PATH) without changing its own.
//
//     symfixture_symbolize PID ADDRESS [DEBUG_DIRECTORY...]
//
// ADDRESS is hex. No DEBUG_DIRECTORY: none is searched (not even
// /usr/lib/debug). Prints one line per frame: symbol, offset, file, line,
// inlined (0/1), tab-separated.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "symbolize/symbolizer.hpp"

int main(int argc, char** argv) {
    if (argc < 3) {
        fmt::print(stderr, "usage: {} PID ADDRESS [DEBUG_DIRECTORY...]\n", argv[0]);
        return 2;
    }
    auto pid = static_cast<uint32_t>(std::strtoul(argv[1], nullptr, 10));
    uint64_t address = std::strtoull(argv[2], nullptr, 16);
    std::vector<std::string> debug_directories(argv + 3, argv + argc);

    waketrace::detail::Symbolizer symbolizer(
        [](waketrace::LogLevel, std::string_view message) { fmt::print(stderr, "{}\n", message); },
        "/proc/kallsyms", debug_directories);
    for (const waketrace::Frame& frame : symbolizer.user_frames(pid, {address}))
        fmt::print("{}\t{}\t{}\t{}\t{}\n", frame.symbol, frame.offset, frame.file, frame.line,
                   frame.inlined ? 1 : 0);
    return 0;
}
