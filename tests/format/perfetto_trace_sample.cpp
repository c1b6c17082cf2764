// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Writes the Perfetto trace of the test batch (event_builders.hpp: a pipe
// ping-pong of ROUNDS periods, 6 by default, and the worker's preempted,
// timer and page waits) to FILE, for test_perfetto_trace.py to decode with
// Perfetto's own schema. Usage: perfetto_trace_sample FILE [ROUNDS]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "format/perfetto_trace.hpp"

#include "event_builders.hpp"

int main(int argc, char** argv) {
    using namespace waketrace;
    if (argc < 2) {
        std::fputs("usage: perfetto_trace_sample FILE [ROUNDS]\n", stderr);
        return 2;
    }
    detail::EventTrace trace;
    trace.events = test::sample_events(argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 6);
    trace.frames = test::event_stack_frames;
    trace.realtime_offset_ns = 1'700'000'000'000'000'000;
    const std::string bytes = detail::format_perfetto_trace(trace);
    std::FILE* out = std::fopen(argv[1], "wb");
    if (!out) {
        std::perror(argv[1]);
        return 1;
    }
    const bool written = std::fwrite(bytes.data(), 1, bytes.size(), out) == bytes.size();
    return std::fclose(out) == 0 && written ? 0 : 1;
}
