// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The chain map grows into user space: a busy workload with many more
// distinct chains than the kernel map holds loses none of them. Four
// ping-pong pairs block at 32 depths of recursion each (a distinct user
// stack, so a distinct chain, per depth and thread) against a kernel map of
// 128 chains; the kernel's own switch counters say how many periods each
// thread had, and every one must come back, once.
#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "counted_ping_pong.hpp"
#include "profiler_engine.hpp"

namespace wt = waketrace;

namespace {

constexpr uint32_t kMaxChains = 128;
constexpr int kPairs = 4;
constexpr int kDepths = 32;

// Pairs not pinned, so the scheduler spreads them; about 100 ms per depth:
// each pair starts some 15 chains per depth (kernel paths and wakers vary),
// so about 30 per 50 ms check in all, well within half the map.
std::vector<std::unique_ptr<wt::test::CountedPingPong>> make_pairs() {
    wt::test::PingPongPlan plan;
    plan.channel = wt::test::PingPongPlan::Channel::pipe;
    plan.cpu_a = plan.cpu_b = -1;
    plan.max_depth = kDepths;
    plan.rounds_per_depth = 50;
    plan.pause_us = 100'000;
    plan.rounds = kDepths * plan.rounds_per_depth;
    std::vector<std::unique_ptr<wt::test::CountedPingPong>> pairs;
    for (int i = 0; i < kPairs; ++i)
        pairs.push_back(std::make_unique<wt::test::CountedPingPong>(plan));
    return pairs;
}

// A chain's identity as the report shows it: target, wakers, every stack.
using ChainIdentity =
    std::tuple<uint32_t, std::vector<uint64_t>, std::vector<uint64_t>,
               std::vector<std::tuple<int, uint32_t, std::vector<uint64_t>, std::vector<uint64_t>>>>;

std::vector<uint64_t> addresses(const wt::Stack& stack) {
    std::vector<uint64_t> out;
    for (const wt::Frame& frame : stack.frames)
        if (!frame.inlined)
            out.push_back(frame.address);
    return out;
}

ChainIdentity identity(const wt::WakeChain& chain) {
    ChainIdentity id{chain.target.tid, addresses(chain.kernel_stack), addresses(chain.user_stack), {}};
    for (const wt::Waker& waker : chain.wakers)
        std::get<3>(id).emplace_back(int(waker.context), waker.task.tid, addresses(waker.kernel_stack),
                                     addresses(waker.user_stack));
    return id;
}

struct Outcome {
    bool sampled = false;
    std::map<uint32_t, uint64_t> seen;  // periods per target thread
    std::set<ChainIdentity> chains;
    uint64_t duplicated_chains = 0;  // within one profile
    uint64_t lost = 0;               // periods counted as lost
    uint64_t chain_map_full = 0;
    uint64_t skipped_runs = 0;
    uint64_t moves = 0;
    void add(const wt::Profile& profile) {
        std::set<ChainIdentity> in_this;
        // Sampling: the per-thread totals are the exact counts, one per thread.
        std::set<uint32_t> threads_in_this;
        for (const wt::ThreadTotal& thread : profile.threads) {
            if (sampled)
                seen[thread.task.tid] += thread.count;
            if (!threads_in_this.insert(thread.task.tid).second)
                ++duplicated_chains;
        }
        for (const wt::WakeChain& chain : profile.chains) {
            if (!sampled)
                seen[chain.target.tid] += chain.count;
            const ChainIdentity id = identity(chain);
            if (!in_this.insert(id).second)
                ++duplicated_chains;
            chains.insert(id);
        }
        const wt::Losses& losses = profile.losses;
        lost += losses.missed_switch_outs + losses.missed_switch_ins +
                (sampled ? losses.thread_map_full : losses.chain_map_full);
        chain_map_full += losses.chain_map_full + losses.thread_map_full;
        skipped_runs += losses.skipped_runs;
        moves += profile.chain_map_moves;
    }
};

// Drains may keep the kernel map below half full, so that nothing needs
// moving: then only the results, not the moves, are required.
void check(const std::vector<std::unique_ptr<wt::test::CountedPingPong>>& pairs, const Outcome& outcome,
           uint64_t logged_moves, bool moves_required) {
    uint64_t done = 0;
    uint64_t seen = 0;
    for (const auto& pair : pairs) {
        for (pid_t tid : pair->tids()) {
            const uint64_t expected = pair->periods(tid);
            const auto it = outcome.seen.find(uint32_t(tid));
            const uint64_t got = it == outcome.seen.end() ? 0 : it->second;
            INFO("thread " << tid << ": " << expected << " periods done, " << got << " seen");
            CHECK(got <= expected);
            done += expected;
            seen += got;
        }
    }
    INFO(done << " periods done, " << seen << " seen, " << outcome.lost << " counted as lost, "
              << outcome.skipped_runs << " program runs skipped; " << outcome.chains.size()
              << " distinct chains, " << outcome.moves << " moves to user space");
    CHECK(outcome.chain_map_full == 0);
    CHECK(outcome.duplicated_chains == 0);
    CHECK(outcome.chains.size() > kMaxChains);
    if (moves_required)
        CHECK(outcome.moves > 0);
    CHECK(logged_moves == outcome.moves);
    if (outcome.skipped_runs == 0)
        CHECK(seen + outcome.lost == done);
    else
        CHECK(done - seen <= outcome.lost + outcome.skipped_runs);
}

// Starts the pairs under a started `profiler` and hands `take` every
// profile: drained every 250 ms while they play (seldom enough that the maps
// are moved between drains too) and once at the end, or only results() at
// the end.
template <typename Take>
void play_and_take(wt::detail::ProfilerEngine& profiler,
                   const std::vector<std::unique_ptr<wt::test::CountedPingPong>>& pairs, bool draining,
                   const Take& take) {
    for (auto& pair : pairs)
        pair->start();
    auto all_finished = [&] {
        for (const auto& pair : pairs)
            if (!pair->finished())
                return false;
        return true;
    };
    if (draining) {
        while (!all_finished()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(250));
            take(profiler.drain());
        }
    }
    for (auto& pair : pairs)
        pair->wait_finished();
    profiler.stop();
    take(draining ? profiler.drain() : profiler.results());
}

}  // namespace

