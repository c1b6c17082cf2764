// SPDX-License-Identifier: LGPL-2.1-or-later
// --dwarf mode: the chains the program cannot sum in the kernel, because
// their user stacks are only known once unwound here. The program sends
// each user stack snapshot and each finished off-CPU period through a ring
// buffer (bpf/waketrace_abi.h); this joins the two and sums the periods
// per chain, as the kernel's chain map does in the default mode.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "capture/loader.hpp"
#include "process/process_registry.hpp"
#include "waketrace_abi.h"

namespace waketrace::detail {

class EventChains {
public:
    // A snapshot unwound: code addresses, innermost first, and the image of
    // the process they belong to (an exec later does not change their names).
    struct UnwoundStack {
        ProcessImage image;
        std::vector<uint64_t> addresses;
    };
    using Unwind = std::function<UnwoundStack(const wt_user_stack_event& snapshot)>;
    // A process execed: the snapshots after this one are of its new program.
    using OnExec = std::function<void(uint32_t tgid)>;

    // `max_pending`: snapshots kept while waiting for their period. A period
    // that never comes (filtered out by its duration, thread gone) would
    // otherwise keep its snapshots forever; the oldest go first.
    EventChains(Unwind unwind, OnExec on_exec, size_t max_pending = 1 << 20);

    // One ring buffer record, from the reader thread. Unwinding runs outside
    // the lock, so readers of the chains are not held up by it.
    void on_record(const void* data, size_t size);

    // Chains summed so far. In the keys, user_stack_id >= 0 names a stack
    // of user_stack(); negative values keep their WT_STACK_* / -errno meaning.
    void for_each_chain(const ChainVisitor& visit) const;
    // The same, removing them: the next call sees only what came after.
    void take_chains(const ChainVisitor& visit);
    UnwoundStack user_stack(int32_t id) const;

private:
    struct KeyHash {
        size_t operator()(const wt_chain_key& key) const noexcept;
    };
    struct KeyEqual {
        bool operator()(const wt_chain_key& a, const wt_chain_key& b) const noexcept;
    };

    void add_snapshot(int32_t snapshot_id, UnwoundStack stack);
    void add_period(const wt_period_event& period);
    int32_t claim_snapshot(int32_t user_stack_id);

    Unwind unwind_;
    OnExec on_exec_;
    size_t max_pending_;

    mutable std::mutex mutex_;                      // guards everything below
    std::unordered_map<int32_t, int32_t> pending_;  // snapshot id -> stack id
    std::deque<int32_t> pending_order_;             // snapshot ids, oldest first
    std::map<std::pair<const ProcessSnapshot*, std::vector<uint64_t>>, int32_t> stack_ids_;
    std::vector<UnwoundStack> stacks_;  // by stack id
    std::unordered_map<wt_chain_key, wt_chain_value, KeyHash, KeyEqual> chains_;
};

}  // namespace waketrace::detail
