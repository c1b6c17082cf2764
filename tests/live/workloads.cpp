// SPDX-License-Identifier: LGPL-2.1-or-later
#include "workloads.hpp"

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <fstream>
#include <future>
#include <iterator>
#include <stdexcept>
#include <string>

namespace waketrace::test {

pid_t current_tid() { return pid_t(syscall(SYS_gettid)); }

bool is_sleeping(pid_t tid) {
    std::ifstream stat("/proc/" + std::to_string(tid) + "/stat");  // any thread, not only listed ones
    std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const size_t name_end = content.rfind(')');
    return name_end != std::string::npos && content.size() > name_end + 2 && content[name_end + 2] == 'S';
}

Workload::~Workload() {
    run();  // never leave threads waiting; a no-op after run()
    join();
}

namespace {

void futex_wait(std::atomic<uint32_t>& word, uint32_t while_equal) {
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAIT_PRIVATE, while_equal, nullptr, nullptr,
            0);
}

void futex_wake_all(std::atomic<uint32_t>& word) {
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

}  // namespace

// The threads wait on bare futex words, not a condition variable: woken
// together from pthread_cond_wait, each would block once more on the
// mutex, woken by the thread before it: a convoy of short waits, in a
// chain through every thread, after the profiler started (it made tests
// count one period too many). A futex wait that began before the start is
// never seen.
void Workload::release() {
    released_.store(1);
    futex_wake_all(released_);
}

void Workload::wait_done() {
    for (uint32_t done = done_.load(); done < threads_.size(); done = done_.load())
        futex_wait(done_, done);
}

void Workload::join() {
    may_exit_.store(1);
    futex_wake_all(may_exit_);
    for (std::thread& thread : threads_)
        if (thread.joinable())
            thread.join();
}

pid_t Workload::spawn(std::function<void()> body) {
    std::promise<pid_t> tid;
    std::future<pid_t> started = tid.get_future();
    threads_.emplace_back([this, &tid, body = std::move(body)] {
        tid.set_value(current_tid());
        while (released_.load() == 0)
            futex_wait(released_, 0);
        body();
        done_.fetch_add(1);
        futex_wake_all(done_);
        while (may_exit_.load() == 0)
            futex_wait(may_exit_, 0);
    });
    return started.get();
}

namespace {

// Kept out of line so the frames show up by name in user stacks.
__attribute__((noinline)) void read_one_byte(int fd) {
    char byte;
    if (read(fd, &byte, 1) != 1)
        throw std::runtime_error("pipe read failed");
}

__attribute__((noinline)) void write_one_byte(int fd) {
    const char byte = 'x';
    if (write(fd, &byte, 1) != 1)
        throw std::runtime_error("pipe write failed");
}

// Its own frame, so no local of the caller lives across vfork(). The child
// may only call async-signal-safe code: a raw nanosleep and _exit. The parent
// waits in wait_for_vfork_done meanwhile.
__attribute__((noinline)) void vfork_and_wait(long child_sleep_ns) {
    const pid_t child = vfork();
    if (child == 0) {
        timespec ts{0, child_sleep_ns};
        syscall(SYS_nanosleep, &ts, nullptr);
        _exit(0);
    }
    waitpid(child, nullptr, 0);
}

void sleep_for(std::chrono::nanoseconds duration) {
    timespec ts{time_t(duration.count() / 1'000'000'000), long(duration.count() % 1'000'000'000)};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

// Until thread `tid` sleeps in a pipe read (as /proc says: its wait
// channel), so that the write that follows always wakes a blocked reader,
// however late the reader got going. Gives up after two seconds.
void wait_until_in_pipe_read(pid_t tid) {
    const std::string wchan = "/proc/self/task/" + std::to_string(tid) + "/wchan";
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (std::chrono::steady_clock::now() < give_up) {
        std::ifstream file(wchan);
        std::string where;
        std::getline(file, where);
        if (where.find("pipe_read") != std::string::npos)
            return;
        sleep_for(std::chrono::microseconds(100));
    }
}

}  // namespace

PipeTokenPass::PipeTokenPass(int rounds, std::chrono::milliseconds sleep)
    : PipeTokenPass(rounds, std::vector<std::chrono::microseconds>{sleep}) {}

PipeTokenPass::PipeTokenPass(int rounds, std::vector<std::chrono::microseconds> sleeps)
    : rounds_(rounds),
      sleeps_(std::move(sleeps)),
      read_called_(size_t(rounds)),
      read_returned_(size_t(rounds)),
      written_(size_t(rounds)) {
    if (pipe(fds_) != 0)
        throw std::runtime_error("pipe failed");
    reader_tid_ = spawn([this] {
        for (int i = 0; i < rounds_; ++i) {
            read_called_[size_t(i)] = std::chrono::steady_clock::now();
            read_one_byte(fds_[0]);
            read_returned_[size_t(i)] = std::chrono::steady_clock::now();
        }
    });
    writer_tid_ = spawn([this] {
        for (int i = 0; i < rounds_; ++i) {
            // The sleep starts once the reader is blocked (and has stamped
            // this round's read_called_), so each of its waits lasts at least
            // the sleep: started before, a reader late back to its read (a
            // wake-up left 0.5 ms in the runqueue, seen on a virtualised host)
            // would wait that much less.
            wait_until_in_pipe_read(reader_tid_);
            sleep_for(sleeps_[size_t(i) % sleeps_.size()]);
            written_[size_t(i)] = std::chrono::steady_clock::now();
            write_one_byte(fds_[1]);
        }
    });
}

uint64_t PipeTokenPass::reader_waited_ns() const {
    std::chrono::nanoseconds waited{0};
    for (std::chrono::nanoseconds wait : reader_waits())
        waited += wait;
    return uint64_t(waited.count());
}

std::vector<std::chrono::nanoseconds> PipeTokenPass::reader_waits() const {
    std::vector<std::chrono::nanoseconds> waits;
    for (size_t i = 0; i < written_.size(); ++i)
        waits.push_back(written_[i] - read_called_[i]);
    return waits;
}

std::vector<std::chrono::nanoseconds> PipeTokenPass::reader_read_times() const {
    std::vector<std::chrono::nanoseconds> times;
    for (size_t i = 0; i < read_called_.size(); ++i)
        times.push_back(read_returned_[i] - read_called_[i]);
    return times;
}

PipeTokenPass::~PipeTokenPass() {
    run();
    close(fds_[0]);
    close(fds_[1]);
}

NanosleepLoop::NanosleepLoop(int rounds, std::chrono::microseconds sleep) {
    sleeper_tid_ = spawn([rounds, sleep] {
        for (int i = 0; i < rounds; ++i)
            sleep_for(sleep);
    });
}

VforkWait::VforkWait(int rounds, std::chrono::milliseconds child_sleep) {
    parent_tid_ = spawn([rounds, child_sleep] {
        for (int i = 0; i < rounds; ++i)
            vfork_and_wait(long(child_sleep.count()) * 1'000'000);
    });
}

PinnedSpinners::PinnedSpinners(std::chrono::milliseconds duration) {
    for (int i = 0; i < 2; ++i) {
        tids_.push_back(spawn([duration] {
            cpu_set_t cpus;
            CPU_ZERO(&cpus);
            CPU_SET(0, &cpus);
            sched_setaffinity(0, sizeof(cpus), &cpus);
            const auto end = std::chrono::steady_clock::now() + duration;
            std::atomic<uint64_t> spins{0};
            while (std::chrono::steady_clock::now() < end)
                spins.fetch_add(1, std::memory_order_relaxed);
        }));
    }
}

}  // namespace waketrace::test
