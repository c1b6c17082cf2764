// SPDX-License-Identifier: LGPL-2.1-or-later
//
// wakeuptime's layouts: who woke each thread and from where, with the time
// the thread was blocked (switch-out to waking), since a wakeup profile has
// no target stacks. Text reads the waker's stacks from the wake-up outwards,
// between the target above and the waker below; folded puts the waker at
// the root and the woken thread on top, so a flame graph shows the wakers'
// paths growing into the threads they woke.
#include <algorithm>
#include <iterator>
#include <vector>

#include <fmt/format.h>

#include "format/classic_layouts.hpp"
#include "format/stack_walk.hpp"

namespace waketrace::format_internal {
namespace {

uint64_t blocked_us(const WakeChain& chain) { return chain.blocked_ns / 1000; }

// Profile::chains is ordered by total time; this layout shows blocked time.
std::vector<const WakeChain*> by_blocked_time(const Profile& profile) {
    std::vector<const WakeChain*> chains;
    chains.reserve(profile.chains.size());
    for (const WakeChain& chain : profile.chains)
        chains.push_back(&chain);
    std::stable_sort(chains.begin(), chains.end(),
                     [](const WakeChain* a, const WakeChain* b) { return a->blocked_ns < b->blocked_ns; });
    return chains;
}

std::string identity(const Waker& waker, const FormatOptions& options) {
    if (waker.context == WakerContext::task)
        return fmt::format("{} {}", task_label(waker.task, options), waker.task.tid);
    return waker_name(waker);
}

}  // namespace

std::string wakeuptime_text(const Profile& profile, const FormatOptions& options) {
    std::string out;
    for (const WakeChain* chain : by_blocked_time(profile)) {
        const Waker& waker = first_waker(*chain);
        fmt::format_to(std::back_inserter(out), "    {:<16} {} {}\n",
                       "target:", one_line(task_label(chain->target, options)), chain->target.tid);
        walk_stacks(options, waker.user_stack, waker.kernel_stack, PartOrder::kernel_then_user,
                    FrameOrder::leaf_first, [&](std::string_view item) {
                        fmt::format_to(std::back_inserter(out), "    {}\n", one_line(item));
                    });
        fmt::format_to(std::back_inserter(out), "    {:<16} {}\n",
                       "waker:", one_line(identity(waker, options)));
        fmt::format_to(std::back_inserter(out), "        {}\n", blocked_us(*chain));
        if (options.histograms)
            out += format_chain_histograms(*chain, "        ");
        out += '\n';
    }
    return out;
}

std::string wakeuptime_folded(const Profile& profile, const FormatOptions& options) {
    std::string out;
    for (const WakeChain* chain : by_blocked_time(profile)) {
        const Waker& waker = first_waker(*chain);
        std::string line;
        auto append = [&](std::string_view item) { append_folded_field(line, item); };
        append(waker_label(waker, options));
        walk_stacks(options, waker.user_stack, waker.kernel_stack, PartOrder::user_then_kernel,
                    FrameOrder::root_first, append);
        append(task_label(chain->target, options));
        fmt::format_to(std::back_inserter(out), "{} {}\n", line, blocked_us(*chain));
    }
    return out;
}

}  // namespace waketrace::format_internal
