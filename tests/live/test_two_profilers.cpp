// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Two Profilers running at once in one process, with different filters:
// each must see exactly its own workload, lose nothing, go on undisturbed
// when the other stops, and never report the other's library threads as
// targets (support/library_threads.hpp).
#include <catch2/catch.hpp>
#include <dirent.h>
#include <unistd.h>

#include <set>
#include <string>

#include "chain_queries.hpp"
#include "profiler_engine.hpp"
#include "workloads.hpp"

namespace wt = waketrace;
using namespace std::chrono_literals;

namespace {

constexpr int kRounds = 10;

uint64_t pipe_reads(const wt::Profile& profile, const wt::test::PipeTokenPass& work) {
    return wt::test::count_blocked_in(profile, uint32_t(work.reader_tid()), "pipe_read");
}

// Every chain's target is one of `tids`.
void require_only_targets(const wt::Profile& profile, const std::set<uint32_t>& tids) {
    for (const wt::WakeChain& chain : profile.chains) {
        INFO("target " << chain.target.tid << " (" << chain.target.comm << ")");
        CHECK(tids.count(chain.target.tid) == 1);
    }
}

std::set<uint32_t> threads_of_this_process() {
    std::set<uint32_t> tids;
    if (DIR* dir = opendir("/proc/self/task")) {
        while (const dirent* entry = readdir(dir))
            if (entry->d_name[0] != '.')
                tids.insert(uint32_t(std::stoul(entry->d_name)));
        closedir(dir);
    }
    return tids;
}

// Threads that `profiler.start()` added to this process: its library threads
// (the preparation thread may have ended already, and then is no target).
std::set<uint32_t> start_and_list_library_threads(wt::detail::ProfilerEngine& profiler) {
    const std::set<uint32_t> before = threads_of_this_process();
    profiler.start();
    std::set<uint32_t> added;
    for (uint32_t tid : threads_of_this_process())
        if (before.count(tid) == 0)
            added.insert(tid);
    return added;
}

void require_none_targeted(const wt::Profile& profile, const std::set<uint32_t>& tids, const char* whose) {
    for (const wt::WakeChain& chain : profile.chains) {
        INFO(whose << " library thread " << chain.target.tid << " is a target");
        INFO(wt::test::describe_chains(profile, chain.target.tid));
        CHECK(tids.count(chain.target.tid) == 0);
    }
    for (const wt::ThreadTotal& thread : profile.threads) {
        INFO(whose << " library thread " << thread.task.tid << " has a total");
        CHECK(tids.count(thread.task.tid) == 0);
    }
}

}  // namespace

TEST_CASE("two Profilers at once, each filtering its own thread, see exactly their own blocks",
          "[two profilers]") {
    wt::test::PipeTokenPass a(kRounds, 5ms);
    wt::test::PipeTokenPass b(kRounds, 5ms);
    wt::Config config_a;
    config_a.tids = {uint32_t(a.reader_tid())};
    wt::Config config_b;
    config_b.tids = {uint32_t(b.reader_tid())};
    wt::detail::ProfilerEngine profiler_a(config_a);
    wt::detail::ProfilerEngine profiler_b(config_b);
    profiler_a.start();
    profiler_b.start();
    wt::test::Together<wt::test::PipeTokenPass, wt::test::PipeTokenPass>{a, b}.run();
    profiler_a.stop();
    profiler_b.stop();
    const wt::Profile profile_a = profiler_a.results();
    const wt::Profile profile_b = profiler_b.results();

    INFO(wt::test::describe_chains(profile_a, uint32_t(a.reader_tid())));
    INFO(wt::test::describe_chains(profile_b, uint32_t(b.reader_tid())));
    CHECK(wt::test::unaccounted_rounds(pipe_reads(profile_a, a), kRounds, profile_a.losses) == "");
    CHECK(wt::test::unaccounted_rounds(pipe_reads(profile_b, b), kRounds, profile_b.losses) == "");
    require_only_targets(profile_a, {uint32_t(a.reader_tid())});
    require_only_targets(profile_b, {uint32_t(b.reader_tid())});
    CHECK(wt::test::losses_on_our_side(profile_a.losses) == 0);
    CHECK(wt::test::losses_on_our_side(profile_b.losses) == 0);
}

