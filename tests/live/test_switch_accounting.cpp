// SPDX-License-Identifier: LGPL-2.1-or-later
//
// No silent loss: every off-CPU period of a traced thread comes back, or is
// counted as lost. The threads' own switch counts (kept by the kernel) are
// the reference, so the check is exact, not a tolerance.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>

#include "chain_queries.hpp"
#include "counted_ping_pong.hpp"
#include "profiler_engine.hpp"

namespace wt = waketrace;
using Channel = wt::test::PingPongPlan::Channel;

namespace {

// Periods the profiler saw, per thread: exact per-thread totals when stacks
// are sampled, else the chains' counts.
std::map<pid_t, uint64_t> periods_seen(const wt::Profile& profile) {
    std::map<pid_t, uint64_t> seen;
    if (profile.stack_sample_percent < 100) {
        for (const wt::ThreadTotal& thread : profile.threads)
            seen[pid_t(thread.task.tid)] += thread.count;
    } else {
        for (const wt::WakeChain& chain : profile.chains)
            seen[pid_t(chain.target.tid)] += chain.count;
    }
    return seen;
}

// The causes that each stand for one whole off-CPU period.
uint64_t periods_lost(const wt::Losses& losses, bool sampled) {
    return losses.missed_switch_outs + losses.missed_switch_ins + losses.period_events +
           (sampled ? losses.thread_map_full : losses.chain_map_full);
}

struct Outcome {
    std::map<pid_t, uint64_t> seen;
    uint64_t lost = 0;
    uint64_t ring_lost = 0;  // of those, to a full --dwarf ring buffer
    // A skipped run may lose a period, or a waking, or nothing: it bounds
    // what is missing instead of accounting for it exactly.
    uint64_t skipped_runs = 0;
    void add(const wt::Profile& profile) {
        for (const auto& [tid, count] : periods_seen(profile))
            seen[tid] += count;
        lost += periods_lost(profile.losses, profile.stack_sample_percent < 100);
        ring_lost += profile.losses.period_events;
        skipped_runs += profile.losses.skipped_runs;
    }
};

// Plays the ping-pong under a profiler; with `drain_every`, drains while it
// plays and adds up the drains.
Outcome profile_ping_pong(wt::test::CountedPingPong& game, wt::Config config,
                          std::chrono::milliseconds drain_every = std::chrono::milliseconds(0)) {
    for (pid_t tid : game.tids())
        config.tids.push_back(uint32_t(tid));
    config.min_block_us = 0;  // every period, however short
    wt::detail::ProfilerEngine profiler(config);
    Outcome outcome;
    profiler.start();
    game.start();
    if (drain_every.count()) {
        while (!game.finished()) {
            std::this_thread::sleep_for(drain_every);
            outcome.add(profiler.drain());
        }
    }
    game.wait_finished();
    profiler.stop();
    outcome.add(drain_every.count() ? profiler.drain() : profiler.results());
    return outcome;
}

void check_accounts(const wt::test::CountedPingPong& game, const Outcome& outcome) {
    uint64_t done = 0;
    uint64_t seen = 0;
    for (pid_t tid : game.tids()) {
        const uint64_t expected = game.periods(tid);
        const auto it = outcome.seen.find(tid);
        const uint64_t got = it == outcome.seen.end() ? 0 : it->second;
        INFO("thread " << tid << ": " << expected << " periods done, " << got << " seen");
        CHECK(got <= expected);
        done += expected;
        seen += got;
    }
    INFO(done << " periods done, " << seen << " seen, " << outcome.lost << " counted as lost ("
              << outcome.ring_lost << " to the --dwarf ring), " << outcome.skipped_runs
              << " program runs skipped");
    if (outcome.skipped_runs == 0)
        CHECK(seen + outcome.lost == done);
    else
        CHECK(done - seen <= outcome.lost + outcome.skipped_runs);
    CHECK(done > 0);
}

int rounds() {
    const char* env = std::getenv("WAKETRACE_ACCOUNTING_ROUNDS");
    return env ? std::atoi(env) : 20000;
}

// WAKETRACE_ACCOUNTING_MODES=dwarf,drain plays only those modes (a bench
// comparing builds need not wait for the others); unset: all of them.
bool mode_wanted(const std::string& mode) {
    const char* env = std::getenv("WAKETRACE_ACCOUNTING_MODES");
    if (!env)
        return true;
    const std::string list = std::string(",") + env + ",";
    return list.find("," + mode + ",") != std::string::npos;
}

}  // namespace

TEST_CASE("every off-CPU period is seen or counted as lost") {
    const bool two_cpus = sysconf(_SC_NPROCESSORS_ONLN) >= 2;
    const auto channel = GENERATE(Channel::pipe, Channel::futex);
    const bool cross_cpu = GENERATE(true, false);
    const std::string mode = GENERATE("default", "raw_tp", "sampling", "dwarf", "drain");
    if ((cross_cpu && !two_cpus) || !mode_wanted(mode))
        return;
    wt::test::PingPongPlan plan;
    plan.channel = channel;
    plan.rounds = rounds();
    plan.cpu_a = 0;
    plan.cpu_b = cross_cpu ? 1 : 0;
    INFO((channel == Channel::pipe ? "pipe" : "futex")
         << (cross_cpu ? ", two CPUs" : ", one CPU") << ", mode " << mode);
    wt::test::CountedPingPong game(plan);
    wt::Config config;
    std::chrono::milliseconds drain_every(0);
    if (mode == "raw_tp")
        config.attach = wt::AttachMode::raw_tp;
    else if (mode == "sampling")
        config.stack_sample_percent = 10;
    else if (mode == "dwarf")
        config.dwarf_stack_bytes = 4096;
    else if (mode == "drain")
        drain_every = std::chrono::milliseconds(50);
    check_accounts(game, profile_ping_pong(game, config, drain_every));
}
