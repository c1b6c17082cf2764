// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A relay: the ground truth of a multi-level wake chain. Stage 1 sleeps in
// nanosleep (woken by the hrtimer interrupt), then passes a baton to stage
// 2; each stage i takes the baton from stage i - 1 and passes it to stage
// i + 1; the last stage (the target) only takes. Every stage but the first
// waits for the one before it, so the last stage's wait is explained, hop
// by hop, by stages K - 1, K - 2, ..., 1 and then the timer.
//
// Each stage names itself "relay-N" (N from 1), and records its own tid,
// its waits and its context switches.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "baton.hpp"
#include "workloads.hpp"

namespace waketrace::test {

struct RelayPlan {
    int stages = 3;  // K, at least 2
    BatonChannel channel = BatonChannel::pipe;
    int rounds = 30;
    std::chrono::microseconds sleep{10'000};  // stage 1's sleep before each pass
    // Stage 1 runs in a forked child process (pipe channel only), named
    // relay-1 too: a chain through two processes.
    bool first_stage_forked = false;
    int cpu = -1;  // every stage pinned to this CPU; -1: not pinned
};

class Relay : public Workload {
public:
    explicit Relay(RelayPlan plan);
    ~Relay() override;

    const RelayPlan& plan() const { return plan_; }
    // Stages count from 1. A forked stage 1's tid is the child's pid.
    pid_t tid(int stage) const { return stages_.at(size_t(stage - 1)).tid; }
    pid_t pid(int stage) const { return stages_.at(size_t(stage - 1)).pid; }
    std::vector<uint32_t> tids() const;
    static std::string comm(int stage) { return "relay-" + std::to_string(stage); }

    // After run(), each stage's own measurements (0 for a forked stage 1):
    // the time its waits took (stage 1: its sleeps; the others: take()) ...
    uint64_t waited_ns(int stage) const { return stages_.at(size_t(stage - 1)).waited_ns; }
    // ... and the context switches it made from its start to its end.
    uint64_t switches(int stage) const { return stages_.at(size_t(stage - 1)).switches; }
    // From the first stage's start to the target's last take.
    uint64_t elapsed_ns() const;
    // The time the batons took to reach the target, summed over the rounds:
    // from each of stage 1's passes to the target's take returning (0 with
    // a forked stage 1, whose clock readings stay in the child).
    uint64_t relay_ns() const;
    // The part of the target's waits that stage 1's sleeps explain, summed
    // over the rounds: from the target's start of each wait to stage 1's
    // pass that ends it (0 with a forked stage 1). What a chain's deepest
    // hop, the timer, should report as its overlap.
    uint64_t timer_share_ns() const;

private:
    struct Stage {
        pid_t tid = 0;
        pid_t pid = 0;
        uint64_t waited_ns = 0;
        uint64_t switches = 0;
    };
    void run_stage(int stage);
    void fork_first_stage();

    RelayPlan plan_;
    std::vector<Stage> stages_;
    std::deque<Baton> batons_;  // batons_[i] goes from stage i + 1 to stage i + 2
    std::vector<std::chrono::steady_clock::time_point> sent_;         // by stage 1
    std::vector<std::chrono::steady_clock::time_point> waits_begun_;  // by the target
    std::vector<std::chrono::steady_clock::time_point> received_;     // by the target
    std::chrono::steady_clock::time_point started_{};
    std::chrono::steady_clock::time_point finished_{};
    pid_t child_ = -1;             // a forked stage 1
    detail::UniqueFd child_gate_;  // a byte written here (by stage 2) starts the child
};

}  // namespace waketrace::test
