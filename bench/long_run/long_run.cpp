// SPDX-License-Identifier: LGPL-2.1-or-later
//
// wt-long-run: one profiler traces a workload for a long time, drained
// every few seconds as an exporter would, and says every minute what it
// holds: its RSS, malloc's heap in use, its open fds, and what the profiler
// keeps between drains (ProfilerEngine::Retained). Also what the drained
// profiles showed of the workload wt-churn plays (bench/workloads/churn.c):
// its periods, and whether their stacks came back named.
//
//   wt-long-run [--minutes N] [--drain-seconds S] [--sample-seconds S] [--fp]
//               -- WORKLOAD [ARGS...]
//
// --dwarf mode (8 KiB copies) unless --fp. The workload is started here,
// traced by its pid, and stopped with SIGTERM at the end. Prints one line
// of key=value pairs per sample, then a summary line comparing the last
// sample with the first after the warm-up (a fifth of the run, at least a
// minute). Needs root. bench/long_run.sh builds and runs it.
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "profiler_engine.hpp"

namespace wt = waketrace;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
    double minutes = 30;
    double drain_seconds = 10;
    double sample_seconds = 60;
    bool dwarf = true;
    std::vector<char*> workload;
};

[[noreturn]] void usage() {
    std::fprintf(stderr,
                 "usage: wt-long-run [--minutes N] [--drain-seconds S] [--sample-seconds S] [--fp] "
                 "-- WORKLOAD [ARGS...]\n");
    std::exit(2);
}

Options parse(int argc, char** argv) {
    Options options;
    int i = 1;
    for (; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
        const std::string_view arg = argv[i];
        auto number = [&] {
            if (i + 1 >= argc)
                usage();
            return std::atof(argv[++i]);
        };
        if (arg == "--minutes")
            options.minutes = number();
        else if (arg == "--drain-seconds")
            options.drain_seconds = number();
        else if (arg == "--sample-seconds")
            options.sample_seconds = number();
        else if (arg == "--fp")
            options.dwarf = false;
        else
            usage();
    }
    for (++i; i < argc; ++i)
        options.workload.push_back(argv[i]);
    if (options.workload.empty() || options.minutes <= 0 || options.drain_seconds <= 0 ||
        options.sample_seconds <= 0)
        usage();
    options.workload.push_back(nullptr);
    return options;
}

pid_t start_workload(std::vector<char*>& command) {
    const pid_t pid = fork();
    if (pid == 0) {
        execvp(command[0], command.data());
        std::perror("wt-long-run: exec");
        _exit(127);
    }
    if (pid < 0) {
        std::perror("wt-long-run: fork");
        std::exit(1);
    }
    return pid;
}

// What the process holds.
struct Usage {
    uint64_t rss_kib = 0;
    uint64_t heap_kib = 0;  // malloc: allocated and not freed, every arena
    size_t fds = 0;
};

Usage usage_now() {
    Usage usage;
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmRSS:", 0) == 0)
            usage.rss_kib = std::strtoull(line.c_str() + 6, nullptr, 10);
    const struct mallinfo2 heap = mallinfo2();
    usage.heap_kib = (heap.uordblks + heap.hblkhd) / 1024;
    if (DIR* dir = opendir("/proc/self/fd")) {
        while (const dirent* entry = readdir(dir))
            usage.fds += entry->d_name[0] != '.';
        closedir(dir);
        usage.fds -= 1;  // the one opendir holds
    }
    return usage;
}

bool has_frame(const wt::Stack& stack, std::string_view part) {
    return std::any_of(stack.frames.begin(), stack.frames.end(),
                       [&](const wt::Frame& frame) { return frame.symbol.find(part) != std::string::npos; });
}

// What the drained profiles showed, summed over the run.
struct Tally {
    uint64_t drains = 0;
    uint64_t chains = 0;
    uint64_t periods = 0;
    uint64_t churn_periods = 0;   // wt-churn's reader woken in its pipe read by a child
    uint64_t unnamed_target = 0;  // ... whose user stack was there but did not name churn_block
    uint64_t unnamed_waker = 0;   // ... or whose waker's did not name churn_wake
    uint64_t stacks_missing = 0;  // stacks lost for an id that named nothing (-ENOENT)
    uint64_t losses = 0;          // everything Losses counted
    wt::Losses by_cause;          // the same, per cause

