// SPDX-License-Identifier: LGPL-2.1-or-later
//
// who_woke: the smallest complete program on the libwaketrace C++ API, the
// C++ twin of examples/c/profile_pid.c. It needs only the installed library:
//     c++ -std=c++17 who_woke.cpp $(pkg-config --cflags --libs waketrace)
//
// Profiles one process for SECONDS seconds, then prints one line per wake
// chain, the longest first: the thread that waited, who woke it, how often,
// how long it was blocked and then runnable, and the kernel function it
// waited in. With -f it prints the chains as folded lines for flamegraph.pl
// instead. Whatever the profiler could not record is reported on standard
// error.
//
// Usage: who_woke [-f] PID SECONDS
// Exit status: 0 done, 1 runtime failure (not root, no such pid...), 2 bad usage.
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include <waketrace/profiler.hpp>

namespace {

constexpr char kProgram[] = "who_woke";

int usage(const char* problem) {
    std::fprintf(stderr, "%s: %s\nusage: %s [-f] PID SECONDS\n", kProgram, problem, kProgram);
    return 2;
}

// A decimal number from 1 to max, or 0 when `text` is not one.
uint64_t parse_positive(const char* text, uint64_t max) {
    uint64_t value = 0;
    for (const char* digit = text; *digit; ++digit) {
        if (*digit < '0' || *digit > '9' || value > (max - uint64_t(*digit - '0')) / 10)
            return 0;
        value = value * 10 + uint64_t(*digit - '0');
    }
    return value;
}

double ms(uint64_t ns) { return double(ns) / 1e6; }

// "demo-ping 1234" for a task; "[hardirq]", "[preempted]", "[unseen]"... for
// wake-ups no task made.
std::string waker_label(const waketrace::Waker& waker) {
    if (waker.context != waketrace::WakerContext::task)
        return "[" + std::string(waketrace::to_string(waker.context)) + "]";
    return waker.task.comm + " " + std::to_string(waker.task.tid);
}

// The innermost named kernel function below the scheduler's own.
std::string waited_in(const waketrace::Stack& kernel_stack) {
    for (const waketrace::Frame& frame : kernel_stack.frames)
        if (frame.resolved() && frame.symbol.find("schedule") == std::string::npos)
            return frame.symbol;
    return "[" + std::string(waketrace::to_string(kernel_stack.status)) + "]";
}

void print_chains(const waketrace::Profile& profile) {
    std::printf("%-16s %8s  %-24s %8s %12s %10s  %s\n", "thread", "tid", "woken by", "waits", "blocked_ms",
                "runq_ms", "waited in");
    // Chains come in ascending order of total off-CPU time.
    for (auto chain = profile.chains.rbegin(); chain != profile.chains.rend(); ++chain)
        std::printf("%-16s %8" PRIu32 "  %-24s %8" PRIu64 " %12.3f %10.3f  %s\n", chain->target.comm.c_str(),
                    chain->target.tid, waker_label(chain->wakers.at(0)).c_str(), chain->count,
                    ms(chain->blocked_ns), ms(chain->runqueue_ns), waited_in(chain->kernel_stack).c_str());
}

// Nothing is dropped silently: each counter says what is missing and why.
void report_losses(const waketrace::Losses& losses) {
    const struct {
        uint64_t count;
        const char* what;
    } causes[] = {
        {losses.stack_collisions, "stacks to stack id collisions"},
        {losses.stack_map_full, "stacks to a full stack map"},
        {losses.stack_errors, "stacks that could not be read"},
        {losses.chain_map_full, "off-CPU periods to a full chain map"},
        {losses.missed_switch_outs, "off-CPU periods: too many traced threads at once"},
        {losses.missed_switch_ins, "off-CPU periods: switches the kernel did not report"},
        {losses.process_events, "process announcements (user frames may be [unknown])"},
        {losses.skipped_runs, "runs of the BPF programs the kernel skipped"},
    };
    for (const auto& cause : causes)
        if (cause.count != 0)
            std::fprintf(stderr, "%s: lost %" PRIu64 " %s\n", kProgram, cause.count, cause.what);
}

}  // namespace

int main(int argc, char** argv) {
    const bool folded = argc > 1 && std::strcmp(argv[1], "-f") == 0;
    if (argc - folded != 3)
        return usage("expects a PID and a duration");
    const uint64_t pid = parse_positive(argv[1 + folded], UINT32_MAX);
    if (pid == 0)
        return usage("PID must be a positive number");
    const uint64_t seconds = parse_positive(argv[2 + folded], 24 * 3600);
    if (seconds == 0)
        return usage("SECONDS must be a number from 1 to 86400");

    try {
        waketrace::Config config;
        config.pids = {uint32_t(pid)};
        waketrace::Profiler profiler(config);
        profiler.start();
        std::this_thread::sleep_for(std::chrono::seconds(seconds));
        profiler.stop();
        const waketrace::CapturedProfile captured = profiler.results();
        if (folded)
            std::fputs(captured.folded().c_str(), stdout);
        else
            print_chains(captured.profile());
        report_losses(captured.profile().losses);
    } catch (const waketrace::Error& error) {
        // what() says what went wrong and what to do; code() is the errno.
        std::fprintf(stderr, "%s: %s\n", kProgram, error.what());
        return 1;
    }
    return std::fflush(stdout) == 0 ? 0 : 1;
}
