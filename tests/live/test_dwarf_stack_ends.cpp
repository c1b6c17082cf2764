// SPDX-License-Identifier: LGPL-2.1-or-later
//
// --dwarf copies a thread's stack only down to where the thread's stack
// ends, once an unwind of one of its snapshots has reached its outermost
// frame (bpf stack_tops, capture/stack_ends.hpp): the copies of threads that
// block near their start shrink to a few hundred bytes, and the same thread
// blocking far deeper later still gets every frame.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "chain_queries.hpp"
#include "process_usage.hpp"
#include "profiler_engine.hpp"
#include "workloads.hpp"

namespace wt = waketrace;

namespace {

constexpr int kShallowRounds = 40;
// wait_deep frames below the reader's body, each over 96 bytes: 40 fit in
// the 8 KiB copy with the rest of the stack; under ASan, whose redzones make
// each several times as large, 10 do (CI: 40 were cut at 23; 20 lost
// the outermost frame).
constexpr int kDepth = WT_TEST_ASAN ? 10 : 40;
constexpr uint32_t kStackBytes = 8192;

int read_token(int fd) {
    char token = 0;
    return ::read(fd, &token, 1) == 1 ? token : -1;
}

__attribute__((noinline)) int wait_shallow(int fd) { return read_token(fd); }

// Recursion that keeps its frames: the sum after the call is no tail call.
__attribute__((noinline)) int wait_deep(int fd, int depth) {
    volatile char pad[96];
    pad[0] = char(depth);
    if (depth == 0)
        return read_token(fd);
    const int got = wait_deep(fd, depth - 1);
    return got + pad[0];
}

// The reader blocks kShallowRounds times just below its start, then once
// kDepth calls deeper; the writer sends each token once the reader waits.
// After the first round the writer waits for `after_first_round`, which
// returns once the unwinding thread has learned the threads' stack ends
// (under emulation that takes seconds).
class ShallowThenDeep : public wt::test::Workload {
public:
    explicit ShallowThenDeep(std::function<void()> after_first_round)
        : after_first_round_(std::move(after_first_round)) {
        REQUIRE(pipe(pipe_) == 0);
        reader_ = spawn([this] {
            for (int round = 0; round < kShallowRounds; ++round)
                wait_shallow(pipe_[0]);
            wait_deep(pipe_[0], kDepth);
        });
        writer_ = spawn([this] {
            for (int round = 0; round <= kShallowRounds; ++round) {
                while (!wt::test::is_sleeping(reader_))
                    std::this_thread::yield();
                const char token = 1;
                if (::write(pipe_[1], &token, 1) != 1)
                    return;
                if (round == 0)
                    after_first_round_();
            }
        });
    }
    ~ShallowThenDeep() override {
        join();
        close(pipe_[0]);
        close(pipe_[1]);
    }
    pid_t reader() const { return reader_; }

private:
    std::function<void()> after_first_round_;
    int pipe_[2] = {-1, -1};
    pid_t reader_ = 0;
    pid_t writer_ = 0;
};

size_t frames_named(const wt::Stack& stack, std::string_view part) {
    size_t count = 0;
    for (const wt::Frame& frame : stack.frames)
        count += frame.symbol.find(part) != std::string::npos;
    return count;
}

// The outermost `count` frames (outermost last), by symbol and file: the
// thread's start, and what the thread library called (a stack's frames
// below may differ by call site, and tail calls leave some out).
std::vector<std::string> outermost_frames(const wt::Stack& stack, size_t count) {
    std::vector<std::string> outer;
    for (size_t i = stack.frames.size() > count ? stack.frames.size() - count : 0; i < stack.frames.size();
         ++i)
        outer.push_back(stack.frames[i].symbol + " in " + stack.frames[i].module);
    return outer;
}

// The thread's start lies in libc (start_thread, clone3), which may have no
// symbols for them where no debug file is installed.
bool ends_in_libc(const wt::Stack& stack) {
    return !stack.frames.empty() && stack.frames.back().module.find("libc.so") != std::string::npos;
}

}  // namespace

TEST_CASE("--dwarf: copies stop where a thread's stack ends, and a deeper stack later is whole") {
    const wt::AttachMode attach = GENERATE(wt::AttachMode::tp_btf, wt::AttachMode::raw_tp);
    CAPTURE(attach == wt::AttachMode::tp_btf ? "tp_btf" : "raw_tp");
    std::unique_ptr<wt::detail::ProfilerEngine> profiler;
    // The first round's snapshots: the reader's two blockings (it blocks
    // again at once) and the writer's waking. Those unwound, the ends are
    // known to the program.
    ShallowThenDeep workload([&profiler] {
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (profiler->dwarf_copies().snapshots < 3 && std::chrono::steady_clock::now() < give_up)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    });
    wt::Config config;
    config.tids = {uint32_t(workload.reader())};
    config.min_block_us = 0;
    config.dwarf_stack_bytes = kStackBytes;
    config.attach = attach;
    profiler = std::make_unique<wt::detail::ProfilerEngine>(config);
    profiler->start();
    workload.run();
    profiler->stop();
    const wt::Profile profile = profiler->results();
    const wt::detail::ProfilerEngine::DwarfCopies copies = profiler->dwarf_copies();
    INFO(wt::test::describe_chains(profile, uint32_t(workload.reader())));
    INFO(wt::test::describe(profile.losses));

    uint64_t shallow = 0;
    const wt::Stack* shallow_stack = nullptr;
    const wt::Stack* deep_stack = nullptr;
    for (const wt::WakeChain* chain : wt::test::chains_of_target(profile, uint32_t(workload.reader()))) {
        const wt::Stack& stack = chain->user_stack;
        if (frames_named(stack, "wait_deep") > 0) {
            CHECK(deep_stack == nullptr);
            CHECK(chain->count == 1);
            deep_stack = &stack;
        } else if (wt::test::has_frame(stack, "wait_shallow")) {
            shallow += chain->count;
            CHECK(ends_in_libc(stack));
            shallow_stack = &stack;
        }
    }
    CHECK(shallow + wt::test::losses_on_our_side(profile.losses) >= kShallowRounds);
    REQUIRE(shallow_stack);
    REQUIRE(deep_stack);
    // Every call of the recursion, and on to the thread's start as the
    // shallow stacks had it: the copy reached the top of the stack.
    CHECK(frames_named(*deep_stack, "wait_deep") == kDepth + 1);
    CHECK(ends_in_libc(*deep_stack));
    CHECK(outermost_frames(*deep_stack, 2) == outermost_frames(*shallow_stack, 2));

    // One snapshot of the reader per round and one of the writer per waking;
    // before their ends were learned (the first round), whole copies. When
    // the deep blocking comes the reader's end is known: it is copied up to
    // there, not whole, and still named to the start.
    // Half the whole copy on average leaves room for a sanitizer's larger
    // frames; the plain build copies about 500 bytes a snapshot here, and
    // 6 KiB without the learned ends (copies stop at the stack's mapping).
    REQUIRE(copies.snapshots >= 2 * kShallowRounds);
    INFO("snapshots " << copies.snapshots << ", stack bytes " << copies.stack_bytes);
    CHECK(copies.stack_bytes < copies.snapshots * (kStackBytes / 2));
}