    void add(const wt::Stack& stack) {
        if (stack.status == wt::StackStatus::error && stack.error == -ENOENT)
            ++stacks_missing;
    }

    void add(const wt::Profile& profile) {
        ++drains;
        losses += profile.losses.total();
        const wt::Losses& l = profile.losses;
        for (auto [sum, add] : {std::pair{&by_cause.stack_collisions, l.stack_collisions},
                                {&by_cause.stack_map_full, l.stack_map_full},
                                {&by_cause.stack_errors, l.stack_errors},
                                {&by_cause.chain_map_full, l.chain_map_full},
                                {&by_cause.missed_switch_outs, l.missed_switch_outs},
                                {&by_cause.process_events, l.process_events},
                                {&by_cause.user_stack_events, l.user_stack_events},
                                {&by_cause.period_events, l.period_events},
                                {&by_cause.missed_switch_ins, l.missed_switch_ins},
                                {&by_cause.skipped_runs, l.skipped_runs}})
            *sum += add;
        for (const wt::WakeChain& chain : profile.chains) {
            ++chains;
            periods += chain.count;
            add(chain.kernel_stack);
            add(chain.user_stack);
            for (const wt::Waker& waker : chain.wakers) {
                add(waker.kernel_stack);
                add(waker.user_stack);
            }
            if (chain.wakers.empty() || chain.wakers[0].context != wt::WakerContext::task ||
                !has_frame(chain.kernel_stack, "pipe_read") || chain.wakers[0].task.tgid == chain.target.tgid)
                continue;
            churn_periods += chain.count;
            if (chain.user_stack.status == wt::StackStatus::ok && !has_frame(chain.user_stack, "churn_block"))
                unnamed_target += chain.count;
            const wt::Stack& waker = chain.wakers[0].user_stack;
            if (waker.status == wt::StackStatus::ok && !has_frame(waker, "churn_wake"))
                unnamed_waker += chain.count;
        }
    }
};

std::string describe(double minute, const Usage& usage, const wt::detail::ProfilerEngine::Retained& held,
                     const Tally& tally) {
    return fmt::format(
        "minute={:.1f} rss_kib={} heap_kib={} fds={} archived_stacks={} unwound_stacks={} "
        "pending_snapshots={} processes={} pinned_files={} file_copies={} parsed_files={} "
        "named_images={} named_frames={} perf_maps={} drains={} chains={} periods={} churn_periods={} "
        "unnamed_target={} unnamed_waker={} stacks_missing={} losses={}",
        minute, usage.rss_kib, usage.heap_kib, usage.fds, held.archived_stacks, held.unwound_stacks,
        held.pending_snapshots, held.processes, held.pinned_files, held.file_copies, held.parsed_files,
        held.named_images, held.named_frames, held.perf_maps, tally.drains, tally.chains, tally.periods,
        tally.churn_periods, tally.unnamed_target, tally.unnamed_waker, tally.stacks_missing, tally.losses);
}

}  // namespace

