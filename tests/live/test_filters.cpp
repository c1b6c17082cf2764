// SPDX-License-Identifier: LGPL-2.1-or-later
// Each filter, checked against workloads whose behaviour is known.
#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "chain_queries.hpp"
#include "profile_while.hpp"
#include "workloads.hpp"

namespace wt = waketrace;
using namespace std::chrono_literals;

namespace {

constexpr unsigned long kPfKthread = 0x00200000;

// PF_KTHREAD from /proc/TID/stat (field 9); nullopt if the thread is gone.
std::optional<bool> is_kernel_thread(uint32_t tid) {
    std::ifstream stat("/proc/" + std::to_string(tid) + "/stat");
    std::string line;
    if (!std::getline(stat, line))
        return std::nullopt;
    std::istringstream fields(line.substr(line.rfind(')') + 2));
    std::string field;
    unsigned long flags = 0;
    for (int i = 3; i <= 9 && fields >> field; ++i)
        if (i == 9)
            flags = std::stoul(field);
    return (flags & kPfKthread) != 0;
}

// Forked children that wait for run() (end of file on a shared pipe, so
// forking 1,100 of them may take as long as it takes), then each sleep three
// times 20 ms and exit.
class SleepingChildren {
public:
    explicit SleepingChildren(int count) {
        REQUIRE(pipe(release_) == 0);
        for (int i = 0; i < count; ++i) {
            const pid_t child = fork();
            REQUIRE(child >= 0);
            if (child == 0) {
                close(release_[1]);
                char byte;
                while (read(release_[0], &byte, 1) > 0) {
                }
                for (int s = 0; s < 3; ++s)
                    usleep(20'000);
                _exit(0);
            }
            pids_.push_back(child);
        }
        close(release_[0]);
    }
    ~SleepingChildren() { run(); }
    void run() {
        if (release_[1] >= 0)
            close(release_[1]);
        release_[1] = -1;
        for (pid_t pid : pids_)
            waitpid(pid, nullptr, 0);
        pids_.clear();
    }
    std::vector<uint32_t> pids() const { return {pids_.begin(), pids_.end()}; }

private:
    int release_[2] = {-1, -1};
    std::vector<pid_t> pids_;
};

}  // namespace

TEST_CASE("pid filter: only the listed processes, even more than 1024 of them") {
    SleepingChildren children(1100);
    wt::Config config;
    config.pids = children.pids();
    wt::test::PipeTokenPass other_work(3, 5ms);  // this process: must not appear
    wt::test::Together<wt::test::PipeTokenPass, SleepingChildren> both{other_work, children};
    const wt::Profile profile = wt::test::profile_while(config, both);

    const std::set<uint32_t> wanted(config.pids.begin(), config.pids.end());
    std::set<uint32_t> seen;
    for (const wt::WakeChain& chain : profile.chains) {
        CHECK(wanted.count(chain.target.tgid) == 1);
        seen.insert(chain.target.tgid);
    }
    CHECK(seen.size() >= wanted.size() * 9 / 10);
}

TEST_CASE("tid filter holds more than 1024 threads") {
    std::vector<std::unique_ptr<wt::test::NanosleepLoop>> sleepers;
    wt::Config config;
    for (int i = 0; i < 1100; ++i) {
        sleepers.push_back(std::make_unique<wt::test::NanosleepLoop>(2, 1000us));
        config.tids.push_back(uint32_t(sleepers.back()->sleeper_tid()));
    }
    struct RunAll {
        std::vector<std::unique_ptr<wt::test::NanosleepLoop>>& loops;
        void run() {
            for (auto& loop : loops)
                loop->release();
            for (auto& loop : loops)
                loop->join();
        }
    } run_all{sleepers};
    const wt::Profile profile = wt::test::profile_while(config, run_all);

    const std::set<uint32_t> wanted(config.tids.begin(), config.tids.end());
    std::set<uint32_t> seen;
    for (const wt::WakeChain& chain : profile.chains) {
        CHECK(wanted.count(chain.target.tid) == 1);
        seen.insert(chain.target.tid);
    }
    CHECK(seen.size() >= wanted.size() * 9 / 10);
}

TEST_CASE("user threads only / kernel threads only") {
    wt::test::PipeTokenPass work(5, 10ms);
    wt::Config config;
    SECTION("user threads only") {
        config.threads = wt::ThreadKind::user_only;
        const wt::Profile profile = wt::test::profile_while(config, work);
        CHECK(!wt::test::chains_of_target(profile, work.reader_tid()).empty());
        for (const wt::WakeChain& chain : profile.chains)
            CHECK(is_kernel_thread(chain.target.tid).value_or(false) == false);
    }
    SECTION("kernel threads only") {
        config.threads = wt::ThreadKind::kernel_only;
        struct WithSync {
            wt::test::PipeTokenPass& work;
            void run() {
                work.run();
                // Wakes kernel threads (writeback, journal); a quiet machine
                // may still need a moment before one blocks and wakes again.
                for (int i = 0; i < 10; ++i) {
                    sync();
                    std::this_thread::sleep_for(20ms);
                }
            }
        } with_sync{work};
        const wt::Profile profile = wt::test::profile_while(config, with_sync);
        CHECK(!profile.chains.empty());
        CHECK(wt::test::chains_of_target(profile, work.reader_tid()).empty());
        for (const wt::WakeChain& chain : profile.chains) {
            CHECK(chain.user_stack.status == wt::StackStatus::not_captured);
            CHECK(is_kernel_thread(chain.target.tid).value_or(true) == true);
        }
    }
}

TEST_CASE("min and max block time bound every off-CPU period") {
    wt::test::NanosleepLoop short_sleeps(20, 1000us);
    wt::test::PipeTokenPass long_blocks(4, 30ms);
    wt::test::Together<wt::test::NanosleepLoop, wt::test::PipeTokenPass> both{short_sleeps, long_blocks};
    wt::Config config;
    config.tids = {uint32_t(short_sleeps.sleeper_tid()), uint32_t(long_blocks.reader_tid())};
    SECTION("min 10 ms: the 1 ms sleeps are gone") {
        config.min_block_us = 10'000;
        const wt::Profile profile = wt::test::profile_while(config, both);
        // (A 1 ms sleep still counts if a busy machine kept it off CPU 10 ms.)
        CHECK(wt::test::count_blocked_in(profile, short_sleeps.sleeper_tid(), "nanosleep") < 20);
        CHECK(!wt::test::chains_of_target(profile, long_blocks.reader_tid()).empty());
        for (const wt::WakeChain& chain : profile.chains)
            CHECK(chain.total_ns >= chain.count * 10'000'000);
    }
    SECTION("max 10 ms: the 30 ms blocks are gone") {
        config.max_block_us = 10'000;
        const wt::Profile profile = wt::test::profile_while(config, both);
        CHECK(!wt::test::chains_of_target(profile, short_sleeps.sleeper_tid()).empty());
        for (const wt::WakeChain& chain : profile.chains) {
            CHECK(chain.max_ns <= 10'000'000);
            CHECK_FALSE(wt::test::has_frame(chain.kernel_stack, "pipe_read"));
        }
    }
}

TEST_CASE("--state 2 keeps uninterruptible waits only; --state 0 keeps preemption only") {
    SECTION("state 2: the vfork wait, not the interruptible pipe read") {
        wt::test::VforkWait vfork_work(5, 10ms);
        wt::test::PipeTokenPass pipe_work(5, 10ms);
        wt::test::Together<wt::test::VforkWait, wt::test::PipeTokenPass> both{vfork_work, pipe_work};
        wt::Config config;
        config.tids = {uint32_t(vfork_work.parent_tid()), uint32_t(pipe_work.reader_tid())};
        config.state_mask = 2;
        const wt::Profile profile = wt::test::profile_while(config, both);
        // Interruptible pipe waits are filtered out (the reader may still have a
        // genuinely uninterruptible wait, e.g. a page fault under ASan).
        CHECK(wt::test::count_blocked_in(profile, pipe_work.reader_tid(), "pipe_read") == 0);
        CHECK(wt::test::count_blocked_in(profile, vfork_work.parent_tid(), "vfork") == 5);
    }
    SECTION("state 0: two spinners pinned to one CPU only preempt each other") {
        wt::test::PinnedSpinners spinners(300ms);
        wt::Config config;
        for (pid_t tid : spinners.tids())
            config.tids.push_back(uint32_t(tid));
        config.state_mask = 0;
        const wt::Profile profile = wt::test::profile_while(config, spinners);
        REQUIRE(!profile.chains.empty());
        for (const wt::WakeChain& chain : profile.chains) {
            REQUIRE(chain.wakers.size() == 1);
            CHECK(chain.wakers[0].context == wt::WakerContext::preempted);
            CHECK(chain.blocked_ns == 0);
            CHECK(chain.runqueue_ns == chain.total_ns);
        }
    }
}

TEST_CASE("stack kinds: kernel only, user only") {
    wt::test::PipeTokenPass work(3, 5ms);
    wt::Config config;
    config.tids = {uint32_t(work.reader_tid())};
    SECTION("kernel stacks only") {
        config.stacks = wt::StackKinds::kernel_only;
        const wt::Profile profile = wt::test::profile_while(config, work);
        REQUIRE(!profile.chains.empty());
        for (const wt::WakeChain& chain : profile.chains) {
            CHECK(chain.user_stack.status == wt::StackStatus::not_captured);
            CHECK(chain.kernel_stack.status == wt::StackStatus::ok);
            CHECK(chain.wakers[0].user_stack.status != wt::StackStatus::ok);
        }
    }
    SECTION("user stacks only") {
        config.stacks = wt::StackKinds::user_only;
        const wt::Profile profile = wt::test::profile_while(config, work);
        REQUIRE(!profile.chains.empty());
        uint64_t with_user_stack = 0;
        for (const wt::WakeChain& chain : profile.chains) {
            CHECK(chain.kernel_stack.status == wt::StackStatus::not_captured);
            CHECK(chain.wakers[0].kernel_stack.status == wt::StackStatus::not_captured);
            // A thread on its way out (past exit_mm) has no user stack left.
            if (chain.user_stack.status == wt::StackStatus::ok)
                with_user_stack += chain.count;
            else
                CHECK(chain.user_stack.status == wt::StackStatus::not_captured);
        }
        CHECK(with_user_stack >= 3);
    }
}

TEST_CASE("a tiny stack map loses stacks, and says so") {
    wt::test::PipeTokenPass pipe_work(5, 2ms);
    wt::test::NanosleepLoop sleep_work(20, 500us);
    wt::test::Together<wt::test::PipeTokenPass, wt::test::NanosleepLoop> both{pipe_work, sleep_work};
    wt::Config config;
    config.pids = {uint32_t(getpid())};
    config.stack_storage_size = 2;
    const wt::Profile profile = wt::test::profile_while(config, both);
    const uint64_t stack_losses = profile.losses.stack_collisions + profile.losses.stack_map_full;
    CHECK(stack_losses > 0);
    bool some_chain_shows_a_lost_stack = false;
    for (const wt::WakeChain& chain : profile.chains)
        for (const wt::Stack* stack : {&chain.kernel_stack, &chain.user_stack})
            if (stack->status == wt::StackStatus::collision || stack->status == wt::StackStatus::map_full)
                some_chain_shows_a_lost_stack = true;
    CHECK(some_chain_shows_a_lost_stack);
}

TEST_CASE("unfiltered: the idle task never appears and times add up") {
    wt::test::PipeTokenPass work(5, 10ms);
    const wt::Profile profile = wt::test::profile_while(wt::Config{}, work);
    CHECK(!wt::test::chains_of_target(profile, work.reader_tid()).empty());
    for (const wt::WakeChain& chain : profile.chains) {
        CHECK(chain.target.tid != 0);
        CHECK(chain.total_ns == chain.blocked_ns + chain.runqueue_ns);
        CHECK(chain.count > 0);
        CHECK(chain.max_ns <= chain.total_ns);
        CHECK(chain.max_ns * chain.count >= chain.total_ns);
    }
}

TEST_CASE("profiling its own process leaves out the library's own threads") {
    // Several starts: a library thread that left itself out only after the
    // program attached showed up now and then (first seen under ASan, whose
    // thread start yields), so one start would rarely catch it.
    for (int start = 0; start < 8; ++start) {
        wt::test::PipeTokenPass work(3, 10ms);
        wt::Config config;
        config.pids = {uint32_t(getpid())};
        const wt::Profile profile = wt::test::profile_while(config, work);
        // Only this thread and the workload's: the ring readers and the symbol
        // loading thread block too, but are the profiler's, not the user's.
        const std::set<uint32_t> ours = {uint32_t(wt::test::current_tid()), uint32_t(work.reader_tid()),
                                         uint32_t(work.writer_tid())};
        for (const wt::WakeChain& chain : profile.chains) {
            INFO("start " << start << ": target " << chain.target.tid << " (" << chain.target.comm << ")");
            CHECK(ours.count(chain.target.tid) == 1);
        }
        CHECK(wt::test::count_blocked_in(profile, uint32_t(work.reader_tid()), "pipe_read") == 3);
    }
}
