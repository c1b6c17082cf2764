// SPDX-License-Identifier: LGPL-2.1-or-later
// Decoding of raw map values: pure logic.
#include <catch2/catch.hpp>

#include <cerrno>

#include "decode/records.hpp"

namespace wt = waketrace;
namespace detail = waketrace::detail;

TEST_CASE("stack ids decode to a status that names the cause") {
    CHECK(detail::stack_status(0) == wt::StackStatus::ok);
    CHECK(detail::stack_status(4711) == wt::StackStatus::ok);
    CHECK(detail::stack_status(WT_STACK_ID_NOT_CAPTURED) == wt::StackStatus::not_captured);
    CHECK(detail::stack_status(WT_STACK_ID_IRQ_DROPPED) == wt::StackStatus::irq_dropped);
    CHECK(detail::stack_status(-EEXIST) == wt::StackStatus::collision);
    CHECK(detail::stack_status(-ENOMEM) == wt::StackStatus::map_full);
    CHECK(detail::stack_status(-EFAULT) == wt::StackStatus::error);
}

TEST_CASE("waker contexts decode") {
    CHECK(detail::waker_context(WT_CTX_TASK) == wt::WakerContext::task);
    // Which kind of interrupt is told from the stack later (assemble/).
    CHECK(detail::waker_context(WT_CTX_INTERRUPT) == wt::WakerContext::hardirq);
    CHECK(detail::waker_context(WT_CTX_PREEMPTED) == wt::WakerContext::preempted);
    CHECK(detail::waker_context(WT_CTX_UNSEEN) == wt::WakerContext::unseen);
}

TEST_CASE("every drop counter lands in its own Losses field") {
    detail::DropCounts drops{};
    for (size_t i = 0; i < drops.size(); ++i)
        drops[i] = 1u << i;
    const wt::Losses losses = detail::to_losses(drops);
    CHECK(losses.stack_collisions == 1u << WT_DROP_STACK_COLLISION);
    CHECK(losses.stack_map_full == 1u << WT_DROP_STACK_MAP_FULL);
    CHECK(losses.stack_errors == 1u << WT_DROP_STACK_OTHER);
    CHECK(losses.chain_map_full == 1u << WT_DROP_CHAIN_MAP_FULL);
    CHECK(losses.missed_switch_outs == 1u << WT_DROP_MISSED_SWITCH_OUT);
    CHECK(losses.process_events == 1u << WT_DROP_PROCESS_EVENT);
    CHECK(losses.thread_map_full == 1u << WT_DROP_THREAD_MAP_FULL);
    CHECK(losses.user_stack_events == 1u << WT_DROP_USER_STACK_EVENT);
    CHECK(losses.period_events == 1u << WT_DROP_PERIOD_EVENT);
    CHECK(losses.missed_switch_ins == 1u << WT_DROP_MISSED_SWITCH_IN);
    CHECK(losses.skipped_runs == 1u << detail::kDropSkippedRuns);
    // Each counter once: every bit set, none twice.
    CHECK(losses.total() == (1u << drops.size()) - 1);
}