TEST_CASE("stopping and destroying one Profiler does not disturb another", "[two profilers]") {
    wt::test::PipeTokenPass a(kRounds, 5ms);
    wt::test::PipeTokenPass b_before(kRounds, 5ms);
    wt::test::PipeTokenPass b_after(kRounds, 5ms);
    wt::Config config_b;
    config_b.tids = {uint32_t(b_before.reader_tid()), uint32_t(b_after.reader_tid())};
    wt::detail::ProfilerEngine profiler_b(config_b);
    wt::Profile profile_a;
    {
        wt::Config config_a;
        config_a.tids = {uint32_t(a.reader_tid())};
        wt::detail::ProfilerEngine profiler_a(config_a);
        profiler_a.start();
        profiler_b.start();
        wt::test::Together<wt::test::PipeTokenPass, wt::test::PipeTokenPass>{a, b_before}.run();
        profiler_a.stop();
        profile_a = profiler_a.results();
    }  // profiler_a's BPF objects and threads are gone here
    b_after.run();
    profiler_b.stop();
    const wt::Profile profile_b = profiler_b.results();

    INFO(wt::test::describe_chains(profile_b, uint32_t(b_after.reader_tid())));
    CHECK(wt::test::unaccounted_rounds(pipe_reads(profile_a, a), kRounds, profile_a.losses) == "");
    CHECK(wt::test::unaccounted_rounds(pipe_reads(profile_b, b_before), kRounds, profile_b.losses) == "");
    CHECK(wt::test::unaccounted_rounds(pipe_reads(profile_b, b_after), kRounds, profile_b.losses) == "");
    require_only_targets(profile_b, {uint32_t(b_before.reader_tid()), uint32_t(b_after.reader_tid())});
    CHECK(wt::test::losses_on_our_side(profile_a.losses) == 0);
    CHECK(wt::test::losses_on_our_side(profile_b.losses) == 0);
}

TEST_CASE("a system-wide Profiler and one of this process with --state leave out each other's threads",
          "[two profilers]") {
    wt::test::PipeTokenPass work(kRounds, 5ms);
    wt::detail::ProfilerEngine system_wide{wt::Config{}};
    wt::Config config_own;
    config_own.pids = {uint32_t(getpid())};
    config_own.state_mask = 1;  // TASK_INTERRUPTIBLE: a pipe read's sleep, and the library threads' waits
    wt::detail::ProfilerEngine own_process(config_own);
    const std::set<uint32_t> system_wide_threads = start_and_list_library_threads(system_wide);
    const std::set<uint32_t> own_process_threads = start_and_list_library_threads(own_process);
    REQUIRE(!system_wide_threads.empty());
    REQUIRE(!own_process_threads.empty());
    // A library thread leaves itself out as its first act, but may have
    // been preempted on its way there (in ret_from_fork, at its first page
    // fault), seen by a Profiler that was already running: those startup
    // periods are dropped here (README, "Profilers in one process").
    (void)system_wide.drain();
    (void)own_process.drain();
    work.run();
    // The ring readers wait 50 ms at a time: give each a few waits to be seen in.
    std::this_thread::sleep_for(200ms);
    own_process.stop();
    system_wide.stop();
    const wt::Profile profile_system = system_wide.results();
    const wt::Profile profile_own = own_process.results();

    CHECK(wt::test::unaccounted_rounds(pipe_reads(profile_system, work), kRounds, profile_system.losses) ==
          "");
    CHECK(wt::test::unaccounted_rounds(pipe_reads(profile_own, work), kRounds, profile_own.losses) == "");
    for (const wt::WakeChain& chain : profile_own.chains)
        CHECK(chain.target.tgid == uint32_t(getpid()));
    require_none_targeted(profile_system, own_process_threads, "system-wide: the other Profiler's");
    require_none_targeted(profile_own, system_wide_threads, "this process: the other Profiler's");
    require_none_targeted(profile_system, system_wide_threads, "system-wide: its own");
    require_none_targeted(profile_own, own_process_threads, "this process: its own");
}
