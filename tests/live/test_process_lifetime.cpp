// SPDX-License-Identifier: LGPL-2.1-or-later
// A process that blocks, is woken, and exits before the profile is read must
// still be named: its memory map was read when it was first seen.
#include <catch2/catch.hpp>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "chain_queries.hpp"
#include "profiler_engine.hpp"
#include "workloads.hpp"

namespace wt = waketrace;

namespace {

// Frame pointers skip the direct caller of libc's read(), so the child's
// stack shows this function (the caller's caller) by name.
__attribute__((noinline)) void wait_for_byte(int fd) {
    char byte;
    if (read(fd, &byte, 1) != 1)
        _exit(1);
}

__attribute__((noinline)) void short_lived_child_main(int fd) {
    wait_for_byte(fd);  // 1: blocked before the profiler attached: not seen
    wait_for_byte(fd);  // 2: blocked while profiled, woken by the parent
    _exit(0);
}

int bytes_unread(int read_end) {
    int bytes = 0;
    return ioctl(read_end, FIONREAD, &bytes) == 0 ? bytes : -1;
}

}  // namespace

TEST_CASE("a process that exited before the results are read is still named") {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        close(fds[1]);
        short_lived_child_main(fds[0]);
    }

    wt::Config config;
    config.pids = {uint32_t(child)};
    wt::detail::ProfilerEngine profiler(config);
    profiler.start();
    // The second wait, known to have begun: the child took "a" and sleeps
    // again (a slow child, under ASan on a busy machine, would otherwise
    // find both bytes there and never block while profiled).
    REQUIRE(write(fds[1], "a", 1) == 1);
    for (int polls = 0; polls < 5000 && (bytes_unread(fds[0]) > 0 || !wt::test::is_sleeping(child)); ++polls)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    REQUIRE(write(fds[1], "b", 1) == 1);
    REQUIRE(waitpid(child, nullptr, 0) == child);
    close(fds[0]);
    close(fds[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    profiler.stop();
    profiler.stop();  // idempotent
    const wt::Profile profile = profiler.results();
    CHECK(profiler.results().chains.size() == profile.chains.size());  // readable again

    const wt::WakeChain* woken_by_parent = nullptr;
    for (const wt::WakeChain* chain : wt::test::chains_of_target(profile, uint32_t(child)))
        if (chain->wakers[0].task.tid == uint32_t(wt::test::current_tid()))
            woken_by_parent = chain;
    INFO("the child's periods:\n"
         << wt::test::describe_chains(profile, uint32_t(child))
         << "losses: " << wt::test::describe(profile.losses));
    REQUIRE(woken_by_parent != nullptr);
    CHECK(woken_by_parent->blocked_ns >= 40'000'000);
    CHECK(wt::test::has_frame(woken_by_parent->kernel_stack, "pipe_read"));
    CHECK(wt::test::has_frame(woken_by_parent->user_stack, "short_lived_child_main"));
    CHECK(wt::test::has_frame(woken_by_parent->wakers[0].user_stack, "write"));
}
