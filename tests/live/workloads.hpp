// SPDX-License-Identifier: LGPL-2.1-or-later
// Real workloads with known off-CPU behaviour, for checking what the profiler
// saw against what happened. Each one starts its threads first (so their tids
// can be given to the profiler), then runs when run() is called.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace waketrace::test {

pid_t current_tid();

// Sleeping in a wait ('S'), as /proc/TID/stat says (a thread of any
// process).
bool is_sleeping(pid_t tid);

// Threads created up front that wait for run(); run() releases them and
// returns once every body has returned. The threads themselves exit only at
// join() (or destruction): a thread's exit blocks too (on the mapping lock
// as its stack goes, on the sanitizer's locks under ASan), woken by another
// exiting thread, and those waits are not the workload's.
class Workload {
public:
    virtual ~Workload();
    void release();    // lets the threads go
    void wait_done();  // until every body has returned
    void join();       // lets the threads exit, and joins them
    void run() {
        release();
        wait_done();
    }

protected:
    // Starts `body` on a new thread; returns its tid once it is waiting.
    pid_t spawn(std::function<void()> body);

private:
    // Futex words: 1 once released; bodies returned; 1 once free to exit.
    std::atomic<uint32_t> released_{0};
    std::atomic<uint32_t> done_{0};
    std::atomic<uint32_t> may_exit_{0};
    std::vector<std::thread> threads_;
};

// A writer waits until the reader is blocked in its read, then sleeps
// `sleep` and writes one byte to a pipe, `rounds` times: a reader that got
// going late still blocks `rounds` times, each time for at least `sleep`.
// The reader's blocked time is about the writer's time from each sleep's
// start to its write (rounds * sleep, plus what a busy machine adds), and
// its waker is the writer, in the pipe write path.
class PipeTokenPass : public Workload {
public:
    PipeTokenPass(int rounds, std::chrono::milliseconds sleep);
    // Round i sleeps sleeps[i % sleeps.size()], all from the same call path:
    // one chain whose periods have known lengths.
    PipeTokenPass(int rounds, std::vector<std::chrono::microseconds> sleeps);
    ~PipeTokenPass() override;
    pid_t reader_tid() const { return reader_tid_; }
    pid_t writer_tid() const { return writer_tid_; }
    // How long the reader waited for its bytes, read after run(): from the
    // reader's call of read() to the writer's write, summed over the rounds.
    // Both ends are stamped by the threads themselves, so a slow host (a
    // reader late back to its read) shortens the reference as it shortens
    // the blocked time.
    uint64_t reader_waited_ns() const;
    // The same per round: from the reader's call of read() to the writer's write.
    std::vector<std::chrono::nanoseconds> reader_waits() const;
    // Each round's time in read(), read after run(): from the reader's call
    // to its return, stamped by the reader. The round's off-CPU period lies
    // within it.
    std::vector<std::chrono::nanoseconds> reader_read_times() const;

private:
    int rounds_;
    std::vector<std::chrono::microseconds> sleeps_;
    std::vector<std::chrono::steady_clock::time_point> read_called_;    // by the reader
    std::vector<std::chrono::steady_clock::time_point> read_returned_;  // by the reader
    std::vector<std::chrono::steady_clock::time_point> written_;        // by the writer
    int fds_[2] = {-1, -1};
    pid_t reader_tid_ = 0;
    pid_t writer_tid_ = 0;
};

// One thread doing `rounds` nanosleeps: woken each time by the hrtimer
// interrupt, not by a task.
class NanosleepLoop : public Workload {
public:
    NanosleepLoop(int rounds, std::chrono::microseconds sleep);
    pid_t sleeper_tid() const { return sleeper_tid_; }

private:
    pid_t sleeper_tid_ = 0;
};

// One thread waiting uninterruptibly (TASK_KILLABLE, which includes
// TASK_UNINTERRUPTIBLE) in vfork() while the child sleeps, `rounds` times.
class VforkWait : public Workload {
public:
    VforkWait(int rounds, std::chrono::milliseconds child_sleep);
    pid_t parent_tid() const { return parent_tid_; }

private:
    pid_t parent_tid_ = 0;
};

// Two busy threads pinned to one CPU for `duration`: they preempt each other.
class PinnedSpinners : public Workload {
public:
    explicit PinnedSpinners(std::chrono::milliseconds duration);
    std::vector<pid_t> tids() const { return tids_; }

private:
    std::vector<pid_t> tids_;
};

// Runs two workloads at once.
template <typename A, typename B>
struct Together {
    A& a;
    B& b;
    void run() {
        std::thread other([this] { b.run(); });
        a.run();
        other.join();
    }
};

}  // namespace waketrace::test
