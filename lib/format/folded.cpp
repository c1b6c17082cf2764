// SPDX-License-Identifier: LGPL-2.1-or-later
//
// offwaketime -f: one ';'-joined line per chain for flamegraph.pl. The target
// is read from its root down to where it slept, then "--", then the waker from
// the wake-up back out to its root, so the two meet in the middle. Each
// deeper waker level follows after "--": the wait the level below had blocked
// in, "--", and the stacks that ended it.
#include <iterator>

#include <fmt/format.h>

#include "format/classic_layouts.hpp"
#include "format/stack_walk.hpp"
#include "format/format.hpp"

namespace waketrace {
namespace {

using format_internal::FrameOrder;
using format_internal::PartOrder;

std::string folded_line(const WakeChain& chain, const FormatOptions& options) {
    std::string line;
    auto append = [&](std::string_view item) { format_internal::append_folded_field(line, item); };
    const Waker& waker = format_internal::first_waker(chain);

    append(format_internal::task_label(chain.target, options));
    format_internal::walk_stacks(options, chain.user_stack, chain.kernel_stack, PartOrder::user_then_kernel,
                                 FrameOrder::root_first, append);
    append(format_internal::chain_separator);
    format_internal::walk_stacks(options, waker.user_stack, waker.kernel_stack, PartOrder::kernel_then_user,
                                 FrameOrder::leaf_first, append);
    append(format_internal::waker_label(waker, options));
    for (size_t level = 1; level < chain.wakers.size(); ++level) {
        const Waker& woken = chain.wakers[level - 1];
        const Waker& deeper = chain.wakers[level];
        append(format_internal::chain_separator);
        format_internal::walk_stacks(options, woken.blocked_user_stack, woken.blocked_kernel_stack,
                                     PartOrder::kernel_then_user, FrameOrder::leaf_first, append);
        append(format_internal::chain_separator);
        format_internal::walk_stacks(options, deeper.user_stack, deeper.kernel_stack,
                                     PartOrder::kernel_then_user, FrameOrder::leaf_first, append);
        append(format_internal::waker_label(deeper, options));
    }
    if (chain.end != ChainEnd::complete) {
        append(format_internal::chain_separator);
        append(chain_end_marker(chain.end));
    }
    fmt::format_to(std::back_inserter(line), " {}\n", format_internal::total_us(chain));
    return line;
}

}  // namespace

std::string format_folded(const Profile& profile, const FormatOptions& options) {
    switch (profile.mode) {
    case CaptureMode::offcpu: return format_internal::offcputime_folded(profile, options);
    case CaptureMode::wakeup: return format_internal::wakeuptime_folded(profile, options);
    case CaptureMode::offwake: break;
    }
    std::string out;
    for (const WakeChain& chain : profile.chains)
        out += folded_line(chain, options);
    return out;
}

}  // namespace waketrace
