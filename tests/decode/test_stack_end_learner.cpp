// SPDX-License-Identifier: LGPL-2.1-or-later
// StackEndLearner: what the program is told of where threads' stacks end,
// from the unwinds of their --dwarf snapshots.
#include <catch2/catch.hpp>

#include <optional>

#include "decode/stack_end_learner.hpp"

using waketrace::detail::StackEndLearner;

namespace {

constexpr uint64_t kStart = 1000;  // the thread's start time
constexpr uint64_t kEnd = 0x7000;  // where its stack ends
constexpr uint64_t kWhole = 8192;  // a whole copy

// An unwind of a snapshot taken at `rsp`, with `copied` bytes.
StackEndLearner::Unwound unwound(uint64_t rsp, uint64_t copied, uint64_t end_found,
                                 bool read_past_copy = false, uint32_t tid = 7, uint64_t start = kStart) {
    StackEndLearner::Unwound u;
    u.tid = tid;
    u.thread_start_ns = start;
    u.stack_address = rsp;
    u.stack_size = copied;
    u.end_found = end_found;
    u.read_past_copy = read_past_copy;
    return u;
}

}  // namespace

TEST_CASE("a thread's stack end is told once, when an unwind first finds it") {
    StackEndLearner learner;
    CHECK(learner.on_unwind(unwound(0x6c00, kWhole, 0)) == std::nullopt);  // not reached
    CHECK(learner.on_unwind(unwound(0x6c00, kWhole, kEnd)) == kEnd);
    // The same end again, and snapshots answered without a walk: nothing new.
    CHECK(learner.on_unwind(unwound(0x6d00, kEnd - 0x6d00, kEnd)) == std::nullopt);
    CHECK(learner.on_unwind(unwound(0x6d00, kEnd - 0x6d00, 0)) == std::nullopt);
    CHECK(learner.threads_known() == 1);
}

TEST_CASE("a thread's stack end only rises") {
    StackEndLearner learner;
    REQUIRE(learner.on_unwind(unwound(0x6c00, kWhole, kEnd)) == kEnd);
    CHECK(learner.on_unwind(unwound(0x6c00, kEnd - 0x6c00, kEnd - 0x100)) == std::nullopt);
    CHECK(learner.on_unwind(unwound(0x6c00, kWhole, kEnd + 0x40)) == kEnd + 0x40);
}

TEST_CASE("a copy cut at the end told that leaves the unwind wanting more gives the thread up") {
    StackEndLearner learner;
    REQUIRE(learner.on_unwind(unwound(0x6c00, kWhole, kEnd)) == kEnd);
    // Cut elsewhere (an unreadable page below the end): not the end's doing.
    CHECK(learner.on_unwind(unwound(0x6000, 0x800, 0, true)) == std::nullopt);
    // Cut at the end and wanting more: whole copies from now on, for good.
    CHECK(learner.on_unwind(unwound(0x6000, kEnd - 0x6000, 0, true)) == 0u);
    CHECK(learner.on_unwind(unwound(0x6c00, kWhole, kEnd + 0x100)) == std::nullopt);
    CHECK(learner.on_unwind(unwound(0x6000, kEnd - 0x6000, 0, true)) == std::nullopt);
}

TEST_CASE("a reused tid starts again from nothing") {
    StackEndLearner learner;
    REQUIRE(learner.on_unwind(unwound(0x6c00, kWhole, kEnd)) == kEnd);
    REQUIRE(learner.on_unwind(unwound(0x6000, kEnd - 0x6000, 0, true)) == 0u);
    // Another thread under the same tid: its own end, lower than the old one.
    CHECK(learner.on_unwind(unwound(0x3c00, kWhole, 0x4000, false, 7, kStart + 1)) == 0x4000u);
    // Other tids are their own.
    CHECK(learner.on_unwind(unwound(0x9c00, kWhole, 0xa000, false, 8)) == 0xa000u);
    CHECK(learner.threads_known() == 2);
}
