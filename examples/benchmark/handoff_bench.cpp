// SPDX-License-Identifier: LGPL-2.1-or-later
// handoff-bench: a Google Benchmark that explains its own waiting.
//
// BM_Handoff hands a small job to a worker thread through a
// std::condition_variable and waits for the answer, so every iteration blocks
// and is woken by the worker. A waketrace::Profiler filtered to the benchmark
// thread runs around the measured loop: each run reports its off-CPU time per
// iteration as counters, and after the benchmarks the program prints where
// the thread waited in the last run and who woke it.
//
// It uses only the installed C++ API (<waketrace/profiler.hpp>, header-only
// over libwaketrace.so's C ABI); built outside the tree:
//     c++ -std=c++17 -O2 handoff_bench.cpp $(pkg-config --cflags --libs waketrace benchmark)
//
// Tracing needs root (CAP_BPF and CAP_PERFMON). Without it the library's
// message is printed and the benchmark still runs, unprofiled.
//
// Usage: handoff-bench [--benchmark_* options]
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <benchmark/benchmark.h>
#include <waketrace/profiler.hpp>

namespace {

constexpr char kWorkerName[] = "handoff-worker";

// A thread that answers one request at a time.
class Worker {
public:
    Worker() : thread_([this] { serve(); }) {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [this] { return tid_ != 0; });
    }
    ~Worker() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
        }
        changed_.notify_all();
        thread_.join();
    }
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    // Hands `job` to the worker and blocks until it answers.
    uint64_t ask(uint64_t job) {
        std::unique_lock<std::mutex> lock(mutex_);
        request_ = job;
        changed_.notify_all();
        changed_.wait(lock, [this] { return answer_.has_value(); });
        const uint64_t answer = *answer_;
        answer_.reset();
        return answer;
    }

    pid_t tid() const { return tid_; }

private:
    void serve() {
        pthread_setname_np(pthread_self(), kWorkerName);
        std::unique_lock<std::mutex> lock(mutex_);
        tid_ = gettid();
        changed_.notify_all();
        for (;;) {
            changed_.wait(lock, [this] { return request_.has_value() || stopping_; });
            if (stopping_)
                return;
            answer_ = *request_ * 0x9e3779b97f4a7c15u;  // the "work": one multiply
            request_.reset();
            // Notifying with the mutex held: the woken thread may block again,
            // on the mutex, and the report shows that as a second chain
            // ("[unknown] > futex_wake", from the unlock inside libc).
            changed_.notify_all();
        }
    }

    // One condition variable for both directions: each side waits for its
    // own predicate, so a wake-up meant for the other side is harmless.
    std::mutex mutex_;
    std::condition_variable changed_;
    std::optional<uint64_t> request_;
    std::optional<uint64_t> answer_;
    bool stopping_ = false;
    pid_t tid_ = 0;
    std::thread thread_;  // last: starts once the members above exist
};

// Profiles the benchmark thread across all runs of one benchmark. The
// profiler is started once, at the first run (loading the BPF program takes
// a while), and drained around each measured loop, so each run sees only its
// own waits and the report shows the last, longest run.
class WaitProfile {
public:
    // On the benchmark thread, before the measured loop.
    void begin_run() {
        if (unavailable_)
            return;
        if (profiler_) {
            profiler_->drain();  // forget what happened between runs
            return;
        }
        try {
            waketrace::Config config;
            tid_ = gettid();
            config.tids = {uint32_t(tid_)};
            profiler_.emplace(config);
            profiler_->start();
        } catch (const waketrace::Error& error) {
            std::fprintf(stderr, "handoff-bench: running unprofiled: %s\n", error.what());
            profiler_.reset();
            unavailable_ = true;
        }
    }

    // After the measured loop: keeps this run's waits and adds per-iteration
    // off-CPU time to the benchmark's counters.
    void end_run(benchmark::State& state, pid_t worker_tid) {
        if (!profiler_)
            return;
        last_ = profiler_->drain().profile();
        iterations_ = state.iterations();
        worker_tid_ = worker_tid;
        uint64_t total = 0, blocked = 0, runqueue = 0;
        for (const waketrace::WakeChain& chain : last_.chains) {
            total += chain.total_ns;
            blocked += chain.blocked_ns;
            runqueue += chain.runqueue_ns;
        }
        const auto per_iteration_us = [](uint64_t ns) {
            return benchmark::Counter(double(ns) / 1e3, benchmark::Counter::kAvgIterations);
        };
        state.counters["offcpu_us"] = per_iteration_us(total);
        state.counters["blocked_us"] = per_iteration_us(blocked);
        state.counters["runq_us"] = per_iteration_us(runqueue);
    }

