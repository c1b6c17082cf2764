// SPDX-License-Identifier: LGPL-2.1-or-later
#include "assemble/interrupt_context.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace waketrace::detail {
namespace {

// Entry points of each context on x86-64 (arch/x86/include/asm/idtentry.h,
// kernel/softirq.c); handle_softirqs replaced __do_softirq's body in 6.9.
constexpr std::array<std::string_view, 4> kNmiEntries = {"exc_nmi", "asm_exc_nmi", "default_do_nmi",
                                                         "nmi_handle"};
constexpr std::array<std::string_view, 2> kSoftirqEntries = {"handle_softirqs", "__do_softirq"};
constexpr std::array<std::string_view, 5> kHardirqEntryPrefixes = {
    "__sysvec_", "sysvec_", "asm_sysvec_", "common_interrupt", "asm_common_interrupt"};

template <size_t N>
bool is_one_of(std::string_view symbol, const std::array<std::string_view, N>& names) {
    return std::find(names.begin(), names.end(), symbol) != names.end();
}

template <size_t N>
bool starts_with_one_of(std::string_view symbol, const std::array<std::string_view, N>& prefixes) {
    return std::any_of(prefixes.begin(), prefixes.end(),
                       [&](std::string_view prefix) { return symbol.substr(0, prefix.size()) == prefix; });
}

}  // namespace

std::optional<InterruptEntry> innermost_interrupt(const std::vector<Frame>& kernel_frames) {
    for (size_t i = 0; i < kernel_frames.size(); ++i) {
        const std::string_view symbol = kernel_frames[i].symbol;
        if (is_one_of(symbol, kNmiEntries))
            return InterruptEntry{WakerContext::nmi, i};
        if (is_one_of(symbol, kSoftirqEntries))
            return InterruptEntry{WakerContext::softirq, i};
        if (starts_with_one_of(symbol, kHardirqEntryPrefixes))
            return InterruptEntry{WakerContext::hardirq, i};
    }
    return std::nullopt;
}

void settle_waker_context(Waker& waker) {
    if (waker.context != WakerContext::task && waker.context != WakerContext::hardirq)
        return;  // preempted / unseen: no waking stack to read
    const std::optional<InterruptEntry> entry = innermost_interrupt(waker.kernel_stack.frames);
    if (!entry)
        return;  // a task waking, or an interrupt whose entry was not recognised
    waker.context = entry->context;
    waker.task = Task{};
    waker.outside_filters = false;  // an interrupt is not a task
    auto& frames = waker.kernel_stack.frames;
    frames.erase(frames.begin() + std::ptrdiff_t(entry->frame_index) + 1, frames.end());
    if (waker.user_stack.status != StackStatus::not_captured)
        waker.user_stack = Stack{StackStatus::irq_dropped, 0, {}};
}

}  // namespace waketrace::detail
