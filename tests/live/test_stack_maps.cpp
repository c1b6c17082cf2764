// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The kernel keeps stacks of up to WT_SHORT_STACK_DEPTH frames in one map
// and longer ones in another (bpf/waketrace_abi.h): a reader that blocks 48
// calls deep, and the writer as deep that wakes it, must come back with
// every frame, named, whether their stacks stayed in the kernel's maps or
// were moved to user space between rounds.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "chain_queries.hpp"
#include "profile_while.hpp"
#include "waketrace_abi.h"
#include "workloads.hpp"

namespace wt = waketrace;
using namespace std::chrono_literals;

namespace {

constexpr int kDepth = 48;  // calls of descend(): past the short map's 32 frames
static_assert(kDepth > WT_SHORT_STACK_DEPTH, "the reader's stack must need the long map");

// Not inlined, not turned into a loop: one frame per call.
__attribute__((noinline, noipa)) void descend(int levels, const std::function<void()>& at_bottom) {
    if (levels == 0)
        at_bottom();
    else
        descend(levels - 1, at_bottom);
    asm volatile("" ::: "memory");  // work after the call: no tail call
}

// A reader blocks in read() kDepth calls deep, `rounds` times; a writer,
// as deep, waits until it is blocked, sleeps `sleep` and writes a byte.
class DeepReader : public wt::test::Workload {
public:
    DeepReader(int rounds, std::chrono::milliseconds sleep) {
        if (pipe(fds_) != 0)
            throw std::runtime_error("pipe failed");
        reader_tid_ = spawn([this, rounds] {
            descend(kDepth, [this, rounds] {
                char byte = 0;
                for (int i = 0; i < rounds; ++i)
                    while (read(fds_[0], &byte, 1) != 1) {
                    }
            });
        });
        spawn([this, rounds, sleep] {
            descend(kDepth, [this, rounds, sleep] {
                for (int i = 0; i < rounds; ++i) {
                    while (!wt::test::is_sleeping(reader_tid_))
                        std::this_thread::sleep_for(100us);
                    std::this_thread::sleep_for(sleep);
                    const char byte = 't';
                    while (write(fds_[1], &byte, 1) != 1) {
                    }
                }
            });
        });
    }
    ~DeepReader() override {
        run();
        close(fds_[0]);
        close(fds_[1]);
    }
    pid_t reader_tid() const { return reader_tid_; }

private:
    int fds_[2] = {-1, -1};
    pid_t reader_tid_ = 0;
};

size_t frames_named(const wt::Stack& stack, std::string_view part) {
    size_t count = 0;
    for (const wt::Frame& frame : stack.frames)
        if (frame.symbol.find(part) != std::string::npos)
            ++count;
    return count;
}

}  // namespace

TEST_CASE("a stack deeper than the short map's entries comes back whole and named") {
    const std::string where = GENERATE(as<std::string>{}, "kernel map", "moved to user space");
    CAPTURE(where);
    constexpr int kRounds = 4;
    DeepReader work(kRounds, 60ms);
    wt::Config config;
    config.tids = {uint32_t(work.reader_tid())};
    std::mutex log_mutex;
    std::vector<std::string> log;
    if (where == "moved to user space") {
        // Each map holds 4 (the long one's floor is the short one's size):
        // the two long user stacks and the two short kernel stacks of a
        // round fill each half, so both are moved at every 50 ms look,
        // between the rounds' 60 ms waits.
        config.stack_storage_size = 4;
        config.log = [&](wt::LogLevel, std::string_view message) {
            const std::lock_guard<std::mutex> lock(log_mutex);
            log.emplace_back(message);
        };
    }
    const wt::Profile profile = wt::test::profile_while(config, work);
    INFO(wt::test::describe_chains(profile, uint32_t(work.reader_tid())));
    INFO(wt::test::describe(profile.losses));
    CHECK(wt::test::losses_on_our_side(profile.losses) == 0);

    uint64_t deep_reads = 0;
    for (const wt::WakeChain* chain : wt::test::chains_of_target(profile, uint32_t(work.reader_tid()))) {
        if (!wt::test::has_frame(chain->kernel_stack, "pipe_read"))
            continue;
        CHECK(chain->user_stack.status == wt::StackStatus::ok);
        // Every call of descend, above the read and below the thread's start.
        CHECK(frames_named(chain->user_stack, "descend") == size_t(kDepth) + 1);
        CHECK(chain->user_stack.frames.size() > size_t(WT_SHORT_STACK_DEPTH));
        REQUIRE(chain->wakers.size() == 1);
        const wt::Waker& writer = chain->wakers.front();
        CHECK(writer.user_stack.status == wt::StackStatus::ok);
        CHECK(frames_named(writer.user_stack, "descend") == size_t(kDepth) + 1);
        CHECK(wt::test::has_frame(writer.kernel_stack, "pipe_write"));
        deep_reads += chain->count;
    }
    CHECK(wt::test::unaccounted_rounds(deep_reads, kRounds, profile.losses) == "");

    if (where == "moved to user space") {
        const std::lock_guard<std::mutex> lock(log_mutex);
        bool moved = false;
        for (const std::string& message : log)
            moved = moved || message.find("stacks to user space") != std::string::npos;
        CHECK(moved);
    }
}
