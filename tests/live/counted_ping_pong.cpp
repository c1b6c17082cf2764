// SPDX-License-Identifier: LGPL-2.1-or-later
#include "counted_ping_pong.hpp"

#include <fmt/format.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>

#include "workloads.hpp"

namespace waketrace::test {
namespace {

void futex_wait(std::atomic<int>& word, int while_value) {
    syscall(SYS_futex, reinterpret_cast<int*>(&word), FUTEX_WAIT_PRIVATE, while_value, nullptr, nullptr, 0);
}

void futex_wake(std::atomic<int>& word) {
    syscall(SYS_futex, reinterpret_cast<int*>(&word), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

// Voluntary plus involuntary context switches of one of our threads.
uint64_t switches_of(pid_t tid) {
    std::ifstream status(fmt::format("/proc/self/task/{}/status", tid));
    uint64_t total = 0;
    std::string line;
    while (std::getline(status, line)) {
        for (const char* field : {"voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:"}) {
            if (line.rfind(field, 0) == 0)
                total += std::stoull(line.substr(std::string(field).size()));
        }
    }
    return total;
}

// Calls `then` from `depth` frames further down: each depth is a stack of its own.
__attribute__((noinline)) void at_depth(int depth, const std::function<void()>& then) {
    if (depth > 0)
        at_depth(depth - 1, then);
    else
        then();
    asm volatile("" ::: "memory");  // no tail call: every level keeps its frame
}

void pin_to(int cpu) {
    if (cpu < 0)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

// The switch count of a thread that is parked. /proc says 'S' as soon as
// the thread has set its state, a moment before the switch the count
// records has happened (a long moment under emulation: a 6.1 guest once
// saw one period more than the counts said): so the count is read until
// two readings 5 ms apart agree.
uint64_t settled_switches(pid_t tid) {
    uint64_t last = switches_of(tid);
    for (;;) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        const uint64_t now = switches_of(tid);
        if (now == last && is_sleeping(tid))
            return now;
        last = now;
    }
}

}  // namespace

CountedPingPong::CountedPingPong(PingPongPlan plan) : plan_(plan) {
    for (auto& fds : pipes_)
        if (pipe(fds) != 0)
            throw std::runtime_error("pipe failed");
    for (int i = 0; i < 2; ++i) {
        std::atomic<pid_t> tid{0};
        threads_[i].thread = std::thread([this, i, &tid] {
            tid = pid_t(syscall(SYS_gettid));
            play(i);
        });
        while (!tid)
            std::this_thread::yield();
        threads_[i].tid = tid;
    }
    for (Player& player : threads_) {
        wait_parked(player, 1);
        player.gate_switches = settled_switches(player.tid);
    }
}

CountedPingPong::~CountedPingPong() {
    gate_ = 1;
    futex_wake(gate_);
    futex_wake(gate_);
    release_ = 1;
    futex_wake(release_);
    futex_wake(release_);
    for (Player& player : threads_)
        if (player.thread.joinable())
            player.thread.join();
    for (auto& fds : pipes_)
        for (int fd : fds)
            close(fd);
}

void CountedPingPong::start() {
    gate_ = 1;
    syscall(SYS_futex, reinterpret_cast<int*>(&gate_), FUTEX_WAKE_PRIVATE, 2, nullptr, nullptr, 0);
}

void CountedPingPong::wait_finished() {
    for (Player& player : threads_) {
        wait_parked(player, 2);
        player.final_switches = settled_switches(player.tid);
    }
}

bool CountedPingPong::finished() const { return threads_[0].parked == 2 && threads_[1].parked == 2; }

uint64_t CountedPingPong::periods(pid_t tid) const {
    for (const Player& player : threads_)
        if (player.tid == tid)
            return player.final_switches - player.gate_switches - 1;
    throw std::invalid_argument("not a ping-pong thread");
}

void CountedPingPong::park(Player& player, int where, std::atomic<int>& until) {
    player.parked = where;
    while (!until)
        futex_wait(until, 0);
}

void CountedPingPong::wait_parked(Player& player, int where) {
    // The flag says the thread is about to wait; 'S' that it is waiting
    // (nothing else blocks between the two).
    while (player.parked != where || !is_sleeping(player.tid))
        std::this_thread::sleep_for(std::chrono::microseconds(200));
}

void CountedPingPong::play(int index) {
    pin_to(index == 0 ? plan_.cpu_a : plan_.cpu_b);
    park(threads_[index], 1, gate_);
    exchange(index);
    park(threads_[index], 2, release_);
}

void CountedPingPong::exchange(int index) {
    for (int round = 0; round < plan_.rounds; ++round) {
        if (plan_.max_depth <= 0) {
            play_round(index);
            continue;
        }
        if (index == 0 && plan_.pause_us > 0 && round > 0 && round % plan_.rounds_per_depth == 0)
            usleep(useconds_t(plan_.pause_us));
        at_depth(1 + (round / plan_.rounds_per_depth) % plan_.max_depth, [&] { play_round(index); });
    }
}

void CountedPingPong::play_round(int index) {
    if (plan_.channel == PingPongPlan::Channel::pipe) {
        char byte = 'x';
        const int out = pipes_[index][1];
        const int in = pipes_[1 - index][0];
        if (index == 0 && write(out, &byte, 1) != 1)
            throw std::runtime_error("pipe write failed");
        if (read(in, &byte, 1) != 1)
            throw std::runtime_error("pipe read failed");
        if (index == 1 && write(out, &byte, 1) != 1)
            throw std::runtime_error("pipe write failed");
    } else {
        // turn_ == index: my move. Make it, hand over, wait for it back.
        while (turn_ != index)
            futex_wait(turn_, 1 - index);
        turn_ = 1 - index;
        futex_wake(turn_);
    }
}

}  // namespace waketrace::test