    void stop() {
        if (profiler_)
            profiler_->stop();
    }

    void print_report(std::FILE* out, const char* benchmark, size_t top) const;

private:
    std::optional<waketrace::Profiler> profiler_;
    bool unavailable_ = false;
    pid_t tid_ = 0;
    pid_t worker_tid_ = 0;
    int64_t iterations_ = 0;
    waketrace::Profile last_;
};

double ms(uint64_t ns) { return double(ns) / 1e6; }

// The innermost resolved frame whose name contains none of `plumbing`: for a
// blocked thread, what it was waiting in below the scheduler; for a waker,
// what it was doing above the generic wake-up code.
std::string innermost(const waketrace::Stack& stack, std::initializer_list<const char*> plumbing) {
    for (const waketrace::Frame& frame : stack.frames) {
        const auto is_plumbing = [&](const char* part) {
            return frame.symbol.find(part) != std::string::npos;
        };
        if (frame.resolved() && std::none_of(plumbing.begin(), plumbing.end(), is_plumbing))
            return frame.symbol;
    }
    return "[unknown]";
}

std::string waited_in(const waketrace::WakeChain& chain) {
    return innermost(chain.kernel_stack, {"schedule"});
}

// "pthread_cond_broadcast > futex_wake": the waker's call into the kernel,
// then the kernel function that did the wake-up.
// "handoff-worker 1234" for a task; "[hardirq]", "[preempted]", "[unseen]"...
// for wake-ups no task made.
std::string waker_label(const waketrace::Waker& waker) {
    if (waker.context != waketrace::WakerContext::task)
        return "[" + std::string(waketrace::to_string(waker.context)) + "]";
    return (waker.task.comm.empty() ? "[unknown]" : waker.task.comm) + " " + std::to_string(waker.task.tid);
}

std::string woken_from(const waketrace::Waker& waker) {
    const std::string kernel = innermost(waker.kernel_stack, {"wake_up", "wake_function"});
    if (waker.user_stack.frames.empty())
        return kernel;
    return innermost(waker.user_stack, {}) + " > " + kernel;
}

void WaitProfile::print_report(std::FILE* out, const char* benchmark, size_t top) const {
    if (!profiler_)
        return;
    std::fprintf(out,
                 "\n%s: where thread %d waited in the last run (%" PRId64 " iterations), worker %s %d:\n",
                 benchmark, int(tid_), iterations_, kWorkerName, int(worker_tid_));
    std::fprintf(out, "  %10s %10s %10s %8s  %-24s %-24s %s\n", "total_ms", "blocked_ms", "runq_ms", "waits",
                 "waker", "waited in", "woken from");
    // Chains come in ascending order of total time: print the largest first.
    const auto& chains = last_.chains;
    for (size_t i = 0; i < chains.size() && i < top; ++i) {
        const waketrace::WakeChain& chain = chains[chains.size() - 1 - i];
        const waketrace::Waker& waker = chain.wakers.at(0);
        std::fprintf(out, "  %10.3f %10.3f %10.3f %8" PRIu64 "  %-24s %-24s %s\n", ms(chain.total_ns),
                     ms(chain.blocked_ns), ms(chain.runqueue_ns), chain.count, waker_label(waker).c_str(),
                     waited_in(chain).c_str(), woken_from(waker).c_str());
    }
    const waketrace::Losses& losses = last_.losses;
    if (losses.total() != 0)
        std::fprintf(stderr, "%s: %" PRIu64 " stacks or off-CPU periods were lost (waketrace::Losses)\n",
                     benchmark, losses.total());
}

WaitProfile wait_profile;

void BM_Handoff(benchmark::State& state) {
    Worker worker;
    wait_profile.begin_run();
    uint64_t job = 1;
    for (auto _ : state)
        benchmark::DoNotOptimize(job = worker.ask(job));
    wait_profile.end_run(state, worker.tid());
}

}  // namespace

BENCHMARK(BM_Handoff)->Unit(benchmark::kMicrosecond);

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 2;
    benchmark::RunSpecifiedBenchmarks();
    wait_profile.stop();
    benchmark::Shutdown();
    wait_profile.print_report(stdout, "BM_Handoff", 5);
    return 0;
}
