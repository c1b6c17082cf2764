// SPDX-License-Identifier: LGPL-2.1-or-later
// Lets the chain map (and the per-thread totals map, and the stack map) grow
// past the kernel map's fixed size: a library thread watches how full the
// kernel maps are and, past half full, moves their entries into sums (and a
// StackArchive) kept in user space. results() and drain() then read user
// space and the kernel maps together.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "capture/loader.hpp"
#include "capture/stack_archive.hpp"
#include "support/left_out_thread.hpp"
#include "waketrace/config.hpp"
#include "waketrace_abi.h"

namespace waketrace::detail {

// Hashes and compares a map key by its bytes; the program zeroes its keys
// (padding included) before it fills them.
struct KeyBytesHash {
    template <typename Key>
    size_t operator()(const Key& key) const noexcept {
        return std::hash<std::string_view>()(
            std::string_view(reinterpret_cast<const char*>(&key), sizeof(key)));
    }
};
struct KeyBytesEqual {
    template <typename Key>
    bool operator()(const Key& a, const Key& b) const noexcept {
        return std::memcmp(&a, &b, sizeof(a)) == 0;
    }
};

// Sums keyed with their generation zeroed: one entry per chain or thread,
// and, with Config::histograms, one histogram per chain (a chain whose
// histogram did not fit has none).
struct ChainSums {
    std::unordered_map<wt_chain_key, wt_chain_value, KeyBytesHash, KeyBytesEqual> chains;
    std::unordered_map<wt_thread_key, wt_chain_value, KeyBytesHash, KeyBytesEqual> threads;
    std::unordered_map<wt_chain_key, LatencyHistogram, KeyBytesHash, KeyBytesEqual> histograms;
    void add(const wt_chain_key& key, const wt_chain_value& value);
    void add(const wt_thread_key& key, const wt_chain_value& value);
    void add(const wt_chain_key& key, const LatencyHistogram& histogram);
};

class ChainGrowth {
public:
    using Log = std::function<void(LogLevel, std::string_view)>;
    // Watches `capture`'s maps until stop_watching() or destruction.
    // The capacities are the kernel maps' sizes (`capture` knows its stack
    // maps' own).
    ChainGrowth(BpfCapture& capture, uint64_t chain_capacity, uint64_t thread_capacity, Log log);
    ~ChainGrowth();
    ChainGrowth(const ChainGrowth&) = delete;
    ChainGrowth& operator=(const ChainGrowth&) = delete;

    // Ends the watching thread (after the program is detached); the sums
    // stay readable.
    void stop_watching() noexcept;
    // Everything gathered: the moved sums plus the kernel maps, merged.
    ChainSums read() const;
    // The same, removed: the next take starts from nothing.
    ChainSums take();
    // Times entries were moved to user space because a kernel map passed
    // half full, since the profiler started.
    uint64_t moves() const noexcept { return moves_; }
    // A stack id's frames, from the kernel's stack map or, once moved, the
    // archive. Thread-safe.
    StackArchive::Lookup stack(int32_t stack_id) const;

    // Forgetting moved stacks (decode/record_references.hpp). While the
    // returned lock is held no stack is moved, so a scan of what names
    // stacks cannot miss one moved meanwhile.
    std::unique_lock<std::mutex> hold_stack_moves();
    // Every chain key not yet taken: the kernel map's and the moved sums'.
    // False when the kernel map could not be read through.
    bool for_each_chain_key(const std::function<void(const wt_chain_key&)>& visit) const;
    // Forgets the moved stacks whose id is not in `referenced`; returns how
    // many went.
    size_t keep_stacks(const std::unordered_set<int32_t>& referenced) {
        return stacks_.keep_only(referenced);
    }
    // Stacks kept in user space now.
    size_t archived_stacks() const { return stacks_.size(); }

private:
    void watch();
    bool wants_move() const;
    void move_stacks();
    // Seals the current generation and moves every sealed entry into sums_.
    // Holds mutex_.
    uint64_t move_sealed();

    BpfCapture& capture_;
    const uint64_t chain_capacity_;
    const uint64_t thread_capacity_;
    Log log_;
    mutable std::mutex mutex_;  // guards sums_ and every take from the kernel maps
    ChainSums sums_;
    StackArchive stacks_;          // has its own lock: readers of stacks never wait for a move
    std::mutex stack_move_mutex_;  // held by a move of the stack map, and by hold_stack_moves()
    std::atomic<uint64_t> moves_{0};
    std::mutex wake_mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;  // guarded by wake_mutex_
    LibraryThread thread_;
};

}  // namespace waketrace::detail
