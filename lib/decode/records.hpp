// Turns the BPF maps' raw entries into plain records: stack ids become
// address lists or the reason they are missing, context codes become enums,
// drop counters become Losses. No symbols yet.
#pragma once

#include <cstdint>
#include <vector>

#include "capture/loader.hpp"
#include "waketrace/profiler.hpp"
#include "waketrace_abi.h"

namespace waketrace::detail {

struct DecodedStack {
    StackStatus status = StackStatus::not_captured;
    int error = 0;
    std::vector<uint64_t> addresses;  // innermost first
};

struct DecodedTask {
    Task task;
    DecodedStack kernel;
    DecodedStack user;
};

struct DecodedWaker {
    WakerContext context = WakerContext::task;
    DecodedTask task;
};

struct DecodedChain {
    DecodedTask target;
    std::vector<DecodedWaker> wakers;
    wt_chain_value times{};
};

StackStatus stack_status(int32_t stack_id) noexcept;
WakerContext waker_context(uint32_t context) noexcept;
Losses to_losses(const DropCounts& drops) noexcept;

// Reads every chain and the stacks it refers to.
std::vector<DecodedChain> decode_chains(const BpfCapture& capture);
// The same, removing the chains from the kernel map as they are read.
std::vector<DecodedChain> take_decoded_chains(BpfCapture& capture);

}  // namespace waketrace::detail
