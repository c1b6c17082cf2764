// SPDX-License-Identifier: LGPL-2.1-or-later
// --dwarf mode's user-space chains (EventChains): what a drain forgets.
// Snapshots waiting for a period that will not come, and unwound stacks no
// waiting snapshot or untaken chain names, go; what is still to be read
// stays. Pure logic: the records are built here, the unwinding is a stub.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <unordered_set>
#include <vector>

#include "decode/event_chains.hpp"

namespace detail = waketrace::detail;

namespace {

constexpr uint32_t kTgid = 4242;

// Unwinds a snapshot to one address: its rsp, which the test sets per stack.
std::unique_ptr<detail::EventChains> stub_chains() {
    auto image = std::make_shared<const detail::ProcessSnapshot>(detail::ProcessSnapshot::empty(kTgid));
    return std::make_unique<detail::EventChains>(
        [image](const wt_user_stack_event& snapshot) {
            return detail::EventChains::UnwoundStack{image, {snapshot.regs[7]}};
        },
        [](uint32_t) {});
}

void send_snapshot(detail::EventChains& chains, int32_t snapshot_id, uint64_t address) {
    wt_user_stack_event event{};
    event.type = WT_EVENT_USER_STACK;
    event.snapshot_id = snapshot_id;
    event.tgid = kTgid;
    event.tid = kTgid;
    event.regs[7] = address;
    chains.on_record(&event, sizeof(event));
}

void send_period(detail::EventChains& chains, int32_t snapshot_id, int32_t kernel_stack_id) {
    wt_period_event event{};
    event.type = WT_EVENT_PERIOD;
    event.key.target.tgid = kTgid;
    event.key.target.tid = kTgid;
    event.key.target.kernel_stack_id = kernel_stack_id;
    event.key.target.user_stack_id = snapshot_id;
    event.key.wakers[0].context = WT_CTX_PREEMPTED;
    event.key.wakers[0].task.kernel_stack_id = WT_STACK_ID_NOT_CAPTURED;
    event.key.wakers[0].task.user_stack_id = WT_STACK_ID_NOT_CAPTURED;
    event.total_ns = 1000;
    chains.on_record(&event, sizeof(event));
}

// The chains' target user stack ids, taken.
std::vector<int32_t> take_user_ids(detail::EventChains& chains) {
    std::vector<int32_t> ids;
    chains.take_chains(
        [&](const wt_chain_key& key, const wt_chain_value&) { ids.push_back(key.target.user_stack_id); });
    return ids;
}

}  // namespace

TEST_CASE("a drain forgets the snapshots no open period names, and the stacks nothing names") {
    auto chains = stub_chains();
    send_snapshot(*chains, 1, 0x1000);  // its period will come
    send_snapshot(*chains, 2, 0x2000);  // its period was left out: orphaned
    send_snapshot(*chains, 3, 0x3000);  // its thread is still off CPU
    const uint64_t mark = chains->snapshots_received();
    send_snapshot(*chains, 4, 0x4000);  // came after the scan began
    CHECK(chains->pending_snapshots() == 4);
    CHECK(chains->unwound_stacks() == 4);

    send_period(*chains, 1, 77);
    const std::vector<int32_t> taken = take_user_ids(*chains);
    REQUIRE(taken.size() == 1);
    REQUIRE(taken[0] >= 0);
    // Decoded by now; the scan found snapshot 3 in an open period.
    CHECK(chains->forget(mark, {3}) == 1);    // snapshot 2
    CHECK(chains->pending_snapshots() == 2);  // 3 and 4
    CHECK(chains->unwound_stacks() == 2);
    CHECK_FALSE(chains->user_stack(taken[0]).has_value());  // taken, decoded, gone

    // The kept ones still join their periods and name their stacks.
    send_period(*chains, 3, 77);
    send_period(*chains, 4, 77);
    std::vector<uint64_t> addresses;
    chains->for_each_chain([&](const wt_chain_key& key, const wt_chain_value&) {
        const auto stack = chains->user_stack(key.target.user_stack_id);
        REQUIRE(stack.has_value());
        addresses.push_back(stack->addresses.at(0));
    });
    std::sort(addresses.begin(), addresses.end());
    CHECK(addresses == std::vector<uint64_t>{0x3000, 0x4000});
    // Untaken chains keep their stacks through a drain's forgetting.
    CHECK(chains->forget(chains->snapshots_received(), {}) == 0);
    CHECK(chains->unwound_stacks() == 2);
    take_user_ids(*chains);
    chains->forget(chains->snapshots_received(), {});
    CHECK(chains->unwound_stacks() == 0);
    CHECK(chains->pending_snapshots() == 0);
}

TEST_CASE("the keys of chains not yet taken name their kernel stacks") {
    auto chains = stub_chains();
    send_snapshot(*chains, 1, 0x1000);
    send_period(*chains, 1, 99);
    std::unordered_set<int32_t> kernel_ids;
    chains->for_each_chain_key(
        [&](const wt_chain_key& key) { kernel_ids.insert(key.target.kernel_stack_id); });
    CHECK(kernel_ids == std::unordered_set<int32_t>{99});
}

TEST_CASE("a period whose snapshot is gone has no user stack, and says so") {
    auto chains = stub_chains();
    send_period(*chains, 5, 77);  // snapshot 5 never came (or was pushed out)
    std::vector<int32_t> ids = take_user_ids(*chains);
    REQUIRE(ids.size() == 1);
    CHECK(ids[0] == -ENOENT);
    CHECK_FALSE(chains->user_stack(12345).has_value());
}
