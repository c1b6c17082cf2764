// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A ping-pong whose threads' context switches are counted by the kernel
// itself (/proc/self/task/TID/status), so a profiler's period count can be
// checked exactly: every switch-out a thread made while traced must come
// back as one off-CPU period, or as a counted loss.
//
// The threads are started first and park at a gate; their switch counts are
// read there. After run() they park again in a final wait, where the counts
// are read once more. So the periods a profiler attached between the two
// parkings should see are (final - gate - 1): each switch-out after the gate
// reading, less the final one, which has not ended yet.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace waketrace::test {

struct PingPongPlan {
    enum class Channel { pipe, futex };
    Channel channel = Channel::pipe;
    int rounds = 10000;
    int cpu_a = 0;  // where each thread is pinned; -1: not pinned
    int cpu_b = 1;
    // Above 0: each round is played `1 + (round / rounds_per_depth) % max_depth`
    // calls deep, so each depth is a distinct user stack (and chain), and
    // the first thread sleeps `pause_us` at each change of depth, so new
    // chains come at a bounded rate.
    int max_depth = 0;
    int rounds_per_depth = 100;
    int pause_us = 0;
};

class CountedPingPong {
public:
    explicit CountedPingPong(PingPongPlan plan);
    ~CountedPingPong();
    CountedPingPong(const CountedPingPong&) = delete;
    CountedPingPong& operator=(const CountedPingPong&) = delete;

    std::vector<pid_t> tids() const { return {threads_[0].tid, threads_[1].tid}; }
    // Opens the gate; returns at once.
    void start();
    // Waits until both threads are parked in their final wait and reads
    // their counts.
    void wait_finished();
    bool finished() const;
    // Off-CPU periods `tid` had between the gate and the final wait.
    uint64_t periods(pid_t tid) const;

private:
    struct Player {
        pid_t tid = 0;
        std::atomic<int> parked{0};  // 1: at the gate, 2: in the final wait
        uint64_t gate_switches = 0;
        uint64_t final_switches = 0;
        std::thread thread;
    };
    void play(int index);
    void exchange(int index);
    void play_round(int index);
    void park(Player& player, int where, std::atomic<int>& until);
    void wait_parked(Player& player, int where);

    PingPongPlan plan_;
    Player threads_[2];
    std::atomic<int> gate_{0};
    std::atomic<int> release_{0};
    std::atomic<int> turn_{0};                // futex channel: whose move it is
    int pipes_[2][2] = {{-1, -1}, {-1, -1}};  // [0]: a -> b, [1]: b -> a
};

}  // namespace waketrace::test