int main(int argc, char** argv) {
    Options options = parse(argc, argv);
    const pid_t workload = start_workload(options.workload);

    wt::Config config;
    config.pids = {uint32_t(workload)};
    if (options.dwarf)
        config.dwarf_stack_bytes = 8192;
    // Stacks moved out of the kernel map, summed from the log: what the
    // archive would hold if drains forgot nothing (at most; some repeat).
    static std::atomic<uint64_t> stacks_moved{0};
    config.log = [](wt::LogLevel level, std::string_view message) {
        if (level == wt::LogLevel::warning)
            std::fprintf(stderr, "wt-long-run: %.*s\n", int(message.size()), message.data());
        constexpr std::string_view kMoved = "moved ";
        if (level == wt::LogLevel::info && message.substr(0, kMoved.size()) == kMoved &&
            message.find(" stacks to user space") != std::string_view::npos)
            stacks_moved += std::strtoull(std::string(message.substr(kMoved.size())).c_str(), nullptr, 10);
    };
    wt::detail::ProfilerEngine profiler(config);
    try {
        profiler.start();
    } catch (const wt::Error& error) {
        std::fprintf(stderr, "wt-long-run: %s\n", error.what());
        kill(workload, SIGTERM);
        return 1;
    }

    const auto began = Clock::now();
    const auto end = began + std::chrono::duration<double, std::ratio<60>>(options.minutes);
    const auto drain_every = std::chrono::duration<double>(options.drain_seconds);
    const auto sample_every = std::chrono::duration<double>(options.sample_seconds);
    const double warm_up_minutes = std::max(1.0, options.minutes / 5);
    auto next_drain = began + drain_every;
    auto next_sample = began + sample_every;
    Tally tally;
    Usage first_usage;
    wt::detail::ProfilerEngine::Retained first_held;
    bool warm = false;
    Usage peak_usage;
    for (;;) {
        const auto wake = std::min(next_drain, next_sample);
        std::this_thread::sleep_until(wake);
        const auto now = Clock::now();
        if (now >= next_drain) {
            tally.add(profiler.drain());
            next_drain += std::chrono::duration_cast<Clock::duration>(drain_every);
        }
        if (now >= next_sample || now >= end) {
            const double minute = std::chrono::duration<double, std::ratio<60>>(now - began).count();
            const Usage usage = usage_now();
            const wt::detail::ProfilerEngine::Retained held = profiler.retained();
            std::printf("%s stacks_moved=%llu\n", describe(minute, usage, held, tally).c_str(),
                        (unsigned long long)stacks_moved.load());
            std::fflush(stdout);
            if (!warm && minute >= warm_up_minutes) {
                warm = true;
                first_usage = usage;
                first_held = held;
            }
            if (warm) {
                peak_usage.rss_kib = std::max(peak_usage.rss_kib, usage.rss_kib);
                peak_usage.heap_kib = std::max(peak_usage.heap_kib, usage.heap_kib);
                peak_usage.fds = std::max(peak_usage.fds, usage.fds);
            }
            next_sample += std::chrono::duration_cast<Clock::duration>(sample_every);
            if (now >= end)
                break;
        }
    }
    profiler.stop();
    tally.add(profiler.drain());
    kill(workload, SIGTERM);
    int status = 0;
    waitpid(workload, &status, 0);
    const Usage last = usage_now();
    std::printf(
        "summary: after warm-up (minute %.1f): rss_kib %llu -> %llu (peak %llu), heap_kib %llu -> %llu "
        "(peak %llu), fds %zu -> %zu (peak %zu), archived_stacks %zu -> %zu, unwound_stacks %zu -> %zu, "
        "processes %zu -> %zu, parsed_files %zu -> %zu; %llu churn periods, %llu unnamed target "
        "stacks, %llu unnamed waker stacks, %llu stacks missing\n",
        warm_up_minutes, (unsigned long long)first_usage.rss_kib, (unsigned long long)last.rss_kib,
        (unsigned long long)peak_usage.rss_kib, (unsigned long long)first_usage.heap_kib,
        (unsigned long long)last.heap_kib, (unsigned long long)peak_usage.heap_kib, first_usage.fds, last.fds,
        peak_usage.fds, first_held.archived_stacks, profiler.retained().archived_stacks,
        first_held.unwound_stacks, profiler.retained().unwound_stacks, first_held.processes,
        profiler.retained().processes, first_held.parsed_files, profiler.retained().parsed_files,
        (unsigned long long)tally.churn_periods, (unsigned long long)tally.unnamed_target,
        (unsigned long long)tally.unnamed_waker, (unsigned long long)tally.stacks_missing);
    const wt::Losses& l = tally.by_cause;
    std::printf(
        "losses: stack_collisions=%llu stack_map_full=%llu stack_errors=%llu chain_map_full=%llu "
        "missed_switch_outs=%llu process_events=%llu user_stack_events=%llu period_events=%llu "
        "missed_switch_ins=%llu skipped_runs=%llu\n",
        (unsigned long long)l.stack_collisions, (unsigned long long)l.stack_map_full,
        (unsigned long long)l.stack_errors, (unsigned long long)l.chain_map_full,
        (unsigned long long)l.missed_switch_outs, (unsigned long long)l.process_events,
        (unsigned long long)l.user_stack_events, (unsigned long long)l.period_events,
        (unsigned long long)l.missed_switch_ins, (unsigned long long)l.skipped_runs);
    return 0;
}
