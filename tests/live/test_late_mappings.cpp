// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A process's memory map is read when it is first seen, and again when it
// has mapped more since: a library it opened later (or libc, for a program
// first seen while the dynamic loader was still at work) is named even
// after the process has exited.
#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include "chain_queries.hpp"
#include "profiler_engine.hpp"

namespace wt = waketrace;

TEST_CASE("a library opened after the process was first seen is named after it exits") {
    int go[2];
    REQUIRE(pipe(go) == 0);
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        close(go[1]);
        char byte;
        if (read(go[0], &byte, 1) != 1)
            _exit(1);
        execl(LATE_LIBRARY, LATE_LIBRARY, LATE_LIBRARY_LIB, static_cast<char*>(nullptr));
        _exit(127);
    }
    close(go[0]);
    wt::Config config;
    config.pids = {uint32_t(child)};
    config.stacks = wt::StackKinds::user_only;
    wt::detail::ProfilerEngine profiler(config);
    profiler.start();
    REQUIRE(write(go[1], "g", 1) == 1);
    close(go[1]);
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    profiler.stop();
    const wt::Profile profile = profiler.results();

    uint64_t in_library = 0;
    for (const wt::WakeChain* chain : wt::test::chains_of_target(profile, uint32_t(child)))
        if (wt::test::has_frame(chain->user_stack, "late_library_block"))
            in_library += chain->count;
    INFO(wt::test::describe_chains(profile, uint32_t(child)));
    CHECK(in_library >= 3);
}
