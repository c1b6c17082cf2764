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
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
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

    // Config::histograms: also sum each chain's periods into its
    // histograms. Called before the first record.
    void keep_histograms() { histograms_on_ = true; }
    // Config::offcpu: no waking is traced, so a period's time is not split
    // into blocked and runqueue (both stay 0, as in the kernel's map).
    // Called before the first record.
    void leave_times_unsplit() { times_split_ = false; }
    // Chains summed so far. In the keys, user_stack_id >= 0 names a stack
    // of user_stack(); negative values keep their WT_STACK_* / -errno meaning.
    // With keep_histograms(), `histograms` visits the chains' histograms
    // first (the same moment's).
    void for_each_chain(const ChainVisitor& visit, const HistogramVisitor& histograms = nullptr) const;
    // The same, removing them: the next call sees only what came after.
    void take_chains(const ChainVisitor& visit, const HistogramVisitor& histograms = nullptr);
    // The stack a chain key's user_stack_id names; nullopt when no stack
    // has that id (never for the keys of chains not yet taken).
    std::optional<UnwoundStack> user_stack(int32_t id) const;

    // Forgetting at a drain (decode/record_references.hpp), so that a
    // profiler drained for ever keeps only what is still to come:
    // Snapshots received so far, a mark for forget().
    uint64_t snapshots_received() const;
    // The keys of the chains not yet taken, visited under the lock.
    void for_each_chain_key(const std::function<void(const wt_chain_key&)>& visit) const;
    // Forgets the snapshots received before the mark `received_before` that
    // still wait for their period but whose id is not in
    // `referenced_snapshots` (no open period names them: their period was
    // left out, by its length or a full ring), then every unwound stack no
    // waiting snapshot and no chain not yet taken names. Returns how many
    // snapshots went.
    size_t forget(uint64_t received_before, const std::unordered_set<int32_t>& referenced_snapshots);
    // Unwound stacks kept, and snapshots waiting for their period: for stats.
    size_t unwound_stacks() const;
    size_t pending_snapshots() const;
    // Snapshots received so far, and the stack bytes they carried.
    struct Copies {
        uint64_t snapshots = 0;
        uint64_t stack_bytes = 0;
    };
    Copies copies() const;

private:
    struct KeyHash {
        size_t operator()(const wt_chain_key& key) const noexcept;
    };
    struct KeyEqual {
        bool operator()(const wt_chain_key& a, const wt_chain_key& b) const noexcept;
    };

    // A snapshot unwound, waiting for its period.
    struct Pending {
        int32_t stack_id;
        uint64_t received;  // snapshots_received_ before it came
    };
    using StackKey = std::pair<const ProcessSnapshot*, std::vector<uint64_t>>;

    void add_snapshot(int32_t snapshot_id, UnwoundStack stack, uint32_t stack_bytes);
    void add_period(const wt_period_event& period);
    int32_t claim_snapshot(int32_t user_stack_id);
    int32_t new_stack_id();        // holds mutex_
    void forget_unnamed_stacks();  // holds mutex_

    Unwind unwind_;
    OnExec on_exec_;
    size_t max_pending_;

    mutable std::mutex mutex_;                      // guards everything below
    std::unordered_map<int32_t, Pending> pending_;  // by snapshot id
    std::deque<int32_t> pending_order_;             // snapshot ids, oldest first
    uint64_t snapshots_received_ = 0;
    uint64_t stack_bytes_received_ = 0;
    // Equal stacks of one image share an id. The image is held by the
    // stack, so its address is not reused while the entry is here.
    std::map<StackKey, int32_t> stack_ids_;
    struct Stored {
        UnwoundStack stack;
        std::map<StackKey, int32_t>::iterator interned;
    };
    std::unordered_map<int32_t, Stored> stacks_;  // by stack id
    int32_t next_stack_id_ = 0;
    std::unordered_map<wt_chain_key, wt_chain_value, KeyHash, KeyEqual> chains_;
    bool histograms_on_ = false;
    bool times_split_ = true;
    std::unordered_map<wt_chain_key, LatencyHistogram, KeyHash, KeyEqual> histograms_;
};

}  // namespace waketrace::detail
