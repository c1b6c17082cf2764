// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A profiler drained for ever stays bounded: what it keeps between drains
// (stacks moved out of the kernel map, --dwarf's unwound stacks and waiting
// snapshots, process snapshots, parsed and copied files) does not grow with
// the number of distinct stacks and processes it has met, and what it
// forgets is never needed again: every stack a drained profile names is
// there, named. The workload keeps making new ones: a thread of this
// process (a new thread each time) reads from a pipe that a new child
// process writes to, each round through another of 4096 call paths, so
// each round blocks (and wakes) with a user stack never seen before.
// bench/long_run.sh is the same idea for 30 minutes, with the memory
// figures.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "chain_queries.hpp"
#include "process_usage.hpp"  // WT_TEST_ASAN
#include "profiler_engine.hpp"
#include "workloads.hpp"

namespace wt = waketrace;

namespace {

// Bits of the round number that choose the call path: 4096 distinct stacks.
constexpr int kPathBits = 12;
constexpr int kRoundsPerChild = 16;
// Long enough for the library to read a new child's memory map before it
// exits (its frames are named from that); the sanitizer builds are slower.
constexpr auto kChildLingers = std::chrono::milliseconds(WT_TEST_ASAN ? 150 : 30);
constexpr auto kRunFor = std::chrono::seconds(WT_TEST_ASAN ? 10 : 4);
constexpr auto kDrainEvery = std::chrono::milliseconds(100);
// Small, so that it is moved to user space again and again.
constexpr uint32_t kStackSlots = 256;
// Drains before the bounds apply (the files of this process are parsed and
// copied over the first ones).
constexpr int kWarmUpDrains = 3;

using Then = void (*)(int fd);

void long_run_step(unsigned path, int level, Then then, int fd);

// Two callers of the next level: which one a level goes through is a bit of
// the path, so every path is a stack of its own.
__attribute__((noinline)) void long_run_left(unsigned path, int level, Then then, int fd) {
    long_run_step(path, level, then, fd);
    asm volatile("" ::: "memory");  // no tail call: every level keeps its frame
}

__attribute__((noinline)) void long_run_right(unsigned path, int level, Then then, int fd) {
    long_run_step(path, level, then, fd);
    asm volatile("" ::: "memory");
}

__attribute__((noinline)) void long_run_step(unsigned path, int level, Then then, int fd) {
    if (level == kPathBits)
        then(fd);
    else if ((path >> level) & 1)
        long_run_right(path, level + 1, then, fd);
    else
        long_run_left(path, level + 1, then, fd);
    asm volatile("" ::: "memory");
}

// The system calls, each in a frame of its own: libc's wrappers keep no
// frame pointer, so a frame-pointer walk from inside one goes on from its
// caller's frame, which names the function that called the caller.
__attribute__((noinline)) void read_reply(int fd) {
    char byte = 0;
    if (read(fd, &byte, 1) != 1)
        throw std::runtime_error("the child's reply did not come");
    asm volatile("" ::: "memory");
}

__attribute__((noinline)) void write_reply(int fd) {
    const char byte = 'r';
    if (write(fd, &byte, 1) != 1)
        _exit(3);
    asm volatile("" ::: "memory");
}

// Where the reader blocks, and where the child wakes it.
__attribute__((noinline)) void long_run_blocker(int fd) {
    read_reply(fd);
    asm volatile("" ::: "memory");
}

__attribute__((noinline)) void long_run_waker(int fd) {
    write_reply(fd);
    asm volatile("" ::: "memory");
}

// In the child (only async-signal-safe calls after a fork): until the
// parent's thread `tid` sleeps in a pipe read, so each write wakes a
// blocked reader however late it got going. Gives up after two seconds.
void wait_until_reading(pid_t parent, pid_t tid) {
    char path[64];
    char where[64];
    snprintf(path, sizeof(path), "/proc/%d/task/%d/wchan", int(parent), int(tid));
    for (int tries = 0; tries < 20000; ++tries) {
        const int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t got = fd >= 0 ? read(fd, where, sizeof(where) - 1) : -1;
        if (fd >= 0)
            close(fd);
        where[got > 0 ? got : 0] = '\0';
        if (strstr(where, "pipe_read"))
            return;
        const timespec pause{0, 100'000};
        nanosleep(&pause, nullptr);
    }
}

// One child: kRoundsPerChild rounds of request (parent -> child) and reply
// (child -> parent, waking the parent's reader), each through the path
// `first_path + round`. The child stays until the parent closes its end,
// so it is running when the profiler reads its maps.
void play_child(unsigned first_path) {
    int requests[2];
    int replies[2];
    if (pipe2(requests, O_CLOEXEC) != 0 || pipe2(replies, O_CLOEXEC) != 0)
        throw std::runtime_error("pipe2 failed");
    const pid_t parent = getpid();
    const pid_t reader = wt::test::current_tid();
    const pid_t child = fork();
    if (child < 0)
        throw std::runtime_error("fork failed");
    if (child == 0) {
        close(requests[1]);
        close(replies[0]);
        char byte = 0;
        for (int round = 0; round < kRoundsPerChild; ++round) {
            if (read(requests[0], &byte, 1) != 1)
                _exit(2);
            wait_until_reading(parent, reader);
            long_run_step(first_path + unsigned(round), 0, long_run_waker, replies[1]);
        }
        (void)!read(requests[0], &byte, 1);  // the end of file: the parent is done
        _exit(0);
    }
    close(requests[0]);
    close(replies[1]);
    for (int round = 0; round < kRoundsPerChild; ++round) {
        const char byte = 'q';
        if (write(requests[1], &byte, 1) != 1)
            throw std::runtime_error("the request did not go");
        long_run_step(first_path + unsigned(round), 0, long_run_blocker, replies[0]);
    }
    // The child lingers a little: a process that exits within a few
    // milliseconds of its first stack may be gone before the profiler's
    // thread reads its maps (its frames then stay unnamed, a limit of its
    // own that this test is not about).
    std::this_thread::sleep_for(kChildLingers);
    close(requests[1]);
    close(replies[0]);
    int status = 0;
    waitpid(child, &status, 0);
}

// Children one after another, each played by a new thread, until `stop`.
struct Workload {
    std::mutex mutex;
    std::set<uint32_t> reader_tids;
    std::set<uint32_t> child_tgids;  // filled in from what the profiles show
    std::atomic<uint64_t> rounds{0};
    std::atomic<uint64_t> children{0};
    std::atomic<bool> stop{false};
    std::atomic<bool> failed{false};

    void run() {
        unsigned path = 0;
        while (!stop) {
            std::thread reader([&] {
                {
                    const std::lock_guard<std::mutex> lock(mutex);
                    reader_tids.insert(uint32_t(wt::test::current_tid()));
                }
                try {
                    play_child(path);
                } catch (const std::exception&) {
                    failed = true;
                }
            });
            reader.join();
            path += kRoundsPerChild;
            rounds += kRoundsPerChild;
            ++children;
        }
    }
};

std::vector<uint64_t> addresses(const wt::Stack& stack) {
    std::vector<uint64_t> out;
    for (const wt::Frame& frame : stack.frames)
        out.push_back(frame.address);
    return out;
}

// What the drained profiles showed of the workload.
struct Seen {
    uint64_t periods = 0;          // the reader woken in a pipe read by a child: one a round
    uint64_t unnamed_blocker = 0;  // such periods whose user stack is not named
    uint64_t unnamed_waker = 0;    // or whose waker's user stack is not named
    uint64_t stacks_missing = 0;   // any stack lost for an id that named nothing
    uint64_t stacks_lost = 0;      // ... lost for another reason, counted
    uint64_t periods_lost = 0;     // periods counted as lost
    std::set<std::vector<uint64_t>> distinct_stacks;

    void add(const wt::Stack& stack) {
        if (stack.status == wt::StackStatus::error && stack.error == -ENOENT)
            ++stacks_missing;
        if (stack.status == wt::StackStatus::ok && !stack.frames.empty())
            distinct_stacks.insert(addresses(stack));
    }

    void add(const wt::Profile& profile, Workload& workload) {
        const wt::Losses& losses = profile.losses;
        periods_lost += losses.missed_switch_outs + losses.missed_switch_ins + losses.chain_map_full +
                        losses.period_events + losses.skipped_runs;
        stacks_lost +=
            losses.stack_errors + losses.user_stack_events + losses.stack_collisions + losses.stack_map_full;
        const std::lock_guard<std::mutex> lock(workload.mutex);
        for (const wt::WakeChain& chain : profile.chains) {
            add(chain.kernel_stack);
            add(chain.user_stack);
            for (const wt::Waker& waker : chain.wakers) {
                add(waker.kernel_stack);
                add(waker.user_stack);
            }
            if (!workload.reader_tids.count(chain.target.tid) || chain.wakers.empty())
                continue;
            const wt::Waker& waker = chain.wakers.front();
            if (waker.context != wt::WakerContext::task || waker.task.tgid == uint32_t(getpid()))
                continue;
            // The reply's pipe read (not the wait for the child's exit).
            if (chain.kernel_stack.status == wt::StackStatus::ok &&
                !wt::test::has_frame(chain.kernel_stack, "pipe_read"))
                continue;
            workload.child_tgids.insert(waker.task.tgid);
            periods += chain.count;
            // A stack lost for a counted cause is not a name gone wrong.
            if (chain.user_stack.status == wt::StackStatus::ok &&
                !wt::test::has_frame(chain.user_stack, "long_run_blocker"))
                unnamed_blocker += chain.count;
            if (waker.user_stack.status == wt::StackStatus::ok &&
                !wt::test::has_frame(waker.user_stack, "long_run_waker"))
                unnamed_waker += chain.count;
        }
    }
};

// The largest of each count after the warm-up drains. Processes come and go
// at the workload's pace: those met since the drain before (`recent`) may
// still be held, the others not.
struct Peaks {
    wt::detail::ProfilerEngine::Retained most;
    size_t most_recent = 0;       // children started since the drain before, at the peak
    size_t processes_beyond = 0;  // processes held beyond those children, at most
    size_t images_beyond = 0;     // images with named frames beyond twice those, at most

    void add(const wt::detail::ProfilerEngine::Retained& now, size_t recent) {
        auto raise = [](size_t& peak, size_t value) { peak = std::max(peak, value); };
        raise(most.archived_stacks, now.archived_stacks);
        raise(most.unwound_stacks, now.unwound_stacks);
        raise(most.pending_snapshots, now.pending_snapshots);
        raise(most.processes, now.processes);
        raise(most.pinned_files, now.pinned_files);
        raise(most.file_copies, now.file_copies);
        raise(most.parsed_files, now.parsed_files);
        raise(most.named_images, now.named_images);
        raise(most_recent, recent);
        raise(processes_beyond, now.processes > recent ? now.processes - recent : 0);
        raise(images_beyond, now.named_images > 2 * recent ? now.named_images - 2 * recent : 0);
    }
};

// The executable files this process maps: what its own snapshot pins.
size_t own_code_files() {
    std::ifstream maps("/proc/self/maps");
    std::set<std::string> files;
    for (std::string line; std::getline(maps, line);) {
        std::istringstream fields(line);
        std::string range, perms, offset, device, inode, path;
        fields >> range >> perms >> offset >> device >> inode >> path;
        if (perms.find('x') != std::string::npos && !path.empty() && path[0] == '/')
            files.insert(path);
    }
    return files.size();
}

}  // namespace

// [speed]: it needs drains at their pace while children come and go; under
// emulation (the 6.1 guest) one --dwarf drain took the whole run.
TEST_CASE("a profiler drained for ever keeps what its next drains need, not all it met", "[speed]") {
    const bool dwarf = GENERATE(false, true);
    INFO((dwarf ? "--dwarf" : "frame pointers") << ", drained every " << kDrainEvery.count() << " ms");
    wt::Config config;
    config.pids = {uint32_t(getpid())};
    config.min_block_us = 0;
    config.stack_storage_size = kStackSlots;
    if (dwarf)
        config.dwarf_stack_bytes = 8192;
    std::atomic<uint64_t> stack_moves{0};
    config.log = [&](wt::LogLevel level, std::string_view message) {
        if (level == wt::LogLevel::info && message.find("stacks to user space") != std::string_view::npos)
            ++stack_moves;
    };
    wt::detail::ProfilerEngine profiler(config);
    profiler.start();

    Workload workload;
    std::thread player([&] { workload.run(); });
    Seen seen;
    Peaks peaks;
    int drains = 0;
    const auto end = std::chrono::steady_clock::now() + kRunFor;
    uint64_t children_at_last_drain = 0;
    while (std::chrono::steady_clock::now() < end) {
        std::this_thread::sleep_for(kDrainEvery);
        const uint64_t children_before = workload.children;
        seen.add(profiler.drain(), workload);
        const wt::detail::ProfilerEngine::Retained held = profiler.retained();
        if (++drains > kWarmUpDrains)
            peaks.add(held, size_t(workload.children + 1 - children_at_last_drain));
        children_at_last_drain = children_before;
    }
    workload.stop = true;
    player.join();
    profiler.stop();
    seen.add(profiler.drain(), workload);
    peaks.add(profiler.retained(), size_t(workload.children + 1 - children_at_last_drain));
    const size_t code_files = own_code_files();

    const wt::detail::ProfilerEngine::Retained& most = peaks.most;
    INFO(workload.children << " children, " << workload.rounds << " rounds, " << drains << " drains, "
                           << stack_moves << " moves of the stack map; seen: " << seen.periods
                           << " periods of the workload, " << seen.distinct_stacks.size()
                           << " distinct stacks, " << seen.unnamed_blocker << " unnamed target stacks, "
                           << seen.unnamed_waker << " unnamed waker stacks, " << seen.stacks_missing
                           << " stacks missing, " << seen.stacks_lost << " stacks and " << seen.periods_lost
                           << " periods counted as lost");
    INFO("most kept after a drain: " << most.archived_stacks << " archived stacks, " << most.unwound_stacks
                                     << " unwound stacks, " << most.pending_snapshots
                                     << " waiting snapshots, " << most.processes << " processes (at most "
                                     << peaks.processes_beyond << " beyond the " << peaks.most_recent
                                     << " children of a drain's span), " << most.named_images
                                     << " images with named frames (at most " << peaks.images_beyond
                                     << " beyond), " << most.pinned_files << " pinned files, "
                                     << most.file_copies << " file copies, " << most.parsed_files
                                     << " parsed files; this process maps " << code_files << " code files");
    REQUIRE_FALSE(workload.failed);
    // The workload did make new stacks and processes all along.
    REQUIRE(workload.children >= 20);
    REQUIRE(seen.distinct_stacks.size() >= 4 * kStackSlots);
    // Results stay right: every round is a period unless counted as lost,
    // and every stack they name is there and named.
    CHECK(seen.periods <= workload.rounds);
    CHECK(seen.periods + seen.periods_lost >= workload.rounds);
    CHECK(seen.stacks_missing == 0);
    CHECK(seen.unnamed_blocker == 0);
    CHECK(seen.unnamed_waker == 0);
    // Bounded: a few dozen of what the run met by the thousand.
    if (!dwarf)
        CHECK(stack_moves > 0);
    CHECK(most.archived_stacks <= 2 * kStackSlots);
    CHECK(most.unwound_stacks <= 4 * kRoundsPerChild * peaks.most_recent + 64);
    CHECK(most.pending_snapshots <= 64);
    // The children of a drain's span, this process, and a few processes
    // outside the test that woke its threads.
    CHECK(peaks.processes_beyond <= 8);
    CHECK(peaks.images_beyond <= 8);
    // The children map this process's files.
    CHECK(most.pinned_files <= code_files + 32);
    CHECK(most.parsed_files <= code_files + 32);
    CHECK(most.file_copies <= code_files + 32);
}