TEST_CASE("the chain map grows into user space instead of filling") {
    const bool draining = GENERATE(false, true);
    const bool sampled = GENERATE(false, true);
    INFO((draining ? "draining every 250 ms" : "results() at the end")
         << (sampled ? ", half the stacks sampled, 16 per-thread totals" : ""));
    auto pairs = make_pairs();
    std::mutex log_mutex;
    uint64_t logged_moves = 0;
    wt::Config config;
    config.max_chains = kMaxChains;
    config.min_block_us = 0;
    if (sampled) {
        // The per-thread totals map (max_off_cpu_threads) is half full with
        // the workload's 8 threads: it is moved over and over.
        config.stack_sample_percent = 50;
        config.max_off_cpu_threads = 16;
    }
    for (const auto& pair : pairs)
        for (pid_t tid : pair->tids())
            config.tids.push_back(uint32_t(tid));
    config.log = [&](wt::LogLevel level, std::string_view message) {
        if (level == wt::LogLevel::info && message.find("chains to user space") != std::string_view::npos) {
            const std::lock_guard<std::mutex> lock(log_mutex);
            ++logged_moves;
        }
    };
    wt::detail::ProfilerEngine profiler(config);
    Outcome outcome;
    outcome.sampled = sampled;
    profiler.start();
    play_and_take(profiler, pairs, draining, [&](const wt::Profile& profile) { outcome.add(profile); });
    const std::lock_guard<std::mutex> lock(log_mutex);
    check(pairs, outcome, logged_moves, !draining);
}

namespace {

// Stacks a chain lost or came back without frames: with the stack map
// moved to user space when half full, there must be none. (A hardirq
// waker's user stack is never taken: not a loss.)
struct StackTally {
    uint64_t missing = 0;  // lost, or ok without frames
    std::set<std::vector<uint64_t>> distinct;
    void add(const wt::Stack& stack) {
        if (stack.status == wt::StackStatus::not_captured || stack.status == wt::StackStatus::irq_dropped)
            return;
        if (stack.status != wt::StackStatus::ok || stack.frames.empty()) {
            ++missing;
            return;
        }
        distinct.insert(addresses(stack));
    }
    void add(const wt::Profile& profile) {
        for (const wt::WakeChain& chain : profile.chains) {
            add(chain.kernel_stack);
            add(chain.user_stack);
            for (const wt::Waker& waker : chain.wakers) {
                add(waker.kernel_stack);
                add(waker.user_stack);
            }
        }
    }
};

}  // namespace

TEST_CASE("the stack map is moved to user space instead of filling", "[speed]") {
    const bool draining = GENERATE(false, true);
    INFO((draining ? "draining every 250 ms" : "results() at the end"));
    // Half of it, 20 new stacks, is more than the workload starts within one
    // 50 ms look of the library's thread.
    constexpr uint32_t kStackSlots = 40;
    auto pairs = make_pairs();
    std::mutex log_mutex;
    uint64_t stack_moves = 0;
    wt::Config config;
    config.stack_storage_size = kStackSlots;
    config.min_block_us = 0;
    for (const auto& pair : pairs)
        for (pid_t tid : pair->tids())
            config.tids.push_back(uint32_t(tid));
    config.log = [&](wt::LogLevel level, std::string_view message) {
        if (level == wt::LogLevel::info && message.find("stacks to user space") != std::string_view::npos) {
            const std::lock_guard<std::mutex> lock(log_mutex);
            ++stack_moves;
        }
    };
    wt::detail::ProfilerEngine profiler(config);
    Outcome outcome;
    StackTally stacks;
    auto take = [&](const wt::Profile& profile) {
        outcome.add(profile);
        stacks.add(profile);
    };
    profiler.start();
    uint64_t last_stack_map_full = 0;
    uint64_t last_stack_collisions = 0;
    play_and_take(profiler, pairs, draining, [&](const wt::Profile& profile) {
        take(profile);
        last_stack_map_full = profile.losses.stack_map_full;
        last_stack_collisions = profile.losses.stack_collisions;
    });

    const std::lock_guard<std::mutex> lock(log_mutex);
    INFO(stacks.distinct.size() << " distinct stacks, " << stacks.missing << " missing, " << stack_moves
                                << " moves of the stack map");
    // Four pairs at 32 depths: more stacks than the map has slots.
    CHECK(stacks.distinct.size() > kStackSlots);
    CHECK(stack_moves > 0);
    CHECK(stacks.missing == 0);
    CHECK(last_stack_map_full == 0);
    CHECK(last_stack_collisions == 0);
    CHECK(outcome.duplicated_chains == 0);
    uint64_t done = 0;
    uint64_t seen = 0;
    for (const auto& pair : pairs)
        for (pid_t tid : pair->tids()) {
            done += pair->periods(tid);
            const auto it = outcome.seen.find(uint32_t(tid));
            seen += it == outcome.seen.end() ? 0 : it->second;
        }
    INFO(done << " periods done, " << seen << " seen, " << outcome.lost << " counted as lost");
    if (outcome.skipped_runs == 0)
        CHECK(seen + outcome.lost == done);
}
