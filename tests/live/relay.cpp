// SPDX-License-Identifier: LGPL-2.1-or-later
#include "relay.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <stdexcept>
#include <system_error>

namespace waketrace::test {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t nanoseconds(Clock::duration duration) {
    return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count());
}

// A raw nanosleep (async-signal-safe: a forked child calls it too), whole
// however often a signal interrupts it.
void sleep_whole(std::chrono::microseconds duration) {
    timespec left{time_t(duration.count() / 1'000'000), long(duration.count() % 1'000'000) * 1000};
    while (syscall(SYS_nanosleep, &left, &left) != 0 && errno == EINTR) {
    }
}

uint64_t thread_switches() {
    rusage usage{};
    getrusage(RUSAGE_THREAD, &usage);
    return uint64_t(usage.ru_nvcsw + usage.ru_nivcsw);
}

void pin_to(int cpu) {
    if (cpu < 0)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
        throw std::runtime_error("cannot pin a relay stage to CPU " + std::to_string(cpu));
}

// The forked stage 1: only async-signal-safe calls from here on (the
// parent has threads).
[[noreturn]] void first_stage_child(int gate, int baton, int rounds, std::chrono::microseconds sleep) {
    prctl(PR_SET_NAME, "relay-1", 0, 0, 0);
    char byte;
    while (read(gate, &byte, 1) < 0 && errno == EINTR) {
    }
    for (int round = 0; round < rounds; ++round) {
        sleep_whole(sleep);
        byte = 'b';
        while (write(baton, &byte, 1) < 0 && errno == EINTR) {
        }
    }
    _exit(0);
}

}  // namespace

Relay::Relay(RelayPlan plan)
    : plan_(plan),
      stages_(size_t(plan.stages)),
      sent_(size_t(plan.rounds)),
      waits_begun_(size_t(plan.rounds)),
      received_(size_t(plan.rounds)) {
    if (plan_.stages < 2 || plan_.rounds < 1)
        throw std::invalid_argument("a relay needs two stages and a round");
    if (plan_.first_stage_forked && plan_.channel != BatonChannel::pipe)
        throw std::invalid_argument("a forked stage passes through a pipe only");
    for (int i = 0; i + 1 < plan_.stages; ++i)
        batons_.emplace_back(plan_.channel);
    if (plan_.first_stage_forked)
        fork_first_stage();
    for (int stage = plan_.first_stage_forked ? 2 : 1; stage <= plan_.stages; ++stage) {
        Stage& self = stages_[size_t(stage - 1)];
        self.tid = spawn([this, stage] { run_stage(stage); });
        self.pid = getpid();
    }
}

Relay::~Relay() {
    run();  // never leave a stage waiting; a no-op after run()
    if (child_ > 0 && waitpid(child_, nullptr, WNOHANG) == 0) {
        kill(child_, SIGKILL);
        waitpid(child_, nullptr, 0);
    }
}

void Relay::fork_first_stage() {
    int gate[2];
    if (pipe2(gate, O_CLOEXEC) != 0)
        throw std::system_error(errno, std::generic_category(), "pipe2");
    detail::UniqueFd gate_read(gate[0]);
    child_gate_.reset(gate[1]);
    child_ = fork();
    if (child_ < 0)
        throw std::system_error(errno, std::generic_category(), "fork");
    if (child_ == 0)
        first_stage_child(gate_read.get(), batons_[0].pipe_write_fd(), plan_.rounds, plan_.sleep);
    stages_[0].tid = child_;
    stages_[0].pid = child_;
}

std::vector<uint32_t> Relay::tids() const {
    std::vector<uint32_t> tids;
    for (const Stage& stage : stages_)
        tids.push_back(uint32_t(stage.tid));
    return tids;
}

void Relay::run_stage(int stage) {
    Stage& self = stages_[size_t(stage - 1)];
    pthread_setname_np(pthread_self(), comm(stage).c_str());
    pin_to(plan_.cpu);
    const uint64_t switches_before = thread_switches();
    const bool first = stage == 1, last = stage == plan_.stages;
    if (first || (stage == 2 && plan_.first_stage_forked)) {
        started_ = Clock::now();
        prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);  // stage 1's sleeps as set, not 50 µs longer
    }
    if (stage == 2 && child_gate_) {
        const char byte = 'g';
        if (write(child_gate_.get(), &byte, 1) != 1)
            throw std::system_error(errno, std::generic_category(), "starting the forked stage");
    }
    for (int round = 0; round < plan_.rounds; ++round) {
        const Clock::time_point wait_began = Clock::now();
        if (first)
            sleep_whole(plan_.sleep);
        else
            batons_[size_t(stage - 2)].take();
        const Clock::time_point woken = Clock::now();
        self.waited_ns += nanoseconds(woken - wait_began);
        if (first)
            sent_[size_t(round)] = woken;
        if (last) {
            waits_begun_[size_t(round)] = wait_began;
            received_[size_t(round)] = woken;
        } else {
            batons_[size_t(stage - 1)].pass();
        }
    }
    self.switches = thread_switches() - switches_before;
    if (last)
        finished_ = Clock::now();
    if (stage == 2 && child_ > 0)
        waitpid(child_, nullptr, 0);
}

uint64_t Relay::elapsed_ns() const { return nanoseconds(finished_ - started_); }

uint64_t Relay::relay_ns() const {
    if (plan_.first_stage_forked)
        return 0;
    uint64_t sum = 0;
    for (size_t round = 0; round < sent_.size(); ++round)
        sum += nanoseconds(received_[round] - sent_[round]);
    return sum;
}

uint64_t Relay::timer_share_ns() const {
    if (plan_.first_stage_forked)
        return 0;
    uint64_t sum = 0;
    for (size_t round = 0; round < sent_.size(); ++round)
        if (sent_[round] > waits_begun_[round])
            sum += nanoseconds(sent_[round] - waits_begun_[round]);
    return sum;
}

}  // namespace waketrace::test
