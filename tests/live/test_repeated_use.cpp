// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Start/stop/results cycles of Profilers in one process: each cycle must see
// its workload, and leave no fds, BPF objects or memory behind. CI runs a
// few dozen cycles; bench/lifecycle.sh runs 1,000 (the figure) and
// prints the usage at cycles 1, 10, 100 and 1,000.
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "chain_queries.hpp"
#include "process_usage.hpp"
#include "profiler_engine.hpp"
#include "workloads.hpp"

namespace wt = waketrace;
using namespace std::chrono_literals;

namespace {

int cycles_to_run() {
    const char* env = std::getenv("WAKETRACE_LIFECYCLE_CYCLES");
    return env ? std::atoi(env) : 40;
}

// Caches fill and malloc's arenas appear over the first cycles (glibc makes
// up to 8 per CPU as threads come and go, and keeps each one's pages); from
// here on nothing may grow.
constexpr int kWarmUpCycles = 10;
// RSS moves with the pages malloc's arenas keep or return (one more arena
// can add megabytes, once); malloc's own count of what is allocated does
// not, and a leak of the size once seen (50 KiB a cycle) fails it within
// the 30 cycles after the warm-up that CI runs.
constexpr uint64_t kHeapSlackKib = 1024;
constexpr uint64_t kRssSlackKib = 16 * 1024;
constexpr int kRounds = 3;

bool is_milestone(int cycle, int cycles) {
    return cycle == 1 || cycle == 10 || cycle == 100 || cycle == 1000 || cycle == cycles;
}

// A child process that lives through every cycle, so one Profiler can
// filter by its pid: it blocks reading a byte from one pipe, answers on
// another, and so on until the first is closed.
class EchoChild {
public:
    EchoChild() {
        REQUIRE(pipe(to_child_) == 0);
        REQUIRE(pipe(from_child_) == 0);
        pid_ = fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            close(to_child_[1]);  // so that the parent's close is an end of file
            close(from_child_[0]);
            char byte;
            while (read(to_child_[0], &byte, 1) == 1)
                if (write(from_child_[1], &byte, 1) != 1)
                    break;
            _exit(0);
        }
        close(to_child_[0]);
        close(from_child_[1]);
    }
    ~EchoChild() {
        close(to_child_[1]);
        close(from_child_[0]);
        waitpid(pid_, nullptr, 0);
    }
    pid_t pid() const { return pid_; }
    // Each byte once the child is blocked in its read (however late a busy
    // machine lets it get there). One more than kRounds: the first read
    // began before start(), so it is no period of this run.
    void run() {
        for (int i = 0; i <= kRounds; ++i) {
            wait_until_in_pipe_read();
            char byte = 't';
            REQUIRE(write(to_child_[1], &byte, 1) == 1);
            REQUIRE(read(from_child_[0], &byte, 1) == 1);
        }
    }

private:
    // As /proc says (its wait channel); gives up after two seconds.
    void wait_until_in_pipe_read() const {
        const std::string wchan = fmt::format("/proc/{}/wchan", pid_);
        for (int tries = 0; tries < 2000; ++tries) {
            std::ifstream file(wchan);
            std::string where;
            std::getline(file, where);
            if (where.find("pipe_read") != std::string::npos)
                return;
            std::this_thread::sleep_for(1ms);
        }
    }

    int to_child_[2] = {-1, -1};
    int from_child_[2] = {-1, -1};
    pid_t pid_ = -1;
};

// One cycle: each of the workload's blocked pipe reads in this cycle's profile.
template <typename Workload>
void run_cycle(wt::detail::ProfilerEngine& profiler, Workload& work, pid_t reader) {
    profiler.start();
    work.run();
    profiler.stop();
    const wt::Profile profile = profiler.results();
    INFO(wt::test::describe_chains(profile, uint32_t(reader)));
    INFO(wt::test::describe(profile.losses));
    // Each read, or a period the host did not report the switch back in of
    // (counted; seen on this host once in 40 cycles).
    const uint64_t reads = wt::test::count_blocked_in(profile, uint32_t(reader), "pipe_read");
    REQUIRE(reads <= uint64_t(kRounds));
    REQUIRE(reads + profile.losses.missed_switch_ins >= uint64_t(kRounds));
}

}  // namespace

