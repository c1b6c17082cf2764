// SPDX-License-Identifier: LGPL-2.1-or-later
#include "relay.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <fstream>
#include <iterator>
#include <string>
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

void make_realtime() {
    const sched_param param{10};
    if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) != 0)
        throw std::runtime_error("SCHED_FIFO refused (needs root or CAP_SYS_NICE)");
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

// Until the target has taken `rounds` batons: short sleeps (stage 1's own
// waits, before the one that ends each round). Gives up after 5 s, so a
// relay whose target died does not hang. Async-signal-safe.
void wait_for_delivery(const SharedCounter& delivered, int rounds) {
    for (int polls = 0; delivered.load() < rounds && polls < 100'000; ++polls)
        sleep_whole(std::chrono::microseconds(50));
}

// The forked stage 1: only async-signal-safe calls from here on (the
// parent has threads).
[[noreturn]] void first_stage_child(int gate, int baton, const RelayPlan& plan,
                                    const SharedCounter& delivered) {
    prctl(PR_SET_NAME, "relay-1", 0, 0, 0);
    if (plan.realtime) {
        const sched_param param{10};
        sched_setscheduler(0, SCHED_FIFO, &param);
    }
    char byte;
    while (read(gate, &byte, 1) < 0 && errno == EINTR) {
    }
    for (int round = 0; round < plan.rounds; ++round) {
        wait_for_delivery(delivered, round);
        sleep_whole(plan.sleep);
        byte = 'b';
        while (write(baton, &byte, 1) < 0 && errno == EINTR) {
        }
    }
    _exit(0);
}

}  // namespace

SharedCounter::SharedCounter() {
    void* page = mmap(nullptr, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        throw std::system_error(errno, std::generic_category(), "mmap");
    value_ = static_cast<int*>(page);
}

SharedCounter::~SharedCounter() { munmap(value_, sizeof(int)); }

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
        first_stage_child(gate_read.get(), batons_[0].pipe_write_fd(), plan_, delivered_);
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
    if (plan_.realtime)
        make_realtime();
    const uint64_t switches_before = thread_switches();
    const bool first = stage == 1, last = stage == plan_.stages;
    const bool leads = first || (stage == 2 && plan_.first_stage_forked);  // the first in this process
    if (leads) {
        prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);  // stage 1's sleeps as set, not 50 µs longer
        wait_for_later_stages(stage, 0);
        started_ = Clock::now();
    } else {
        ++arrived_;
    }
    if (stage == 2 && child_gate_) {
        const char byte = 'g';
        if (write(child_gate_.get(), &byte, 1) != 1)
            throw std::system_error(errno, std::generic_category(), "starting the forked stage");
    }
    for (int round = 0; round < plan_.rounds; ++round) {
        if (first)
            wait_for_later_stages(stage, round);
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
            delivered_.store(round + 1);
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

// Until the target has taken `rounds` batons and every stage after `stage`
// in this process is back in its wait (counted in once, then sleeping), or
// five seconds passed: a stage kept off the CPU past stage 1's sleep would
// not be waiting when its baton comes.
void Relay::wait_for_later_stages(int stage, int rounds) const {
    const auto give_up = Clock::now() + std::chrono::seconds(5);
    const int later = plan_.stages - stage;
    auto all_waiting = [&] {
        if (arrived_.load() < later || delivered_.load() < rounds)
            return false;
        for (int other = stage + 1; other <= plan_.stages; ++other)
            if (!is_sleeping(tid(other)))
                return false;
        return true;
    };
    while (!all_waiting() && Clock::now() < give_up)
        sleep_whole(std::chrono::microseconds(50));
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

uint64_t Relay::relay_median_ns() const {
    if (plan_.first_stage_forked)
        return 0;
    std::vector<uint64_t> each;
    for (size_t round = 0; round < sent_.size(); ++round)
        each.push_back(nanoseconds(received_[round] - sent_[round]));
    std::nth_element(each.begin(), each.begin() + long(each.size() / 2), each.end());
    return each[each.size() / 2];
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
