// SPDX-License-Identifier: LGPL-2.1-or-later
#include <fmt/format.h>

#include "format/stack_walk.hpp"
#include "format/format.hpp"

namespace waketrace {

std::string frame_name(const Frame& frame) {
    if (!frame.resolved())
        return "[unknown]";
    return frame.inlined ? frame.symbol + "_[i]" : frame.symbol;
}

std::string waker_name(const Waker& waker) {
    // Bracketed, like "[unknown]": these are not comms, and a thread could
    // be named "hardirq".
    switch (waker.context) {
    case WakerContext::task: return format_internal::task_name(waker.task);
    case WakerContext::hardirq: return "[hardirq]";
    case WakerContext::softirq: return "[softirq]";
    case WakerContext::nmi: return "[nmi]";
    case WakerContext::preempted: return "[preempted]";
    case WakerContext::unseen: return "[unseen waker]";
    }
    return "[unknown]";
}

std::string chain_end_marker(ChainEnd end) { return fmt::format("[{}]", to_string(end)); }

std::string waker_path(const WakeChain& chain) {
    std::string path;
    for (const Waker& waker : chain.wakers) {
        if (!path.empty())
            path += " <- ";
        path += waker.context == WakerContext::task ? fmt::format("{}-{}", waker_name(waker), waker.task.tid)
                                                    : waker_name(waker);
    }
    return path;
}

}  // namespace waketrace