TEST_CASE("start/stop/results cycles leave no fds, BPF objects or memory behind", "[lifecycle]") {
    const bool one_profiler = GENERATE(false, true);
    const int cycles = std::max(cycles_to_run(), kWarmUpCycles + 1);
    fmt::print("{} cycles, {}\n", cycles,
               one_profiler ? "one Profiler (a child's pid) started again and again"
                            : "a new Profiler (a new thread's tid) each cycle");
    // One Profiler for every cycle, holding its capture between them.
    std::unique_ptr<EchoChild> child;
    std::unique_ptr<wt::detail::ProfilerEngine> kept;
    if (one_profiler) {
        child = std::make_unique<EchoChild>();
        wt::Config config;
        config.pids = {uint32_t(child->pid())};
        kept = std::make_unique<wt::detail::ProfilerEngine>(config);
    }
    const wt::test::ProcessUsage before = wt::test::process_usage();
    wt::test::ProcessUsage after_first;
    wt::test::ProcessUsage warm;
    size_t maps_per_capture = 0;
    for (int cycle = 1; cycle <= cycles; ++cycle) {
        CAPTURE(cycle);
        if (one_profiler) {
            run_cycle(*kept, *child, child->pid());
        } else {
            wt::test::PipeTokenPass work(kRounds, 1ms);
            wt::Config config;
            config.tids = {uint32_t(work.reader_tid())};
            wt::detail::ProfilerEngine profiler(config);
            run_cycle(profiler, work, work.reader_tid());
            maps_per_capture = std::max(maps_per_capture, wt::test::process_usage().bpf_held.maps);
        }  // the Profiler and the workload's pipe and threads are gone here
        const wt::test::ProcessUsage now = wt::test::process_usage();
        if (is_milestone(cycle, cycles))
            fmt::print("cycle {}: {}\n", cycle, wt::test::describe(now));
        if (cycle == 1)
            after_first = now;
        if (cycle == kWarmUpCycles)
            warm = now;
        INFO(wt::test::describe(now));
        // Exact: nothing is left between new Profilers. The kept one's
        // symbolizer pins and copies the files the child and this process
        // map, as its background preparation (cancelled by each new start)
        // or the naming of frames gets to them: all of them by the end of
        // the warm-up, and then no more.
        if (!one_profiler)
            REQUIRE(now.fds == before.fds);
        else if (cycle >= kWarmUpCycles)
            REQUIRE(now.fds == warm.fds);
        const wt::test::ProcessUsage& expected_bpf = one_profiler ? after_first : before;
        REQUIRE(now.bpf_held.programs == expected_bpf.bpf_held.programs);
        REQUIRE(now.bpf_held.maps == expected_bpf.bpf_held.maps);
        REQUIRE(now.bpf_held.links == expected_bpf.bpf_held.links);
    }
    const wt::test::ProcessUsage last = wt::test::process_usage();
    INFO("after warm-up: " << wt::test::describe(warm));
    INFO("at the end: " << wt::test::describe(last));
    CHECK(last.heap_in_use_kib <= warm.heap_in_use_kib + kHeapSlackKib);
    if (wt::test::kRssFollowsHeap)
        CHECK(last.rss_kib <= warm.rss_kib + kRssSlackKib);
    // Other tests on the machine load programs too, so the system's count
    // is not exact; a capture's maps left behind each cycle would be far
    // more than they add.
    if (maps_per_capture == 0)
        maps_per_capture = last.bpf_held.maps;
    const size_t leak_bound = maps_per_capture * size_t(cycles - kWarmUpCycles) / 2;
    CHECK(last.bpf_system.maps < warm.bpf_system.maps + leak_bound);
    CHECK(last.bpf_system.programs < warm.bpf_system.programs + leak_bound);
}
