// SPDX-License-Identifier: LGPL-2.1-or-later
#include "decode/records.hpp"

#include "decode/event_chains.hpp"

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <unordered_map>

#include "waketrace/events.hpp"

namespace waketrace::detail {
namespace {

// Stack ids repeat across chains (one waker stack wakes many targets): read
// each from the kernel (or, once moved, from `growth`'s archive) once per
// decode. In --dwarf mode user stack ids name stacks unwound in user space
// instead.
//
// An id that names nothing (in neither the kernel map nor the archive, or
// no unwound stack) would be a stack forgotten too early: it is reported as
// lost (-ENOENT) and counted, never shown as a stack without frames.
class StackReader {
public:
    StackReader(const BpfCapture& capture, const ChainGrowth* growth, const EventChains* unwound)
        : capture_(capture), growth_(growth), unwound_(unwound) {}

    DecodedStack read_kernel(int32_t stack_id) { return read(stack_id, kernel_cache_, nullptr); }
    DecodedStack read_user(int32_t stack_id) { return read(stack_id, user_cache_, unwound_); }
    uint64_t collisions() const { return collisions_; }
    uint64_t missing() const { return missing_; }

private:
    // A stack's addresses, or why its id names none.
    struct Resolved : EventChains::UnwoundStack {
        bool collision = false;
        bool missing = false;
    };
    using Cache = std::unordered_map<int32_t, Resolved>;

    DecodedStack read(int32_t stack_id, Cache& cache, const EventChains* unwound) {
        DecodedStack stack;
        stack.status = stack_status(stack_id);
        if (stack.status != StackStatus::ok) {
            if (stack_id < 0 && stack_id > WT_STACK_ID_NOT_CAPTURED)
                stack.error = stack_id;
            // --dwarf: a period whose snapshot was no longer waiting
            // (EventChains::claim_snapshot); the program never sends -ENOENT.
            if (unwound && stack_id == -ENOENT)
                ++missing_;
            return stack;
        }
        auto [it, inserted] = cache.try_emplace(stack_id);
        if (inserted)
            it->second = unwound ? unwound_stack(*unwound, stack_id) : captured(stack_id);
        if (it->second.collision || it->second.missing) {
            ++(it->second.collision ? collisions_ : missing_);
            stack.status = it->second.collision ? StackStatus::collision : StackStatus::error;
            stack.error = it->second.collision ? -EEXIST : -ENOENT;
            return stack;
        }
        stack.addresses = it->second.addresses;
        stack.image = it->second.image;
        return stack;
    }

    static Resolved unwound_stack(const EventChains& unwound, int32_t stack_id) {
        std::optional<EventChains::UnwoundStack> found = unwound.user_stack(stack_id);
        if (!found)
            return {{}, false, true};
        return {std::move(*found), false, false};
    }

    Resolved captured(int32_t stack_id) const {
        if (!growth_) {
            std::optional<std::vector<uint64_t>> frames = capture_.stack(stack_id);
            if (!frames)
                return {{}, false, true};
            return {{nullptr, std::move(*frames)}, false, false};
        }
        StackArchive::Lookup found = growth_->stack(stack_id);
        return {{nullptr, std::move(found.frames)}, found.collision, !found.found && !found.collision};
    }

