// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The blocked / runqueue split must not lean: the time of a waking is read
// before the waker's stacks are walked, so the walk (microseconds) does not
// count as the target's blocked time. Checked against a reference run
// that walks almost no stacks (1% sampling, whose per-thread totals are
// still exact), on a relay whose blocked time is set by a timer.
#include <catch2/catch.hpp>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <stdexcept>
#include <thread>

#include "chain_queries.hpp"
#include "profile_while.hpp"

namespace wt = waketrace;

namespace {

// Pinned, and real-time so that the machine's other work (a parallel
// build, say) neither delays the timer nor keeps the reader waiting for a
// CPU: the split then holds what the profiler does, not what the load does.
void pin_and_prioritise(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    const sched_param param{10};
    if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) != 0)
        throw std::runtime_error("SCHED_FIFO refused (the live tests run as root)");
}

// A writer sleeps `sleep_us` (no timer slack) and writes a byte, `rounds`
// times; the reader blocks reading each. The reader's blocked time per
// round is the writer's sleep less the reader's turnaround, whatever the
// profiler does: a stack walk in the waker delays the reader's return and
// the writer's next sleep alike.
class TimedRelay {
public:
    TimedRelay(int rounds, long sleep_us) : rounds_(rounds), sleep_us_(sleep_us) {
        if (pipe(fds_) != 0)
            throw std::runtime_error("pipe failed");
        reader_ = std::thread([this] {
            reader_tid_ = pid_t(syscall(SYS_gettid));
            pin_and_prioritise(0);
            while (!go_)
                std::this_thread::yield();
            char byte;
            for (int i = 0; i < rounds_; ++i)
                if (read(fds_[0], &byte, 1) != 1)
                    return;
        });
        while (!reader_tid_)
            std::this_thread::yield();
    }
    ~TimedRelay() {
        if (reader_.joinable())
            reader_.join();
        close(fds_[0]);
        close(fds_[1]);
    }
    pid_t reader_tid() const { return reader_tid_; }
    void run() {
        std::thread writer([this] {
            pin_and_prioritise(sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 1 : 0);
            prctl(PR_SET_TIMERSLACK, 1UL);
            go_ = true;
            const timespec sleep{0, sleep_us_ * 1000};
            for (int i = 0; i < rounds_; ++i) {
                clock_nanosleep(CLOCK_MONOTONIC, 0, &sleep, nullptr);
                if (write(fds_[1], "x", 1) != 1)
                    return;
            }
        });
        writer.join();
        reader_.join();
    }

private:
    int rounds_;
    long sleep_us_;
    int fds_[2] = {-1, -1};
    std::atomic<pid_t> reader_tid_{0};
    std::atomic<bool> go_{false};
    std::thread reader_;
};

// Mean blocked and runqueue time per period, of the periods whose stacks
// were taken and of those whose were not.
struct Split {
    double walked_blocked_ns = 0, walked_runqueue_ns = 0;
    double plain_blocked_ns = 0, plain_runqueue_ns = 0;
    uint64_t walked = 0, plain = 0;
};

// Half the reader's periods are sampled: the chains hold those (scaled up
// two-fold), the per-thread totals all of them, exactly.
Split reader_split(int rounds) {
    TimedRelay relay(rounds, 100);
    wt::Config config;
    config.tids = {uint32_t(relay.reader_tid())};
    config.stack_sample_percent = 50;
    // Periods a busy machine stretched (a late timer, an unpreemptible
    // kernel path on the reader's CPU) say nothing about the split and
    // swamp the mean: keep those near the relay's own pace.
    config.max_block_us = 1000;
    const wt::Profile profile = wt::test::profile_while(config, relay);
    uint64_t blocked = 0, runqueue = 0, count = 0;
    for (const wt::WakeChain* chain : wt::test::chains_of_target(profile, uint32_t(relay.reader_tid()))) {
        blocked += chain->blocked_ns / 2;
        runqueue += chain->runqueue_ns / 2;
        count += chain->count / 2;
    }
    uint64_t all_blocked = 0, all_runqueue = 0, all_count = 0;
    for (const wt::ThreadTotal& thread : profile.threads) {
        all_blocked += thread.blocked_ns;
        all_runqueue += thread.runqueue_ns;
        all_count += thread.count;
    }
    Split split;
    split.walked = count;
    split.plain = all_count - count;
    split.walked_blocked_ns = double(blocked) / double(count);
    split.walked_runqueue_ns = double(runqueue) / double(count);
    split.plain_blocked_ns = double(all_blocked - blocked) / double(split.plain);
    split.plain_runqueue_ns = double(all_runqueue - runqueue) / double(split.plain);
    return split;
}

}  // namespace

TEST_CASE("walking the waker's stacks does not move time into the blocked part", "[precise-timing]") {
    // Five runs pooled: what a busy machine adds to one period or another
    // is noise of either sign, while a walk counted as blocked would add
    // to every period with stacks. The rounds set that noise: periods here
    // vary by ~100 us under load, and 6,000 periods a side make the standard
    // error of a mean ~1.3 us a run (at 2,000 a side a run under load
    // average 15 once differed by 1.9%; three runs pooled once read 0.52%).
    double walked_blocked = 0, plain_blocked = 0;
    for (int run = 0; run < 5; ++run) {
        const Split split = reader_split(12000);
        INFO("per period, with stacks: blocked "
             << split.walked_blocked_ns << " ns, runqueue " << split.walked_runqueue_ns << " ns ("
             << split.walked << " periods); without: blocked " << split.plain_blocked_ns << " ns, runqueue "
             << split.plain_runqueue_ns << " ns (" << split.plain << " periods)");
        REQUIRE(split.walked > 1000);
        REQUIRE(split.plain > 1000);
        UNSCOPED_INFO("run " << run << ": blocked " << split.walked_blocked_ns << " ns with stacks, "
                             << split.plain_blocked_ns << " ns without; runqueue " << split.walked_runqueue_ns
                             << " ns with, " << split.plain_runqueue_ns << " ns without");
        walked_blocked += split.walked_blocked_ns;
        plain_blocked += split.plain_blocked_ns;
    }
    CHECK(std::fabs(walked_blocked / plain_blocked - 1.0) < 0.005);
}
