// SPDX-License-Identifier: LGPL-2.1-or-later
// Turns the BPF maps' raw entries into plain records: stack ids become
// address lists or the reason they are missing, context codes become enums,
// drop counters become Losses. No symbols yet.
#pragma once

#include <cstdint>
#include <vector>

#include "capture/chain_growth.hpp"
#include "capture/loader.hpp"
#include "process/process_registry.hpp"
#include "waketrace/profile.hpp"
#include "waketrace_abi.h"

namespace waketrace::detail {

struct DecodedStack {
    StackStatus status = StackStatus::not_captured;
    int error = 0;
    std::vector<uint64_t> addresses;  // innermost first
    // --dwarf user stacks: the process image the addresses were taken in;
    // null: name them with the process's latest image.
    ProcessImage image;
};

struct DecodedTask {
    Task task;
    DecodedStack kernel;
    DecodedStack user;
};

struct DecodedWaker {
    WakerContext context = WakerContext::task;
    DecodedTask task;
    // Deeper levels (Waker::blocked_*_stack): where this waker had blocked,
    // when the next level woke it; not_captured otherwise.
    DecodedStack blocked_kernel;
    DecodedStack blocked_user;
    uint64_t overlap_ns = 0;  // Waker::overlap_ns
    bool outside_filters = false;
};

struct DecodedChain {
    DecodedTask target;
    std::vector<DecodedWaker> wakers;
    ChainEnd end = ChainEnd::complete;
    wt_chain_value times{};
    LatencyHistogram histogram;  // Config::histograms; all zero otherwise
};

// Exact off-CPU totals of one target thread (kept when stacks are sampled).
struct DecodedThread {
    Task task;
    wt_chain_value times{};
};

struct DecodedProfile {
    std::vector<DecodedChain> chains;
    std::vector<DecodedThread> threads;  // empty unless stacks are sampled
    // Stacks of these chains whose id was found to name two different
    // stacks over time (StackArchive): reported as collisions, and counted
    // with the program's own collisions in Losses::stack_collisions.
    uint64_t stack_collisions = 0;
    // Stacks of these chains whose id named no stack when read (status
    // error, -ENOENT): none is expected, since a drain forgets only stacks
    // no record names (decode/record_references.hpp); counted in
    // Losses::stack_errors all the same.
    uint64_t stacks_missing = 0;
};

StackStatus stack_status(int32_t stack_id) noexcept;
WakerContext waker_context(uint32_t context) noexcept;
Losses to_losses(const DropCounts& drops) noexcept;

class EventChains;

// Reads every chain (with the stacks it refers to) and thread total. In
// --dwarf mode (`unwound` set) the chains and their user stacks come from
// the user-space sums instead of the kernel's chain and stack maps.
DecodedProfile decode_profile(const BpfCapture& capture, const EventChains* unwound = nullptr);
// The same with the chains and totals `growth` moved to user space merged in
// (one entry per chain), as the profiler reads them.
DecodedProfile decode_profile(const BpfCapture& capture, const ChainGrowth& growth,
                              const EventChains* unwound);
// The same, removing them from the kernel maps, `growth` and `unwound` as
// they are read.
DecodedProfile take_decoded_profile(BpfCapture& capture, ChainGrowth& growth, EventChains* unwound);

}  // namespace waketrace::detail
