// SPDX-License-Identifier: LGPL-2.1-or-later
//
// --dwarf mode's ring buffer (Config::dwarf_ring_bytes): a size that is set
// is the size used, what does not fit is counted, the default keeps up with
// a short ping-pong, and records the program sent without waking the reader
// (it wakes it only for batches) still reach a drain() made right after the
// traced threads went quiet.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <cerrno>
#include <map>

#include "counted_ping_pong.hpp"
#include "profiler_engine.hpp"

namespace wt = waketrace;
using Channel = wt::test::PingPongPlan::Channel;

namespace {

struct Tally {
    uint64_t done = 0;
    uint64_t seen = 0;
    uint64_t lost = 0;  // periods counted as lost, whatever the cause
    uint64_t ring_lost_periods = 0;
    uint64_t ring_lost_stacks = 0;
    uint64_t skipped_runs = 0;
    uint64_t user_stacks_ok = 0;      // chains (targets) whose user stack was unwound
    uint64_t user_stacks_nobufs = 0;  // chains whose snapshot found the ring full
};

wt::Config dwarf_config(const wt::test::CountedPingPong& game, uint32_t ring_bytes) {
    wt::Config config;
    for (pid_t tid : game.tids())
        config.tids.push_back(uint32_t(tid));
    config.min_block_us = 0;
    config.dwarf_stack_bytes = 8192;
    config.dwarf_ring_bytes = ring_bytes;
    return config;
}

// Plays the game under `config`; the profile is a drain() made as soon as
// both threads are parked (still running: nothing has stopped the reader).
Tally play_and_drain(wt::test::CountedPingPong& game, const wt::Config& config) {
    wt::detail::ProfilerEngine profiler(config);
    profiler.start();
    game.start();
    game.wait_finished();
    const wt::Profile profile = profiler.drain();
    profiler.stop();

    Tally tally;
    for (pid_t tid : game.tids())
        tally.done += game.periods(tid);
    for (const wt::WakeChain& chain : profile.chains) {
        tally.seen += chain.count;
        if (chain.user_stack.status == wt::StackStatus::ok)
            tally.user_stacks_ok += chain.count;
        else if (chain.user_stack.status == wt::StackStatus::error && chain.user_stack.error == -ENOBUFS)
            tally.user_stacks_nobufs += chain.count;
    }
    const wt::Losses& losses = profile.losses;
    tally.lost =
        losses.missed_switch_outs + losses.missed_switch_ins + losses.period_events + losses.chain_map_full;
    tally.ring_lost_periods = losses.period_events;
    tally.ring_lost_stacks = losses.user_stack_events;
    tally.skipped_runs = losses.skipped_runs;
    return tally;
}

// ASan slows the unwinding thread several-fold: keeping up with a ping-pong
// at full speed is a property of the real build. A sanitizer build checks
// that every loss is counted, not that there is none (CI once saw 4,893 of
// 5,130 periods lost to the ring there, all counted).
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSpeedAsShipped = false;
#else
constexpr bool kSpeedAsShipped = true;
#endif

void check_exact(const Tally& tally) {
    INFO(tally.done << " periods done, " << tally.seen << " seen, " << tally.lost << " counted as lost ("
                    << tally.ring_lost_periods << " to the ring), " << tally.skipped_runs
                    << " program runs skipped");
    CHECK(tally.done > 0);
    if (tally.skipped_runs == 0)
        CHECK(tally.seen + tally.lost == tally.done);
    else
        CHECK(tally.done - tally.seen <= tally.lost + tally.skipped_runs);
}

}  // namespace

TEST_CASE("a --dwarf ring too small for one snapshot loses every user stack, counted") {
    wt::test::PingPongPlan plan;
    plan.rounds = 2000;
    plan.cpu_a = 0;
    plan.cpu_b = sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? 1 : 0;
    wt::test::CountedPingPong game(plan);
    // One page: a period record fits, an 8 KiB stack copy never does.
    const Tally tally = play_and_drain(game, dwarf_config(game, uint32_t(sysconf(_SC_PAGESIZE))));
    check_exact(tally);
    INFO(tally.ring_lost_stacks << " user stacks lost to the ring, " << tally.user_stacks_nobufs
                                << " periods with such a stack, " << tally.user_stacks_ok << " unwound");
    CHECK(tally.user_stacks_ok == 0);
    CHECK(tally.ring_lost_stacks >= tally.seen);  // the target's, and its waker's
    CHECK(tally.user_stacks_nobufs == tally.seen);
}

TEST_CASE("the default --dwarf ring keeps up with a short pinned ping-pong", "[speed]") {
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
        return;  // one CPU shared by the game and the reader: not what this measures
    const auto channel = GENERATE(Channel::pipe, Channel::futex);
    wt::test::PingPongPlan plan;
    plan.channel = channel;
    plan.rounds = 5000;
    plan.cpu_a = 0;
    plan.cpu_b = 1;
    INFO((channel == Channel::pipe ? "pipe" : "futex"));
    wt::test::CountedPingPong game(plan);
    const Tally tally = play_and_drain(game, dwarf_config(game, 0));
    check_exact(tally);
    // Everything the program sent before the drain was read by it, though
    // the last batch was too small to wake the reader: each period's user
    // stack was unwound, or is one the ring had no room for.
    INFO(tally.user_stacks_ok << " user stacks unwound, " << tally.user_stacks_nobufs
                              << " lost to the ring, of " << tally.seen << " periods");
    CHECK(tally.user_stacks_ok + tally.user_stacks_nobufs == tally.seen);
    if (kSpeedAsShipped) {
        CHECK(tally.ring_lost_periods == 0);
        CHECK(tally.ring_lost_stacks == 0);
    }
}