    const BpfCapture& capture_;
    const ChainGrowth* growth_;
    const EventChains* unwound_;
    Cache kernel_cache_;
    Cache user_cache_;
    uint64_t collisions_ = 0;  // stacks read as collisions, counting repeats
    uint64_t missing_ = 0;     // stacks whose id named nothing, counting repeats
};

std::string comm_of(const char (&comm)[WT_COMM_LEN]) { return std::string(comm, strnlen(comm, WT_COMM_LEN)); }

DecodedTask decode_task(const wt_task_key& key, StackReader& stacks) {
    DecodedTask task;
    task.task.tid = key.tid;
    task.task.tgid = key.tgid;
    task.task.comm = comm_of(key.comm);
    task.kernel = stacks.read_kernel(key.kernel_stack_id);
    task.user = stacks.read_user(key.user_stack_id);
    return task;
}

DecodedThread decode_thread(const wt_thread_key& key, const wt_chain_value& value) {
    return {{key.tid, key.tgid, comm_of(key.comm)}, value};
}

DecodedWaker decode_waker(const wt_waker_key& key, StackReader& stacks) {
    DecodedWaker waker;
    waker.context = waker_context(key.context);
    waker.task = decode_task(key.task, stacks);
    waker.outside_filters = (key.flags & WT_WAKER_KEY_OUTSIDE_FILTERS) != 0;
    return waker;
}

ChainEnd chain_end(uint32_t deeper) noexcept {
    switch (deeper) {
    case WT_HOP_DEPTH_REACHED: return ChainEnd::depth_reached;
    case WT_HOP_WAKER_UNTRACED: return ChainEnd::waker_untraced;
    case WT_HOP_WAKER_LOST: return ChainEnd::waker_lost;
    default: return ChainEnd::complete;
    }
}

bool is_hop_id(uint32_t deeper) noexcept { return deeper != WT_HOP_END && deeper <= 0x7fffffff; }

// Levels past the first: key.deeper names a hop, which adds where the level
// above had blocked and who woke it, and names the next hop.
//
// A level's hops were interned at its own switch-in, against its own wait:
// the level above may have been woken long before the target blocked, and
// so ran through all of the target's wait. The kernel sums how much of the
// target's wait each level's wait overlapped (overlap_ns[level]); none at
// all, in every period summed here, means that level was running all along,
// so the chain is complete there, as it is at the first level (the kernel
// follows a waker only if it was woken after the target blocked). Chains
// cut short like this and otherwise the same are merged once symbolized.
void decode_deeper_levels(uint32_t deeper, const wt_chain_value& value, const BpfCapture& capture,
                          StackReader& stacks, DecodedChain& chain) {
    for (size_t level = 0; is_hop_id(deeper); ++level) {
        if (level < WT_MAX_HOPS && value.overlap_ns[level] == 0) {
            chain.end = ChainEnd::complete;
            return;
        }
        std::optional<wt_hop> hop = level < WT_MAX_HOPS ? capture.hop(deeper) : std::nullopt;
        DecodedWaker& above = chain.wakers.back();
        // A hop continues the waker above it: anything else is not the chain
        // this key was summed under, so it is cut rather than shown wrong.
        if (!hop || hop->blocked.tid != above.task.task.tid) {
            chain.end = ChainEnd::waker_lost;
            return;
        }
        above.blocked_kernel = stacks.read_kernel(hop->blocked.kernel_stack_id);
        above.blocked_user = stacks.read_user(hop->blocked.user_stack_id);
        DecodedWaker next = decode_waker(hop->waker, stacks);
        next.overlap_ns = value.overlap_ns[level];
        chain.wakers.push_back(std::move(next));
        deeper = hop->deeper;
    }
    chain.end = chain_end(deeper);
}

DecodedChain decode_chain(const wt_chain_key& key, const wt_chain_value& value, const BpfCapture& capture,
                          StackReader& stacks) {
    DecodedChain chain;
    chain.target = decode_task(key.target, stacks);
    for (const wt_waker_key& level : key.wakers) {
        if (level.context == WT_CTX_NONE)
            break;
        chain.wakers.push_back(decode_waker(level, stacks));
    }
    if (!chain.wakers.empty()) {
        chain.wakers.front().overlap_ns = value.blocked_ns;
        decode_deeper_levels(key.deeper, value, capture, stacks, chain);
    }
    chain.times = value;
    return chain;
}

}  // namespace

// The public header spells the program's values out; they must agree.
static_assert(WT_STACK_ID_NOT_CAPTURED == -1000 && WT_STACK_ID_IRQ_DROPPED == -1001 &&
              WT_STACK_ID_NOT_SAMPLED == -1002);

StackStatus stack_status(int32_t stack_id) noexcept { return waketrace::stack_status(stack_id); }

WakerContext waker_context(uint32_t context) noexcept {
    switch (context) {
    // Refined into softirq or NMI by the kernel stack once it has names.
    case WT_CTX_INTERRUPT: return WakerContext::hardirq;
    case WT_CTX_PREEMPTED: return WakerContext::preempted;
    case WT_CTX_UNSEEN: return WakerContext::unseen;
    default: return WakerContext::task;
    }
}

Losses to_losses(const DropCounts& drops) noexcept {
    Losses losses;
    losses.stack_collisions = drops[WT_DROP_STACK_COLLISION];
    losses.stack_map_full = drops[WT_DROP_STACK_MAP_FULL];
    losses.stack_errors = drops[WT_DROP_STACK_OTHER];
    losses.chain_map_full = drops[WT_DROP_CHAIN_MAP_FULL];
    losses.missed_switch_outs = drops[WT_DROP_MISSED_SWITCH_OUT];
    losses.process_events = drops[WT_DROP_PROCESS_EVENT];
    losses.thread_map_full = drops[WT_DROP_THREAD_MAP_FULL];
    losses.user_stack_events = drops[WT_DROP_USER_STACK_EVENT];
    losses.period_events = drops[WT_DROP_PERIOD_EVENT];
    losses.missed_switch_ins = drops[WT_DROP_MISSED_SWITCH_IN];
    losses.skipped_runs = drops[kDropSkippedRuns];
    losses.chain_states_full = drops[WT_DROP_CHAIN_STATE_FULL];
    losses.hop_map_full = drops[WT_DROP_HOP_MAP_FULL];
    losses.hop_collisions = drops[WT_DROP_HOP_COLLISION];
    losses.untraced_children = drops[WT_DROP_CHILD_FILTER_FULL];
    losses.histogram_map_full = drops[WT_DROP_HISTOGRAM_MAP_FULL];
    losses.off_cpu_events = drops[WT_DROP_OFF_CPU_EVENT];
    return losses;
}

namespace {

using Histograms = decltype(ChainSums::histograms);

// Chains and their histograms come apart (histograms first): the chain's
// key, generation zeroed, finds its histogram.
void attach_histogram(const Histograms& histograms, const wt_chain_key& key, DecodedChain& chain) {
    if (histograms.empty())
        return;
    wt_chain_key any_generation = key;
    any_generation.generation = 0;
    const auto found = histograms.find(any_generation);
    if (found != histograms.end())
        chain.histogram = found->second;
}

}  // namespace

DecodedProfile decode_profile(const BpfCapture& capture, const EventChains* unwound) {
    DecodedProfile decoded;
    StackReader stacks(capture, nullptr, unwound);
    ChainSums histograms;
    auto add_histogram = [&](const wt_chain_key& key, const LatencyHistogram& histogram) {
        histograms.add(key, histogram);
    };
    auto add_chain = [&](const wt_chain_key& key, const wt_chain_value& value) {
        decoded.chains.push_back(decode_chain(key, value, capture, stacks));
        attach_histogram(histograms.histograms, key, decoded.chains.back());
    };
    if (unwound) {
        unwound->for_each_chain(add_chain, add_histogram);
    } else {
        capture.for_each_histogram(add_histogram);
        capture.for_each_chain(add_chain);
    }
    capture.for_each_thread_total([&](const wt_thread_key& key, const wt_chain_value& value) {
        decoded.threads.push_back(decode_thread(key, value));
    });
    decoded.stack_collisions = stacks.collisions();
    decoded.stacks_missing = stacks.missing();
    return decoded;
}

namespace {

// Decodes the chains and thread totals in `sums`, plus, in --dwarf mode, the
// chains (and their histograms, first) `add_unwound` hands over.
template <typename AddUnwound>
DecodedProfile decode_sums(const BpfCapture& capture, const ChainGrowth& growth, const ChainSums& sums,
                           const EventChains* unwound, const AddUnwound& add_unwound) {
    DecodedProfile decoded;
    StackReader stacks(capture, &growth, unwound);
    for (const auto& [key, value] : sums.chains) {
        decoded.chains.push_back(decode_chain(key, value, capture, stacks));
        attach_histogram(sums.histograms, key, decoded.chains.back());
    }
    if (unwound) {
        ChainSums histograms;
        add_unwound(
            [&](const wt_chain_key& key, const wt_chain_value& value) {
                decoded.chains.push_back(decode_chain(key, value, capture, stacks));
                attach_histogram(histograms.histograms, key, decoded.chains.back());
            },
            [&](const wt_chain_key& key, const LatencyHistogram& histogram) {
                histograms.add(key, histogram);
            });
    }
    for (const auto& [key, value] : sums.threads)
        decoded.threads.push_back(decode_thread(key, value));
    decoded.stack_collisions = stacks.collisions();
    decoded.stacks_missing = stacks.missing();
    return decoded;
}

}  // namespace

DecodedProfile decode_profile(const BpfCapture& capture, const ChainGrowth& growth,
                              const EventChains* unwound) {
    return decode_sums(capture, growth, growth.read(), unwound,
                       [&](const ChainVisitor& visit, const HistogramVisitor& histograms) {
                           unwound->for_each_chain(visit, histograms);
                       });
}

DecodedProfile take_decoded_profile(BpfCapture& capture, ChainGrowth& growth, EventChains* unwound) {
    return decode_sums(capture, growth, growth.take(), unwound,
                       [&](const ChainVisitor& visit, const HistogramVisitor& histograms) {
                           unwound->take_chains(visit, histograms);
                       });
}

}  // namespace waketrace::detail
